namespace HippoNode.Dicom.Tests.Data;

public sealed class DicomVRTests
{
    private static readonly string[] AllCodes =
    [
        "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
        "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV",
    ];

    [Fact]
    public void EveryStandardCode_ParsesAndFormatsBack()
    {
        foreach (var code in AllCodes)
        {
            Assert.True(DicomVRInfo.TryParse(code, out var vr), code);
            Assert.True(vr.IsKnown(), code);
            Assert.Equal(code, vr.Code());
        }
        Assert.Equal(AllCodes.Length, Enum.GetValues<DicomVR>().Count(v => v.IsKnown()));
    }

    [Theory]
    [InlineData("XX")]
    [InlineData("ae")]
    [InlineData("A")]
    [InlineData("AEE")]
    [InlineData("")]
    [InlineData("  ")]
    public void UnknownCodes_AreRejected(string code)
    {
        Assert.False(DicomVRInfo.TryParse(code, out var vr));
        Assert.Equal(DicomVR.None, vr);
    }

    [Fact]
    public void None_IsNotKnown_AndPrintsNa()
    {
        Assert.False(DicomVR.None.IsKnown());
        Assert.Equal("na", DicomVR.None.Code());
        Assert.False(((DicomVR)0x2020).IsKnown());
    }

    [Fact]
    public void EnumValue_IsTheTwoAsciiBytes()
    {
        Assert.Equal(0x504E, (ushort)DicomVR.PN);
        Assert.Equal(0x5351, (ushort)DicomVR.SQ);
    }

    [Fact]
    public void LongLengthVRs_ArePs35Table7_1_1()
    {
        var longOnes = new[] { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" };
        foreach (var code in AllCodes)
        {
            DicomVRInfo.TryParse(code, out var vr);
            Assert.True(longOnes.Contains(code) == vr.HasLongLength(), code);
        }
    }

    [Fact]
    public void StringVRs_AndSpecificCharacterSetUse()
    {
        var strings = new[] { "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT" };
        var charset = new[] { "LO", "LT", "PN", "SH", "ST", "UC", "UT" };
        foreach (var code in AllCodes)
        {
            DicomVRInfo.TryParse(code, out var vr);
            Assert.True(strings.Contains(code) == vr.IsString(), code);
            Assert.True(charset.Contains(code) == vr.UsesSpecificCharacterSet(), code);
        }
        Assert.True(DicomVR.LT.IsSingleValuedText() && DicomVR.ST.IsSingleValuedText() && DicomVR.UT.IsSingleValuedText() && DicomVR.UR.IsSingleValuedText());
        Assert.False(DicomVR.LO.IsSingleValuedText() || DicomVR.UC.IsSingleValuedText() || DicomVR.PN.IsSingleValuedText());
    }

    [Theory]
    [InlineData(DicomVR.US, 2)]
    [InlineData(DicomVR.SS, 2)]
    [InlineData(DicomVR.OW, 2)]
    [InlineData(DicomVR.AT, 2)]
    [InlineData(DicomVR.UL, 4)]
    [InlineData(DicomVR.SL, 4)]
    [InlineData(DicomVR.FL, 4)]
    [InlineData(DicomVR.OF, 4)]
    [InlineData(DicomVR.OL, 4)]
    [InlineData(DicomVR.FD, 8)]
    [InlineData(DicomVR.OD, 8)]
    [InlineData(DicomVR.SV, 8)]
    [InlineData(DicomVR.UV, 8)]
    [InlineData(DicomVR.OV, 8)]
    [InlineData(DicomVR.OB, 1)]
    [InlineData(DicomVR.UN, 1)]
    [InlineData(DicomVR.LO, 1)]
    public void ValueSize(DicomVR vr, int size) => Assert.Equal(size, vr.ValueSize());

    [Fact]
    public void PaddingByte_IsSpaceForText_NulForUIAndBinary()
    {
        foreach (var code in AllCodes)
        {
            DicomVRInfo.TryParse(code, out var vr);
            var expected = vr.IsString() && vr != DicomVR.UI ? (byte)' ' : (byte)0;
            Assert.True(expected == vr.PaddingByte(), code);
        }
        Assert.Equal((byte)0, DicomVR.UI.PaddingByte());
        Assert.Equal((byte)0, DicomVR.OB.PaddingByte());
        Assert.Equal((byte)' ', DicomVR.PN.PaddingByte());
        Assert.Equal((byte)' ', DicomVR.UR.PaddingByte());
    }
}
