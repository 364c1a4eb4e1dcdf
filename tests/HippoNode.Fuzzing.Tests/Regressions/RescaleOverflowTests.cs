using HippoNode.Analysis;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Demo;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>
/// Found by the volume fuzz target (seed 20263392: Rescale Slope 3.4e38 on one slice): the rescaled pixel values
/// overflowed 32-bit floats and the series became a volume full of infinities, which the model would have segmented.
/// The reader now refuses such a slice with an AnalysisException naming it and its rescale values.
/// </summary>
public sealed class RescaleOverflowTests
{
    [Fact]
    public async Task SliceWhoseRescaleOverflowsFloats_FailsTheStudyWithAClearMessage()
    {
        var dir = Directory.CreateTempSubdirectory("hipponode-regression-rescale").FullName;
        try
        {
            var study = Path.Combine(dir, "study");
            SyntheticStudy.Write(study);
            var victim = Directory.GetFiles(study).Order(StringComparer.Ordinal).ElementAt(5);
            var file = DicomFile.Open(victim);
            file.Dataset.AddOrUpdate(DicomTags.RescaleSlope, DicomVR.DS, "3.4e38");
            file.Save(victim);

            using var analyzer = new StudyAnalyzer();
            var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(study, Path.Combine(dir, "out")));
            Assert.Contains("Rescale Slope", ex.Message, StringComparison.Ordinal);
            Assert.Contains(Path.GetFileName(victim), ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
