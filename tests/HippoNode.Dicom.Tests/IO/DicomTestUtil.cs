using System.Buffers.Binary;
using System.Text;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

/// <summary>Builds DICOM bytes by hand, one field at a time, little- or big-endian.</summary>
internal sealed class DicomBytes(bool bigEndian = false)
{
    private readonly MemoryStream _b = new();

    /// <summary>Current length, i.e. the offset of the next byte written.</summary>
    public long Position => _b.Length;

    public DicomBytes Raw(params byte[] bytes)
    {
        _b.Write(bytes);
        return this;
    }

    public DicomBytes Ascii(string s) => Raw(Encoding.ASCII.GetBytes(s));

    public DicomBytes U16(ushort v)
    {
        Span<byte> s = stackalloc byte[2];
        if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, v); else BinaryPrimitives.WriteUInt16LittleEndian(s, v);
        _b.Write(s);
        return this;
    }

    public DicomBytes U32(uint v)
    {
        Span<byte> s = stackalloc byte[4];
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(s, v); else BinaryPrimitives.WriteUInt32LittleEndian(s, v);
        _b.Write(s);
        return this;
    }

    public DicomBytes Tag(ushort group, ushort element) => U16(group).U16(element);

    /// <summary>An Explicit VR element header with the given length (short or long form by VR).</summary>
    public DicomBytes ExplicitHeader(ushort group, ushort element, string vr, uint length)
    {
        Tag(group, element).Ascii(vr);
        DicomVRInfo.TryParse(vr, out var v);
        if (v.HasLongLength()) return U16(0).U32(length);
        return U16((ushort)length);
    }

    /// <summary>An Explicit VR element with its value (no padding added).</summary>
    public DicomBytes Explicit(ushort group, ushort element, string vr, byte[] value) =>
        ExplicitHeader(group, element, vr, (uint)value.Length).Raw(value);

    /// <summary>An Explicit VR element with ASCII text (padded with a space to even length).</summary>
    public DicomBytes ExplicitText(ushort group, ushort element, string vr, string text) =>
        Explicit(group, element, vr, Encoding.ASCII.GetBytes(text.Length % 2 == 1 ? text + " " : text));

    public DicomBytes ImplicitHeader(ushort group, ushort element, uint length) => Tag(group, element).U32(length);

    public DicomBytes Implicit(ushort group, ushort element, byte[] value) => ImplicitHeader(group, element, (uint)value.Length).Raw(value);

    public DicomBytes Item(uint length = 0xFFFFFFFF) => Tag(0xFFFE, 0xE000).U32(length);

    public DicomBytes ItemDelimiter() => Tag(0xFFFE, 0xE00D).U32(0);

    public DicomBytes SequenceDelimiter() => Tag(0xFFFE, 0xE0DD).U32(0);

    public byte[] ToArray() => _b.ToArray();
}

/// <summary>Write/read helpers shared by the data model, IO and fuzz tests.</summary>
internal static class DicomTestUtil
{
    public const string SecondaryCapture = Part10Bytes.SecondaryCapture;

