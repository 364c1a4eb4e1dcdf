using System.Text.Json;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Inference;
using Xunit.Abstractions;

namespace HippoNode.Analysis.Tests;

/// <summary>With the trained ensemble (models/hippocampus): real volumes. Skipped until the model is committed.</summary>
public sealed class TrainedModelTests(ITestOutputHelper output)
{
    private static AnalysisOptions Options => new() { ModelFolder = TrainedModelFactAttribute.Folder };

    [TrainedModelFact]
    public async Task TestVolumesStudiesGivePlausibleVolumes()
    {
        using var analyzer = new StudyAnalyzer(Options);
        foreach (var study in new[] { "Study1", "Study2" })
        {
            using var tmp = new TempDir();
            var result = await analyzer.AnalyzeAsync(TestData.Shared("TestVolumes", study), tmp.Path);
            output.WriteLine($"{study}: {StudyAnalyzer.FormatVolumes(result.VolumesMm3)}; agreement {result.Agreement:0.###}{(result.QualityFlagged ? " FLAGGED" : "")}");
            Assert.Equal(AnalysisStatus.Completed, result.Status);
            Assert.Equal("HippoCrop", result.Series.Single(s => s.Chosen).SeriesDescription);
            // One hippocampus in an adult is roughly 2,000-5,000 mm3; anterior and posterior are both present.
            Assert.InRange(result.VolumesMm3["whole"], 1000, 8000);
            Assert.True(result.VolumesMm3["anterior"] > 0 && result.VolumesMm3["posterior"] > 0);
        }
    }

    [TrainedModelFact]
    public async Task NiftiAndDicomAgreeWithinOnePercentOnTestSplitCases()
    {
        using var split = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestData.RepoRoot, "models", "hippocampus", "split.json")));
        using var model = SegmentationModel.Load(TrainedModelFactAttribute.Folder);
        using var analyzer = new StudyAnalyzer(Options, model);
        foreach (var id in split.RootElement.GetProperty("test").EnumerateArray().Take(3).Select(e => e.GetString()!))
        {
            var nifti = NiftiReader.Read(TestData.Shared("hippocampus", "imagesTr", id + ".nii.gz")).Volume;
            using var tmp = new TempDir();
            SeriesWriter.Save(SeriesWriter.Build(nifti, SeriesLayout.HippoCrop, quantise: true), tmp["study"]);
            var direct = model.Segment(nifti);
            var result = await analyzer.AnalyzeAsync(tmp["study"], tmp["out"]);
            foreach (var v in direct.Volumes)
            {
                output.WriteLine($"{id} {v.Structure}: NIfTI {v.VolumeMm3:0.0} mm3, DICOM {result.VolumesMm3[v.Structure]:0.0} mm3");
                Assert.True(Math.Abs(result.VolumesMm3[v.Structure] - v.VolumeMm3) <= 0.01 * v.VolumeMm3, $"{id} {v.Structure}");
            }
        }
    }
}
