using System.Globalization;
using System.Net;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;
using HippoNode.Node.Services;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HippoNode.Node.Demo;

/// <summary>What the demo runs on.</summary>
public sealed class DemoOptions
{
    /// <summary>The study to send; null: ../shared/data/TestVolumes/Study1 when present, else the synthetic study.</summary>
    public string? StudyFolder { get; set; }

    /// <summary>Use the synthetic study even when the shared one exists.</summary>
    public bool Synthetic { get; set; }

    /// <summary>Where everything goes; null: a new folder under the temp directory (kept, printed).</summary>
    public string? WorkFolder { get; set; }

    /// <summary>How long to wait for the results.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Extra configuration (HippoNode:Analysis:ModelFolder etc.).</summary>
    public IDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    /// <summary>Replaces the analysis (tests); null uses the real analyzer.</summary>
    public IStudyAnalysisRunner? Runner { get; set; }

    /// <summary>Also send a chest X-ray study (the chest X-ray module's input); on by default.</summary>
    public bool Chest { get; set; } = true;

    /// <summary>The chest study to send; null: one DX image made from the shared training set (or a phantom) in the demo folder.</summary>
    public string? ChestStudyFolder { get; set; }
}

/// <summary>
/// `hipponode demo`: the whole flow on one machine without a PACS. Plays the PACS itself (our DicomServer as a store
/// SCP on loopback into a folder), starts the node with embedded defaults on free loopback ports, sends a brain MR
/// study and a chest X-ray study, waits for both jobs and prints, per study, what each module did, where the results
/// went and the stage timings.
/// </summary>
public static class NodeDemo
{
    /// <summary>The demo PACS's AE title.</summary>
    public const string PacsAeTitle = "DEMOPACS";

    /// <summary>Runs the demo; 0 when the results of every study reached the demo PACS, 1 otherwise.</summary>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var work = Path.GetFullPath(options.WorkFolder ?? Path.Combine(Path.GetTempPath(), "hipponode-demo-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(work);
        var pacsFolder = Path.Combine(work, "pacs");
        var (studyFolder, what) = ChooseStudy(options, work);
        await output.WriteLineAsync($"demo folder: {work}").ConfigureAwait(false);
        await output.WriteLineAsync($"study: {what}").ConfigureAwait(false);
        var studies = new List<string> { studyFolder };
        if (options.Chest)
        {
            var chest = options.ChestStudyFolder is { } given ? Path.GetFullPath(given) : Path.Combine(work, "chest-study");
            if (options.ChestStudyFolder is null)
            {
                var (_, source) = ChestStudy.Write(chest, FindSharedData());
                await output.WriteLineAsync($"chest study: {chest} (one DX, MONOCHROME1, 12 bits, VOI LUT; from {source})").ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync($"chest study: {chest}").ConfigureAwait(false);
            }
            studies.Add(chest);
        }

        var pacsHandler = new FileStoreHandler(pacsFolder);
        var received = new List<StoredInstance>();
        pacsHandler.Stored += s => { lock (received) received.Add(s); };
        await using var pacs = new DicomServer(new DicomServerOptions
        {
            AeTitle = PacsAeTitle,
            Port = 0,
            BindAddress = IPAddress.Loopback,
            IncomingDirectory = Path.Combine(pacsFolder, ".incoming"),
        }, pacsHandler);
        await pacs.StartAsync(cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"demo PACS {PacsAeTitle} (our store SCP) on 127.0.0.1:{pacs.Port}, storing under {pacsFolder}").ConfigureAwait(false);

