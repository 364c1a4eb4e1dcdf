using System.Buffers.Binary;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

/// <summary>Padding, byte order and pixel data encapsulation on write.</summary>
public sealed class EncodingTests
{
    [Theory]
    [InlineData(DicomVR.PN, "ABC", (byte)' ')]
    [InlineData(DicomVR.LO, "ABC", (byte)' ')]
    [InlineData(DicomVR.SH, "ABC", (byte)' ')]
    [InlineData(DicomVR.CS, "ABC", (byte)' ')]
    [InlineData(DicomVR.DS, "1.5", (byte)' ')]
    [InlineData(DicomVR.IS, "123", (byte)' ')]
    [InlineData(DicomVR.DA, "2024010", (byte)' ')]
    [InlineData(DicomVR.AE, "SCP", (byte)' ')]
    [InlineData(DicomVR.LT, "odd", (byte)' ')]
    [InlineData(DicomVR.ST, "odd", (byte)' ')]
    [InlineData(DicomVR.UT, "odd", (byte)' ')]
    [InlineData(DicomVR.UC, "odd", (byte)' ')]
    [InlineData(DicomVR.UR, "http://xy", (byte)' ')]
    [InlineData(DicomVR.UI, "1.2.3", (byte)0)]
    public void OddTextValues_ArePaddedPerVR(DicomVR vr, string text, byte pad)
    {
        var tag = new DicomTag(0x0011, 0x1001);
        var ds = new DicomDataset().AddOrUpdate(tag, vr, text);
        foreach (var syntax in new[] { DicomTransferSyntax.ExplicitVRLittleEndian, DicomTransferSyntax.ImplicitVRLittleEndian, DicomTransferSyntax.ExplicitVRBigEndian })
        {
            var bytes = DicomTestUtil.Encode(ds, syntax);
            Assert.Equal(pad, bytes[^1]);
            Assert.Equal(System.Text.Encoding.ASCII.GetBytes(text), bytes[^(text.Length + 1)..^1]);
            var length = !syntax.IsExplicitVR ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4))
                : vr.HasLongLength() ? (syntax.IsBigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)))
                : syntax.IsBigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(6)) : BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6));
            Assert.Equal((uint)text.Length + 1, length);
            Assert.Equal(bytes.Length, new DicomWriter(Stream.Null, syntax).DatasetLength(ds));
            var back = DicomTestUtil.Decode(bytes, syntax);
            if (syntax.IsExplicitVR) Assert.Equal(text, back.GetString(tag));
        }
    }

    [Theory]
    [InlineData(DicomVR.OB)]
    [InlineData(DicomVR.UN)]
    public void OddByteValues_ArePaddedWithNul(DicomVR vr)
    {
        var tag = new DicomTag(0x0011, 0x1002);
        var ds = new DicomDataset().AddOrUpdate(tag, vr, new byte[] { 0xFF, 0xFE, 0xFD });
        var bytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(new DicomBytes().ExplicitHeader(0x0011, 0x1002, vr.Code(), 4).Raw(0xFF, 0xFE, 0xFD, 0x00).ToArray(), bytes);
    }

    [Fact]
    public void EvenValues_AreNotPadded_AndEmptyValuesHaveZeroLength()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "AB").AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "");
        Assert.Equal(new DicomBytes().ExplicitText(0x0010, 0x0010, "PN", "AB").ExplicitHeader(0x0010, 0x0020, "LO", 0).ToArray(),
            DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }

    [Fact]
    public void ShortLengthVR_TooLongForItsHeader_IsWrittenAsUN()
    {
        var big = new string('A', 70000);
        var ds = new DicomDataset().AddOrUpdate(new DicomTag(0x0011, 0x1003), DicomVR.LO, new byte[70000].Select(_ => (byte)'A').ToArray());
        var bytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal("UN"u8.ToArray(), bytes[4..6]);
        Assert.Equal(70000u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(big, System.Text.Encoding.ASCII.GetString(DicomTestUtil.Bytes(DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian), new DicomTag(0x0011, 0x1003))));
    }

    [Fact]
    public void BigEndian_SwapsBinaryValues_NotBytesOrText()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)0x0102, (ushort)0x0304)
            .AddOrUpdate(DicomTags.SimpleFrameList, DicomVR.UL, 0x0A0B0C0Du)
            .AddOrUpdate(DicomTags.RecommendedDisplayFrameRateInFloat, DicomVR.FL, 1.0f)
            .AddOrUpdate(DicomTags.DimensionIndexPointer, DicomTags.PixelData)
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "AB")
            .AddOrUpdate(new DicomTag(0x0011, 0x1010), DicomVR.OB, new byte[] { 1, 2, 3, 4 })
            .AddOrUpdate(DicomTags.RedPaletteColorLookupTableData, DicomVR.OW, (ushort)0x1122, (ushort)0x3344);
        var bytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRBigEndian);
        var expected = new DicomBytes(bigEndian: true)
            .Tag(0x0008, 0x1161).Ascii("UL").U16(4).Raw(0x0A, 0x0B, 0x0C, 0x0D)
            .Tag(0x0008, 0x9459).Ascii("FL").U16(4).Raw(0x3F, 0x80, 0x00, 0x00)
            .Tag(0x0010, 0x0010).Ascii("PN").U16(2).Ascii("AB")
            .Tag(0x0011, 0x1010).Ascii("OB").U16(0).U32(4).Raw(1, 2, 3, 4)
            .Tag(0x0020, 0x9165).Ascii("AT").U16(4).Raw(0x7F, 0xE0, 0x00, 0x10)
            .Tag(0x0028, 0x0010).Ascii("US").U16(4).Raw(0x01, 0x02, 0x03, 0x04)
            .Tag(0x0028, 0x1201).Ascii("OW").U16(0).U32(4).Raw(0x11, 0x22, 0x33, 0x44)
            .ToArray();
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(bytes));

        // Read back: values are little-endian again in memory.
        var back = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRBigEndian);
        DicomTestUtil.AssertSameContent(ds, back);
        Assert.Equal([DicomTags.PixelData], back.GetTags(DicomTags.DimensionIndexPointer));
        Assert.Equal([(ushort)0x1122, (ushort)0x3344], back.GetValues<ushort>(DicomTags.RedPaletteColorLookupTableData));
    }

    [Fact]
    public void BigEndian_SequenceHeadersAreBigEndianToo()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.ReferencedImageSequence, new DicomDataset().AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)1));
        var bytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRBigEndian);
        var expected = new DicomBytes(bigEndian: true)
            .Tag(0x0008, 0x1140).Ascii("SQ").U16(0).U32(18).Tag(0xFFFE, 0xE000).U32(10).Tag(0x0028, 0x0010).Ascii("US").U16(2).U16(1).ToArray();
        Assert.Equal(expected, bytes);
        Assert.Equal((ushort)1, DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRBigEndian).GetSequence(DicomTags.ReferencedImageSequence)!.Items[0].GetValue<ushort>(DicomTags.Rows));
    }

    [Fact]
    public void GroupLengths_AreRecomputed()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(new DicomTag(0x0010, 0x0000), DicomVR.UL, 999u)
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "ABC")
            .AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "1234");
        var bytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(8u + 4 + 8 + 4, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        var ibytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Equal(8u + 4 + 8 + 4, BinaryPrimitives.ReadUInt32LittleEndian(ibytes.AsSpan(8)));
    }

    // ---- encapsulated pixel data -----------------------------------------------------------------

    private const string JpegBaseline = "1.2.840.10008.1.2.4.50";

    private static DicomDataset Encapsulated(byte[] offsetTable, params byte[][] fragments)
    {
        var ds = DicomTestUtil.NewDataset()
            .AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)2).AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)2);
        var fs = new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB) { OffsetTable = new MemoryByteBuffer(offsetTable) };
        foreach (var f in fragments) fs.Fragments.Add(new MemoryByteBuffer(f));
        ds.Add(fs);
        return ds;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EncapsulatedPixelData_HandBuilt_RoundTripsByteIdentically(bool seekable)
    {
        var bot = new byte[] { 0, 0, 0, 0, 0x12, 0, 0, 0 };
        var pixelItem = new DicomBytes()
            .ExplicitHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFFF)
            .Item((uint)bot.Length).Raw(bot)
            .Item(10).Raw(0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 0xFF, 0xD9)
            .Item(0)
            .Item(4).Raw(0xFF, 0xD8, 0xFF, 0xD9)
            .SequenceDelimiter().ToArray();
        var header = new DicomBytes().Explicit(0x0028, 0x0010, "US", [2, 0]).ToArray();
        var file = DicomTestUtil.Part10([.. header, .. pixelItem], JpegBaseline);

        var read = DicomTestUtil.Read(file, seekable);
        Assert.True(read.TransferSyntax.IsEncapsulated);
        var fs = Assert.IsType<DicomFragmentSequence>(read.Dataset[DicomTags.PixelData]);
        Assert.Equal(DicomVR.OB, fs.VR);
        Assert.Equal(bot, fs.OffsetTable.GetMemory().ToArray());
        Assert.Equal(3, fs.Fragments.Count);
        Assert.Equal(0, fs.Fragments[1].Length);

        Assert.Equal(pixelItem, DicomTestUtil.EncodeItem(fs, read.TransferSyntax));
        var rewritten = new MemoryStream();
        read.Write(rewritten);
        var r = rewritten.ToArray();
        Assert.Equal(pixelItem, r[^pixelItem.Length..]);
    }

    [Theory]
    [InlineData("1.2.840.10008.1.2.4.50")]
    [InlineData("1.2.840.10008.1.2.4.90")]
    [InlineData("1.2.840.10008.1.2.5")]
    [InlineData("1.2.3.4.5.999")] // unknown: encapsulated Explicit VR LE per PS3.5 §10
    public void EncapsulatedPixelData_RoundTripsThroughPart10(string uid)
    {
        var ds = Encapsulated([], [1, 2, 3, 4], [5, 6]);
        var syntax = DicomTransferSyntax.FromUid(uid);
        var bytes = DicomTestUtil.ToPart10(ds, syntax);
        var read = DicomTestUtil.Read(bytes);
        Assert.Equal(uid, read.TransferSyntax.Uid);
        DicomTestUtil.AssertSameContent(ds, read.Dataset);
        var again = new MemoryStream();
        read.Write(again);
        Assert.Equal(bytes, again.ToArray());
    }

    [Fact]
    public void OddFragment_IsPaddedWithNul()
    {
        var ds = Encapsulated([], [1, 2, 3]);
        var bytes = DicomTestUtil.EncodeItem(ds[DicomTags.PixelData]!, DicomTransferSyntax.FromUid(JpegBaseline));
        var expected = new DicomBytes().ExplicitHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFFF).Item(0).Item(4).Raw(1, 2, 3, 0).SequenceDelimiter().ToArray();
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("1.2.840.10008.1.2")]
    [InlineData("1.2.840.10008.1.2.1")]
    [InlineData("1.2.840.10008.1.2.2")]
    [InlineData("1.2.840.10008.1.2.1.99")]
    public void CompressedPixelData_ToNativeSyntax_IsDicomException(string nativeUid)
    {
        var ds = Encapsulated([], [1, 2, 3, 4]);
        var file = new DicomFile(ds, DicomTransferSyntax.FromUid(JpegBaseline));
        var native = DicomTransferSyntax.FromUid(nativeUid);
        var ex = Assert.Throws<DicomException>(() => file.Write(new MemoryStream(), native));
        Assert.Contains("compressed", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<DicomException>(() => new DicomWriter(new MemoryStream(), native).WriteDataset(ds));
        Assert.Throws<DicomException>(() => file.Save(Path.Combine(Path.GetTempPath(), $"hn-{Guid.NewGuid():N}.dcm"), native));
    }

    [Fact]
    public void NativePixelData_ToCompressedSyntax_IsDicomException()
    {
        var ds = DicomTestUtil.NewDataset().AddOrUpdate(DicomTags.PixelData, DicomVR.OW, new byte[8]);
        var file = new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Throws<DicomException>(() => file.Write(new MemoryStream(), DicomTransferSyntax.FromUid(JpegBaseline)));
        // And compressed data cannot be relabelled as another compressed syntax.
        var enc = new DicomFile(Encapsulated([], [1, 2]), DicomTransferSyntax.FromUid(JpegBaseline));
        Assert.Throws<DicomException>(() => enc.Write(new MemoryStream(), DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.90")));
    }

    [Fact]
    public void NativePixelData_RoundTripsInEverySyntax()
    {
        var pixels = Enumerable.Range(0, 64).Select(i => (byte)(i * 3)).ToArray();
        var ds = DicomTestUtil.NewDataset().AddOrUpdate(DicomTags.PixelData, DicomVR.OW, pixels);
        foreach (var syntax in DicomTestUtil.NativeSyntaxes)
        {
            var back = DicomTestUtil.RoundTrip(ds, syntax);
            Assert.Equal(pixels, DicomTestUtil.Bytes(back, DicomTags.PixelData));
        }
        // In big endian, OW pixel data is swapped on the wire.
        var be = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRBigEndian);
        Assert.Equal(pixels[1], be[^64]);
        Assert.Equal(pixels[0], be[^63]);
    }
}