    /// <summary>A data set with the SOP identity a Part 10 file needs.</summary>
    public static DicomDataset NewDataset()
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, SecondaryCapture);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3.4.5.6.7.8.9");
        return ds;
    }

    /// <summary>The bare data set encoding of <paramref name="ds"/> in <paramref name="syntax"/>.</summary>
    public static byte[] Encode(DicomDataset ds, DicomTransferSyntax syntax, DicomWriteOptions? options = null)
    {
        var ms = new MemoryStream();
        new DicomWriter(ms, syntax, options).WriteDataset(ds);
        return ms.ToArray();
    }

    /// <summary>The encoding of one item in <paramref name="syntax"/>.</summary>
    public static byte[] EncodeItem(DicomItem item, DicomTransferSyntax syntax)
    {
        var ms = new MemoryStream();
        new DicomWriter(ms, syntax).WriteItem(item);
        return ms.ToArray();
    }

    /// <summary>Parses bare data set bytes in <paramref name="syntax"/> with the parse core itself.</summary>
    public static DicomDataset Decode(byte[] bytes, DicomTransferSyntax syntax, bool seekable = true, DicomReadOptions? options = null)
    {
        Stream s = seekable ? new MemoryStream(bytes, writable: false) : new NonSeekableStream(bytes, 7);
        var builder = new DicomDatasetBuilder();
        new DicomParser(new ByteSource(s), builder, options ?? DicomReadOptions.Default, syntax.IsBigEndian).ParseTopLevel(syntax.IsExplicitVR);
        return builder.Root;
    }

    /// <summary>The Part 10 bytes of a data set written in <paramref name="syntax"/>.</summary>
    public static byte[] ToPart10(DicomDataset ds, DicomTransferSyntax syntax, DicomWriteOptions? options = null) => Part10Bytes.Write(ds, syntax, options);

    /// <summary>Part 10 bytes: preamble, DICM, meta (Explicit VR LE, with group length) and the given data set bytes.</summary>
    public static byte[] Part10(byte[] dataset, string transferSyntaxUid) => Part10Bytes.Wrap(dataset, transferSyntaxUid);

    /// <summary>Length of the preamble, DICM and meta that <see cref="Part10"/> puts before the data set.</summary>
    public static int Part10HeaderLength(string transferSyntaxUid) => Part10([], transferSyntaxUid).Length;

    /// <summary>Reads Part 10 bytes from a seekable or a non-seekable stream.</summary>
    public static DicomFile Read(byte[] bytes, bool seekable = true, DicomReadOptions? options = null) =>
        DicomFile.Read(seekable ? new MemoryStream(bytes, writable: false) : new NonSeekableStream(bytes, 4093), options);

    /// <summary>Writes <paramref name="ds"/> as Part 10 in <paramref name="syntax"/> and reads it back.</summary>
    public static DicomDataset RoundTrip(DicomDataset ds, DicomTransferSyntax syntax, DicomWriteOptions? options = null) =>
        Read(ToPart10(ds, syntax, options)).Dataset;

    /// <summary>The transfer syntaxes a native data set can be written in.</summary>
    public static IEnumerable<DicomTransferSyntax> NativeSyntaxes =>
    [
        DicomTransferSyntax.ExplicitVRLittleEndian, DicomTransferSyntax.ImplicitVRLittleEndian,
        DicomTransferSyntax.ExplicitVRBigEndian, DicomTransferSyntax.DeflatedExplicitVRLittleEndian,
    ];

    public static TheoryData<string> NativeSyntaxUids => new(NativeSyntaxes.Select(s => s.Uid));

    /// <summary>The raw value bytes of an element.</summary>
    public static byte[] Bytes(DicomDataset ds, DicomTag tag) =>
        Assert.IsType<DicomElement>(ds.GetItem(tag)).Buffer.GetMemory().ToArray();

    /// <summary>Index of <paramref name="needle"/> in <paramref name="haystack"/>, -1 when absent.</summary>
    public static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    /// <summary>Asserts that two data sets hold the same tags, VRs, values and nested items.</summary>
    public static void AssertSameContent(DicomDataset expected, DicomDataset actual, string path = "")
    {
        Assert.Equal(expected.Select(i => i.Tag).ToArray(), actual.Select(i => i.Tag).ToArray());
        foreach (var e in expected)
        {
            var a = actual.GetItem(e.Tag)!;
            var where = path + e.Tag;
            switch (e)
            {
                case DicomSequence sq:
                    var asq = Assert.IsType<DicomSequence>(a);
                    Assert.True(sq.Items.Count == asq.Items.Count, $"{where}: {sq.Items.Count} vs {asq.Items.Count} items");
                    for (var i = 0; i < sq.Items.Count; i++) AssertSameContent(sq.Items[i], asq.Items[i], $"{where}[{i}]");
                    break;
                case DicomFragmentSequence fs:
                    var afs = Assert.IsType<DicomFragmentSequence>(a);
                    Assert.Equal(fs.OffsetTable.GetMemory().ToArray(), afs.OffsetTable.GetMemory().ToArray());
                    Assert.Equal(fs.Fragments.Select(f => f.GetMemory().ToArray()), afs.Fragments.Select(f => f.GetMemory().ToArray()));
                    break;
                case DicomElement el:
                    var ael = Assert.IsType<DicomElement>(a);
                    Assert.True(el.VR == ael.VR, $"{where}: VR {el.VR.Code()} vs {ael.VR.Code()}");
                    var eb = el.Buffer.GetMemory().ToArray();
                    var ab = ael.Buffer.GetMemory().ToArray();
                    // A value written with odd length comes back padded to even length.
                    if (eb.Length % 2 == 1 && ab.Length == eb.Length + 1) ab = ab[..^1];
                    Assert.True(eb.AsSpan().SequenceEqual(ab), $"{where}: value {Convert.ToHexString(eb)} vs {Convert.ToHexString(ab)}");
                    break;
            }
        }
    }
}
