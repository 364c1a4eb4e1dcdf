using HippoNode.Analysis.ChestXray;
using HippoNode.Analysis.Selection;
using HippoNode.Classification;
using HippoNode.Dicom;
using Xunit.Abstractions;

namespace HippoNode.Analysis.Tests;

/// <summary>DX/CR objects through the grayscale pipeline (modality LUT, VOI LUT or window, polarity) back to the image they were made from.</summary>
public sealed class RadiographTests(ITestOutputHelper output)
{
    private static ScannedInstance Scan(string folder) => StudyScanner.Scan(folder, CancellationToken.None).Series.Single().Instances.Single();

    public static TheoryData<RadiographEncoding, bool, int> Codings => new()
    {
        { RadiographEncoding.DxWindow, false, 12 },
        { RadiographEncoding.DxWindow, true, 12 },
        { RadiographEncoding.DxVoiLutSequence, true, 12 },
        { RadiographEncoding.DxVoiLutSequence, false, 14 },
        { RadiographEncoding.DxWindow, false, 8 },
        { RadiographEncoding.DxWindow, false, 16 },
        { RadiographEncoding.CrModalityLut, true, 10 },
        { RadiographEncoding.DxForProcessing, false, 12 },
        { RadiographEncoding.DxForProcessing, true, 12 },
    };

