using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Demo;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>
/// Found by the volume fuzz target (seeds 20263762, 20264074: the VR of Samples per Pixel turned into LO):
/// DicomDataset.TryGetValue&lt;int&gt; threw DicomException ("has VR LO, which holds no numbers") where its contract says
/// false, and the series-to-volume path passed that exception on instead of reading the slice or refusing the series
/// with an AnalysisException. TryGetValue now answers false (GetValues still throws for a text VR, by design), and the
/// reader treats a required number sent in a text VR as missing.
/// </summary>
public sealed class NumbersInTextVrTests
{
    [Fact]
    public void TryGetValue_OnATextVr_IsFalse()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.LO, "1");
        Assert.False(ds.TryGetValue<int>(DicomTags.SamplesPerPixel, out _));
        Assert.Throws<DicomException>(() => ds.GetValue<int>(DicomTags.SamplesPerPixel)); // the throwing accessors keep their documented exception
        Assert.Throws<DicomException>(() => ds.GetValues<int>(DicomTags.SamplesPerPixel));
    }

    [Fact]
    public void SeriesWithPixelSpacingInAnLo_IsRefusedWithAnAnalysisException()
    {
        var dir = Directory.CreateTempSubdirectory("hipponode-regression-lo").FullName;
        try
        {
            SyntheticStudy.Write(Path.Combine(dir, "source"));
            var files = Directory.GetFiles(Path.Combine(dir, "source")).Order(StringComparer.Ordinal).Take(4).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
            var file = DicomFile.Read(new MemoryStream(files[2].Item2));
            file.Dataset.AddOrUpdate(DicomTags.PixelSpacing, DicomVR.LO, "1\\1 ");
            var ms = new MemoryStream();
            file.Write(ms);
            files[2] = (files[2].Item1, ms.ToArray());
            var result = SeriesVolumeTarget.Exercise(files, Path.Combine(dir, "study"), CancellationToken.None);
            Assert.True(result.Verdict == Verdict.Rejected, result.Problem ?? "accepted");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void SeriesWithSamplesPerPixelInAnLo_BecomesAVolume()
    {
        var dir = Directory.CreateTempSubdirectory("hipponode-regression-lo").FullName;
        try
        {
            SyntheticStudy.Write(Path.Combine(dir, "source"));
            var files = Directory.GetFiles(Path.Combine(dir, "source")).Order(StringComparer.Ordinal).Take(4).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
            var file = DicomFile.Read(new MemoryStream(files[1].Item2));
            file.Dataset.AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.LO, "1 ");
            var ms = new MemoryStream();
            file.Write(ms);
            files[1] = (files[1].Item1, ms.ToArray());
            var result = SeriesVolumeTarget.Exercise(files, Path.Combine(dir, "study"), CancellationToken.None);
            Assert.True(result.Verdict == Verdict.Accepted, result.Problem);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
