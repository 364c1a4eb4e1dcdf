using System.Text.Json;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Evaluation;
using HippoNode.Segmentation.Metrics;

namespace HippoNode.Segmentation.Tests;

/// <summary>End to end: the evaluate verb on synthetic NIfTI cases with a tiny random two-member model.</summary>
public sealed class EvaluateVerbTests
{
    [Fact]
    public void JsonIsCompleteAndSelfConsistent()
    {
        using var tmp = new TempDir();
        var ids = Synthetic.Dataset(tmp["data"], 3);
        Synthetic.ModelFolder(tmp["model"], members: 2);
        File.WriteAllText(tmp["cases.txt"], "# evaluation list\n" + string.Join("\n", ids) + "\n\n");
        var json = tmp["out/report.json"];
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = EvaluationCommandLine.Run(
            ["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--cases", tmp["cases.txt"],
             "--model", tmp["model"], "--json", json, "--save-labels", tmp["pred"]], stdout, stderr);

        Assert.True(code == 0, stderr.ToString() + stdout);
        Assert.Contains("ensemble mean dice", stdout.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        var summary = root.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("cases").GetInt32());
        Assert.Equal(0, summary.GetProperty("failures").GetInt32());
        var cases = root.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(ids, cases.Select(c => c.GetProperty("id").GetString()));

        var structures = new (string Name, int[] Labels)[] { ("anterior", [1]), ("posterior", [2]), ("whole", [1, 2]) };
        foreach (var c in cases)
        {
            var id = c.GetProperty("id").GetString()!;
            // Recompute every ensemble metric from the written prediction and the reference label file.
            var predicted = NiftiReader.Read(tmp[$"pred/{id}.nii.gz"]).Volume;
            var truth = NiftiReader.Read(tmp[$"data/labelsTr/{id}.nii.gz"]).Volume;
            var p = predicted.Data.Select(v => (byte)v).ToArray();
            var t = truth.Data.Select(v => (byte)v).ToArray();
            var voxel = truth.Spacing.VoxelVolume;
            Assert.Equal(voxel, c.GetProperty("voxel_volume_mm3").GetDouble(), 12);
            foreach (var (name, labels) in structures)
            {
                var s = c.GetProperty("ensemble").GetProperty(name);
                var counts = OverlapMetrics.Count(p, t, labels);
                Assert.Equal(counts.TruePositive, s.GetProperty("tp").GetInt64());
                Assert.Equal(counts.FalsePositive, s.GetProperty("fp").GetInt64());
                Assert.Equal(counts.FalseNegative, s.GetProperty("fn").GetInt64());
                Assert.Equal(counts.TrueNegative, s.GetProperty("tn").GetInt64());
                Assert.Equal(counts.Dice, s.GetProperty("dice").GetDouble(), 12);
                Assert.Equal(counts.Jaccard, s.GetProperty("jaccard").GetDouble(), 12);
                Assert.Equal(counts.Sensitivity, s.GetProperty("sensitivity").GetDouble(), 12);
                Assert.Equal(counts.Specificity, s.GetProperty("specificity").GetDouble(), 12);
                var predVol = p.Count(v => labels.Contains(v)) * voxel;
                var trueVol = t.Count(v => labels.Contains(v)) * voxel;
                Assert.Equal(predVol, s.GetProperty("volume_pred_mm3").GetDouble(), 9);
                Assert.Equal(trueVol, s.GetProperty("volume_true_mm3").GetDouble(), 9);
                Assert.Equal(predVol - trueVol, s.GetProperty("volume_diff_mm3").GetDouble(), 9);
            }
            Assert.Equal(2, c.GetProperty("members").GetArrayLength());
            Assert.InRange(c.GetProperty("agreement").GetDouble(), 0, 1);
        }

        // Summaries are the mean and median of the per-case numbers.
        var ensemble = summary.GetProperty("ensemble");
        foreach (var (name, _) in structures)
        {
            var values = cases.Select(c => c.GetProperty("ensemble").GetProperty(name).GetProperty("dice").GetDouble()).Order().ToArray();
            Assert.Equal(values.Average(), ensemble.GetProperty($"dice_{name}_mean").GetDouble(), 12);
            Assert.Equal(values[1], ensemble.GetProperty($"dice_{name}_median").GetDouble(), 12);
        }
        Assert.True(ensemble.TryGetProperty("dice_whole_mean", out _));
        Assert.True(ensemble.TryGetProperty("dice_anterior_mean", out _));
        Assert.True(ensemble.TryGetProperty("dice_posterior_mean", out _));
        var worst = ensemble.GetProperty("worst_five").EnumerateArray().Select(w => w.GetProperty("dice_whole").GetDouble()).ToList();
        Assert.Equal(3, worst.Count);
        Assert.Equal(worst.Order(), worst);

        var members = summary.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(["fold0.onnx", "fold1.onnx"], members.Select(m => m.GetProperty("file").GetString()));
        for (var k = 0; k < 2; k++)
        {
            var perCase = cases.Select(c => c.GetProperty("members")[k].GetProperty("whole").GetProperty("dice").GetDouble()).Average();
            Assert.Equal(perCase, members[k].GetProperty("dice_whole_mean").GetDouble(), 12);
        }
        var agreement = cases.Select(c => c.GetProperty("agreement").GetDouble()).Average();
        Assert.Equal(agreement, ensemble.GetProperty("agreement_mean").GetDouble(), 12);
    }

