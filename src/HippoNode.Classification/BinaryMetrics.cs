namespace HippoNode.Classification;

/// <summary>One scored case: its true class and the model's positive-class probability.</summary>
/// <param name="Positive">True when the case belongs to the positive class.</param>
/// <param name="Score">The predicted probability of the positive class.</param>
public readonly record struct ScoredCase(bool Positive, double Score);

/// <summary>Counts at a threshold (a case is predicted positive when its score is at or above the threshold).</summary>
public sealed record ConfusionMatrix(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>All cases.</summary>
    public int Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;

    /// <summary>(TP + TN) / all; NaN without cases.</summary>
    public double Accuracy => Ratio(TruePositives + TrueNegatives, Total);

    /// <summary>TP / (TP + FN): recall of the positive class; NaN without positives.</summary>
    public double Sensitivity => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>TN / (TN + FP); NaN without negatives.</summary>
    public double Specificity => Ratio(TrueNegatives, TrueNegatives + FalsePositives);

    /// <summary>TP / (TP + FP): positive predictive value; NaN without positive predictions.</summary>
    public double PositivePredictiveValue => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>TN / (TN + FN): negative predictive value; NaN without negative predictions.</summary>
    public double NegativePredictiveValue => Ratio(TrueNegatives, TrueNegatives + FalseNegatives);

    /// <summary>2·TP / (2·TP + FP + FN); NaN when there is nothing positive at all.</summary>
    public double F1 => Ratio(2 * TruePositives, 2 * TruePositives + FalsePositives + FalseNegatives);

    private static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;
}

/// <summary>One point of the ROC curve: the rates when cases scoring at or above <see cref="Threshold"/> are called positive.</summary>
public readonly record struct RocPoint(double Threshold, double FalsePositiveRate, double TruePositiveRate);

/// <summary>One bin of a reliability diagram: predictions in [Lower, Upper), their mean and the observed positive fraction.</summary>
public readonly record struct ReliabilityBin(double Lower, double Upper, int Count, double MeanPredicted, double ObservedPositive);

/// <summary>Metrics of a binary classifier's probabilities: ROC AUC, the ROC curve, confusion counts at a threshold, calibration.</summary>
public static class BinaryMetrics
{
    /// <summary>
    /// The area under the ROC curve: the probability that a random positive scores above a random negative, ties counted
    /// half (the Mann-Whitney U statistic over positives x negatives). NaN when either class is absent.
    /// </summary>
    public static double Auroc(IReadOnlyList<ScoredCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        var positives = cases.Count(c => c.Positive);
        var negatives = cases.Count - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        // Mid-ranks over the sorted scores: tied scores share the mean of their ranks.
        var sorted = cases.OrderBy(c => c.Score).ToArray();
        double rankSum = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var j = i;
            while (j + 1 < sorted.Length && sorted[j + 1].Score == sorted[i].Score) j++;
            var midRank = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++)
            {
                if (sorted[k].Positive) rankSum += midRank;
            }
            i = j + 1;
        }
        var u = rankSum - positives * (positives + 1) / 2.0;
        return u / ((double)positives * negatives);
    }

    /// <summary>The ROC curve from (0, 0) to (1, 1), one point per distinct score (threshold = that score), descending thresholds.</summary>
    public static IReadOnlyList<RocPoint> RocCurve(IReadOnlyList<ScoredCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        var positives = cases.Count(c => c.Positive);
        var negatives = cases.Count - positives;
        var points = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        var sorted = cases.OrderByDescending(c => c.Score).ToArray();
        int tp = 0, fp = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var score = sorted[i].Score;
            for (; i < sorted.Length && sorted[i].Score == score; i++)
            {
                if (sorted[i].Positive) tp++;
                else fp++;
            }
            points.Add(new RocPoint(score, negatives == 0 ? 0 : (double)fp / negatives, positives == 0 ? 0 : (double)tp / positives));
        }
        return points;
    }

    /// <summary>Counts at <paramref name="threshold"/>: predicted positive when the score is at or above it.</summary>
    public static ConfusionMatrix Confusion(IReadOnlyList<ScoredCase> cases, double threshold)
    {
        ArgumentNullException.ThrowIfNull(cases);
        int tp = 0, fp = 0, tn = 0, fn = 0;
        foreach (var c in cases)
        {
            var predicted = c.Score >= threshold;
            if (c.Positive && predicted) tp++;
            else if (c.Positive) fn++;
            else if (predicted) fp++;
            else tn++;
        }
        return new ConfusionMatrix(tp, fp, tn, fn);
    }

    /// <summary>Equal-width bins of the predicted probability (the last bin includes 1.0) with the observed positive fraction in each.</summary>
    public static IReadOnlyList<ReliabilityBin> Reliability(IReadOnlyList<ScoredCase> cases, int bins = 10)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var result = new List<ReliabilityBin>(bins);
        for (var b = 0; b < bins; b++)
        {
            double lo = (double)b / bins, hi = (double)(b + 1) / bins;
            var inBin = cases.Where(c => c.Score >= lo && (c.Score < hi || (b == bins - 1 && c.Score <= hi))).ToList();
            result.Add(new ReliabilityBin(lo, hi, inBin.Count,
                inBin.Count == 0 ? double.NaN : inBin.Average(c => c.Score),
                inBin.Count == 0 ? double.NaN : inBin.Count(c => c.Positive) / (double)inBin.Count));
        }
        return result;
    }

    /// <summary>Expected calibration error: Σ over bins of (count / total) · |observed - mean predicted|.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<ScoredCase> cases, int bins = 10)
    {
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count == 0) return double.NaN;
        return Reliability(cases, bins).Where(b => b.Count > 0).Sum(b => b.Count / (double)cases.Count * Math.Abs(b.ObservedPositive - b.MeanPredicted));
    }

    /// <summary>Brier score: the mean squared difference between the probability and the outcome (1 positive, 0 negative).</summary>
    public static double Brier(IReadOnlyList<ScoredCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        return cases.Count == 0 ? double.NaN : cases.Average(c => Math.Pow(c.Score - (c.Positive ? 1 : 0), 2));
    }

    /// <summary>The threshold maximising Youden's J (sensitivity + specificity - 1) over the distinct scores; ties go to the higher threshold. For choosing the operating point on validation data.</summary>
    public static double YoudenThreshold(IReadOnlyList<ScoredCase> cases)
    {
        var best = (J: double.NegativeInfinity, Threshold: 0.5);
        foreach (var p in RocCurve(cases).Where(p => double.IsFinite(p.Threshold)))
        {
            var j = p.TruePositiveRate - p.FalsePositiveRate;
            if (j > best.J + 1e-12) best = (j, p.Threshold); // the tolerance keeps rounding from breaking ties towards lower thresholds
        }
        return best.Threshold;
    }
}
