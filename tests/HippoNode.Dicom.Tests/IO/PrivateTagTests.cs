using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

public sealed class PrivateTagTests
{
    private static readonly DicomTag Creator = new(0x0029, 0x0010);
    private static readonly DicomTag Creator2 = new(0x0029, 0x0011);
    private static readonly DicomTag Text = new(0x0029, 0x1010);
    private static readonly DicomTag Number = new(0x0029, 0x1011);
    private static readonly DicomTag Blob = new(0x0029, 0x1012);
    private static readonly DicomTag Seq = new(0x0029, 0x1020);
    private static readonly DicomTag Other = new(0x0029, 0x1101);

    private static DicomDataset WithPrivates() => DicomTestUtil.NewDataset()
        .AddOrUpdate(Creator, DicomVR.LO, "ACME 1.0")
        .AddOrUpdate(Creator2, DicomVR.LO, "OTHER VENDOR")
        .AddOrUpdate(Text, DicomVR.LO, "private text")
        .AddOrUpdate(Number, DicomVR.UL, 123456u)
        .AddOrUpdate(Blob, DicomVR.OB, new byte[] { 0xDE, 0xAD, 0xBE, 0xEF, 0x01 })
        .AddOrUpdate(Seq, new DicomDataset().AddOrUpdate(new DicomTag(0x0029, 0x0010), DicomVR.LO, "ACME 1.0").AddOrUpdate(new DicomTag(0x0029, 0x1001), DicomVR.SH, "inner"))
        .AddOrUpdate(Other, DicomVR.LO, "second block");

    [Fact]
    public void ExplicitVR_KeepsCreatorDataAndVRs()
    {
        var ds = WithPrivates();
        var back = DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        DicomTestUtil.AssertSameContent(ds, back);
        Assert.Equal("ACME 1.0", back.GetString(Creator));
        Assert.Equal("private text", back.GetString(Text));
        Assert.Equal(123456u, back.GetValue<uint>(Number));
        Assert.Equal("inner", back.GetSequence(Seq)!.Items[0].GetString(new DicomTag(0x0029, 0x1001)));
        Assert.Equal("second block", back.GetString(Other));
    }

    [Fact]
    public void ImplicitVR_KeepsBytes_CreatorIsLO_DataIsUN_AndRewritesIdentically()
    {
        var ds = WithPrivates();
        var first = DicomTestUtil.Encode(ds, DicomTransferSyntax.ImplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = true });
        var back = DicomTestUtil.Decode(first, DicomTransferSyntax.ImplicitVRLittleEndian);

        Assert.Equal(DicomVR.LO, back[Creator]!.VR);
        Assert.Equal("ACME 1.0", back.GetString(Creator));
        Assert.Equal("OTHER VENDOR", back.GetString(Creator2));
        Assert.Equal(DicomVR.UN, back[Text]!.VR); // the dictionary cannot know private VRs
        Assert.Equal("private text"u8.ToArray(), DicomTestUtil.Bytes(back, Text));
        Assert.Equal(BitConverter.GetBytes(123456u), DicomTestUtil.Bytes(back, Number));
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x00 }, DicomTestUtil.Bytes(back, Blob));
        // An undefined-length private element can only be a sequence: read as one.
        var innerItem = back.GetSequence(Seq)!.Items.Single();
        Assert.Equal(DicomVR.LO, innerItem[new DicomTag(0x0029, 0x0010)]!.VR);
        Assert.Equal("inner", innerItem.GetString(new DicomTag(0x0029, 0x1001)));
        Assert.Equal("second block", System.Text.Encoding.ASCII.GetString(DicomTestUtil.Bytes(back, Other)));

        Assert.Equal(first, DicomTestUtil.Encode(back, DicomTransferSyntax.ImplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = true }));
    }

    [Fact]
    public void ImplicitVR_PrivateSequence_ComesBackAsASequence_WhateverTheLengthOption()
    {
        // A private SQ in Implicit VR is only recognisable by its undefined length, so it must be written so.
        var ds = WithPrivates();
        var first = DicomTestUtil.Encode(ds, DicomTransferSyntax.ImplicitVRLittleEndian);
        var back = DicomTestUtil.Decode(first, DicomTransferSyntax.ImplicitVRLittleEndian);
        var item = Assert.IsType<DicomSequence>(back[Seq]).Items.Single();
        Assert.Equal("inner", item.GetString(new DicomTag(0x0029, 0x1001)));
        Assert.Equal(first, DicomTestUtil.Encode(back, DicomTransferSyntax.ImplicitVRLittleEndian));
    }

    [Fact]
    public void ImplicitVR_DefinedLengthPrivateSequence_HandBuilt_StaysAsBytes_AndRewritesIdentically()
    {
        var item = new DicomBytes().Implicit(0x0029, 0x0010, "ACME 1.0"u8.ToArray()).Implicit(0x0029, 0x1001, "inner "u8.ToArray()).ToArray();
        var bytes = new DicomBytes()
            .Implicit(0x0029, 0x0010, "ACME 1.0"u8.ToArray())
            .ImplicitHeader(0x0029, 0x1020, (uint)item.Length + 8).Item((uint)item.Length).Raw(item)
            .ToArray();
        var back = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Equal(DicomVR.UN, Assert.IsType<DicomElement>(back[Seq]).VR); // nothing says it is a sequence
        Assert.Equal(bytes, DicomTestUtil.Encode(back, DicomTransferSyntax.ImplicitVRLittleEndian));
    }

    [Fact]
    public void ImplicitRead_ThenExplicitWrite_KeepsPrivateValues()
    {
        var ds = WithPrivates();
        var implicitBytes = DicomTestUtil.Encode(ds, DicomTransferSyntax.ImplicitVRLittleEndian);
        var fromImplicit = DicomTestUtil.Decode(implicitBytes, DicomTransferSyntax.ImplicitVRLittleEndian);
        var explicitBytes = DicomTestUtil.Encode(fromImplicit, DicomTransferSyntax.ExplicitVRLittleEndian);
        var back = DicomTestUtil.Decode(explicitBytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        DicomTestUtil.AssertSameContent(fromImplicit, back);
        Assert.Equal("inner", back.GetSequence(Seq)!.Items[0].GetString(new DicomTag(0x0029, 0x1001)));
    }

    [Fact]
    public void HandBuiltExplicitPrivateBlock_RewritesByteIdentically()
    {
        var bytes = new DicomBytes()
            .ExplicitText(0x0009, 0x0010, "LO", "GEMS_IDEN_01")
            .Explicit(0x0009, 0x1001, "LO", "GE_GENESIS_FF "u8.ToArray())
            .Explicit(0x0009, 0x1027, "SL", BitConverter.GetBytes(-7))
            .Explicit(0x0009, 0x10E3, "UI", "1.2.3.4\0"u8.ToArray())
            .ExplicitText(0x0010, 0x0010, "PN", "Anon")
            .ToArray();
        var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.True(ds[new DicomTag(0x0009, 0x0010)]!.Tag.IsPrivateCreator);
        Assert.Equal(-7, ds.GetValue<int>(new DicomTag(0x0009, 0x1027)));
        Assert.Equal(bytes, DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }
}
