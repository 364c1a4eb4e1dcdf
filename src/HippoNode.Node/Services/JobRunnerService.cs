using System.Diagnostics;
using System.Globalization;
using HippoNode.Analysis;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Logging;

namespace HippoNode.Node.Services;

/// <summary>
/// Runs queued jobs one at a time: claims the oldest (state 'analysing', in a transaction), analyses the study into
/// an emptied results/&lt;job&gt;/ folder, then records results, our produced UIDs and the outbox items in one
/// transaction. A process killed mid-analysis leaves the job 'analysing': startup queues it again, and as nothing of
/// the half-done run was recorded or sent, the re-run is the only one the PACS sees.
/// </summary>
public sealed class JobRunnerService(NodeDatabase database, StoragePaths paths, IStudyAnalysisRunner runner, NodeSignals signals, NodeMetrics metrics,
    ILogger<JobRunnerService> logger) : ResilientLoop(logger, "job runner")
{
    /// <inheritdoc />
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var job = await database.ClaimNextJobAsync(stoppingToken).ConfigureAwait(false);
            if (job is null)
            {
                // Signalled when a job is queued; the timeout only guards against a lost wake-up.
                await signals.JobQueued.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(false);
                continue;
            }
            await RunJobAsync(job, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task RunJobAsync(JobRecord job, CancellationToken stoppingToken)
    {
        Log.Analysing(logger, job.Id, job.StudyInstanceUid, job.Instances, job.Attempts);
        var outDir = paths.JobResults(job.Id);
        var clock = Stopwatch.StartNew();
        StudyAnalysisResult result;
        try
        {
            // Whatever an interrupted earlier attempt left here was never recorded nor sent: start clean.
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
            Directory.CreateDirectory(outDir);
            result = await runner.AnalyzeAsync(job.StudyFolder, outDir, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await database.RequeueAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            Log.Interrupted(logger, job.Id);
            throw;
        }
        catch (Exception ex)
        {
            // A broken study fails its own job; the node goes on with the next.
            var error = ex is AnalysisException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            await database.FailJobAsync(job.Id, error, clock.Elapsed, CancellationToken.None).ConfigureAwait(false);
            Log.Failed(logger, job.Id, error, ex);
            await FinishedAsync(job.Id, JobState.Failed).ConfigureAwait(false);
            return;
        }

        foreach (var m in result.Modules)
        {
            var status = JobModule.From(m).Status;
            metrics.ModuleRuns.WithLabels(m.Module, status).Inc();
            Log.ModuleOutcome(logger, job.Id, m.Module, status, m.Error ?? m.Summary ?? "");
        }

        if (result.Status == AnalysisStatus.Failed)
        {
            // Every module that applied failed: the job fails, and its modules say why, each.
            var error = result.Summary ?? "every module that applied failed";
            await database.FailJobAsync(job.Id, error, clock.Elapsed, result, CancellationToken.None).ConfigureAwait(false);
            Log.Failed(logger, job.Id, error, null);
            await FinishedAsync(job.Id, JobState.Failed).ConfigureAwait(false);
            return;
        }

        if (result.Status == AnalysisStatus.NoEligibleSeries)
        {
            var reason = SkipReason(result);
            await database.SkipJobAsync(job.Id, reason, result, CancellationToken.None).ConfigureAwait(false);
            Log.Skipped(logger, job.Id, reason);
            await FinishedAsync(job.Id, JobState.Skipped).ConfigureAwait(false);
            return;
        }

        List<ProducedObject> outputs;
        try
        {
            outputs = result.OutputFiles.Select(f => ReadOutput(job.Id, f)).ToList();
        }
        catch (Exception ex) when (ex is DicomException or IOException)
        {
            var error = "The analysis wrote an unreadable output: " + ex.Message;
            await database.FailJobAsync(job.Id, error, clock.Elapsed, CancellationToken.None).ConfigureAwait(false);
            Log.Failed(logger, job.Id, error, ex);
            await FinishedAsync(job.Id, JobState.Failed).ConfigureAwait(false);
            return;
        }
        // One transaction: results, stages, produced UIDs, outbox. Before it commits nothing can be sent; after it, the outbox owns the sending.
        await database.CompleteJobAsync(job.Id, result, outputs, CancellationToken.None).ConfigureAwait(false);
        metrics.ObserveQuality(result.Agreement, result.QualityFlagged);
        foreach (var m in result.Modules.Where(m => m.Status == ModuleStatus.Completed)) metrics.ObserveModule(m.Module, m.Measurements, m.QualityFlagged);
        Log.Analysed(logger, job.Id, clock.Elapsed.TotalMilliseconds, outputs.Count,
            string.Join(", ", result.VolumesMm3.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Key} {v.Value:F0} mm3"))), result.QualityFlagged);
        if (outputs.Count == 0) await FinishedAsync(job.Id, JobState.Done).ConfigureAwait(false);
        else signals.OutboxFilled.Set();
    }

    private ProducedObject ReadOutput(long jobId, string path)
    {
        var file = DicomFile.Open(path, DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData });
        var sop = file.Dataset.GetString(DicomTags.SOPInstanceUID)?.Trim();
        var cls = file.Dataset.GetString(DicomTags.SOPClassUID)?.Trim();
        if (string.IsNullOrEmpty(sop) || string.IsNullOrEmpty(cls)) throw new DicomException($"{path} has no SOP Instance or Class UID");
        if (!OwnObjects.IsMarkedOurs(file.Dataset)) Log.OutputNotMarked(logger, jobId, path);
        return new ProducedObject(sop, cls, path);
    }

    private static string SkipReason(StudyAnalysisResult result)
    {
        // The router's "no module applies" names every module's verdict on every series; a single analysis says "no eligible series".
        var what = result.Modules.Count > 0 ? "no module applies" : "no eligible series";
        if (result.Series.Count == 0) return what + ": the study holds no series";
        return what + ": " + string.Join("; ", result.Series.Select(s => $"{s.SeriesDescription ?? s.SeriesInstanceUid} ({s.Modality}, {s.Instances} instances): {s.Reason}"));
    }

    private async Task FinishedAsync(long jobId, JobState state)
    {
        metrics.JobsFinished.WithLabels(state.ToString().ToLowerInvariant()).Inc();
        var job = await database.GetJobAsync(jobId, CancellationToken.None).ConfigureAwait(false);
        if (job is not null) metrics.ObserveStages(job.Stages);
        signals.OnJobFinished(jobId);
    }
}
