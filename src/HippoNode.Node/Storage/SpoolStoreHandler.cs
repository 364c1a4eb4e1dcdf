using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace HippoNode.Node.Storage;

/// <summary>
/// The SCP's store handler: files each received instance into its study's spool folder (a rename: the server wrote it
/// completely under incoming/ on the same file system) and records it in the database before answering success, so a
/// success the sender sees is durable. Our own objects (Manufacturer "HippoNode" or a UID we produced) are recorded,
/// not kept, and trigger nothing.
/// </summary>
public sealed class SpoolStoreHandler(NodeDatabase database, StoragePaths paths, NodeMetrics metrics, ILogger<SpoolStoreHandler> logger)
    : IDicomStoreHandler
{
    /// <inheritdoc />
    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
    {
        var outcome = await SpoolAsync(request.FilePath, request.SopInstanceUid, request.SopClassUid, request.CallingAeTitle, request.Length, cancellationToken).ConfigureAwait(false);
        metrics.BytesReceived.Inc(request.Length);
        return outcome.Status;
    }

    /// <summary>Files one complete Part 10 file (moved, or deleted when it is ours) and records it.</summary>
    internal async Task<(DicomStatus Status, ArrivalOutcome Outcome)> SpoolAsync(string file, string sopInstanceUid, string sopClassUid, string callingAeTitle, long length,
        CancellationToken cancellationToken)
    {
        DicomDataset header;
        try
        {
            // Only the header up to the pixel data: enough for the UIDs and the manufacturer.
            header = DicomFile.Open(file, DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData }).Dataset;
        }
        catch (DicomException ex)
        {
            throw new DicomStatusException(DicomStatus.CannotUnderstand, "Not a readable data set: " + ex.Message);
        }
        var study = header.GetString(DicomTags.StudyInstanceUID)?.Trim() ?? "";
        if (study.Length == 0) throw new DicomStatusException(DicomStatus.InvalidObjectInstance, "The instance has no Study Instance UID");
        var series = header.GetString(DicomTags.SeriesInstanceUID)?.Trim();
        var own = OwnObjects.IsMarkedOurs(header) || await database.IsProducedAsync(sopInstanceUid, cancellationToken).ConfigureAwait(false);

        var folder = paths.StudyFolder(study);
        string? target = null;
        if (own)
        {
            // Ours came back (the PACS routes everything it stores): nothing to keep, nothing to analyse.
            File.Delete(file);
        }
        else
        {
            Directory.CreateDirectory(folder);
            target = Path.Combine(folder, DicomFileNames.Sanitize(sopInstanceUid) + ".dcm");
            if (!Path.GetFullPath(target).StartsWith(paths.Studies + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new DicomStatusException(DicomStatus.InvalidObjectInstance, "Instance UID does not give a safe file name");
            // A re-sent instance replaces the earlier copy; an analysis reading the old one keeps its open file.
            File.Move(file, target, overwrite: true);
        }
        var outcome = await database.RecordArrivalAsync(
            new InstanceArrival(sopInstanceUid, study, series, sopClassUid, own, target, length, callingAeTitle), folder, cancellationToken).ConfigureAwait(false);
        metrics.InstancesReceived.WithLabels(outcome.ToString().ToLowerInvariant()).Inc();
        Log.Received(logger, sopInstanceUid, study, callingAeTitle, outcome);
        return (DicomStatus.Success, outcome);
    }
}
