using System.Runtime.CompilerServices;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network;

/// <summary>
/// Sends many files: reads their headers, proposes one context per SOP class (and per encapsulated transfer syntax),
/// with the files' own syntax plus Explicit and Implicit VR Little Endian for uncompressed ones, and reports a
/// result for every file.
/// </summary>
public static class DicomSender
{
    private static (string? SopClass, DicomTransferSyntax? Syntax, string? Error) ReadSopClass(string path)
    {
        try
        {
            var header = DicomReader.ReadFileHeader(path);
            var sopClass = header.FileMetaInformation.GetString(DicomTags.MediaStorageSOPClassUID);
            if (string.IsNullOrEmpty(sopClass))
            {
                sopClass = DicomFile.Open(path, DicomReadOptions.Default with { StopAtTag = new DicomTag(0x0008, 0x0017) })
                    .Dataset.GetString(DicomTags.SOPClassUID);
            }
            return string.IsNullOrEmpty(sopClass) ? (null, null, "The file has no SOP Class UID") : (sopClass, header.TransferSyntax, null);
        }
        catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
        {
            return (null, null, "Not a readable DICOM file: " + ex.Message);
        }
    }

    /// <summary>At most this many contexts in one association (IDs are odd bytes).</summary>
    public const int MaxContextsPerAssociation = 128;

    private const string Native = "native";

    /// <summary>The files named: files as they are, folders searched recursively (sorted, so runs are repeatable).</summary>
    public static IEnumerable<string> EnumerateFiles(IEnumerable<string> paths)
    {
        foreach (var p in paths)
        {
            if (Directory.Exists(p))
            {
                foreach (var f in Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)) yield return f;
            }
            else
            {
                yield return p;
            }
        }
    }

    /// <summary>The proposals for a set of instances: (SOP class, native) and (SOP class, encapsulated syntax) groups.</summary>
    public static IReadOnlyList<PresentationContextProposal> ProposalsFor(IEnumerable<(string SopClassUid, DicomTransferSyntax Syntax)> instances)
    {
        var groups = instances
            .GroupBy(i => (i.SopClassUid, Kind: i.Syntax.IsEncapsulated ? i.Syntax.Uid : Native))
            .OrderBy(g => g.Key.SopClassUid, StringComparer.Ordinal).ThenBy(g => g.Key.Kind, StringComparer.Ordinal);
        var result = new List<PresentationContextProposal>();
        foreach (var g in groups)
        {
            if (g.Key.Kind != Native)
            {
                result.Add(new PresentationContextProposal(g.Key.SopClassUid, [g.Key.Kind]));
                continue;
            }
            // The files' own uncompressed syntaxes first (most common first), then the two every SCP must know.
            var own = g.GroupBy(i => i.Syntax.Uid).OrderByDescending(x => x.Count()).Select(x => x.Key);
            var syntaxes = own.Concat([DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid]).Distinct().ToList();
            result.Add(new PresentationContextProposal(g.Key.SopClassUid, syntaxes));
        }
        return result;
    }

    /// <summary>
    /// Sends every file to host:port and yields one result per file: unreadable files first (they are found while
    /// the headers are read), then the others in the order given. Files no context was accepted for, and files left
    /// when an association ends early, come back with an error instead of a status.
    /// </summary>
    public static async IAsyncEnumerable<DicomStoreResult> SendAsync(string host, int port, DicomClientOptions options,
        IEnumerable<string> files, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var readable = new List<(string Path, string SopClass, DicomTransferSyntax Syntax)>();
        foreach (var path in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The core reader is synchronous: headers are read on the thread pool, not on the caller's thread.
            var (sopClass, syntax, error) = await Task.Run(() => ReadSopClass(path), cancellationToken).ConfigureAwait(false);
            if (error is not null) yield return new DicomStoreResult(path, null, null, error) { Failure = DicomStoreFailure.Unreadable };
            else readable.Add((path, sopClass!, syntax!));
        }

        // Batches of files whose contexts fit one association.
        var keyOf = (string cls, DicomTransferSyntax ts) => (cls, ts.IsEncapsulated ? ts.Uid : Native);
        var keys = readable.Select(r => keyOf(r.SopClass, r.Syntax)).Distinct().ToList();
        for (var b = 0; b < keys.Count; b += MaxContextsPerAssociation)
        {
            var batchKeys = keys.Skip(b).Take(MaxContextsPerAssociation).ToHashSet();
            var batch = readable.Where(r => batchKeys.Contains(keyOf(r.SopClass, r.Syntax))).ToList();
            var proposals = ProposalsFor(batch.Select(r => (r.SopClass, r.Syntax)));

            DicomClientAssociation? association = null;
            string? connectError = null;
            AAssociateRj? rejection = null;
            try
            {
                association = await DicomClientAssociation.ConnectAsync(host, port, options, proposals, cancellationToken).ConfigureAwait(false);
            }
            catch (DicomNetworkException ex)
            {
                connectError = ex.Message;
                rejection = (ex as DicomAssociationRejectedException)?.Reject;
            }
            if (association is null)
            {
                var failure = rejection is null ? DicomStoreFailure.Connection : DicomStoreFailure.AssociationRejected;
                foreach (var r in batch) yield return new DicomStoreResult(r.Path, null, null, connectError) { Failure = failure, Rejection = rejection };
                continue;
            }

            await using (association.ConfigureAwait(false))
            {
                string? lost = null;
                foreach (var r in batch)
                {
                    if (lost is not null)
                    {
                        yield return new DicomStoreResult(r.Path, null, null, "Not sent: " + lost) { Failure = DicomStoreFailure.Connection };
                        continue;
                    }
                    DicomStoreResult result;
                    try
                    {
                        result = await association.StoreAsync(r.Path, cancellationToken).ConfigureAwait(false);
                    }
                    catch (DicomNetworkException ex)
                    {
                        lost = ex.Message;
                        result = new DicomStoreResult(r.Path, null, null, ex.Message) { Failure = DicomStoreFailure.Connection };
                    }
                    yield return result;
                }
            }
        }
    }
}
