using HippoNode.Classification;

namespace HippoNode.Classification.Tests;

/// <summary>Binary metrics against values worked out by hand.</summary>
public sealed class MetricsTests
{
    private static List<ScoredCase> Cases(params (bool Positive, double Score)[] c) => [.. c.Select(x => new ScoredCase(x.Positive, x.Score))];

    [Fact]
    public void Auroc_CountsPairsAndHalvesTies()
    {
        // Positives 0.9, 0.6, 0.4; negatives 0.5, 0.4, 0.1. Pairs won: 0.9 beats 3, 0.6 beats 3, 0.4 beats 0.1 and ties 0.4: 1.5 → 7.5 / 9.
        var cases = Cases((true, 0.9), (true, 0.6), (true, 0.4), (false, 0.5), (false, 0.4), (false, 0.1));
        Assert.Equal(7.5 / 9, BinaryMetrics.Auroc(cases), 12);
        Assert.Equal(1.0, BinaryMetrics.Auroc(Cases((true, 0.8), (false, 0.2))));
        Assert.Equal(0.0, BinaryMetrics.Auroc(Cases((true, 0.2), (false, 0.8))));
        Assert.Equal(0.5, BinaryMetrics.Auroc(Cases((true, 0.5), (false, 0.5))));
        Assert.True(double.IsNaN(BinaryMetrics.Auroc(Cases((true, 0.5)))));
    }

    [Fact]
    public void Confusion_CallsPositiveAtOrAboveTheThreshold()
    {
        var cases = Cases((true, 0.9), (true, 0.5), (true, 0.49), (false, 0.5), (false, 0.2));
        var c = BinaryMetrics.Confusion(cases, 0.5);
        Assert.Equal(new ConfusionMatrix(2, 1, 1, 1), c);
        Assert.Equal(3.0 / 5, c.Accuracy, 12);
        Assert.Equal(2.0 / 3, c.Sensitivity, 12);
        Assert.Equal(1.0 / 2, c.Specificity, 12);
        Assert.Equal(2.0 / 3, c.PositivePredictiveValue, 12);
        Assert.Equal(1.0 / 2, c.NegativePredictiveValue, 12);
        Assert.True(double.IsNaN(BinaryMetrics.Confusion(Cases((false, 0.1)), 0.5).Sensitivity));
    }

    [Fact]
    public void RocCurve_RunsFromOriginToOne_AndItsAreaIsTheAuroc()
    {
        var rng = new Random(3);
        var cases = Enumerable.Range(0, 200).Select(i => new ScoredCase(i % 3 == 0, Math.Round(rng.NextDouble() * 0.7 + (i % 3 == 0 ? 0.3 : 0), 2))).ToList();
        var roc = BinaryMetrics.RocCurve(cases);
        Assert.Equal((0.0, 0.0), (roc[0].FalsePositiveRate, roc[0].TruePositiveRate));
        Assert.Equal((1.0, 1.0), (roc[^1].FalsePositiveRate, roc[^1].TruePositiveRate));
        var area = 0.0;
        for (var i = 1; i < roc.Count; i++)
            area += (roc[i].FalsePositiveRate - roc[i - 1].FalsePositiveRate) * (roc[i].TruePositiveRate + roc[i - 1].TruePositiveRate) / 2;
        Assert.Equal(BinaryMetrics.Auroc(cases), area, 10);
    }

    [Fact]
    public void Reliability_BinsByPrediction_AndEceWeighsTheGaps()
    {
        var cases = Cases((true, 0.05), (false, 0.05), (true, 0.95), (true, 0.95), (true, 1.0));
        var bins = BinaryMetrics.Reliability(cases, 10);
        Assert.Equal(2, bins[0].Count);
        Assert.Equal(0.5, bins[0].ObservedPositive);
        Assert.Equal(3, bins[9].Count);          // 1.0 falls in the last bin
        Assert.Equal(1.0, bins[9].ObservedPositive);
        // |0.5 - 0.05| x 2/5 + |1 - 0.9666...| x 3/5
        Assert.Equal(0.45 * 0.4 + (1 - (0.95 + 0.95 + 1.0) / 3) * 0.6, BinaryMetrics.ExpectedCalibrationError(cases, 10), 12);
        Assert.Equal((0.95 * 0.95 + 0.05 * 0.05 + 0.05 * 0.05 + 0.05 * 0.05 + 0) / 5, BinaryMetrics.Brier(cases), 12);
    }

    [Fact]
    public void Youden_PicksTheThresholdThatSeparatesBest()
    {
        var cases = Cases((true, 0.8), (true, 0.7), (true, 0.35), (false, 0.4), (false, 0.3), (false, 0.1));
        Assert.Equal(0.7, BinaryMetrics.YoudenThreshold(cases));
    }
}
