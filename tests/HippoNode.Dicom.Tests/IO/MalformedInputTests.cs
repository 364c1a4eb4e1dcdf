using System.IO.Compression;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

/// <summary>
/// Hand-built malformed input: every case must end in a <see cref="DicomParseException"/> (never another type)
/// whose message names the byte offset and, where there is one, the tag; through a seekable stream and through a
/// non-seekable one (the chunked path).
/// </summary>
public sealed class MalformedInputTests
{
    private static readonly string Explicit = DicomTransferSyntax.ExplicitVRLittleEndian.Uid;
    private static readonly string Implicit = DicomTransferSyntax.ImplicitVRLittleEndian.Uid;
    private static readonly int H = DicomTestUtil.Part10HeaderLength(Explicit);
    private static readonly int HI = DicomTestUtil.Part10HeaderLength(Implicit);
    private static readonly DicomTag Sq = DicomTags.ReferencedSeriesSequence;

    public static TheoryData<bool> Streams => new() { true, false };

    /// <summary>Reads and demands a DicomParseException of exactly that type, with offset and tag in the message.</summary>
    private static DicomParseException Fails(byte[] file, bool seekable, long? offset, DicomTag? tag, string? reason = null, DicomReadOptions? options = null)
    {
        var ex = Record.Exception(() => DicomTestUtil.Read(file, seekable, options));
        Assert.True(ex is DicomParseException, $"expected DicomParseException, got {ex?.GetType().FullName ?? "no exception"}: {ex}");
        var pe = (DicomParseException)ex!;
        if (offset is { } o)
        {
            Assert.True(pe.Offset == o, $"offset {pe.Offset}, expected {o}: {pe.Message}");
            Assert.Contains($"byte offset {o}", pe.Message);
        }
        else
        {
            Assert.Contains("byte offset", pe.Message);
        }
        if (tag is { } t)
        {
            Assert.True(pe.Tag == t, $"tag {pe.Tag}, expected {t}: {pe.Message}");
            Assert.Contains(t.ToString(), pe.Message);
        }
        if (reason is not null) Assert.Contains(reason, pe.Message, StringComparison.OrdinalIgnoreCase);
        return pe;
    }

    private static byte[] Ds(Func<DicomBytes, DicomBytes> build) => build(new DicomBytes()).ToArray();

    private static byte[] Explicit10(Func<DicomBytes, DicomBytes> build) => DicomTestUtil.Part10(Ds(build), Explicit);

    private static DicomBytes Patient(DicomBytes b) => b.ExplicitText(0x0010, 0x0010, "PN", "Doe^Jane");

    private const int PatientLength = 8 + 8;

