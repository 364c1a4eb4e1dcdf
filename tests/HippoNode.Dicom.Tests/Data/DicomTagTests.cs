namespace HippoNode.Dicom.Tests.Data;

public sealed class DicomTagTests
{
    [Theory]
    [InlineData("(0010,0010)")]
    [InlineData("0010,0010")]
    [InlineData("00100010")]
    [InlineData("  (0010,0010)  ")]
    [InlineData("(0010,0010")]
    public void Parse_AcceptsTheUsualForms(string text)
    {
        Assert.Equal(new DicomTag(0x0010, 0x0010), DicomTag.Parse(text));
        Assert.True(DicomTag.TryParse(text, out var t));
        Assert.Equal(DicomTags.PatientName, t);
    }

    [Fact]
    public void Parse_IsHexadecimal_AndCaseInsensitive()
    {
        Assert.Equal(new DicomTag(0x7FE0, 0x0010), DicomTag.Parse("(7fe0,0010)"));
        Assert.Equal(new DicomTag(0xFFFE, 0xE0DD), DicomTag.Parse("FFFEE0DD"));
        Assert.Equal(0x00291010u, DicomTag.Parse("(0029,1010)").Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("   ")]
    [InlineData("(0010,001)")]
    [InlineData("(0010,00100)")]
    [InlineData("(00G0,0010)")]
    [InlineData("0x100010")]
    [InlineData("PatientName")]
    [InlineData("(0010 0010)")]
    [InlineData("-0100010")]
    public void TryParse_RejectsNonTags(string? text)
    {
        Assert.False(DicomTag.TryParse(text, out var t));
        Assert.Equal(default, t);
        if (text is not null) Assert.Throws<FormatException>(() => DicomTag.Parse(text));
    }

    [Fact]
    public void ToString_IsUpperCaseParenthesised_AndParsesBack()
    {
        var t = new DicomTag(0x7fe0, 0x00a0);
        Assert.Equal("(7FE0,00A0)", t.ToString());
        Assert.Equal(t, DicomTag.Parse(t.ToString()));
        Assert.Equal("(0000,0000)", new DicomTag(0, 0).ToString());
        Assert.Equal("(FFFF,FFFF)", new DicomTag(0xFFFF, 0xFFFF).ToString());
    }

    [Fact]
    public void Value_HasGroupInHighWord_AndRoundTrips()
    {
        var t = new DicomTag(0x0020, 0x000D);
        Assert.Equal(0x0020000Du, t.Value);
        Assert.Equal(t, new DicomTag(t.Value));
        Assert.Equal((ushort)0xFFFE, new DicomTag(0xFFFEE000).Group);
        Assert.Equal((ushort)0xE000, new DicomTag(0xFFFEE000).Element);
    }

    [Fact]
    public void Ordering_IsByGroupThenElement_Unsigned()
    {
        var a = new DicomTag(0x0008, 0xFFFF);
        var b = new DicomTag(0x0009, 0x0000);
        var c = new DicomTag(0x7FE0, 0x0010);
        var d = new DicomTag(0xFFFE, 0xE000); // above 0x8000: must not sort as negative
        Assert.True(a < b && b < c && c < d);
        var c2 = new DicomTag(0x7FE0, 0x0010);
        Assert.True(d > a && c >= c2 && c <= c2 && a <= b);
        Assert.False(b < a);
        Assert.True(a.CompareTo(b) < 0 && b.CompareTo(a) > 0 && c.CompareTo(new DicomTag(0x7FE0, 0x0010)) == 0);
        var shuffled = new[] { d, b, c, a };
        Array.Sort(shuffled);
        Assert.Equal([a, b, c, d], shuffled);
    }

    [Fact]
    public void Equality_IsByValue()
    {
        Assert.Equal(new DicomTag(0x0010, 0x0020), DicomTags.PatientID);
        Assert.NotEqual(new DicomTag(0x0020, 0x0010), DicomTags.PatientID);
        Assert.Equal(new DicomTag(0x0010, 0x0020).GetHashCode(), DicomTags.PatientID.GetHashCode());
    }

    [Theory]
    [InlineData(0x0009, 0x0010, true, true)]
    [InlineData(0x0009, 0x00FF, true, true)]
    [InlineData(0x0029, 0x1010, true, false)]
    [InlineData(0x0029, 0x000F, true, false)]
    [InlineData(0x0029, 0x0100, true, false)]
    [InlineData(0x7FE1, 0x0010, true, true)]
    [InlineData(0x0010, 0x0010, false, false)]
    [InlineData(0x0007, 0x0010, false, false)] // groups 1, 3, 5, 7 are not private (PS3.5 §7.8.1)
    [InlineData(0x0001, 0x0010, false, false)]
    [InlineData(0x0008, 0x0010, false, false)]
    public void Private_AndPrivateCreator(int group, int element, bool isPrivate, bool isCreator)
    {
        var t = new DicomTag((ushort)group, (ushort)element);
        Assert.Equal(isPrivate, t.IsPrivate);
        Assert.Equal(isCreator, t.IsPrivateCreator);
    }

    [Fact]
    public void GroupLength_AndDelimiterConstants()
    {
        Assert.True(new DicomTag(0x0008, 0x0000).IsGroupLength);
        Assert.False(new DicomTag(0x0008, 0x0001).IsGroupLength);
        Assert.Equal(new DicomTag(0xFFFE, 0xE000), DicomTag.Item);
        Assert.Equal(new DicomTag(0xFFFE, 0xE00D), DicomTag.ItemDelimitationItem);
        Assert.Equal(new DicomTag(0xFFFE, 0xE0DD), DicomTag.SequenceDelimitationItem);
    }

    [Fact]
    public void Dataset_KeepsTagOrder_WhateverTheInsertionOrder()
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(new DicomTag(0x0029, 0x1010), DicomVR.LO, "x");
        ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "A");
        ds.AddOrUpdate(new DicomTag(0xFFFC, 0xFFFC), DicomVR.OB, new byte[] { 1, 2 });
        ds.AddOrUpdate(DicomTags.Modality, DicomVR.CS, "CT");
        Assert.Equal([DicomTags.Modality, DicomTags.PatientName, new DicomTag(0x0029, 0x1010), new DicomTag(0xFFFC, 0xFFFC)], ds.Select(i => i.Tag).ToArray());
    }
}
