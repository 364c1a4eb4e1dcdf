using System.Globalization;
using System.Text;
using HippoNode.Dicom.Tests.IO;

namespace HippoNode.Dicom.Tests.Data;

public sealed class DicomDatasetStringTests
{
    private static DicomDataset WithRaw(DicomTag tag, DicomVR vr, string latin1) =>
        new DicomDataset().AddOrUpdate(tag, vr, Encoding.Latin1.GetBytes(latin1));

    [Fact]
    public void MultiValuedString_SplitsOnBackslash_AndJoinsBack()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL");
        Assert.Equal("ORIGINAL\\PRIMARY\\AXIAL", Encoding.ASCII.GetString(DicomTestUtil.Bytes(ds, DicomTags.ImageType)));
        Assert.Equal(["ORIGINAL", "PRIMARY", "AXIAL"], ds.GetStrings(DicomTags.ImageType));
        Assert.Equal("ORIGINAL\\PRIMARY\\AXIAL", ds.GetString(DicomTags.ImageType));
        Assert.Equal(3, Assert.IsType<DicomElement>(ds[DicomTags.ImageType]).ValueMultiplicity);
    }

    [Fact]
    public void MultiValuedString_KeepsEmptyValues_AndTrimsPadding()
    {
        var ds = WithRaw(DicomTags.ImageType, DicomVR.CS, " A \\\\B  ");
        Assert.Equal(["A", "", "B"], ds.GetStrings(DicomTags.ImageType));
        Assert.Equal(3, Assert.IsType<DicomElement>(ds[DicomTags.ImageType]).ValueMultiplicity);
    }

    [Theory]
    [InlineData(DicomVR.LT)]
    [InlineData(DicomVR.ST)]
    [InlineData(DicomVR.UT)]
    public void SingleValuedText_IsNeverSplit_AndKeepsLeadingSpaces(DicomVR vr)
    {
        var tag = new DicomTag(0x0011, 0x1001);
        var ds = new DicomDataset().AddOrUpdate(tag, vr, "  C:\\path\\to\\file ");
        Assert.Equal(["  C:\\path\\to\\file"], ds.GetStrings(tag));
        Assert.Equal("  C:\\path\\to\\file", ds.GetString(tag));
        Assert.Equal(1, Assert.IsType<DicomElement>(ds[tag]).ValueMultiplicity);
        Assert.Throws<ArgumentException>(() => new DicomDataset().AddOrUpdate(tag, vr, "a", "b"));
    }

    [Fact]
    public void GetString_TrimsSpacesAndNuls_ButNotInside()
    {
        var ds = WithRaw(DicomTags.PatientID, DicomVR.LO, "  AB C \0");
        Assert.Equal("AB C", ds.GetString(DicomTags.PatientID));
        Assert.Equal("  AB C \0", ds.RawString(Assert.IsType<DicomElement>(ds[DicomTags.PatientID])));
    }

    [Fact]
    public void AbsentAndEmpty()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "");
        Assert.Null(ds.GetString(DicomTags.PatientID));
        Assert.Empty(ds.GetStrings(DicomTags.PatientID));
        Assert.False(ds.TryGetString(DicomTags.PatientID, out var none));
        Assert.Equal("", none);
        Assert.Equal("", ds.GetString(DicomTags.PatientName));
        Assert.Empty(ds.GetStrings(DicomTags.PatientName));
        Assert.True(ds.TryGetString(DicomTags.PatientName, out var empty));
        Assert.Equal("", empty);
        Assert.Equal(0, Assert.IsType<DicomElement>(ds[DicomTags.PatientName]).ValueMultiplicity);
    }

    [Fact]
    public void Setter_UsesTheDictionaryVR_AndRejectsUnknownTagsOrWrongKinds()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.PatientName, "Doe^John");
        Assert.Equal(DicomVR.PN, ds[DicomTags.PatientName]!.VR);
        Assert.Throws<ArgumentException>(() => ds.AddOrUpdate(new DicomTag(0x0029, 0x1010), "x"));
        Assert.Throws<ArgumentException>(() => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, "12"));
        // Default-repertoire VRs cannot take non-ASCII text.
        Assert.Throws<ArgumentException>(() => ds.AddOrUpdate(DicomTags.Modality, DicomVR.CS, "Ü"));
    }

    [Fact]
    public void AddOrUpdate_Replaces()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "1");
        ds.AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "2");
        Assert.Single(ds);
        Assert.Equal("2", ds.GetString(DicomTags.PatientID));
        Assert.True(ds.Remove(DicomTags.PatientID));
        Assert.False(ds.Remove(DicomTags.PatientID));
        Assert.Equal(0, ds.Count);
    }

    // ---- IS / DS -------------------------------------------------------------------------------

    [Fact]
    public void DecimalString_ParsesWithAnyNotation()
    {
        var ds = WithRaw(DicomTags.PixelSpacing, DicomVR.DS, " 0.5\\1e-3 \\-2.25E+2\\+7 ");
        Assert.Equal([0.5, 0.001, -225.0, 7.0], ds.GetValues<double>(DicomTags.PixelSpacing));
        Assert.Equal(0.001, ds.GetValue<double>(DicomTags.PixelSpacing, 1));
        Assert.True(ds.TryGetValue<double>(DicomTags.PixelSpacing, out var v, 3));
        Assert.Equal(7.0, v);
        Assert.False(ds.TryGetValue<double>(DicomTags.PixelSpacing, out _, 4));
        Assert.False(ds.TryGetValue<double>(DicomTags.PixelSpacing, out _, -1));
        Assert.Throws<DicomException>(() => ds.GetValue<double>(DicomTags.PixelSpacing, 9));
    }

    [Fact]
    public void IntegerString_Parses()
    {
        var ds = WithRaw(DicomTags.InstanceNumber, DicomVR.IS, "-0042 ");
        Assert.Equal(-42, ds.GetValue<int>(DicomTags.InstanceNumber));
        ds.AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, 12, -3);
        Assert.Equal("12\\-3", ds.GetString(DicomTags.InstanceNumber));
        Assert.Equal([12L, -3L], ds.GetValues<long>(DicomTags.InstanceNumber));
    }

    [Fact]
    public void MalformedDecimalString_GivesNoValues_NotAnException()
    {
        var ds = WithRaw(DicomTags.SliceThickness, DicomVR.DS, "1,5");
        Assert.Empty(ds.GetValues<double>(DicomTags.SliceThickness));
        Assert.False(ds.TryGetValue<double>(DicomTags.SliceThickness, out _));
        Assert.Throws<DicomException>(() => ds.GetValue<double>(DicomTags.SliceThickness));
    }

    [Fact]
    public void OutOfRangeConversion_IsNotConvertible_NotAnOverflowException()
    {
        var ds = WithRaw(DicomTags.SliceThickness, DicomVR.DS, "1e300");
        Assert.False(ds.TryGetValue<int>(DicomTags.SliceThickness, out _));
        Assert.Throws<DicomException>(() => ds.GetValue<int>(DicomTags.SliceThickness));
        Assert.Equal(1e300, ds.GetValue<double>(DicomTags.SliceThickness));
        ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)65535);
        Assert.False(ds.TryGetValue<sbyte>(DicomTags.Rows, out _));
        Assert.Equal(65535, ds.GetValue<int>(DicomTags.Rows));
    }

    [Fact]
    public void DecimalAndIntegerStrings_AreCultureInvariant_UnderGerman()
    {
        var saved = CultureInfo.CurrentCulture;
        var savedUi = CultureInfo.CurrentUICulture;
        var german = new CultureInfo("de-DE");
        Assert.Equal(",", german.NumberFormat.NumberDecimalSeparator); // the test means something only with a comma culture
        try
        {
            CultureInfo.CurrentCulture = german;
            CultureInfo.CurrentUICulture = german;
            Assert.Equal("0,5", 0.5.ToString(CultureInfo.CurrentCulture));

            var ds = new DicomDataset();
            ds.AddOrUpdate(DicomTags.PixelSpacing, DicomVR.DS, 0.5, 1234.25);
            Assert.Equal("0.5\\1234.25", ds.GetString(DicomTags.PixelSpacing));
            Assert.Equal([0.5, 1234.25], ds.GetValues<double>(DicomTags.PixelSpacing));

            var read = WithRaw(DicomTags.SliceThickness, DicomVR.DS, "2.5");
            Assert.Equal(2.5, read.GetValue<double>(DicomTags.SliceThickness));
            Assert.Equal(2.5m, read.GetValue<decimal>(DicomTags.SliceThickness));

            // A thousands separator under de-DE is "."; "1.000" must still mean one.
            Assert.Equal(1.0, WithRaw(DicomTags.SliceThickness, DicomVR.DS, "1.000").GetValue<double>(DicomTags.SliceThickness));

            ds.AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, -1234567);
            Assert.Equal("-1234567", ds.GetString(DicomTags.InstanceNumber));
            Assert.Equal("-1.5E-07", DicomDataset.FormatDecimalString(-1.5e-7));

            ds.AddOrUpdate(DicomTags.AcquisitionDate, new DateOnly(2024, 2, 29));
            Assert.Equal("20240229", ds.GetString(DicomTags.AcquisitionDate));
            ds.AddOrUpdate(DicomTags.AcquisitionTime, new TimeOnly(13, 5, 7, 250));
            Assert.Equal("130507.250000", ds.GetString(DicomTags.AcquisitionTime));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-1.0)]
    [InlineData(0.1)]
    [InlineData(1.0 / 3.0)]
    [InlineData(-2.0 / 3.0)]
    [InlineData(123456789.123456789)]
    [InlineData(-123456789.123456789)]
    [InlineData(1e20)]
    [InlineData(-1.2345678901234567e-100)]
    [InlineData(1.7976931348623157e308)]
    [InlineData(double.Epsilon)]
    [InlineData(-9999999999999999.0)]
    [InlineData(123456789012345678.0)]
    public void FormatDecimalString_FitsIn16Chars_AndIsClose(double value)
    {
        var s = DicomDataset.FormatDecimalString(value);
        Assert.InRange(s.Length, 1, 16);
        Assert.Matches("^[-+]?[0-9]*\\.?[0-9]*([eE][-+]?[0-9]+)?$", s);
        var back = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (value == 0) Assert.Equal(0, back);
        else Assert.True(Math.Abs((back - value) / value) < 1e-8, $"{value:R} -> {s} -> {back:R}");

        var ds = new DicomDataset().AddOrUpdate(DicomTags.SliceThickness, DicomVR.DS, value);
        Assert.Equal(s, ds.GetString(DicomTags.SliceThickness));
    }

    [Fact]
    public void FormatDecimalString_ShortValuesAreExact()
    {
        Assert.Equal("0.5", DicomDataset.FormatDecimalString(0.5));
        Assert.Equal("1234.5678", DicomDataset.FormatDecimalString(1234.5678));
        Assert.Equal("-3", DicomDataset.FormatDecimalString(-3));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void FormatDecimalString_RejectsNonFinite(double value) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DicomDataset.FormatDecimalString(value));
}
