using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network;

/// <summary>
/// A received instance on its way to disk: a temporary file that starts with a freshly written preamble and File
/// Meta Information for the negotiated transfer syntax, followed by the data set's P-DATA fragments exactly as they
/// arrive. Memory use does not depend on the instance size. Completed, the file is renamed to its ".dcm" name.
/// </summary>
internal sealed class StoreFileSink : IAsyncDisposable
{
    private readonly FileStream _stream;
    private readonly string _partPath;
    private bool _completed;

    private StoreFileSink(FileStream stream, string partPath)
    {
        _stream = stream;
        _partPath = partPath;
    }

    /// <summary>Bytes written so far, meta information included.</summary>
    public long Length => _stream.Position;

    /// <summary>Creates the temporary file (a random name: nothing from the peer goes into it) and writes preamble and meta information.</summary>
    public static async Task<StoreFileSink> CreateAsync(string directory, string sopClassUid, string sopInstanceUid,
        DicomTransferSyntax syntax, string sourceAeTitle, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".part");
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0, // PDVs arrive in large pieces; a buffer would only add a copy
            Options = FileOptions.Asynchronous,
        });
        var sink = new StoreFileSink(stream, path);
        try
        {
            await stream.WriteAsync(BuildHeader(sopClassUid, sopInstanceUid, syntax, sourceAeTitle), cancellationToken).ConfigureAwait(false);
            return sink;
        }
        catch
        {
            await sink.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Preamble, "DICM" and group 0002 in Explicit VR Little Endian.</summary>
    internal static byte[] BuildHeader(string sopClassUid, string sopInstanceUid, DicomTransferSyntax syntax, string sourceAeTitle)
    {
        var meta = new DicomDataset();
        meta.AddOrUpdate(DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 0u); // computed by the writer
        meta.AddOrUpdate(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.AddOrUpdate(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, sopClassUid);
        meta.AddOrUpdate(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, sopInstanceUid);
        meta.AddOrUpdate(DicomTags.TransferSyntaxUID, DicomVR.UI, syntax.Uid);
        meta.AddOrUpdate(DicomTags.ImplementationClassUID, DicomVR.UI, DicomUid.ImplementationClassUid);
        meta.AddOrUpdate(DicomTags.ImplementationVersionName, DicomVR.SH, DicomUid.ImplementationVersionName);
        if (sourceAeTitle.Length > 0) meta.AddOrUpdate(DicomTags.SourceApplicationEntityTitle, DicomVR.AE, sourceAeTitle);
        using var ms = new MemoryStream(512);
        ms.Write(new byte[128]);
        ms.Write("DICM"u8);
        DicomDatasetWriter.Write(ms, meta, DicomTransferSyntax.ExplicitVRLittleEndian);
        return ms.ToArray();
    }

    /// <summary>Appends one data set fragment.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> fragment, CancellationToken cancellationToken) =>
        _stream.WriteAsync(fragment, cancellationToken);

    /// <summary>Flushes, closes and renames the file to its final ".dcm" name; returns that path.</summary>
    public async Task<string> CompleteAsync(CancellationToken cancellationToken)
    {
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        var final = Path.ChangeExtension(_partPath, ".dcm");
        File.Move(_partPath, final);
        _completed = true;
        return final;
    }

    /// <summary>Closes the file and deletes it unless it was completed.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (!_completed) TryDelete(_partPath);
    }

    /// <summary>Deletes a file, ignoring failures (it may be gone already).</summary>
    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // best effort: the incoming directory is scratch space
        }
    }
}

/// <summary>What the SCP's read loop hands to the association's handler task.</summary>
internal enum ScpMessageKind
{
    /// <summary>C-ECHO-RQ: answer success.</summary>
    Echo,

    /// <summary>C-STORE-RQ with its instance on disk: call the store handler.</summary>
    Store,

    /// <summary>A request refused before any handler ran: answer with the given status.</summary>
    Refusal,
}

/// <summary>A complete DIMSE request, ready for the handler task.</summary>
internal sealed record ScpMessage(ScpMessageKind Kind, byte PresentationContextId, DimseCommand Command)
{
    /// <summary>For <see cref="ScpMessageKind.Store"/>: the completed file.</summary>
    public string? FilePath { get; init; }

    /// <summary>For <see cref="ScpMessageKind.Store"/>: file size.</summary>
    public long Length { get; init; }

    /// <summary>For <see cref="ScpMessageKind.Refusal"/>: the status to answer.</summary>
    public DicomStatus Status { get; init; }

    /// <summary>For <see cref="ScpMessageKind.Refusal"/>: the error comment.</summary>
    public string? Comment { get; init; }
}

/// <summary>A command whose data set is still arriving: written to a file, or discarded when the request is refused anyway.</summary>
internal sealed class IncomingDataset(byte presentationContextId, DimseCommand command, StoreFileSink? sink, DicomStatus? refusal, string? comment) : IAsyncDisposable
{
    private StoreFileSink? _sink = sink;
    private DicomStatus? _refusal = refusal;
    private string? _comment = comment;

    /// <summary>The context the data set arrives on.</summary>
    public byte PresentationContextId { get; } = presentationContextId;

    /// <summary>Set when writing failed; the caller logs it once.</summary>
    public Exception? WriteError { get; private set; }

    /// <summary>Appends a fragment (to the file, or nowhere once refused); a write failure turns into an out-of-resources refusal.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> fragment, CancellationToken cancellationToken)
    {
        if (_sink is null) return;
        try
        {
            await _sink.WriteAsync(fragment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await FailAsync(ex).ConfigureAwait(false);
        }
    }

    /// <summary>The message for the handler task once the last fragment arrived.</summary>
    public async Task<ScpMessage> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_sink is { } s)
        {
            try
            {
                var length = s.Length;
                var path = await s.CompleteAsync(cancellationToken).ConfigureAwait(false);
                _sink = null;
                return new ScpMessage(ScpMessageKind.Store, PresentationContextId, command) { FilePath = path, Length = length };
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await FailAsync(ex).ConfigureAwait(false);
            }
        }
        return new ScpMessage(ScpMessageKind.Refusal, PresentationContextId, command)
        {
            Status = _refusal ?? DicomStatus.ProcessingFailure,
            Comment = _comment,
        };
    }

    private async ValueTask FailAsync(Exception ex)
    {
        WriteError = ex;
        _refusal = DicomStatus.OutOfResources;
        _comment = "Could not write the instance: " + ex.Message;
        var s = _sink;
        _sink = null;
        if (s is not null) await s.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Drops a data set that never completed (association ended): the partial file is deleted.</summary>
    public ValueTask DisposeAsync() => _sink?.DisposeAsync() ?? ValueTask.CompletedTask;
}