    // ---- truncation ----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InElementHeader_AfterTheTag(bool seekable)
    {
        var file = Explicit10(b => Patient(b).Tag(0x0010, 0x0020).Ascii("LO").Raw(0x04));
        Fails(file, seekable, H + PatientLength, DicomTags.PatientID, "end of data");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InElementHeader_BeforeTheTagIsComplete(bool seekable)
    {
        var file = Explicit10(b => Patient(b).Raw(0x10, 0x00));
        Fails(file, seekable, H + PatientLength, null, "end of data");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InLongHeader(bool seekable)
    {
        var file = Explicit10(b => Patient(b).Tag(0x7FE0, 0x0010).Ascii("OB").U16(0).Raw(0x10, 0x00));
        Fails(file, seekable, H + PatientLength, DicomTags.PixelData, "end of data");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InValue(bool seekable)
    {
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x7FE0, 0x0010, "OB", 100).Raw(new byte[10]));
        Fails(file, seekable, H + PatientLength, DicomTags.PixelData);
        var shortVr = Explicit10(b => Patient(b).ExplicitHeader(0x0010, 0x0020, "LO", 20).Ascii("ABCDE"));
        Fails(shortVr, seekable, H + PatientLength, DicomTags.PatientID);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InLargeValue_BeyondTheChunkSize(bool seekable)
    {
        // 3 MiB claimed, 2.5 MiB present: the non-seekable path reads chunk by chunk and then meets the end.
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x7FE0, 0x0010, "OW", 3 << 20).Raw(new byte[5 << 19]));
        Fails(file, seekable, H + PatientLength, DicomTags.PixelData);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InSequence_BetweenItemElements(bool seekable)
    {
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item().ExplicitText(0x0020, 0x000E, "UI", "1.2"));
        Fails(file, seekable, file.Length, Sq, "end of data");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InSequence_InsideAnItemValue(bool seekable)
    {
        var at = PatientLength + 12 + 8;
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item()
            .ExplicitHeader(0x0020, 0x000E, "UI", 64).Ascii("1.2.3"));
        Fails(file, seekable, H + at, DicomTags.SeriesInstanceUID);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InSequence_InItemHeader(bool seekable)
    {
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Tag(0xFFFE, 0xE000).Raw(0xFF));
        Fails(file, seekable, H + PatientLength + 12, Sq, "end of data");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_DefinedLengthSequence(bool seekable)
    {
        var item = Ds(b => b.ExplicitText(0x0020, 0x000E, "UI", "1.2"));
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 1000).Item((uint)item.Length).Raw(item));
        // Seekable: the sequence length is checked against the file up front; otherwise the data ends at the next item.
        Fails(file, seekable, seekable ? H + PatientLength : file.Length, Sq);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InFragments(bool seekable)
    {
        var file = DicomTestUtil.Part10(Ds(b => b.ExplicitHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFFF).Item(0).Item(4).Raw(1, 2, 3, 4).Item(100).Raw(1, 2)), "1.2.840.10008.1.2.4.50");
        Fails(file, seekable, DicomTestUtil.Part10HeaderLength("1.2.840.10008.1.2.4.50") + 12 + 8 + 12, DicomTags.PixelData);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_InMetaInformation(bool seekable)
    {
        var whole = Explicit10(Patient);
        var cut = whole[..(132 + 30)];
        Fails(cut, seekable, null, null);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Truncated_AnywhereInARealFile_IsAlwaysAParseException(bool seekable)
    {
        var ds = DicomTestUtil.NewDataset().AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "A^B")
            .AddOrUpdate(DicomTags.ReferencedSeriesSequence, new DicomDataset().AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, "1.2"))
            .AddOrUpdate(DicomTags.PixelData, DicomVR.OW, new byte[64]);
        foreach (var undefined in new[] { false, true })
        {
            var file = DicomTestUtil.ToPart10(ds, DicomTransferSyntax.ExplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = undefined });
            for (var cut = 133; cut < file.Length; cut++)
            {
                var ex = Record.Exception(() => DicomTestUtil.Read(file[..cut], seekable));
                // Cuts on an element boundary at top level are a complete (shorter) data set; all others must fail cleanly.
                if (ex is null) continue;
                Assert.True(ex is DicomParseException, $"cut at {cut}: {ex}");
                Assert.Contains("byte offset", ex.Message);
            }
        }
    }

    // ---- impossible lengths --------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Streams))]
    public void OddHugeLengths(bool seekable)
    {
        foreach (var length in new uint[] { 0x7FFFFFFF, 0xFFFFFFF1, 0x80000001, 0x7FFFFFC5 })
        {
            Fails(Explicit10(b => Patient(b).ExplicitHeader(0x7FE0, 0x0010, "OB", length).Raw(new byte[100])), seekable, H + PatientLength, DicomTags.PixelData);
            Fails(Explicit10(b => Patient(b).ExplicitHeader(0x0010, 0x4000, "LT", length).Raw(new byte[100])), seekable, null, null);
            var sq = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", length).Item(0));
            Fails(sq, seekable, seekable ? H + PatientLength : sq.Length, Sq);
            Fails(DicomTestUtil.Part10(Ds(b => b.ImplicitHeader(0x0028, 0x0010, length).Raw(1, 2)), Implicit), seekable, HI, DicomTags.Rows);
        }
        // A 16-bit length larger than the data left.
        Fails(Explicit10(b => Patient(b).ExplicitHeader(0x0010, 0x0020, "LO", 0xFFFF).Ascii("AB")), seekable, H + PatientLength, DicomTags.PatientID);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void FourGigabyteLengthClaim_DoesNotAllocateIt(bool seekable)
    {
        foreach (var length in new uint[] { 0xFFFFFFF0, 0xFFFFFFFE, 0x7FFFFF00, 0x40000000 })
        {
            var file = Explicit10(b => Patient(b).ExplicitHeader(0x7FE0, 0x0010, "OB", length).Raw(new byte[1024]));
            var before = GC.GetAllocatedBytesForCurrentThread();
            Fails(file, seekable, H + PatientLength, DicomTags.PixelData);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 32 << 20, $"length 0x{length:X8}: allocated {allocated:N0} bytes");
        }
    }

    [Fact]
    public void FourGigabyteLengthClaim_InDeflatedData_DoesNotAllocateIt()
    {
        var ds = Ds(b => Patient(b).ExplicitHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFF0).Raw(new byte[1024]));
        var z = new MemoryStream();
        using (var d = new DeflateStream(z, CompressionLevel.Fastest, leaveOpen: true)) d.Write(ds);
        var file = DicomTestUtil.Part10(z.ToArray(), DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid);
        foreach (var seekable in new[] { true, false })
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            // Offsets inside deflated data count inflated bytes.
            Fails(file, seekable, PatientLength, DicomTags.PixelData);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 32 << 20);
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void ItemLength_BeyondTheParentSequence(bool seekable)
    {
        // The item claims 100 bytes in a sequence of 30; its element really does run past the sequence.
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 30).Item(100)
            .ExplicitHeader(0x0020, 0x000E, "UI", 40).Raw(new byte[40]).ExplicitText(0x0020, 0x0010, "SH", "AFTER"));
        Fails(file, seekable, H + PatientLength + 12 + 8, DicomTags.SeriesInstanceUID, "past the end of its parent");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void ItemLength_BeyondTheData(bool seekable)
    {
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item(1000).ExplicitText(0x0020, 0x000E, "UI", "1.2"));
        if (seekable) Fails(file, seekable, H + PatientLength + 12, Sq, "Item length 1000");
        else Fails(file, seekable, file.Length, Sq, "end of data");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void ElementInDefinedLengthItem_RunsPastTheItem(bool seekable)
    {
        var file = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item(10)
            .ExplicitHeader(0x0020, 0x000E, "UI", 20).Raw(new byte[20]).ItemDelimiter().SequenceDelimiter());
        Fails(file, seekable, H + PatientLength + 12 + 8, DicomTags.SeriesInstanceUID, "past the end of its parent");
    }

    // ---- not DICOM, bad VRs, bad structure -------------------------------------------------------

    [Theory]
    [MemberData(nameof(Streams))]
    public void MissingDicm_WithGarbage(bool seekable)
    {
        var rng = new Random(1234);
        foreach (var size in new[] { 0, 1, 3, 8, 131, 132, 200, 4096 })
        {
            var garbage = new byte[size];
            rng.NextBytes(garbage);
            if (size > 0) garbage[0] = 0xAB;
            if (size > 1) garbage[1] = 0xCD; // group 0xCDAB / 0xABCD: neither looks like a first element
            Fails(garbage, seekable, 0, null, "Not a DICOM file");
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void DicmPrefix_FollowedByGarbage(bool seekable)
    {
        var rng = new Random(99);
        for (var i = 0; i < 50; i++)
        {
            var garbage = new byte[132 + rng.Next(1, 300)];
            rng.NextBytes(garbage);
            "DICM"u8.CopyTo(garbage.AsSpan(128));
            var ex = Record.Exception(() => DicomTestUtil.Read(garbage, seekable));
            if (ex is null) continue; // random bytes can happen to parse
            Assert.True(ex is DicomParseException, ex.ToString());
            Assert.Contains("byte offset", ex.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void InvalidVRBytes(bool seekable)
    {
        foreach (var vr in new byte[][] { [0, 0], "XX"u8.ToArray(), "pn"u8.ToArray(), [0xFF, 0xFF], "  "u8.ToArray() })
        {
            var file = Explicit10(b => Patient(b).Tag(0x0010, 0x0020).Raw(vr).U16(4).Ascii("ABCD"));
            Fails(file, seekable, H + PatientLength, DicomTags.PatientID, "Invalid VR");
        }
        // In a sequence item too.
        var nested = Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item().Tag(0x0020, 0x000E).Ascii("ZZ").U16(0));
        Fails(nested, seekable, H + PatientLength + 20, DicomTags.SeriesInstanceUID, "Invalid VR");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void InvalidVR_InMetaInformation(bool seekable)
    {
        var file = new DicomBytes().Raw(new byte[128]).Ascii("DICM")
            .ExplicitHeader(0x0002, 0x0000, "UL", 4).U32(100)
            .Tag(0x0002, 0x0001).Ascii("Q!").U16(2).Raw(0, 1).ToArray();
        Fails(file, seekable, 132 + 12, new DicomTag(0x0002, 0x0001), "Invalid VR");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void UndefinedLength_OnNonSequenceVR_InExplicitVR(bool seekable)
    {
        foreach (var vr in new[] { "UT", "UC", "UR", "OF", "OD", "OL", "OV", "SV", "UV" })
        {
            var file = Explicit10(b => Patient(b).ExplicitHeader(0x0011, 0x1010, vr, 0xFFFFFFFF).Raw(new byte[16]));
            Fails(file, seekable, H + PatientLength, new DicomTag(0x0011, 0x1010), "Undefined length");
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void NestedTenThousandLevels_IsRejectedAtMaxDepth_WithoutStackOverflow(bool seekable)
    {
        const int levels = 10_000;
        var max = DicomReadOptions.Default.MaxDepth;

        var b = new DicomBytes();
        for (var i = 0; i < levels; i++) b.ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item();
        for (var i = 0; i < levels; i++) b.ItemDelimiter().SequenceDelimiter();
        Fails(DicomTestUtil.Part10(b.ToArray(), Explicit), seekable, H + max * 20, Sq, "nested deeper");

        // Implicit VR, undefined lengths.
        var bi = new DicomBytes();
        for (var i = 0; i < levels; i++) bi.ImplicitHeader(0x0008, 0x1115, 0xFFFFFFFF).Item();
        Fails(DicomTestUtil.Part10(bi.ToArray(), Implicit), seekable, HI + max * 16, Sq, "nested deeper");

        // Defined lengths all the way down (built inside out).
        var leaf = Ds(x => x.ExplicitText(0x0020, 0x000E, "UI", "1.2"));
        var bd = new DicomBytes();
        for (var i = 0; i < levels; i++)
        {
            var content = (uint)(leaf.Length + 20 * (levels - 1 - i)); // what this level's item holds
            bd.ExplicitHeader(0x0008, 0x1115, "SQ", content + 8).Item(content);
        }
        var defined = bd.Raw(leaf).ToArray();
        Assert.Equal(H + 20 * levels + leaf.Length, DicomTestUtil.Part10(defined, Explicit).Length);
        Fails(DicomTestUtil.Part10(defined, Explicit), seekable, H + max * 20, Sq, "nested deeper");

        // Undefined-length UN (an implicit sequence inside explicit data), the other way in.
        var bu = new DicomBytes();
        bu.ExplicitHeader(0x0011, 0x1010, "UN", 0xFFFFFFFF).Item();
        for (var i = 1; i < levels; i++) bu.ImplicitHeader(0x0011, 0x1010, 0xFFFFFFFF).Item(); // inside a UN: Implicit VR
        Fails(DicomTestUtil.Part10(bu.ToArray(), Explicit), seekable, H + 20 + (max - 1) * 16, new DicomTag(0x0011, 0x1010), "nested deeper");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void DelimitersAndItemsOutOfPlace(bool seekable)
    {
        Fails(Explicit10(b => Patient(b).Item(4).Raw(1, 2, 3, 4)), seekable, H + PatientLength, DicomTag.Item);
        Fails(Explicit10(b => Patient(b).SequenceDelimiter()), seekable, H + PatientLength, DicomTag.SequenceDelimitationItem);
        Fails(Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).ExplicitText(0x0020, 0x000E, "UI", "1.2")),
            seekable, H + PatientLength + 12, Sq, "Expected an item");
        Fails(Explicit10(b => Patient(b).ExplicitHeader(0x0008, 0x1115, "SQ", 16).Item(0).SequenceDelimiter()),
            seekable, H + PatientLength + 12 + 8, Sq, "Sequence delimiter inside a defined-length sequence");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void MalformedFragments(bool seekable)
    {
        const string jpeg = "1.2.840.10008.1.2.4.50";
        var H = DicomTestUtil.Part10HeaderLength(jpeg);
        Fails(DicomTestUtil.Part10(Ds(b => b.ExplicitHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFFF).Item(0).Item()), jpeg),
            seekable, H + 12 + 8, DicomTags.PixelData, "undefined length");
        Fails(DicomTestUtil.Part10(Ds(b => b.ExplicitHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFFF).Item(0).ExplicitText(0x0008, 0x0060, "CS", "CT")), jpeg),
            seekable, H + 12 + 8, DicomTags.PixelData, "Expected a fragment");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void CorruptDeflatedData(bool seekable)
    {
        var rng = new Random(7);
        var junk = new byte[500];
        rng.NextBytes(junk);
        junk[0] = 0xFF; // not a valid deflate block type (BTYPE 11)
        Fails(DicomTestUtil.Part10(junk, DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid), seekable, null, null);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void ValidFiles_StillReadThroughBothStreamKinds(bool seekable)
    {
        var ds = DicomTestUtil.NewDataset().AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "A^B")
            .AddOrUpdate(DicomTags.PixelData, DicomVR.OW, new byte[3 << 20]);
        foreach (var syntax in DicomTestUtil.NativeSyntaxes)
        {
            var file = DicomTestUtil.ToPart10(ds, syntax);
            var read = DicomTestUtil.Read(file, seekable);
            Assert.Equal(syntax, read.TransferSyntax);
            Assert.Equal("A^B", read.Dataset.GetString(DicomTags.PatientName));
            Assert.Equal(3 << 20, DicomTestUtil.Bytes(read.Dataset, DicomTags.PixelData).Length);
        }
    }
}
