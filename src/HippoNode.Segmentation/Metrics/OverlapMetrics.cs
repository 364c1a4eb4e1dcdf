using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Metrics;

/// <summary>Voxel counts of one structure: predicted vs true membership.</summary>
/// <remarks>
/// Conventions for the ratios (undefined values are NaN in C#, null in JSON, and left out of means and medians):
/// <list type="bullet">
/// <item>Dice = 2TP / (2TP + FP + FN) and Jaccard = TP / (TP + FP + FN); both are 1 when prediction and truth are both
/// empty (perfect agreement that the structure is absent) and 0 when exactly one of them is empty.</item>
/// <item>Sensitivity = TP / (TP + FN): undefined (NaN) when the truth is empty; 0 for an empty prediction of a present structure.</item>
/// <item>Specificity = TN / (TN + FP): undefined (NaN) only when every voxel is truly inside the structure.</item>
/// </list>
/// </remarks>
public readonly record struct ConfusionCounts(long TruePositive, long FalsePositive, long FalseNegative, long TrueNegative)
{
    /// <summary>Voxels predicted inside the structure.</summary>
    public long Predicted => TruePositive + FalsePositive;

    /// <summary>Voxels truly inside the structure.</summary>
    public long Actual => TruePositive + FalseNegative;

    /// <summary>Dice similarity coefficient; 1 when both are empty.</summary>
    public double Dice => TruePositive + FalsePositive + FalseNegative == 0 ? 1.0 : 2.0 * TruePositive / (2.0 * TruePositive + FalsePositive + FalseNegative);

    /// <summary>Jaccard index (intersection over union); 1 when both are empty.</summary>
    public double Jaccard => TruePositive + FalsePositive + FalseNegative == 0 ? 1.0 : (double)TruePositive / (TruePositive + FalsePositive + FalseNegative);

    /// <summary>Sensitivity (recall); NaN when the truth is empty.</summary>
    public double Sensitivity => Actual == 0 ? double.NaN : (double)TruePositive / Actual;

    /// <summary>Specificity; NaN when there are no true negatives to find.</summary>
    public double Specificity => TrueNegative + FalsePositive == 0 ? double.NaN : (double)TrueNegative / (TrueNegative + FalsePositive);
}

/// <summary>The metrics of one structure in one case: overlap and volumes.</summary>
/// <param name="Structure">The structure's name (anterior, posterior, whole).</param>
/// <param name="Counts">The voxel counts.</param>
/// <param name="VoxelVolumeMm3">The volume of one voxel in mm³.</param>
public sealed record StructureMetrics(string Structure, ConfusionCounts Counts, double VoxelVolumeMm3)
{
    /// <summary>See <see cref="ConfusionCounts.Dice"/>.</summary>
    public double Dice => Counts.Dice;

    /// <summary>See <see cref="ConfusionCounts.Jaccard"/>.</summary>
    public double Jaccard => Counts.Jaccard;

    /// <summary>See <see cref="ConfusionCounts.Sensitivity"/>.</summary>
    public double Sensitivity => Counts.Sensitivity;

    /// <summary>See <see cref="ConfusionCounts.Specificity"/>.</summary>
    public double Specificity => Counts.Specificity;

    /// <summary>Predicted volume in mm³.</summary>
    public double PredictedVolumeMm3 => Counts.Predicted * VoxelVolumeMm3;

    /// <summary>True (reference) volume in mm³.</summary>
    public double TrueVolumeMm3 => Counts.Actual * VoxelVolumeMm3;

    /// <summary>Predicted minus true volume in mm³ (positive: over-segmentation).</summary>
    public double VolumeDifferenceMm3 => PredictedVolumeMm3 - TrueVolumeMm3;
}

/// <summary>Overlap counts and metrics between label maps.</summary>
public static class OverlapMetrics
{
    /// <summary>Counts voxels of the structure made of <paramref name="labels"/> in <paramref name="predicted"/> vs <paramref name="truth"/>.</summary>
    public static ConfusionCounts Count(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth, IReadOnlyList<int> labels)
    {
        if (predicted.Length != truth.Length) throw new ArgumentException($"label maps differ in size: {predicted.Length} vs {truth.Length}", nameof(truth));
        var member = Membership(labels);
        long tp = 0, fp = 0, fn = 0, tn = 0;
        for (var i = 0; i < predicted.Length; i++)
        {
            var p = member[predicted[i]];
            var t = member[truth[i]];
            if (p && t) tp++;
            else if (p) fp++;
            else if (t) fn++;
            else tn++;
        }
        return new ConfusionCounts(tp, fp, fn, tn);
    }

    /// <summary>Dice between two label maps for the structure made of <paramref name="labels"/> (1 when both lack it).</summary>
    public static double Dice(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, IReadOnlyList<int> labels) => Count(a, b, labels).Dice;

    /// <summary>The metrics of every structure.</summary>
    public static IReadOnlyList<StructureMetrics> Compute(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth, IReadOnlyList<StructureDefinition> structures, double voxelVolumeMm3)
    {
        ArgumentNullException.ThrowIfNull(structures);
        var result = new List<StructureMetrics>(structures.Count);
        foreach (var s in structures) result.Add(new StructureMetrics(s.Name, Count(predicted, truth, s.Labels), voxelVolumeMm3));
        return result;
    }

    /// <summary>Mean Dice over all pairs of <paramref name="maps"/> for the structure of <paramref name="labels"/>; 1 for fewer than two maps.</summary>
    public static double MeanPairwiseDice(IReadOnlyList<byte[]> maps, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (maps.Count < 2) return 1.0;
        double sum = 0;
        var pairs = 0;
        for (var i = 0; i < maps.Count; i++)
        {
            for (var j = i + 1; j < maps.Count; j++)
            {
                sum += Dice(maps[i], maps[j], labels);
                pairs++;
            }
        }
        return sum / pairs;
    }

    private static bool[] Membership(IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var member = new bool[256];
        foreach (var l in labels)
        {
            if (l is < 0 or > 255) throw new ArgumentOutOfRangeException(nameof(labels), l, "labels are bytes");
            member[l] = true;
        }
        return member;
    }
}
