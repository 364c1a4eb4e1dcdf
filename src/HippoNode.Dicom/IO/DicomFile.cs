using System.IO.Compression;
using System.Text;

namespace HippoNode.Dicom.IO;

/// <summary>A DICOM Part 10 file: File Meta Information, transfer syntax and data set (PS3.10 §7).</summary>
public sealed class DicomFile
{
    private static readonly byte[] Magic = "DICM"u8.ToArray();

    /// <summary>A file from a data set and its meta information.</summary>
    public DicomFile(DicomDataset fileMetaInformation, DicomDataset dataset, DicomTransferSyntax transferSyntax)
    {
        FileMetaInformation = fileMetaInformation;
        Dataset = dataset;
        TransferSyntax = transferSyntax;
    }

    /// <summary>A new file for a data set, meta information built from it (SOP Class and Instance UIDs).</summary>
    public DicomFile(DicomDataset dataset, DicomTransferSyntax transferSyntax)
        : this(CreateFileMetaInformation(dataset, transferSyntax), dataset, transferSyntax) { }

    /// <summary>Group 0002 as read or built.</summary>
    public DicomDataset FileMetaInformation { get; private set; }

    /// <summary>The data set.</summary>
    public DicomDataset Dataset { get; }

    /// <summary>The transfer syntax the data set was read in (or will be written in).</summary>
    public DicomTransferSyntax TransferSyntax { get; private set; }

    /// <summary>What the reader had to tolerate (no preamble, no meta, a guessed transfer syntax...); empty for a clean file.</summary>
    public IReadOnlyList<string> ReadWarnings { get; private init; } = [];

