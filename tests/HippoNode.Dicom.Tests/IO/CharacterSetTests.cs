using System.Text;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

public sealed class CharacterSetTests
{
    private static DicomDataset WithCharset(string? charset)
    {
        var ds = DicomTestUtil.NewDataset();
        if (charset is not null) ds.AddOrUpdate(DicomTags.SpecificCharacterSet, DicomVR.CS, charset.Split('\\'));
        return ds;
    }

    public static TheoryData<string> Syntaxes => DicomTestUtil.NativeSyntaxUids;

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void Default_IsAscii(string uid)
    {
        var ds = WithCharset(null).AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Smith^John");
        Assert.Equal("Smith^John"u8.ToArray(), DicomTestUtil.Bytes(ds, DicomTags.PatientName));
        var back = DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.FromUid(uid));
        Assert.Equal("Smith^John", back.GetString(DicomTags.PatientName));
        Assert.Same(DicomCharacterSet.Latin1, back.Encoding);
    }

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void IsoIr100_WritesEAcuteAsOneByte(string uid)
    {
        var ds = WithCharset("ISO_IR 100").AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Buc^Jérôme");
        var raw = DicomTestUtil.Bytes(ds, DicomTags.PatientName);
        Assert.Equal(new byte[] { (byte)'B', (byte)'u', (byte)'c', (byte)'^', (byte)'J', 0xE9, (byte)'r', 0xF4, (byte)'m', (byte)'e' }, raw);

        var file = DicomTestUtil.ToPart10(ds, DicomTransferSyntax.FromUid(uid));
        if (!DicomTransferSyntax.FromUid(uid).IsDeflated)
        {
            Assert.True(DicomTestUtil.IndexOf(file, raw) > 0);
            Assert.Equal(-1, DicomTestUtil.IndexOf(file, Encoding.UTF8.GetBytes("é")));
        }
        var back = DicomTestUtil.Read(file).Dataset;
        Assert.Equal("Buc^Jérôme", back.GetString(DicomTags.PatientName));
        Assert.Equal(raw, DicomTestUtil.Bytes(back, DicomTags.PatientName));
    }

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void IsoIr192_IsUtf8(string uid)
    {
        const string name = "Wang^XiaoDong=王^小東=";
        var ds = WithCharset("ISO_IR 192").AddOrUpdate(DicomTags.PatientName, DicomVR.PN, name)
            .AddOrUpdate(DicomTags.StudyDescription, DicomVR.LO, "Ünïcödé ✓");
        Assert.Equal(Encoding.UTF8.GetBytes(name), DicomTestUtil.Bytes(ds, DicomTags.PatientName));
        var back = DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.FromUid(uid));
        Assert.Equal(name, back.GetString(DicomTags.PatientName));
        Assert.Equal("Ünïcödé ✓", back.GetString(DicomTags.StudyDescription));
    }

    [Fact]
    public void IsoIr144_Cyrillic()
    {
        var ds = WithCharset("ISO_IR 144").AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Иванов^Иван");
        var raw = DicomTestUtil.Bytes(ds, DicomTags.PatientName);
        Assert.Equal(11, raw.Length); // one byte per character
        Assert.Equal(0xB8, raw[0]);   // И in ISO 8859-5
        Assert.Equal("Иванов^Иван", DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.ExplicitVRLittleEndian).GetString(DicomTags.PatientName));
    }

    [Fact]
    public void SequenceItems_InheritTheParentsCharacterSet()
    {
        var ds = WithCharset("ISO_IR 192");
        var item = new DicomDataset();
        ds.AddOrUpdate(DicomTags.OtherPatientIDsSequence, item);
        item.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Ærøskøbing");
        Assert.Equal(Encoding.UTF8.GetBytes("Ærøskøbing"), DicomTestUtil.Bytes(item, DicomTags.PatientName));
        var back = DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal("Ærøskøbing", back.GetSequence(DicomTags.OtherPatientIDsSequence)!.Items[0].GetString(DicomTags.PatientName));
    }

    // PS3.5 Annex H.3.1: "Yamada^Tarou=山田^太郎=やまだ^たろう" in ISO 2022 IR 87 with escape sequences.
    private static readonly byte[] YamadaIso2022 =
    [
        .. "Yamada^Tarou="u8,
        0x1B, 0x24, 0x42, 0x3B, 0x33, 0x45, 0x44, 0x1B, 0x28, 0x42, (byte)'^',
        0x1B, 0x24, 0x42, 0x42, 0x40, 0x4F, 0x3A, 0x1B, 0x28, 0x42, (byte)'=',
        0x1B, 0x24, 0x42, 0x24, 0x64, 0x24, 0x5E, 0x24, 0x40, 0x1B, 0x28, 0x42, (byte)'^',
        0x1B, 0x24, 0x42, 0x24, 0x3F, 0x24, 0x6D, 0x24, 0x26, 0x1B, 0x28, 0x42,
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Iso2022Ir87_EscapeSequences_ReadAndWrittenBackByteIdentically(bool seekable)
    {
        var pn = YamadaIso2022.Length % 2 == 0 ? YamadaIso2022 : [.. YamadaIso2022, (byte)' '];
        var bytes = new DicomBytes()
            .ExplicitText(0x0008, 0x0005, "CS", "\\ISO 2022 IR 87")
            .Explicit(0x0010, 0x0010, "PN", pn)
            .ExplicitText(0x0010, 0x0020, "LO", "ID-1")
            .ToArray();
        var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian, seekable);
        Assert.Equal(["", "ISO 2022 IR 87"], ds.GetStrings(DicomTags.SpecificCharacterSet));
        Assert.Equal(pn, DicomTestUtil.Bytes(ds, DicomTags.PatientName));
        Assert.StartsWith("Yamada^Tarou=", ds.GetString(DicomTags.PatientName));
        Assert.Equal(bytes, DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian));

        // Through a whole Part 10 file, in Implicit VR too.
        var file = DicomTestUtil.Part10(DicomTestUtil.Encode(ds, DicomTransferSyntax.ImplicitVRLittleEndian), DicomTransferSyntax.ImplicitVRLittleEndian.Uid);
        var read = DicomTestUtil.Read(file, seekable);
        Assert.Equal(pn, DicomTestUtil.Bytes(read.Dataset, DicomTags.PatientName));
        var rewritten = new MemoryStream();
        read.Write(rewritten);
        Assert.Equal(file[DicomTestUtil.Part10HeaderLength(DicomTransferSyntax.ImplicitVRLittleEndian.Uid)..],
            rewritten.ToArray()[^(file.Length - DicomTestUtil.Part10HeaderLength(DicomTransferSyntax.ImplicitVRLittleEndian.Uid))..]);
    }

    [Fact]
    public void GetEncoding_Terms()
    {
        Assert.Same(DicomCharacterSet.Latin1, DicomCharacterSet.GetEncoding(null));
        Assert.Same(DicomCharacterSet.Latin1, DicomCharacterSet.GetEncoding(["ISO_IR 100"]));
        Assert.Same(DicomCharacterSet.Utf8, DicomCharacterSet.GetEncoding(["ISO_IR 192"]));
        Assert.Equal(28595, DicomCharacterSet.GetEncoding(["ISO_IR 144"]).CodePage);
        Assert.Equal(28591, DicomCharacterSet.GetEncoding(["", "ISO 2022 IR 100"]).CodePage);
        Assert.False(DicomCharacterSet.TryGetEncoding("ISO 2022 IR 87", out var fallback));
        Assert.Same(DicomCharacterSet.Latin1, fallback); // lossless for bytes
        Assert.False(DicomCharacterSet.TryGetEncoding("NONSENSE", out _));
    }
}
