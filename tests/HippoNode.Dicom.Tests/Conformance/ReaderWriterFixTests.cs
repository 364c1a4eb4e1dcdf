using System.Buffers.Binary;
using System.Text;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>
/// The reader and writer fixes that the DCMTK comparison led to, each pinned by a small synthetic file (no shared
/// data needed): meta information without preamble, a stale item length, encapsulated pixel data labelled OW,
/// padding-only strings, private sequences in Implicit VR.
/// </summary>
public sealed class ReaderWriterFixTests
{
    private static byte[] Explicit(ushort g, ushort e, string vr, byte[] value, bool big = false, uint? length = null)
    {
        var ms = new MemoryStream();
        var b = new byte[4];
        void U16(ushort v) { if (big) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); ms.Write(b, 0, 2); }
        void U32(uint v) { if (big) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); ms.Write(b); }
        U16(g);
        U16(e);
        ms.Write(Encoding.ASCII.GetBytes(vr));
        DicomVRInfo.TryParse(vr, out var v);
        if (v.HasLongLength())
        {
            U16(0);
            U32(length ?? (uint)value.Length);
        }
        else
        {
            U16((ushort)(length ?? (uint)value.Length));
        }
        ms.Write(value);
        return ms.ToArray();
    }

    private static byte[] Item(uint length) => [0xFE, 0xFF, 0x00, 0xE0, .. BitConverter.GetBytes(length)];

    private static byte[] Text(string s) => Encoding.ASCII.GetBytes(s.Length % 2 == 1 ? s + " " : s);

    private static byte[] Uid(string s) => Encoding.ASCII.GetBytes(s.Length % 2 == 1 ? s + "\0" : s);

    private static byte[] Preamble(string transferSyntax)
    {
        var ts = Explicit(0x0002, 0x0010, "UI", Uid(transferSyntax));
        return [.. new byte[128], .. "DICM"u8, .. Explicit(0x0002, 0x0000, "UL", BitConverter.GetBytes((uint)ts.Length)), .. ts];
    }

    [Fact]
    public void Meta_information_at_offset_zero_without_preamble_decides_the_transfer_syntax()
    {
        // Group 0002 (always Explicit VR LE) straight at offset 0, then a Big Endian data set, as in pydicom's JLSL_RGB_* files.
        byte[] bytes = [.. Explicit(0x0002, 0x0010, "UI", Uid(DicomTransferSyntax.ExplicitVRBigEndian.Uid)),
            .. Explicit(0x0010, 0x0010, "PN", Text("Doe^Jane"), big: true), .. Explicit(0x0028, 0x0010, "US", [0x02, 0x00], big: true)];
        var file = DicomFile.Read(new MemoryStream(bytes));
        Assert.Equal(DicomTransferSyntax.ExplicitVRBigEndian, file.TransferSyntax);
        Assert.Equal(DicomTransferSyntax.ExplicitVRBigEndian.Uid, file.FileMetaInformation.GetString(DicomTags.TransferSyntaxUID));
        Assert.False(file.Dataset.Contains(DicomTags.TransferSyntaxUID));
        Assert.Equal("Doe^Jane", file.Dataset.GetString(DicomTags.PatientName));
        Assert.Equal(512, file.Dataset.GetValue<int>(DicomTags.Rows));
        Assert.Contains(file.ReadWarnings, w => w.Contains("read from offset 0", StringComparison.Ordinal));
    }

    [Fact]
    public void A_bare_data_set_without_group_0002_is_still_read_as_one()
    {
        byte[] bytes = [.. Explicit(0x0008, 0x0060, "CS", Text("MR")), .. Explicit(0x0010, 0x0010, "PN", Text("Doe"))];
        var file = DicomFile.Read(new MemoryStream(bytes));
        Assert.Equal(0, file.FileMetaInformation.Count);
        Assert.Equal("MR", file.Dataset.GetString(DicomTags.Modality));
        Assert.Contains(file.ReadWarnings, w => w.Contains("bare data set", StringComparison.Ordinal));
    }

    [Fact]
    public void A_stale_item_length_is_bounded_by_its_defined_length_sequence()
    {
        // DICOMDIR-nooffset: the last item says 24 bytes more than its sequence holds.
        var element = Explicit(0x0004, 0x1430, "CS", Text("IMAGE"));
        byte[] sequenceValue = [.. Item((uint)element.Length + 24), .. element];
        byte[] bytes = [.. Preamble(DicomTransferSyntax.ExplicitVRLittleEndian.Uid),
            .. Explicit(0x0004, 0x1220, "SQ", sequenceValue), .. Explicit(0x0004, 0x1500, "CS", Text("A\\B"))];
        var file = DicomFile.Read(new MemoryStream(bytes));
        var sq = file.Dataset.GetSequence(new DicomTag(0x0004, 0x1220))!;
        Assert.Equal("IMAGE", Assert.Single(sq.Items).GetString(new DicomTag(0x0004, 0x1430)));
        Assert.Equal(["A", "B"], file.Dataset.GetStrings(new DicomTag(0x0004, 0x1500)));
        Assert.Contains(file.ReadWarnings, w => w.Contains($"claims {element.Length + 24} bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void An_element_that_overruns_its_sequence_is_still_an_error()
    {
        // Leniency bounds the item by the sequence; it does not let an element's value cross the sequence end.
        var element = Explicit(0x0004, 0x1430, "CS", Text("IMAGE"));
        byte[] sequenceValue = [.. Item((uint)element.Length), .. element];
        byte[] bytes = [.. Preamble(DicomTransferSyntax.ExplicitVRLittleEndian.Uid),
            .. Explicit(0x0004, 0x1220, "SQ", sequenceValue, length: (uint)sequenceValue.Length - 4), .. Explicit(0x0004, 0x1500, "CS", Text("A"))];
        var ex = Assert.Throws<DicomParseException>(() => DicomFile.Read(new MemoryStream(bytes)));
        Assert.Equal(new DicomTag(0x0004, 0x1430), ex.Tag);
        Assert.Contains("offset", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encapsulated_pixel_data_labelled_OW_is_read_as_OB_and_written_as_OB()
    {
        byte[] fragments = [.. Item(0), .. Item(4), 1, 2, 3, 4, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0];
        const string JpegBaseline = "1.2.840.10008.1.2.4.50";
        byte[] bytes = [.. Preamble(JpegBaseline), .. Explicit(0x0028, 0x0010, "US", [1, 0]),
            .. Explicit(0x7FE0, 0x0010, "OW", fragments, length: 0xFFFFFFFF)];
        var file = DicomFile.Read(new MemoryStream(bytes));
        var pixels = Assert.IsType<DicomFragmentSequence>(file.Dataset.GetItem(DicomTags.PixelData));
        Assert.Equal(DicomVR.OB, pixels.VR);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Assert.Single(pixels.Fragments).GetMemory().ToArray());
        var ms = new MemoryStream();
        file.Write(ms);
        Assert.Equal(DicomVR.OB, DicomFile.Read(new MemoryStream(ms.ToArray())).Dataset.GetItem(DicomTags.PixelData)!.VR);
    }

    [Theory]
    [InlineData(DicomVR.SH, "  ", 0)]
    [InlineData(DicomVR.PN, "\0\0", 0)]
    [InlineData(DicomVR.LT, "    ", 0)]
    [InlineData(DicomVR.SH, "A ", 1)]
    [InlineData(DicomVR.LT, " a\\b ", 1)]
    [InlineData(DicomVR.CS, "A\\B ", 2)]
    [InlineData(DicomVR.CS, " \\ ", 2)]
    public void Value_multiplicity_of_strings_counts_padding_only_as_no_value(DicomVR vr, string raw, int vm) =>
        Assert.Equal(vm, new DicomElement(DicomTags.PatientID, vr, new MemoryByteBuffer(Encoding.ASCII.GetBytes(raw))).ValueMultiplicity);

    [Fact]
    public void A_private_sequence_in_Implicit_VR_is_written_with_undefined_length_and_comes_back_as_a_sequence()
    {
        var privateSequence = new DicomTag(0x0029, 0x1010);
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3");
        ds.AddOrUpdate(new DicomTag(0x0029, 0x0010), DicomVR.LO, "HIPPO");
        ds.AddOrUpdate(privateSequence, new DicomDataset().AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "inner"));
        ds.AddOrUpdate(DicomTags.ReferencedImageSequence, new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2"));

        var ms = new MemoryStream();
        new DicomFile(ds, DicomTransferSyntax.ImplicitVRLittleEndian).Write(ms);
        var bytes = ms.ToArray();
        // (0029,1010) then length FFFFFFFF; the public sequence keeps its defined length.
        Assert.True(bytes.AsSpan().IndexOf(new byte[] { 0x29, 0x00, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF }) > 0, "private sequence not written with undefined length");
        Assert.True(bytes.AsSpan().IndexOf(new byte[] { 0x08, 0x00, 0x40, 0x11, 0xFF, 0xFF, 0xFF, 0xFF }) < 0, "public sequence should keep a defined length");

        var back = DicomFile.Read(new MemoryStream(bytes)).Dataset;
        var sq = Assert.IsType<DicomSequence>(back.GetItem(privateSequence));
        Assert.Equal("inner", Assert.Single(sq.Items).GetString(DicomTags.PatientID));

        // The length the writer reports for enclosing structures is the length it writes.
        var writer = new DicomWriter(Stream.Null, DicomTransferSyntax.ImplicitVRLittleEndian);
        var datasetBytes = new MemoryStream();
        new DicomWriter(datasetBytes, DicomTransferSyntax.ImplicitVRLittleEndian).WriteDataset(ds);
        Assert.Equal(datasetBytes.Length, writer.DatasetLength(ds));
        Assert.True(writer.HasUndefinedLength(ds.GetSequence(privateSequence)!));
        Assert.False(new DicomWriter(Stream.Null, DicomTransferSyntax.ExplicitVRLittleEndian).HasUndefinedLength(ds.GetSequence(privateSequence)!));
    }
}