    /// <summary>Reads a file; large values stay in the file and are read on use.</summary>
    /// <exception cref="DicomParseException">The file is not DICOM or is malformed; the message names offset and tag.</exception>
    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return Read(fs, options, path);
    }

    /// <summary>Reads a file from a stream (values are copied into memory unless the stream is the file at <paramref name="filePath"/>).</summary>
    public static DicomFile Read(Stream stream, DicomReadOptions? options = null, string? filePath = null)
    {
        options ??= DicomReadOptions.Default;
        var src = new ByteSource(stream, filePath);
        var warnings = new List<string>();
        var (meta, syntax) = ReadHeader(src, warnings);
        var dataset = new DicomDataset();
        ParseBody(src, syntax, new DicomDatasetBuilder(dataset), options, warnings.Add);
        return new DicomFile(meta, dataset, syntax) { ReadWarnings = warnings };
    }

    /// <summary>Reads preamble and meta information (leniently, noting what it tolerated) and decides the transfer syntax.</summary>
    internal static (DicomDataset Meta, DicomTransferSyntax Syntax) ReadHeader(ByteSource src, List<string> warnings)
    {
        var meta = new DicomDataset();
        var head = src.Peek(132);
        if (head.Length == 132 && head[128..132].SequenceEqual(Magic))
        {
            src.Skip(132);
            ReadMeta(src, meta, warnings);
        }
        else if (head.Length >= 4 && head[..4].SequenceEqual(Magic))
        {
            warnings.Add("No 128-byte preamble; 'DICM' at offset 0.");
            src.Skip(4);
            ReadMeta(src, meta, warnings);
        }
        else
        {
            if (GuessSyntax(src.Peek(8)) is null)
                throw new DicomParseException("Not a DICOM file: no 'DICM' prefix at offset 128 and no recognisable data element at offset 0", 0, null);
            var first = src.Peek(2);
            if (first.Length == 2 && first[0] == 0x02 && first[1] == 0x00)
            {
                // Group 0002 without preamble and 'DICM': still File Meta Information, and its Transfer Syntax UID
                // says how the data set is encoded (DCMTK reads such files the same way).
                warnings.Add("No preamble and no 'DICM' prefix; File Meta Information read from offset 0.");
                ReadMeta(src, meta, warnings);
            }
            else
            {
                warnings.Add("No preamble and no File Meta Information; read as a bare data set.");
            }
        }

        var tsUid = meta.GetString(DicomTags.TransferSyntaxUID);
        if (!string.IsNullOrEmpty(tsUid)) return (meta, DicomTransferSyntax.FromUid(tsUid));
        var syntax = GuessSyntax(src.Peek(8)) ?? DicomTransferSyntax.ExplicitVRLittleEndian;
        if (meta.Count > 0) warnings.Add("File Meta Information has no Transfer Syntax UID.");
        warnings.Add($"Transfer syntax guessed from the data: {syntax.Name}.");
        return (meta, syntax);
    }

    /// <summary>Parses the rest of the source as a data set in <paramref name="syntax"/>, inflating deflated ones.</summary>
    internal static void ParseBody(ByteSource src, DicomTransferSyntax syntax, IDicomReaderObserver observer, DicomReadOptions options, Action<string>? warn)
    {
        if (!syntax.IsDeflated)
        {
            new DicomParser(src, observer, options, syntax.IsBigEndian) { Warn = warn }.ParseTopLevel(syntax.IsExplicitVR);
            return;
        }
        // Inflate what follows, bytes already buffered included: works on non-seekable streams too.
        using var inflate = new DeflateStream(src.RestAsStream(), CompressionMode.Decompress, leaveOpen: true);
        var inner = new ByteSource(new BufferedStream(inflate, 64 * 1024));
        try
        {
            new DicomParser(inner, observer, options, false) { Warn = warn }.ParseTopLevel(true);
        }
        catch (InvalidDataException ex)
        {
            throw new DicomParseException("Deflated data set is corrupt: " + ex.Message, inner.Position, null, ex);
        }
    }

    private static void ReadMeta(ByteSource src, DicomDataset meta, List<string> warnings)
    {
        // Group 0002 is always Explicit VR Little Endian (PS3.10 §7.1). Read while the group is 0002 rather than
        // trusting the group length, which some writers get wrong or leave out.
        var peek = src.Peek(6);
        var explicitMeta = peek.Length == 6 && ((DicomVR)((peek[4] << 8) | peek[5])).IsKnown();
        if (!explicitMeta) warnings.Add("File Meta Information is not Explicit VR; read as Implicit VR.");
        var stopAfterGroup2 = DicomReadOptions.Default with { OnlyGroup = 0x0002, LargeValueThreshold = long.MaxValue };
        new DicomParser(src, new DicomDatasetBuilder(meta), stopAfterGroup2, false).ParseTopLevel(explicitMeta);
        if (!meta.Contains(DicomTags.FileMetaInformationGroupLength)) warnings.Add("File Meta Information has no group length.");
    }

    /// <summary>Guesses the encoding of a bare data set from its first element header; null when it does not look like DICOM.</summary>
    internal static DicomTransferSyntax? GuessSyntax(ReadOnlySpan<byte> h)
    {
        if (h.Length < 8) return null;
        var groupLE = h[0] | (h[1] << 8);
        var groupBE = (h[0] << 8) | h[1];
        var vrKnown = ((DicomVR)((h[4] << 8) | h[5])).IsKnown();
        if (groupLE is >= 0x0001 and <= 0x0010) return vrKnown ? DicomTransferSyntax.ExplicitVRLittleEndian : DicomTransferSyntax.ImplicitVRLittleEndian;
        if (groupBE is >= 0x0001 and <= 0x0010 && vrKnown) return DicomTransferSyntax.ExplicitVRBigEndian;
        return null;
    }

    /// <summary>Builds group 0002 for a data set: version, SOP class and instance, transfer syntax, our implementation.</summary>
    public static DicomDataset CreateFileMetaInformation(DicomDataset dataset, DicomTransferSyntax syntax, string? sourceAeTitle = null)
    {
        var meta = new DicomDataset();
        meta.AddOrUpdate(DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 0u);
        meta.AddOrUpdate(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.AddOrUpdate(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, RawValue(dataset, DicomTags.SOPClassUID));
        meta.AddOrUpdate(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, RawValue(dataset, DicomTags.SOPInstanceUID));
        meta.AddOrUpdate(DicomTags.TransferSyntaxUID, DicomVR.UI, CheckedUid(syntax));
        meta.AddOrUpdate(DicomTags.ImplementationClassUID, DicomVR.UI, DicomUid.ImplementationClassUid);
        meta.AddOrUpdate(DicomTags.ImplementationVersionName, DicomVR.SH, DicomUid.ImplementationVersionName);
        if (!string.IsNullOrEmpty(sourceAeTitle)) meta.AddOrUpdate(DicomTags.SourceApplicationEntityTitle, DicomVR.AE, sourceAeTitle);
        return meta;
    }

    private static ReadOnlyMemory<byte> RawValue(DicomDataset dataset, DicomTag tag) =>
        dataset.GetItem(tag) is DicomElement e ? e.Buffer.GetMemory() : ReadOnlyMemory<byte>.Empty;

    private static string CheckedUid(DicomTransferSyntax syntax) => System.Text.Ascii.IsValid(syntax.Uid)
        ? syntax.Uid
        : throw new DicomException($"Transfer syntax UID '{syntax.Uid}' is not a valid UID; it cannot be written.");

    /// <summary>Writes the file to a path (via a temporary file, so a crash never leaves half a file under the final name).</summary>
    public void Save(string path, DicomTransferSyntax? syntax = null, DicomWriteOptions? options = null)
    {
        var tmp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Write(fs, syntax, options);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    /// <summary>Writes preamble, "DICM", meta information and data set in <paramref name="syntax"/> (default: the file's own).</summary>
    public void Write(Stream stream, DicomTransferSyntax? syntax = null, DicomWriteOptions? options = null)
    {
        syntax ??= TransferSyntax;
        CheckPixelDataFits(syntax);
        var meta = FileMetaInformation.Clone();
        meta.AddOrUpdate(DicomTags.FileMetaInformationGroupLength, DicomVR.UL, 0u); // recomputed by the writer
        if (!meta.Contains(DicomTags.FileMetaInformationVersion)) meta.AddOrUpdate(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.AddOrUpdate(DicomTags.TransferSyntaxUID, DicomVR.UI, CheckedUid(syntax));
        // Copied as bytes: a UID as read may hold bytes the string setter would refuse, and the copy must not fail.
        if (!meta.Contains(DicomTags.MediaStorageSOPClassUID)) meta.AddOrUpdate(DicomTags.MediaStorageSOPClassUID, DicomVR.UI, RawValue(Dataset, DicomTags.SOPClassUID));
        if (!meta.Contains(DicomTags.MediaStorageSOPInstanceUID)) meta.AddOrUpdate(DicomTags.MediaStorageSOPInstanceUID, DicomVR.UI, RawValue(Dataset, DicomTags.SOPInstanceUID));
        if (!meta.Contains(DicomTags.ImplementationClassUID)) meta.AddOrUpdate(DicomTags.ImplementationClassUID, DicomVR.UI, DicomUid.ImplementationClassUid);

        // Group 0002 belongs to the meta information only: left in the data set (a file whose meta ended early), a
        // reader would take it for meta information, transfer syntax included, and misread the rest.
        var body = Dataset;
        if (Dataset.Any(i => i.Tag.Group == 0x0002))
        {
            body = Dataset.Clone();
            body.RemoveAll(i => i.Tag.Group == 0x0002);
        }

        var buffered = new BufferedStream(stream, 1 << 16);
        buffered.Write(new byte[128]);
        buffered.Write(Magic);
        new DicomWriter(buffered, DicomTransferSyntax.ExplicitVRLittleEndian).WriteDataset(meta);
        buffered.Flush();
        DicomDatasetWriter.Write(stream, body, syntax, options);
        stream.Flush();
    }

    private void CheckPixelDataFits(DicomTransferSyntax syntax)
    {
        var encapsulated = Dataset.GetItem(DicomTags.PixelData) is DicomFragmentSequence;
        if (encapsulated && !syntax.IsEncapsulated)
            throw new DicomException($"The pixel data is compressed ({TransferSyntax.Name}); it cannot be written as {syntax.Name} without a codec.");
        if (encapsulated && syntax.Uid != TransferSyntax.Uid)
            throw new DicomException($"Compressed pixel data in {TransferSyntax.Name} cannot be re-labelled as {syntax.Name}.");
        if (!encapsulated && syntax.IsEncapsulated && Dataset.Contains(DicomTags.PixelData))
            throw new DicomException($"Native pixel data cannot be written as {syntax.Name} without an encoder.");
    }
}
