using HippoNode.Segmentation.Metrics;

namespace HippoNode.Segmentation.Tests;

public sealed class MetricsTests
{
    private static readonly int[] Anterior = [1];
    private static readonly int[] Whole = [1, 2];

    [Fact]
    public void HandComputedCounts()
    {
        //                     0  1  2  3  4  5  6  7  8  9
        byte[] predicted = [0, 1, 1, 2, 0, 0, 2, 1, 0, 2];
        byte[] truth = [0, 1, 2, 2, 0, 1, 2, 0, 0, 0];
        // Anterior (1): predicted {1,2,7}, truth {1,5}: TP 1 (voxel 1), FP 2 (2, 7), FN 1 (5), TN 6.
        var a = OverlapMetrics.Count(predicted, truth, Anterior);
        Assert.Equal(new ConfusionCounts(1, 2, 1, 6), a);
        Assert.Equal(2.0 / 5.0, a.Dice, 15);          // 2*1 / (2*1 + 2 + 1)
        Assert.Equal(1.0 / 4.0, a.Jaccard, 15);       // 1 / (1 + 2 + 1)
        Assert.Equal(1.0 / 2.0, a.Sensitivity, 15);   // 1 / (1 + 1)
        Assert.Equal(6.0 / 8.0, a.Specificity, 15);   // 6 / (6 + 2)
        // Whole (1+2): predicted {1,2,3,6,7,9}, truth {1,2,3,5,6}: TP 4, FP 2 (7, 9), FN 1 (5), TN 3.
        var w = OverlapMetrics.Count(predicted, truth, Whole);
        Assert.Equal(new ConfusionCounts(4, 2, 1, 3), w);
        Assert.Equal(8.0 / 11.0, w.Dice, 15);
        Assert.Equal(4.0 / 7.0, w.Jaccard, 15);
        Assert.Equal(4.0 / 5.0, w.Sensitivity, 15);
        Assert.Equal(3.0 / 5.0, w.Specificity, 15);
    }

    [Fact]
    public void Volumes()
    {
        byte[] predicted = [1, 1, 1, 0];
        byte[] truth = [1, 0, 0, 0];
        var m = OverlapMetrics.Compute(predicted, truth, [new("anterior", [1])], voxelVolumeMm3: 0.5 * 2 * 3);
        var s = Assert.Single(m);
        Assert.Equal(9.0, s.PredictedVolumeMm3, 12);
        Assert.Equal(3.0, s.TrueVolumeMm3, 12);
        Assert.Equal(6.0, s.VolumeDifferenceMm3, 12);
    }

    [Fact]
    public void PerfectOverlap()
    {
        byte[] map = [0, 1, 2, 2, 0];
        var c = OverlapMetrics.Count(map, map, Whole);
        Assert.Equal(1.0, c.Dice);
        Assert.Equal(1.0, c.Jaccard);
        Assert.Equal(1.0, c.Sensitivity);
        Assert.Equal(1.0, c.Specificity);
    }

    [Fact]
    public void EmptyPredictionOfAPresentStructure()
    {
        var c = OverlapMetrics.Count([0, 0, 0, 0], [0, 1, 1, 0], Anterior);
        Assert.Equal(0.0, c.Dice);
        Assert.Equal(0.0, c.Jaccard);
        Assert.Equal(0.0, c.Sensitivity);
        Assert.Equal(1.0, c.Specificity);
    }

    [Fact]
    public void EmptyTruthWithAPrediction()
    {
        var c = OverlapMetrics.Count([0, 1, 0, 0], [0, 0, 0, 0], Anterior);
        Assert.Equal(0.0, c.Dice);
        Assert.Equal(0.0, c.Jaccard);
        Assert.True(double.IsNaN(c.Sensitivity), "sensitivity is undefined without true voxels");
        Assert.Equal(3.0 / 4.0, c.Specificity, 15);
    }

    [Fact]
    public void BothEmptyIsPerfectAgreement()
    {
        var c = OverlapMetrics.Count([0, 2, 0], [0, 2, 0], Anterior);
        Assert.Equal(1.0, c.Dice);
        Assert.Equal(1.0, c.Jaccard);
        Assert.True(double.IsNaN(c.Sensitivity));
        Assert.Equal(1.0, c.Specificity);
    }

    [Fact]
    public void EverythingInsideLeavesSpecificityUndefined()
    {
        var c = OverlapMetrics.Count([1, 1], [1, 1], Anterior);
        Assert.True(double.IsNaN(c.Specificity));
        Assert.Equal(1.0, c.Dice);
    }

    [Fact]
    public void MeanPairwiseDice()
    {
        byte[] a = [1, 1, 0, 0];
        byte[] b = [1, 0, 0, 0];
        byte[] c = [0, 0, 2, 0];
        // a-b: 2*1/(2+1) = 2/3; a-c: 0; b-c: 0 -> mean 2/9.
        Assert.Equal(2.0 / 9.0, OverlapMetrics.MeanPairwiseDice([a, b, c], Whole), 15);
        Assert.Equal(1.0, OverlapMetrics.MeanPairwiseDice([a], Whole));
    }

    [Fact]
    public void MismatchedSizesAreRejected() =>
        Assert.Throws<ArgumentException>(() => OverlapMetrics.Count([0, 1], [0], Whole));

    [Fact]
    public void StatsIgnoreUndefinedValues()
    {
        Assert.Equal((2.0, 1.5), Evaluation.EvaluationReport.Stats([1, double.NaN, 2, 4, 1]));
        Assert.Equal((null, null), Evaluation.EvaluationReport.Stats([double.NaN]));
        Assert.Equal((3.0, 3.0), Evaluation.EvaluationReport.Stats([3]));
    }
}
