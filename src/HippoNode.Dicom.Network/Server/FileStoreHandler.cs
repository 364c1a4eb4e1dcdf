using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network;

/// <summary>Where <see cref="FileStoreHandler"/> put an instance.</summary>
/// <param name="Request">The store request.</param>
/// <param name="Path">The final file path.</param>
/// <param name="StudyInstanceUid">The study, from the data set (empty when it has none).</param>
/// <param name="Status">The status answered.</param>
public sealed record StoredInstance(DicomStoreRequest Request, string Path, string StudyInstanceUid, DicomStatus Status);

/// <summary>
/// Files every instance as ROOT/&lt;StudyInstanceUID&gt;/&lt;SOPInstanceUID&gt;.dcm (both sanitised), a rename
/// within one file system when the server's incoming directory is under ROOT. Used by `hipponode store-scp`.
/// </summary>
public sealed class FileStoreHandler : IDicomStoreHandler
{
    private readonly string _root;

    /// <summary>Stores under <paramref name="rootDirectory"/> (created when missing).</summary>
    public FileStoreHandler(string rootDirectory)
    {
        _root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(_root);
    }

    /// <summary>Raised after each instance is filed (from the association's handler task).</summary>
    public event Action<StoredInstance>? Stored;

    /// <inheritdoc />
    public ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Only the header up to the pixel data is parsed: enough for the study UID and a sanity check.
        var header = DicomFile.Open(request.FilePath, DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData });
        var study = header.Dataset.GetString(DicomTags.StudyInstanceUID) ?? "";
        var datasetClass = header.Dataset.GetString(DicomTags.SOPClassUID);

        var folder = Path.Combine(_root, DicomFileNames.Sanitize(study.Length > 0 ? study : "no-study"));
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, DicomFileNames.Sanitize(request.SopInstanceUid) + ".dcm");
        if (!Path.GetFullPath(target).StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new DicomStatusException(DicomStatus.InvalidObjectInstance, "Instance UID does not give a safe file name");
        File.Move(request.FilePath, target, overwrite: true);

        // The data set says it is of another SOP class than the command did: stored, with the standard's warning.
        var status = datasetClass is not null && datasetClass != request.SopClassUid
            ? DicomStatus.DataSetDoesNotMatchSopClassWarning
            : DicomStatus.Success;
        Stored?.Invoke(new StoredInstance(request, target, study, status));
        return ValueTask.FromResult(status);
    }
}
