using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HippoNode.Node.Services;

/// <summary>
/// Runs first at startup: takes the storage folder's lock, empties incoming/ (half-received files of a killed
/// process), registers spooled files that have no record, and puts jobs found 'analysing' back in the queue.
/// </summary>
public sealed class StartupService(NodeDatabase database, StoragePaths paths, IOptions<NodeOptions> options, StorageLock storageLock,
    SpoolStoreHandler spooler, NodeSignals signals, ILogger<StartupService> logger) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        storageLock.Acquire();
        if (Directory.Exists(paths.Incoming))
        {
            foreach (var f in Directory.EnumerateFiles(paths.Incoming)) File.Delete(f);
        }
        await ReconcileSpoolAsync(cancellationToken).ConfigureAwait(false);
        var (requeued, failed) = await database.RecoverInterruptedJobsAsync(options.Value.MaxJobAttempts, cancellationToken).ConfigureAwait(false);
        if (requeued + failed > 0) Log.Recovered(logger, requeued, failed);
        signals.JobQueued.Set();
        signals.OutboxFilled.Set();
    }

    private async Task ReconcileSpoolAsync(CancellationToken ct)
    {
        if (!Directory.Exists(paths.Studies)) return;
        var known = await database.KnownPathsAsync(ct).ConfigureAwait(false);
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(paths.Studies, "*.dcm", SearchOption.AllDirectories))
        {
            if (known.Contains(file)) continue;
            try
            {
                var meta = DicomReader.ReadFileHeader(file).FileMetaInformation;
                var sop = meta.GetString(DicomTags.MediaStorageSOPInstanceUID)?.Trim() ?? throw new DicomException("no Media Storage SOP Instance UID");
                var cls = meta.GetString(DicomTags.MediaStorageSOPClassUID)?.Trim() ?? "";
                var callingAe = meta.GetString(DicomTags.SourceApplicationEntityTitle)?.Trim() ?? "";
                // Filed under its own name already: spooling it again is a rename onto itself and the missing record.
                await spooler.SpoolAsync(file, sop, cls, callingAe, new FileInfo(file).Length, ct).ConfigureAwait(false);
                count++;
            }
            catch (Exception ex) when (ex is DicomException or Dicom.Network.DicomStatusException or IOException)
            {
                Directory.CreateDirectory(paths.Rejected);
                var target = Path.Combine(paths.Rejected, Path.GetFileName(file));
                File.Move(file, target, overwrite: true);
                Log.ReconcileUnreadable(logger, file, target, ex);
            }
        }
        if (count > 0) Log.Reconciled(logger, count);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>One node per storage folder: an exclusive lock on node.lock, released by the OS when the process dies.</summary>
public sealed class StorageLock(StoragePaths paths) : IDisposable
{
    private FileStream? _lock;

    /// <summary>Takes the lock; throws when another node holds it.</summary>
    public void Acquire()
    {
        if (_lock is not null) return;
        Directory.CreateDirectory(paths.Root);
        try
        {
            _lock = new FileStream(paths.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"Another HippoNode runs on {paths.Root} ({paths.LockFile} is locked)", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
