using System.Numerics;

namespace HippoNode.Dicom.Tests.Data;

public sealed class DicomUidTests
{
    [Fact]
    public void Generate_IsValid_Under225_AndFitsIn64()
    {
        for (var i = 0; i < 200; i++)
        {
            var uid = DicomUid.Generate();
            Assert.True(DicomUid.IsValid(uid), uid);
            Assert.StartsWith("2.25.", uid);
            Assert.InRange(uid.Length, 6, 64);
            var n = BigInteger.Parse(uid[5..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(n < BigInteger.One << 128);
        }
    }

    [Fact]
    public void Generate_IsUnique()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 10_000; i++) Assert.True(set.Add(DicomUid.Generate()));
    }

    [Fact]
    public void Generate_IsUnique_AcrossThreads()
    {
        var all = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, _ => { for (var i = 0; i < 2_000; i++) all.Add(DicomUid.Generate()); });
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("1.2.840.10008.1.2", true)]
    [InlineData("0", true)]
    [InlineData("1.0.2", true)]
    [InlineData("2.25.0", true)]
    [InlineData("", false)]
    [InlineData("1..2", false)]
    [InlineData(".1.2", false)]
    [InlineData("1.2.", false)]
    [InlineData("1.02", false)]
    [InlineData("1.2a", false)]
    [InlineData("1.2 ", false)]
    [InlineData("1.2\0", false)]
    [InlineData("-1.2", false)]
    [InlineData("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25", false)] // 65 chars
    [InlineData("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.2", true)] // 64 chars
    public void IsValid(string uid, bool valid) => Assert.Equal(valid, DicomUid.IsValid(uid));

    [Fact]
    public void UIDs_ArePaddedWithNul_AndReadBackTrimmed()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3");
        var bytes = IO.DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(new byte[] { (byte)'1', (byte)'.', (byte)'2', (byte)'.', (byte)'3', 0 }, bytes[^6..]);
        var back = IO.DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal("1.2.3", back.GetString(DicomTags.SOPInstanceUID));
    }

    [Fact]
    public void NameOf_KnowsTransferSyntaxesAndSopClasses()
    {
        Assert.Equal("Explicit VR Little Endian", DicomUid.NameOf("1.2.840.10008.1.2.1\0"));
        Assert.Equal(nameof(DicomUid.CTImageStorage), DicomUid.NameOf(DicomUid.CTImageStorage));
        Assert.Null(DicomUid.NameOf("1.2.3.4"));
    }
}
