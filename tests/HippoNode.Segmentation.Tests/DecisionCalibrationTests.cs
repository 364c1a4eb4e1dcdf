using System.Text.Json;
using HippoNode.Datasets;
using HippoNode.Segmentation.Evaluation;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Tests;

/// <summary>Decision weights: stored in model.json, applied to every argmax, and chosen out of fold by `hipponode calibrate`.</summary>
public sealed class DecisionCalibrationTests
{
    private static readonly VolumeShapeAndSpacing Geometry = new(new(11, 14, 9), new(1.2, 0.8, 1.5));

    private sealed record VolumeShapeAndSpacing(HippoNode.Imaging.VolumeShape Shape, HippoNode.Imaging.Spacing3 Spacing);

    [Fact]
    public void DecisionWeights_RoundTripInModelJson_AndBadOnesAreRefused()
    {
        using var tmp = new TempDir();
        var m = Synthetic.ModelFolder(tmp.Path);
        using var record = JsonDocument.Parse("""{"chosenBackgroundWeight": 4}""");
        m.With([4, 1, 1], record.RootElement.Clone()).Save(tmp.Path);
        var back = ModelManifest.Load(tmp.Path);
        Assert.Equal([4.0, 1, 1], back.DecisionWeights);
        Assert.Equal(4, back.Calibration!.Value.GetProperty("chosenBackgroundWeight").GetInt32());
        Assert.Contains("multiplied by its decision weight", File.ReadAllText(tmp["model.json"]), StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => m.With([4, 1], null).Validate());
        Assert.Throws<FormatException>(() => m.With([0, 1, 1], null).Validate());
        Assert.Throws<FormatException>(() => m.With([double.NaN, 1, 1], null).Validate());
    }

    [Fact]
    public void DecisionWeights_WeightTheArgmaxOfTheEnsembleAndOfEachMember_AndOptionsOverrideTheManifest()
    {
        using var tmp = new TempDir();
        var m = Synthetic.ModelFolder(tmp.Path, members: 2, architecture: new UNetArchitecture { Channels = [4, 8, 8] });
        var (image, _) = Synthetic.Case(Geometry.Shape, Geometry.Spacing, 5);
        using var plain = SegmentationModel.Load(tmp.Path);
        var reference = plain.Segment(image);
        m.With([3, 1, 1], null).Save(tmp.Path);
        using var weighted = SegmentationModel.Load(tmp.Path);
        using var overridden = SegmentationModel.Load(tmp.Path, new InferenceOptions { DecisionWeights = [1, 1, 1] });
        var result = weighted.Segment(image);
        var n = image.VoxelCount;

        Assert.Equal(reference.Probabilities, result.Probabilities);
        for (var i = 0; i < n; i++)
        {
            var best = 0;
            for (var c = 1; c < 3; c++)
            {
                var w = c == 0 ? 3 : 1;
                if (result.Probabilities[c * n + i] * w > result.Probabilities[best * n + i] * (best == 0 ? 3 : 1)) best = c;
            }
            Assert.Equal(best, result.Labels[i]);
        }
        // Background weighted up: never more foreground than plain argmax, and here strictly less.
        Assert.True(result.Labels.Count(l => l != 0) < reference.Labels.Count(l => l != 0));
        var p0 = weighted.RunMember(0, weighted.Normalize(image), Geometry.Shape);
        Assert.Equal(weighted.Argmax(p0, 3, n, [3, 1, 1]), result.MemberLabels[0]);
        Assert.Equal(reference.Labels, overridden.Segment(image).Labels);
    }

    [Fact]
    public void Calibrate_RunsEachMemberOnItsOwnFold_NeverReadsTheTestCases_AndWritesTheBestWeight()
    {
        using var tmp = new TempDir();
        var ids = Synthetic.Dataset(tmp["data"], 6);
        // The test cases' files are removed: calibration must not need them.
        foreach (var id in ids.Take(2))
        {
            File.Delete(tmp[$"data/imagesTr/{id}.nii.gz"]);
            File.Delete(tmp[$"data/labelsTr/{id}.nii.gz"]);
        }
        new DatasetSplit
        {
            Dataset = "synthetic", Seed = 1, TestFraction = 0.33, Test = [.. ids.Take(2)], Folds = [[ids[2], ids[3]], [ids[4], ids[5]]],
        }.Save(tmp["split.json"]);
        Synthetic.ModelFolder(tmp["model"], members: 2, architecture: new UNetArchitecture { Channels = [4, 8, 8] });
        var output = new StringWriter();
        var error = new StringWriter();

        var code = DecisionCalibration.RunCommand(["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--split", tmp["split.json"],
            "--model", tmp["model"], "--write", "--json", tmp["calibration.json"]], output, error);

        Assert.True(code == 0, error.ToString());
        var text = output.ToString();
        Assert.Contains("4 out-of-fold cases", text, StringComparison.Ordinal);
        Assert.Contains("member fold0.onnx: fold 0, 2 cases", text, StringComparison.Ordinal);
        Assert.Contains("member fold1.onnx: fold 1, 2 cases", text, StringComparison.Ordinal);
        var manifest = ModelManifest.Load(tmp["model"]);
        var calibration = manifest.Calibration!.Value;
        var points = calibration.GetProperty("grid").EnumerateArray().ToList();
        Assert.Equal(DecisionCalibration.Grid.Count, points.Count);
        var bestScore = points.Max(p => p.GetProperty("score").GetDouble());
        var chosen = calibration.GetProperty("chosenBackgroundWeight").GetDouble();
        Assert.Equal(bestScore, points.First(p => p.GetProperty("backgroundWeight").GetDouble() == chosen).GetProperty("score").GetDouble());
        Assert.Equal([chosen, 1, 1], manifest.DecisionWeights);
        Assert.Equal(4, calibration.GetProperty("cases").GetInt32());
        Assert.True(File.Exists(tmp["calibration.json"]));
        // The members are untouched: their checksums still hold.
        using var model = SegmentationModel.Load(tmp["model"]);
        Assert.Equal(2, model.MemberCount);
    }

    [Fact]
    public void Calibrate_MemberWithoutAFold_OrAMissingCase_IsAClearError()
    {
        using var tmp = new TempDir();
        var ids = Synthetic.Dataset(tmp["data"], 3);
        new DatasetSplit { Dataset = "synthetic", Seed = 1, TestFraction = 0.33, Test = [ids[0]], Folds = [[ids[1]], [ids[2], "case_missing"]] }.Save(tmp["split.json"]);
        Synthetic.ModelFolder(tmp["model"], members: 2);
        var error = new StringWriter();
        var code = DecisionCalibration.RunCommand(["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--split", tmp["split.json"], "--model", tmp["model"]],
            new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("case_missing", error.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DecisionCalibration.RunCommand(["--model", tmp["model"]], new StringWriter(), new StringWriter()));
    }
}
