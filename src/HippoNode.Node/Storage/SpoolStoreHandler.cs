using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace HippoNode.Node.Storage;

/// <summary>
/// The SCP's store handler: files each received instance into its study's spool folder (a rename: the server wrote it
/// completely under incoming/ on the same file system) and records it in the database before answering success, so a
/// success the sender sees is durable. Our own objects (Manufacturer "HippoNode" or a UID we produced) are recorded,
/// not kept, and trigger nothing.
/// </summary>
public sealed class SpoolStoreHandler(NodeDatabase database, StoragePaths paths, NodeMetrics metrics, StudyGate gate, OpenDeliveries deliveries,
    ILogger<SpoolStoreHandler> logger) : IDicomStoreHandler
{
    /// <inheritdoc />
    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
    {
        var outcome = await SpoolAsync(request.FilePath, request.SopInstanceUid, request.SopClassUid, request.CallingAeTitle, request.Length, cancellationToken).ConfigureAwait(false);
        metrics.BytesReceived.Inc(request.Length);
        if (outcome.Outcome != ArrivalOutcome.Own) deliveries.Delivering(request.AssociationId, outcome.StudyInstanceUid);
        return outcome.Status;
    }

    /// <inheritdoc />
    public void AssociationEnded(long associationId) => deliveries.Ended(associationId);

    /// <summary>Files one complete Part 10 file (moved, or deleted when it is ours) and records it.</summary>
    internal async Task<(DicomStatus Status, ArrivalOutcome Outcome, string StudyInstanceUid)> SpoolAsync(string file, string sopInstanceUid, string sopClassUid, string callingAeTitle, long length,
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
        ArrivalOutcome outcome;
        // Filing and recording happen under the study's lock: retention never deletes a study between the two.
        using (await gate.EnterAsync(study, cancellationToken).ConfigureAwait(false))
        {
            var replaced = false;
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
                replaced = File.Exists(target);
                // A re-sent instance replaces the earlier copy; an analysis reading the old one keeps its open file.
                File.Move(file, target, overwrite: true);
            }
            try
            {
                outcome = await database.RecordArrivalAsync(
                    new InstanceArrival(sopInstanceUid, study, series, sopClassUid, own, target, length, callingAeTitle), folder, cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is 13)
            {
                // SQLITE_FULL: the sender gets A700 and will send again; a file no record points to is not kept.
                if (target is not null && !replaced) File.Delete(target);
                throw new DicomStatusException(DicomStatus.OutOfResources, "The database cannot grow: the disk is full");
            }
        }
        metrics.InstancesReceived.WithLabels(outcome.ToString().ToLowerInvariant()).Inc();
        Log.Received(logger, sopInstanceUid, study, callingAeTitle, outcome);
        return (DicomStatus.Success, outcome, study);
    }
}