    [Fact]
    public void SplitJsonSelectsItsTestListAndMissingCasesFail()
    {
        using var tmp = new TempDir();
        var ids = Synthetic.Dataset(tmp["data"], 2);
        Synthetic.ModelFolder(tmp["model"], members: 1);
        var split = new HippoNode.Datasets.DatasetSplit
        {
            Dataset = "synthetic", Seed = 1, TestFraction = 0.5,
            Test = [ids[1], "case_999"],
            Folds = [[ids[0]]],
        };
        split.Save(tmp["split.json"]);
        var json = tmp["report.json"];
        var code = EvaluationCommandLine.Run(
            ["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--cases", tmp["split.json"], "--model", tmp["model"], "--json", json],
            TextWriter.Null, TextWriter.Null);
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal([ids[1]], doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        var failure = Assert.Single(doc.RootElement.GetProperty("failures").EnumerateArray());
        Assert.Equal("case_999", failure.GetProperty("id").GetString());
    }

    [Fact]
    public void WithoutCasesEveryLabelledImageIsUsed()
    {
        using var tmp = new TempDir();
        Synthetic.Dataset(tmp["data"], 2);
        File.WriteAllBytes(tmp["data/imagesTr/._case_000.nii.gz"], [0, 1, 2]);
        File.Copy(tmp["data/imagesTr/case_000.nii.gz"], tmp["data/imagesTr/unlabelled.nii.gz"]);
        Synthetic.ModelFolder(tmp["model"], members: 1);
        var json = tmp["r.json"];
        Assert.Equal(0, EvaluationCommandLine.Run(
            ["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--model", tmp["model"], "--json", json], TextWriter.Null, TextWriter.Null));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("summary").GetProperty("cases").GetInt32());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("cases_source").ValueKind);
    }

    [Fact]
    public void BadLabelValuesFailTheCaseNotTheRun()
    {
        using var tmp = new TempDir();
        var ids = Synthetic.Dataset(tmp["data"], 2);
        var label = NiftiReader.Read(tmp[$"data/labelsTr/{ids[0]}.nii.gz"]).Volume;
        label.Data[0] = 7;
        NiftiWriter.Write(label, tmp[$"data/labelsTr/{ids[0]}.nii.gz"], NiftiDataType.UInt8);
        Synthetic.ModelFolder(tmp["model"], members: 1);
        var json = tmp["r.json"];
        Assert.Equal(1, EvaluationCommandLine.Run(
            ["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--model", tmp["model"], "--json", json], TextWriter.Null, TextWriter.Null));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(1, doc.RootElement.GetProperty("summary").GetProperty("cases").GetInt32());
        Assert.Contains("label value 7", doc.RootElement.GetProperty("failures")[0].GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("--images", "a", "--labels", "b", "--model", "c")]
    [InlineData("--images", "a", "--labels", "b", "--model", "c", "--json", "d", "--bogus", "x")]
    [InlineData("--images", "a", "--labels", "b", "--model", "c", "--json", "d", "--provider", "tpu")]
    [InlineData("--images", "a", "--labels", "b", "--model", "c", "--json", "d", "--threads", "many")]
    [InlineData("--images", "a", "--labels", "b", "--model", "c", "--json")]
    public void BadArgumentsAreUsageErrors(params string[] args) =>
        Assert.Throws<ArgumentException>(() => EvaluationCommandLine.Parse(args));

    [Fact]
    public void MissingModelIsAnErrorWithExitOne()
    {
        using var tmp = new TempDir();
        Synthetic.Dataset(tmp["data"], 1);
        var err = new StringWriter();
        Assert.Equal(1, EvaluationCommandLine.Run(
            ["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--model", tmp["nomodel"], "--json", tmp["r.json"]], TextWriter.Null, err));
        Assert.Contains("cannot load model", err.ToString());
    }
}

/// <summary>The verb on real MSD crops (shared data) with a tiny random model: the files, the split and the grids must all fit.</summary>
public sealed class EvaluateRealDataTests
{
    [SharedDataFact]
    public void RunsOnTwoTestCasesOfTheSplit()
    {
        using var tmp = new TempDir();
        Synthetic.ModelFolder(tmp["model"], members: 2);
        var split = HippoNode.Datasets.DatasetSplit.Load(Path.Combine(TestData.RepoRoot, "models", "hippocampus", "split.json"));
        File.WriteAllLines(tmp["cases.txt"], split.Test.Take(2));
        var json = tmp["r.json"];
        var data = TestData.Shared("hippocampus");
        var err = new StringWriter();
        var code = EvaluationCommandLine.Run(
            ["--images", Path.Combine(data, "imagesTr"), "--labels", Path.Combine(data, "labelsTr"), "--cases", tmp["cases.txt"], "--model", tmp["model"], "--json", json],
            TextWriter.Null, err);
        Assert.True(code == 0, err.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            // MSD crops are about 35x50x35 at 1 mm: a true whole-hippocampus volume of a few thousand mm3.
            Assert.InRange(c.GetProperty("ensemble").GetProperty("whole").GetProperty("volume_true_mm3").GetDouble(), 1000, 10000);
        }
    }
}
