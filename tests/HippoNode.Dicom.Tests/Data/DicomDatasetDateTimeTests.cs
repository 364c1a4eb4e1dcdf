using System.Text;

namespace HippoNode.Dicom.Tests.Data;

public sealed class DicomDatasetDateTimeTests
{
    private static DicomDataset With(DicomTag tag, DicomVR vr, string text) =>
        new DicomDataset().AddOrUpdate(tag, vr, Encoding.ASCII.GetBytes(text));

    [Fact]
    public void Date_RoundTrips_AndIsYYYYMMDD()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.StudyDate, new DateOnly(1999, 12, 31));
        Assert.Equal(DicomVR.DA, ds[DicomTags.StudyDate]!.VR);
        Assert.Equal("19991231", ds.GetString(DicomTags.StudyDate));
        Assert.Equal(new DateOnly(1999, 12, 31), ds.GetDate(DicomTags.StudyDate));
    }

    [Theory]
    [InlineData("20240230")]
    [InlineData("2024-01-01")]
    [InlineData("202401")]
    [InlineData("ABCDEFGH")]
    [InlineData("")]
    public void Date_Malformed_IsNull(string text) => Assert.Null(With(DicomTags.StudyDate, DicomVR.DA, text).GetDate(DicomTags.StudyDate));

    [Fact]
    public void Date_Absent_IsNull() => Assert.Null(new DicomDataset().GetDate(DicomTags.StudyDate));

    [Theory]
    [InlineData("07", 7, 0, 0, 0)]
    [InlineData("0715", 7, 15, 0, 0)]
    [InlineData("071530", 7, 15, 30, 0)]
    [InlineData("071530.5", 7, 15, 30, 5_000_000)]
    [InlineData("071530.123456", 7, 15, 30, 1_234_560)]
    [InlineData("235959.000001", 23, 59, 59, 10)]
    [InlineData("07:15:30", 7, 15, 30, 0)]
    [InlineData("071530 ", 7, 15, 30, 0)]
    public void Time_Parses_WithFractions(string text, int h, int m, int s, long extraTicks)
    {
        var t = With(DicomTags.StudyTime, DicomVR.TM, text).GetTime(DicomTags.StudyTime);
        Assert.Equal(new TimeOnly(h, m, s).Add(TimeSpan.FromTicks(extraTicks)), t);
    }

    [Theory]
    [InlineData("24")]
    [InlineData("2360")]
    [InlineData("1")]
    [InlineData("ab")]
    [InlineData("071530.1234567")]
    [InlineData("071530.x")]
    public void Time_Malformed_IsNull(string text) => Assert.Null(With(DicomTags.StudyTime, DicomVR.TM, text).GetTime(DicomTags.StudyTime));

    [Fact]
    public void Time_RoundTripsMicroseconds()
    {
        var t = new TimeOnly(23, 59, 58).Add(TimeSpan.FromTicks(1_234_560));
        var ds = new DicomDataset().AddOrUpdate(DicomTags.StudyTime, t);
        Assert.Equal(DicomVR.TM, ds[DicomTags.StudyTime]!.VR);
        Assert.Equal("235958.123456", ds.GetString(DicomTags.StudyTime));
        Assert.Equal(t, ds.GetTime(DicomTags.StudyTime));
    }

    [Fact]
    public void DateTime_RoundTrips_WithPositiveAndNegativeOffsets()
    {
        foreach (var offset in new[] { TimeSpan.Zero, TimeSpan.FromHours(2), TimeSpan.FromMinutes(-(5 * 60 + 30)), TimeSpan.FromHours(14), TimeSpan.FromHours(-12) })
        {
            var dto = new DateTimeOffset(2023, 7, 14, 9, 8, 7, offset).AddTicks(1_234_560);
            var ds = new DicomDataset().AddOrUpdate(DicomTags.AcquisitionDateTime, dto);
            Assert.Equal(DicomVR.DT, ds[DicomTags.AcquisitionDateTime]!.VR);
            var sign = offset < TimeSpan.Zero ? "-" : "+";
            Assert.Equal($"20230714090807.123456{sign}{Math.Abs(offset.Hours):00}{Math.Abs(offset.Minutes):00}", ds.GetString(DicomTags.AcquisitionDateTime));
            var back = ds.GetDateTime(DicomTags.AcquisitionDateTime);
            Assert.Equal(dto, back);
            Assert.Equal(offset, back!.Value.Offset);
        }
    }

    [Theory]
    [InlineData("2023", 2023, 1, 1, 0, 0, 0, 0, 0)]
    [InlineData("202307", 2023, 7, 1, 0, 0, 0, 0, 0)]
    [InlineData("20230714", 2023, 7, 14, 0, 0, 0, 0, 0)]
    [InlineData("2023071409", 2023, 7, 14, 9, 0, 0, 0, 0)]
    [InlineData("20230714090807.5", 2023, 7, 14, 9, 8, 7, 5_000_000, 0)]
    [InlineData("20230714090807.5-0330", 2023, 7, 14, 9, 8, 7, 5_000_000, -210)]
    [InlineData("20230714+0100", 2023, 7, 14, 0, 0, 0, 0, 60)]
    [InlineData("2023-0500", 2023, 1, 1, 0, 0, 0, 0, -300)]
    public void DateTime_PartialValues(string text, int y, int mo, int d, int h, int mi, int s, long ticks, int offsetMinutes)
    {
        var v = With(DicomTags.AcquisitionDateTime, DicomVR.DT, text).GetDateTime(DicomTags.AcquisitionDateTime);
        Assert.Equal(new DateTimeOffset(y, mo, d, h, mi, s, TimeSpan.FromMinutes(offsetMinutes)).AddTicks(ticks), v);
        Assert.Equal(TimeSpan.FromMinutes(offsetMinutes), v!.Value.Offset);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("202")]
    [InlineData("20X3")]
    [InlineData("2023AB")]
    [InlineData("202307CD")]
    [InlineData("20231301")]
    [InlineData("20230230")]
    [InlineData("20230714+01")]
    [InlineData("20230714+0A00")]
    [InlineData("20230714+9900")]
    [InlineData("2023071425")]
    [InlineData("-2023")]
    public void DateTime_Malformed_IsNull_NeverThrows(string text) =>
        Assert.Null(With(DicomTags.AcquisitionDateTime, DicomVR.DT, text).GetDateTime(DicomTags.AcquisitionDateTime));
}
