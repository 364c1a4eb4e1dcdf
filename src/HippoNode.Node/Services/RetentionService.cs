using System.Globalization;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HippoNode.Node.Services;

/// <summary>What one retention run deleted.</summary>
/// <param name="Studies">Studies deleted (spool folder, results of their jobs, records).</param>
/// <param name="Bytes">Bytes freed.</param>
/// <param name="RejectedFiles">Old files deleted from rejected/.</param>
public sealed record RetentionReport(int Studies, long Bytes, int RejectedFiles);

/// <summary>
/// Keeps the storage folder bounded (HippoNode:Storage): finished studies (every job done, skipped or failed, nothing new
/// since) are deleted RetentionDays after their last job finished, and, when studies/ and results/ exceed
/// MaxSizeGigabytes, the longest finished first until they fit. Never a study still queued, analysing, sending or
/// dead-lettered: what is not analysed or not delivered stays. Runs at startup, then every RetentionIntervalMinutes.
/// </summary>
public sealed class RetentionService(NodeDatabase database, StoragePaths paths, StudyGate gate, IOptions<NodeOptions> options, NodeMetrics metrics,
    TimeProvider time, ILogger<RetentionService> logger) : ResilientLoop(logger, "retention")
{
    private const double BytesPerGigabyte = 1024d * 1024 * 1024;

    /// <inheritdoc />
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.Storage.RetentionIntervalMinutes), time);
        do
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass: the age limit, then the size cap, then old files in rejected/.</summary>
    public async Task<RetentionReport> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Storage;
        var now = time.GetUtcNow();
        var studies = 0;
        long bytes = 0;
        var finished = await database.FinishedStudiesAsync(cancellationToken).ConfigureAwait(false);
        var left = new List<FinishedStudy>();
        foreach (var study in finished)
        {
            if (settings.RetentionDays > 0 && study.FinishedAt <= now - TimeSpan.FromDays(settings.RetentionDays))
            {
                if (await DeleteAsync(study, $"finished more than {settings.RetentionDays.ToString(CultureInfo.InvariantCulture)} days ago", cancellationToken).ConfigureAwait(false) is { } freed)
                {
                    studies++;
                    bytes += freed;
                }
            }
            else
            {
                left.Add(study);
            }
        }

        if (settings.MaxSizeGigabytes > 0)
        {
            var cap = (long)(settings.MaxSizeGigabytes * BytesPerGigabyte);
            var used = FolderBytes(paths.Studies) + FolderBytes(paths.Results);
            // Oldest finished first (the list comes ordered by when the study's last job finished).
            foreach (var study in left)
            {
                if (used <= cap) break;
                if (await DeleteAsync(study, "storage above MaxSizeGigabytes", cancellationToken).ConfigureAwait(false) is { } freed)
                {
                    studies++;
                    bytes += freed;
                    used -= freed;
                }
            }
            if (used > cap) Log.RetentionOverCap(logger, used, cap);
        }

        var rejected = settings.RetentionDays > 0 ? DeleteOldRejected(now - TimeSpan.FromDays(settings.RetentionDays)) : 0;
        return new RetentionReport(studies, bytes, rejected);
    }

    /// <summary>Deletes one study under its lock: files first, then the records (a kill in between leaves records of missing files, which the next run removes; never files without records, which startup would take for new arrivals). Returns the bytes freed, or null when it was not finished after all.</summary>
    private async Task<long?> DeleteAsync(FinishedStudy study, string why, CancellationToken ct)
    {
        using (await gate.EnterAsync(study.StudyInstanceUid, ct).ConfigureAwait(false))
        {
            // Under the lock nothing new can arrive; a job can only start from a new arrival. Check once more.
            if (!await database.IsStudyFinishedAsync(study.StudyInstanceUid, ct).ConfigureAwait(false)) return null;
            var folders = new List<string> { study.Folder };
            folders.AddRange(study.JobIds.Select(paths.JobResults));
            long freed = 0;
            var allGone = true;
            foreach (var folder in folders.Where(IsOurs))
            {
                var size = FolderBytes(folder);
                if (TryDelete(folder)) freed += size;
                else allGone = false;
            }
            // Records stay while any file stays (next run tries again): files without records would be taken for new arrivals.
            if (!allGone) return null;
            if (!await database.PurgeStudyAsync(study.StudyInstanceUid, CancellationToken.None).ConfigureAwait(false)) return null;
            metrics.RetentionStudies.Inc();
            metrics.RetentionBytes.Inc(freed);
            Log.RetentionDeleted(logger, study.StudyInstanceUid, freed, string.Join(",", study.JobIds), study.FinishedAt, why);
            return freed;
        }
    }

    /// <summary>Only folders under studies/ or results/ are ever deleted, whatever the database says.</summary>
    private bool IsOurs(string folder)
    {
        var full = Path.GetFullPath(folder);
        return full.StartsWith(paths.Studies + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || full.StartsWith(paths.Results + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private bool TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.RetentionDeleteFailed(logger, folder, ex.Message);
            return false;
        }
    }

    private int DeleteOldRejected(DateTimeOffset cutoff)
    {
        if (!Directory.Exists(paths.Rejected)) return 0;
        var n = 0;
        foreach (var f in Directory.EnumerateFiles(paths.Rejected))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(f) > cutoff.UtcDateTime) continue;
                File.Delete(f);
                n++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.RetentionDeleteFailed(logger, f, ex.Message);
            }
        }
        return n;
    }

    private static long FolderBytes(string folder)
    {
        if (!Directory.Exists(folder)) return 0;
        long total = 0;
        foreach (var f in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            try
            {
                total += f.Length;
            }
            catch (FileNotFoundException)
            {
                // deleted while counting
            }
        }
        return total;
    }
}