        var settings = new Dictionary<string, string?>
        {
            ["HippoNode:AeTitle"] = "HIPPONODE",
            ["HippoNode:Port"] = "0",
            ["HippoNode:BindAddress"] = "127.0.0.1",
            // The demo PACS routes the study to us, as Orthanc would (replaces the shipped allow-list's first entry).
            ["HippoNode:AllowedCallers:0"] = PacsAeTitle,
            ["HippoNode:Pacs:AeTitle"] = PacsAeTitle,
            ["HippoNode:Pacs:Host"] = "127.0.0.1",
            ["HippoNode:Pacs:Port"] = pacs.Port.ToString(CultureInfo.InvariantCulture),
            ["HippoNode:StableSeconds"] = "1",
            ["HippoNode:StorageFolder"] = Path.Combine(work, "node"),
            ["HippoNode:Http:Url"] = "http://127.0.0.1:0",
            ["HippoNode:ConsoleLog"] = "false",
            ["HippoNode:Retry:FirstDelaySeconds"] = "0.5",
        };
        // The README runs the demo from the repository root; from elsewhere the committed model folder is still found.
        if (FindRepositoryRoot() is { } repo)
        {
            settings["HippoNode:Analysis:ModelFolder"] = Path.Combine(repo, "models", "hippocampus");
            settings["HippoNode:ChestXray:ModelFolder"] = Path.Combine(repo, "models", "chest-xray");
        }
        foreach (var kv in options.Settings) settings[kv.Key] = kv.Value;
        using var host = NodeHost.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            if (options.Runner is { } r) b.Services.AddSingleton(r);
        });
        var signals = host.Services.GetRequiredService<NodeSignals>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finishedJobs = new List<long>();
        signals.JobFinished += id =>
        {
            lock (finishedJobs)
            {
                if (!finishedJobs.Contains(id)) finishedJobs.Add(id);
                if (finishedJobs.Count >= studies.Count) finished.TrySetResult();
            }
        };
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var endpoints = host.Services.GetRequiredService<NodeEndpoints>();
        await output.WriteLineAsync($"node HIPPONODE on 127.0.0.1:{endpoints.DicomPort}; status at {endpoints.HttpUrl}/jobs; log in {Path.Combine(work, "node", "logs")}").ConfigureAwait(false);

        try
        {
            var files = DicomSender.EnumerateFiles(studies).ToList();
            var sent = 0;
            string? sendError = null;
            await foreach (var r in DicomSender.SendAsync("127.0.0.1", endpoints.DicomPort, new DicomClientOptions { CallingAeTitle = PacsAeTitle, CalledAeTitle = "HIPPONODE" },
                files, cancellationToken).ConfigureAwait(false))
            {
                if (r.Succeeded) sent++;
                else sendError ??= r.Error ?? r.Status?.ToString();
            }
            if (sent == 0)
            {
                await output.WriteLineAsync($"the node took none of the {files.Count} instances: {sendError}").ConfigureAwait(false);
                return 1;
            }
            await output.WriteLineAsync($"sent {sent} of {files.Count} instances ({studies.Count} {(studies.Count == 1 ? "study" : "studies")}) to the node; waiting for them to be complete and analysed...").ConfigureAwait(false);

            try
            {
                await finished.Task.WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await output.WriteLineAsync($"no result within {options.Timeout.TotalSeconds:F0} s").ConfigureAwait(false);
                return 1;
            }
            var code = 0;
            List<long> ids;
            lock (finishedJobs) ids = [.. finishedJobs.Order()];
            foreach (var jobId in ids)
            {
                var job = await host.Services.GetRequiredService<NodeDatabase>().GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
                code = Math.Max(code, await ReportAsync(job!, received, output).ConfigureAwait(false));
            }
            return code;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<int> ReportAsync(JobRecord job, List<StoredInstance> received, TextWriter output)
    {
        await output.WriteLineAsync($"job {job.Id}: {job.State.ToString().ToLowerInvariant()} (study {job.StudyInstanceUid}, {job.Instances} instances)").ConfigureAwait(false);
        foreach (var s in job.Stages) await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {s.Stage,-14} {s.Milliseconds,9:F0} ms")).ConfigureAwait(false);
        if (job.State == JobState.Failed) await output.WriteLineAsync($"analysis failed: {job.Error}").ConfigureAwait(false);
        if (job.State == JobState.Skipped) await output.WriteLineAsync($"skipped: {job.SkipReason}").ConfigureAwait(false);
        foreach (var m in job.Modules)
            await output.WriteLineAsync($"  module {m.Module}: {m.Status}{(m.Error ?? m.Summary) switch { null => "", var d => ": " + d }}").ConfigureAwait(false);
        // Chosen series with the reason; the others counted (their reasons, per module, are in result.json and GET /jobs).
        foreach (var s in job.Series.Where(s => s.Chosen || job.Modules.Count == 0))
            await output.WriteLineAsync($"  series {s.SeriesDescription ?? s.SeriesInstanceUid}: {(s.Chosen ? "chosen" : "not chosen")} ({s.Reason})").ConfigureAwait(false);
        if (job.Modules.Count > 0 && job.Series.Count(s => !s.Chosen) is > 0 and var others)
            await output.WriteLineAsync($"  {others} other series taken by no module (reasons in result.json)").ConfigureAwait(false);
        foreach (var (name, mm3) in job.VolumesMm3) await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"volume {name}: {mm3:F0} mm3")).ConfigureAwait(false);
        if (job.Agreement is { } a) await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ensemble agreement {a:F3}{(job.QualityFlagged == true ? " (below threshold: flagged for review)" : "")}")).ConfigureAwait(false);
        if (job.ResultJson is not null) await output.WriteLineAsync($"result.json: {job.ResultJson}").ConfigureAwait(false);
        List<StoredInstance> inPacs;
        lock (received) inPacs = [.. received];
        foreach (var o in job.Outputs)
        {
            var stored = inPacs.FirstOrDefault(s => s.Request.SopInstanceUid == o.SopInstanceUid);
            var kind = DicomUid.NameOf(o.SopClassUid) ?? o.SopClassUid;
            await output.WriteLineAsync($"{kind}: {o.Path} -> PACS {(stored is null ? "(not stored)" : stored.Path)}").ConfigureAwait(false);
        }
        return job.State == JobState.Done && job.Outputs.Count > 0 && job.Outputs.All(o => o.Sent) ? 0 : 1;
    }

    private static (string Folder, string What) ChooseStudy(DemoOptions options, string work)
    {
        if (options.StudyFolder is { } given) return (Path.GetFullPath(given), Path.GetFullPath(given));
        if (!options.Synthetic && FindSharedStudy() is { } shared) return (shared, shared + " (shared TestVolumes)");
        var folder = Path.Combine(work, "synthetic-study");
        SyntheticStudy.Write(folder);
        return (folder, $"{folder} (synthetic HippoCrop series, {SyntheticStudy.Slices} slices {SyntheticStudy.Rows}x{SyntheticStudy.Columns})");
    }

    /// <summary>The folder holding HippoNode.sln above the working directory or the executable; null when not run from a checkout.</summary>
    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "HippoNode.sln"))) return d.FullName;
            }
        }
        return null;
    }

    /// <summary>../shared/data/TestVolumes/Study1 next to the repository (or HIPPONODE_SHARED_DATA), when present.</summary>
    public static string? FindSharedStudy() =>
        FindSharedData() is { } data && Directory.Exists(Path.Combine(data, "TestVolumes", "Study1")) ? Path.Combine(data, "TestVolumes", "Study1") : null;

    /// <summary>../shared/data next to the repository (or HIPPONODE_SHARED_DATA), when present.</summary>
    public static string? FindSharedData()
    {
        if (Environment.GetEnvironmentVariable("HIPPONODE_SHARED_DATA") is { Length: > 0 } env) return Directory.Exists(env) ? env : null;
        if (FindRepositoryRoot() is not { } repo) return null;
        var candidate = Path.GetFullPath(Path.Combine(repo, "..", "shared", "data"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}