    [ToolTheory("dciodvfy")]
    [MemberData(nameof(Codings))]
    public void MadeObjects_AreValidDxOrCr_AndReadBackToTheImage(RadiographEncoding encoding, bool monochrome1, int bits)
    {
        using var tmp = new TempDir();
        var image = TestRadiographs.Phantom();
        var path = tmp["study/x.dcm"];
        RadiographFactory.Write(new RadiographSpec { Image = image, Encoding = encoding, Monochrome1 = monochrome1, BitsStored = bits }, path);

        var (_, so, se) = TestData.Run("dciodvfy", [path]);
        var errors = (so + se).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        foreach (var l in (so + se).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal)).Distinct())
            output.WriteLine(l);
        Assert.Empty(errors);

        var r = RadiographReader.Read("series x", Scan(tmp["study"]));
        output.WriteLine($"{encoding} {(monochrome1 ? "MONOCHROME1" : "MONOCHROME2")} {bits} bits: {r.Pipeline}");
        Assert.Equal((image.Width, image.Height), (r.Columns, r.Rows));
        Assert.Equal(monochrome1, r.Inverted);
        Assert.Equal(bits, r.BitsStored);
        Assert.Equal((0.15, 0.15), (r.PixelSpacing!.Value.Row, r.PixelSpacing.Value.Column));
        var quantum = 1.0 / ((1 << bits) - 1);
        if (encoding == RadiographEncoding.DxForProcessing)
        {
            // No VOI in the image: the 0.5th and 99.5th percentiles of the image become black and white.
            Assert.Contains("percentile window", r.VoiStep, StringComparison.Ordinal);
            var sorted = image.Pixels.Order().ToArray();
            var (lo, hi) = (sorted[(int)Math.Floor(0.005 * (sorted.Length - 1))], sorted[(int)Math.Ceiling(0.995 * (sorted.Length - 1))]);
            for (var i = 0; i < image.Pixels.Length; i += 7)
            {
                var expected = Math.Clamp((image.Pixels[i] - lo) / (hi - lo), 0, 1);
                Assert.True(Math.Abs(r.Image.Pixels[i] - expected) <= 3 * quantum / (hi - lo) + 1e-5, $"pixel {i}: {r.Image.Pixels[i]} vs {expected}");
            }
            return;
        }
        Assert.Contains(encoding switch
        {
            RadiographEncoding.DxVoiLutSequence => "VOI LUT Sequence",
            RadiographEncoding.CrModalityLut => "window",
            _ => "window",
        }, r.VoiStep, StringComparison.Ordinal);
        if (encoding == RadiographEncoding.CrModalityLut) Assert.StartsWith("Modality LUT Sequence", r.ModalityStep, StringComparison.Ordinal);
        var worst = image.Pixels.Zip(r.Image.Pixels).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"max |display - original| = {worst:E2} (quantum {quantum:E2})");
        Assert.True(worst <= quantum / 2 + 1e-4, $"the display differs from the original by {worst}");
    }

    [Fact]
    public void LinearWindow_FollowsPs33C112121()
    {
        // c = 40, w = 400: x <= c - 0.5 - (w-1)/2 = -160 gives 0; x > c - 0.5 + (w-1)/2 = 239 gives 1; else ((x - 39.5) / 399 + 0.5).
        float[] x = [-1000, -160, -159.9f, 39.5f, 100, 239, 239.1f, 5000];
        RadiographReader.Window(x, 40, 400, "LINEAR");
        double[] expected = [0, 0, (-159.9 - 39.5) / 399 + 0.5, 0.5, (100 - 39.5) / 399 + 0.5, 1, 1, 1];
        for (var i = 0; i < x.Length; i++) Assert.Equal(expected[i], x[i], 5);

        float[] exact = [0, 40, 240];
        RadiographReader.Window(exact, 40, 400, "LINEAR_EXACT");
        Assert.Equal([0.4f, 0.5f, 1f], exact);
        float[] sigmoid = [40];
        RadiographReader.Window(sigmoid, 40, 400, "SIGMOID");
        Assert.Equal(0.5f, sigmoid[0]);

        var ex = Assert.Throws<FormatException>(() => RadiographReader.Window([1f], 40, 0.5, "LINEAR"));
        Assert.Contains("below 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("GAMMA", Assert.Throws<FormatException>(() => RadiographReader.Window([1f], 40, 4, "GAMMA")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModalityLut_MapsFromTheFirstValue_ClampsOutside_AndReadsASignedFirstValue()
    {
        static DicomDataset WithLut(ushort first) => new DicomDataset().AddOrUpdate(DicomTags.ModalityLUTSequence, new DicomDataset()
            .AddOrUpdate(DicomTags.LUTDescriptor, DicomVR.US, (ushort)4, first, (ushort)16)
            .AddOrUpdate(DicomTags.LUTData, DicomVR.OW, (ushort)5, (ushort)6, (ushort)7, (ushort)8));
        float[] v = [0, 10, 12, 13, 99];
        Assert.StartsWith("Modality LUT Sequence", RadiographReader.ApplyModality(WithLut(10), v, signed: false), StringComparison.Ordinal);
        Assert.Equal([5f, 5f, 7f, 8f, 8f], v);

        // 65534 as US is -2 when the pixels are signed: inputs -2..1 map to the four entries.
        float[] s = [-3, -2, 0, 1, 2];
        RadiographReader.ApplyModality(WithLut(65534), s, signed: true);
        Assert.Equal([5f, 5f, 7f, 8f, 8f], s);

        float[] r = [10];
        var rescale = new DicomDataset().AddOrUpdate(DicomTags.RescaleSlope, DicomVR.DS, "2").AddOrUpdate(DicomTags.RescaleIntercept, DicomVR.DS, "-1024");
        Assert.StartsWith("rescale 2/-1024", RadiographReader.ApplyModality(rescale, r, false), StringComparison.Ordinal);
        Assert.Equal(-1004f, r[0]);
    }

    [Fact]
    public void VoiLutSequence_TakesTheFirstItem_AndScalesByItsBits()
    {
        var first = new DicomDataset().AddOrUpdate(DicomTags.LUTDescriptor, DicomVR.US, (ushort)3, (ushort)100, (ushort)8)
            .AddOrUpdate(DicomTags.LUTData, DicomVR.OW, (ushort)0, (ushort)51, (ushort)255);
        var second = new DicomDataset().AddOrUpdate(DicomTags.LUTDescriptor, DicomVR.US, (ushort)3, (ushort)0, (ushort)8)
            .AddOrUpdate(DicomTags.LUTData, DicomVR.OW, (ushort)255, (ushort)255, (ushort)255);
        var ds = new DicomDataset().AddOrUpdate(DicomTags.VOILUTSequence, first, second)
            .AddOrUpdate(DicomTags.WindowCenter, DicomVR.DS, "1").AddOrUpdate(DicomTags.WindowWidth, DicomVR.DS, "1");
        float[] v = [50, 100, 101, 102, 500];
        Assert.Contains("first of 2", RadiographReader.ApplyVoi(ds, v), StringComparison.Ordinal);
        Assert.Equal([0f, 0f, 0.2f, 1f, 1f], v);
    }

    [Fact]
    public void PercentileWindow_LeavesPaddingOut()
    {
        var values = new float[1000];
        var padding = new bool[1000];
        for (var i = 0; i < values.Length; i++)
        {
            padding[i] = i < 300;
            values[i] = padding[i] ? 0 : 1000 + (i - 300) * 1000f / 699;
        }
        var (lo, hi) = RadiographReader.Percentiles(values, padding);
        Assert.InRange(lo, 1000, 1010);
        Assert.InRange(hi, 1990, 2000);
        Assert.Equal(0, RadiographReader.Percentiles(values, null).Lo);
    }

    [Fact]
    public void Spacing_PrefersPixelSpacing_ThenImagerPixelSpacing()
    {
        var both = new DicomDataset().AddOrUpdate(DicomTags.PixelSpacing, DicomVR.DS, "0.1", "0.2").AddOrUpdate(DicomTags.ImagerPixelSpacing, DicomVR.DS, "0.3", "0.3");
        Assert.Equal((0.1, 0.2, "Pixel Spacing"), RadiographReader.Spacing(both));
        var imager = new DicomDataset().AddOrUpdate(DicomTags.ImagerPixelSpacing, DicomVR.DS, "0.3", "0.4");
        Assert.Equal((0.3, 0.4, "Imager Pixel Spacing, detector plane"), RadiographReader.Spacing(imager));
        Assert.Null(RadiographReader.Spacing(new DicomDataset()));
    }

    [ToolFact("dcmcjpeg")]
    public void CompressedRadiograph_FailsWithAReasonThatNamesTheSyntaxAndTheWayOut()
    {
        using var tmp = new TempDir();
        RadiographFactory.Write(new RadiographSpec { Image = TestRadiographs.Phantom(200, 200) }, tmp["plain.dcm"]);
        Directory.CreateDirectory(tmp["study"]);
        var (rc, so, se) = TestData.Run("dcmcjpeg", ["+e1", tmp["plain.dcm"], tmp["study/jpeg.dcm"]]);
        Assert.True(rc == 0, so + se);
        var instance = Scan(tmp["study"]);
        Assert.True(instance.Compressed);
        var ex = Assert.Throws<AnalysisException>(() => RadiographReader.Read("series 'Chest'", instance));
        output.WriteLine(ex.Message);
        Assert.Contains("series 'Chest'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("compressed (JPEG", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Orthanc transcodes", ex.Message, StringComparison.Ordinal);
    }

    [SharedDataFact("dciodvfy")]
    public void SharedTrainingImages_AsDicom_ReadBackToThePixelsTheTrainerSees()
    {
        using var tmp = new TempDir();
        foreach (var (label, index, encoding, mono1) in new[] { ("NORMAL", 0, RadiographEncoding.DxWindow, false), ("PNEUMONIA", 0, RadiographEncoding.DxVoiLutSequence, true) })
        {
            var (image, file) = TestRadiographs.Shared(label, index);
            var folder = tmp[$"{label}"];
            RadiographFactory.Write(new RadiographSpec { Image = image, Encoding = encoding, Monochrome1 = mono1, ViewPosition = "AP" }, Path.Combine(folder, "cxr.dcm"));
            var r = RadiographReader.Read(label, Scan(folder));
            var worst = image.Pixels.Zip(r.Image.Pixels).Max(p => Math.Abs(p.First - p.Second));
            output.WriteLine($"{Path.GetFileName(file)} -> {encoding} {(mono1 ? "MONOCHROME1" : "MONOCHROME2")}: {r.Pipeline}; max diff {worst:E2}");
            Assert.True(worst <= 0.5 / 4095 + 1e-4);
        }
    }
}
