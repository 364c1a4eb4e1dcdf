using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Testing;

/// <summary>Part 10 bytes built in memory, for the DICOM tests and the fuzz targets (linked into both: they share no project).</summary>
public static class Part10Bytes
{
    /// <summary>Secondary Capture Image Storage, the SOP class of the hand-built files.</summary>
    public const string SecondaryCapture = "1.2.840.10008.5.1.4.1.1.7";

    /// <summary>The Part 10 bytes of a data set written in <paramref name="syntax"/>.</summary>
    public static byte[] Write(DicomDataset ds, DicomTransferSyntax syntax, DicomWriteOptions? options = null)
    {
        var ms = new MemoryStream();
        new DicomFile(ds, syntax).Write(ms, syntax, options);
        return ms.ToArray();
    }

    /// <summary>Preamble, DICM, meta (Explicit VR LE, with group length) and the given data set bytes, as they are.</summary>
    public static byte[] Wrap(byte[] dataset, string transferSyntaxUid)
    {
        var meta = new DicomDataset();
        meta.AddOrUpdate(DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 0u);
        meta.AddOrUpdate(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.AddOrUpdate(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, SecondaryCapture);
        meta.AddOrUpdate(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, "1.2.3.4");
        meta.AddOrUpdate(DicomTags.TransferSyntaxUID, DicomVR.UI, transferSyntaxUid);
        var ms = new MemoryStream();
        ms.Write(new byte[128]);
        ms.Write("DICM"u8);
        new DicomWriter(ms, DicomTransferSyntax.ExplicitVRLittleEndian).WriteDataset(meta);
        ms.Write(dataset);
        return ms.ToArray();
    }
}

/// <summary>A read-only stream over bytes that cannot seek (nor tell its length), handing out at most maxChunk bytes a read, like a network or pipe.</summary>
public sealed class NonSeekableStream(byte[] data, int maxChunk = int.MaxValue) : Stream
{
    private readonly MemoryStream _inner = new(data, writable: false);

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, maxChunk));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer) => _inner.Read(buffer[..Math.Min(buffer.Length, maxChunk)]);

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
