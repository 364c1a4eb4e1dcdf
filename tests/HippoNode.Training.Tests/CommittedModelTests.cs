using System.Globalization;
using System.Text.RegularExpressions;
using HippoNode.Datasets;
using HippoNode.Segmentation.Evaluation;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;
using Xunit.Abstractions;

namespace HippoNode.Training.Tests;

/// <summary>The committed model folder (models/hippocampus) still performs as its model card says, on the split's 34 held-out test cases.</summary>
public sealed partial class CommittedModelTests(ITestOutputHelper output)
{
    private static string ModelDir => Path.Combine(TestData.RepoRoot, "models", "hippocampus");

    [GeneratedRegex(@"^\|\s*(?<row>[^|]+?)\s*\|\s*(?<a>[0-9.]+)\s*\|\s*(?<p>[0-9.]+)\s*\|\s*(?<w>[0-9.]+)\s*\|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    /// <summary>The (anterior, posterior, whole) figures of the card's test-results row called <paramref name="row"/>.</summary>
    private static (double Anterior, double Posterior, double Whole) CardRow(string card, string row)
    {
        var m = TableRow().Matches(card).FirstOrDefault(x => x.Groups["row"].Value == row)
            ?? throw new InvalidOperationException($"MODEL_CARD.md has no table row '{row}'");
        static double D(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture);
        return (D(m.Groups["a"]), D(m.Groups["p"]), D(m.Groups["w"]));
    }

    [Fact]
    public void Folder_IsTheUNetEnsembleWithFiveFoldMembers_CalibratedOutOfFold_AndSmall()
    {
        var manifest = ModelManifest.Load(ModelDir);
        Assert.Equal("hippocampus-unet3d", manifest.Name);
        Assert.Equal([0, 1, 2, 3, 4], manifest.Members.Select(m => m.Fold ?? -1));
        Assert.All(manifest.Members, m => Assert.Equal(ModelManifest.Sha256Of(Path.Combine(ModelDir, m.File)), m.Sha256));
        Assert.Equal([16, 32, 64, 128], manifest.Architecture!.Channels);
        Assert.Equal(8, manifest.SizeMultiple);
        Assert.Equal(IntensityRegion.All, manifest.NormalizationRegion);
        // The decision weights are the calibration's choice, made on the 190 out-of-fold cases.
        var calibration = manifest.Calibration!.Value;
        Assert.Equal(190, calibration.GetProperty("cases").GetInt32());
        Assert.Equal([calibration.GetProperty("chosenBackgroundWeight").GetDouble(), 1, 1], manifest.DecisionWeights!);
        var bytes = Directory.EnumerateFiles(ModelDir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes <= 60L * 1024 * 1024, $"models/hippocampus holds {bytes / 1048576.0:F1} MiB (at most 60)");
        var card = File.ReadAllText(Path.Combine(ModelDir, "MODEL_CARD.md"));
        Assert.Contains("not for diagnostic use", card, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(manifest.Version, card, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void Calibration_RerunOutOfFold_ChoosesTheCommittedDecisionWeight()
    {
        var manifest = ModelManifest.Load(ModelDir);
        var data = TestData.Shared("hippocampus");
        var split = DatasetSplit.Load(Path.Combine(ModelDir, "split.json"));
        using var model = SegmentationModel.Load(ModelDir, new InferenceOptions { DecisionWeights = null });
        var calibration = DecisionCalibration.Run(model, split, Path.Combine(data, "imagesTr"), Path.Combine(data, "labelsTr"));
        var text = new StringWriter();
        calibration.WriteText(text);
        output.WriteLine(text.ToString());
        Assert.Equal(190, calibration.Cases);
        Assert.Equal(manifest.DecisionWeights![0], calibration.Best.BackgroundWeight);
        var stored = manifest.Calibration!.Value.GetProperty("grid").EnumerateArray().Select(p => p.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(stored, calibration.Points.Select(p => Math.Round(p.Score, 4)));
    }

    [SharedDataFact]
    public void TestSet_EnsembleDiceAndVolumeError_AreWhatTheModelCardStates()
    {
        var card = File.ReadAllText(Path.Combine(ModelDir, "MODEL_CARD.md"));
        var statedDice = CardRow(card, "Ensemble mean Dice");
        var statedVolume = CardRow(card, "Ensemble mean absolute volume error (mm³)");

        var split = DatasetSplit.Load(Path.Combine(ModelDir, "split.json"));
        var data = TestData.Shared("hippocampus");
        var (cases, missing) = CaseList.Resolve(Path.Combine(data, "imagesTr"), Path.Combine(data, "labelsTr"), split.Test);
        Assert.Empty(missing);
        Assert.Equal(34, cases.Count);
        using var model = SegmentationModel.Load(ModelDir);
        var (results, failures) = Evaluator.Run(model, cases);
        Assert.Empty(failures);

        double Mean(string structure, Func<HippoNode.Segmentation.Metrics.StructureMetrics, double> get) =>
            results.Average(r => get(r.Ensemble.Single(s => s.Structure == structure)));
        var dice = (Mean("anterior", m => m.Dice), Mean("posterior", m => m.Dice), Mean("whole", m => m.Dice));
        var volume = (Mean("anterior", m => Math.Abs(m.VolumeDifferenceMm3)), Mean("posterior", m => Math.Abs(m.VolumeDifferenceMm3)), Mean("whole", m => Math.Abs(m.VolumeDifferenceMm3)));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ensemble mean dice anterior {dice.Item1:F4} posterior {dice.Item2:F4} whole {dice.Item3:F4}; |volume error| {volume.Item1:F0}/{volume.Item2:F0}/{volume.Item3:F0} mm3; {results.Sum(r => r.Elapsed.TotalMilliseconds) / results.Count:F0} ms per case"));

        Assert.True(dice.Item1 >= statedDice.Anterior - 0.02, $"anterior {dice.Item1:F4} < card {statedDice.Anterior} - 0.02");
        Assert.True(dice.Item2 >= statedDice.Posterior - 0.02, $"posterior {dice.Item2:F4} < card {statedDice.Posterior} - 0.02");
        Assert.True(dice.Item3 >= statedDice.Whole - 0.02, $"whole {dice.Item3:F4} < card {statedDice.Whole} - 0.02");
        // Margin: 10 % of the stated error or 25 mm³, whichever is larger.
        static double Limit(double stated) => stated + Math.Max(25, 0.1 * stated);
        Assert.True(volume.Item1 <= Limit(statedVolume.Anterior), $"anterior |volume error| {volume.Item1:F0} mm3");
        Assert.True(volume.Item2 <= Limit(statedVolume.Posterior), $"posterior |volume error| {volume.Item2:F0} mm3");
        Assert.True(volume.Item3 <= Limit(statedVolume.Whole), $"whole |volume error| {volume.Item3:F0} mm3");
    }
}
