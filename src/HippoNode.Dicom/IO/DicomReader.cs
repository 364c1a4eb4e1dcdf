using System.IO.Compression;

namespace HippoNode.Dicom.IO;

/// <summary>What precedes the data set of a Part 10 file: meta information, transfer syntax and where the data set starts.</summary>
/// <param name="FileMetaInformation">Group 0002 as read (empty for a bare data set).</param>
/// <param name="TransferSyntax">The transfer syntax of the data set (guessed when the meta information does not name one).</param>
/// <param name="DatasetOffset">Byte offset of the first data set element, relative to where reading started.</param>
public sealed record DicomFileHeader(DicomDataset FileMetaInformation, DicomTransferSyntax TransferSyntax, long DatasetOffset);

/// <summary>Data sets outside a Part 10 file: a data set alone in a given transfer syntax (network messages), and file headers only.</summary>
public static class DicomReader
{
    /// <summary>Reads the rest of <paramref name="stream"/> as one data set encoded in <paramref name="syntax"/> (deflated syntaxes are inflated).</summary>
    /// <exception cref="DicomParseException">The bytes are not a well-formed data set in that syntax.</exception>
    public static DicomDataset ReadDataset(Stream stream, DicomTransferSyntax syntax, DicomReadOptions? options = null)
    {
        var dataset = new DicomDataset();
        DicomFile.ParseBody(new ByteSource(stream), syntax, new DicomDatasetBuilder(dataset), options ?? DicomReadOptions.Default, warn: null);
        return dataset;
    }

    /// <summary>Reads a data set held in memory, encoded in <paramref name="syntax"/>.</summary>
    public static DicomDataset ReadDataset(ReadOnlyMemory<byte> bytes, DicomTransferSyntax syntax, DicomReadOptions? options = null)
    {
        using var ms = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
        return ReadDataset(ms, syntax, options);
    }

    /// <summary>Reads preamble and meta information of the file at <paramref name="path"/>, not its data set.</summary>
    public static DicomFileHeader ReadFileHeader(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
        return ReadFileHeader(fs);
    }

    /// <summary>Reads preamble and meta information from the stream's current position; the data set is left unread.</summary>
    /// <exception cref="DicomParseException">The stream does not start like a DICOM file or bare data set.</exception>
    public static DicomFileHeader ReadFileHeader(Stream stream)
    {
        var src = new ByteSource(stream);
        var start = src.Position;
        var (meta, syntax) = DicomFile.ReadHeader(src, []);
        return new DicomFileHeader(meta, syntax, src.Position - start);
    }
}

/// <summary>Writes a data set alone (no preamble, no meta information) in a transfer syntax, deflating when it says so.</summary>
public static class DicomDatasetWriter
{
    /// <summary>Encodes <paramref name="dataset"/> in <paramref name="syntax"/> to <paramref name="output"/>, which stays open.</summary>
    public static void Write(Stream output, DicomDataset dataset, DicomTransferSyntax syntax, DicomWriteOptions? options = null)
    {
        if (syntax.IsDeflated)
        {
            using var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true);
            using var inner = new BufferedStream(deflate, 1 << 16);
            new DicomWriter(inner, syntax, options).WriteDataset(dataset);
            inner.Flush();
        }
        else
        {
            var buffered = new BufferedStream(output, 1 << 16);
            new DicomWriter(buffered, syntax, options).WriteDataset(dataset);
            buffered.Flush();
        }
    }

    /// <summary>The data set encoded in <paramref name="syntax"/> as bytes (small data sets: DIMSE command sets, tests).</summary>
    public static byte[] ToArray(DicomDataset dataset, DicomTransferSyntax syntax, DicomWriteOptions? options = null)
    {
        using var ms = new MemoryStream();
        Write(ms, dataset, syntax, options);
        return ms.ToArray();
    }
}
