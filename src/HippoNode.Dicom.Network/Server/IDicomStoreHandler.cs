using System.Net;

namespace HippoNode.Dicom.Network;

/// <summary>One instance received by C-STORE, already written to disk as a complete Part 10 file.</summary>
/// <param name="FilePath">The Part 10 file (in the server's incoming directory). The handler moves or deletes it; whatever is left there afterwards is deleted.</param>
/// <param name="SopClassUid">Affected SOP Class UID from the command set (also the file's Media Storage SOP Class UID).</param>
/// <param name="SopInstanceUid">Affected SOP Instance UID from the command set; a peer value: sanitise before using it in a path.</param>
/// <param name="TransferSyntax">The negotiated transfer syntax the data set is encoded in.</param>
/// <param name="CallingAeTitle">The sender's AE title.</param>
/// <param name="CalledAeTitle">The AE title the sender called.</param>
/// <param name="RemoteEndPoint">The sender's address.</param>
/// <param name="AssociationId">Our correlation ID of the association.</param>
/// <param name="Length">File size in bytes.</param>
public sealed record DicomStoreRequest(
    string FilePath,
    string SopClassUid,
    string SopInstanceUid,
    DicomTransferSyntax TransferSyntax,
    string CallingAeTitle,
    string CalledAeTitle,
    EndPoint? RemoteEndPoint,
    long AssociationId,
    long Length);

/// <summary>Takes received instances (the node's spooler plugs in here); runs off the association's read loop.</summary>
public interface IDicomStoreHandler
{
    /// <summary>
    /// Handles one stored instance and returns the C-STORE status. Exceptions are mapped to a status at the SCP
    /// boundary (<see cref="DicomStatus.FromException"/>); <paramref name="cancellationToken"/> fires when the
    /// association is aborted or the server stops.
    /// </summary>
    ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Called once when an association ends (released, aborted, timed out, lost or the server stops), after its last
    /// <see cref="StoreAsync"/> has returned: a sender closing its association is the only end-of-transfer signal
    /// DICOM gives, so a handler that groups instances can use it. Must not throw or block.
    /// </summary>
    void AssociationEnded(long associationId)
    {
    }
}
