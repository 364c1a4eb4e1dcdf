using System.Globalization;

namespace HippoNode.Classification;

/// <summary>
/// The probabilities too close to the decision threshold to trust: a classifier's per-image quality signal. The band is
/// symmetric around the threshold in log-odds, so a margin of 2 means "within a factor e² of the threshold's odds"; a
/// result inside it is flagged for review.
/// </summary>
/// <param name="Threshold">The decision threshold (positive when probability &gt;= threshold).</param>
/// <param name="Margin">Half the band's width in log-odds; 0 disables the flag.</param>
public sealed record ReviewBand(double Threshold, double Margin)
{
    /// <summary>The default margin: the smallest of 0.5, 1, 1.5, ... that put at least two thirds of the chest model's validation errors in the band (validation plan, chest X-ray module).</summary>
    public const double DefaultMargin = 2.0;

    /// <summary>The lower edge of the band, as a probability.</summary>
    public double Low => Margin == 0 ? Threshold : Sigmoid(Logit(Threshold) - Margin);

    /// <summary>The upper edge of the band, as a probability.</summary>
    public double High => Margin == 0 ? Threshold : Sigmoid(Logit(Threshold) + Margin);

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A threshold outside (0, 1) or a margin outside [0, 10].</exception>
    public ReviewBand Validated()
    {
        if (!(Threshold is > 0 and < 1)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"threshold must lie strictly between 0 and 1, is {Threshold}"));
        if (!(Margin is >= 0 and <= 10)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"review margin must be 0-10 (log-odds), is {Margin}"));
        return this;
    }

    /// <summary>True when <paramref name="probability"/> lies strictly inside the band: the result is to be reviewed.</summary>
    public bool Contains(double probability) =>
        Margin > 0 && double.IsFinite(probability) && Math.Abs(Logit(probability) - Logit(Threshold)) < Margin;

    /// <summary>The distance from the threshold in log-odds (positive above it).</summary>
    public double Distance(double probability) => Logit(probability) - Logit(Threshold);

    /// <summary>log(p / (1 - p)), finite at 0 and 1 (clamped to 1e-12) so that a saturated probability has a large, not infinite, distance.</summary>
    public static double Logit(double p)
    {
        var q = Math.Clamp(p, 1e-12, 1 - 1e-12);
        return Math.Log(q / (1 - q));
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
