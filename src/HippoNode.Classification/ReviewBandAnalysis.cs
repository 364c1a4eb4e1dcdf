using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Classification;

/// <summary>One classified image as the review band sees it.</summary>
/// <param name="File">The image, as the evaluation report names it.</param>
/// <param name="Positive">True when its reference label is the positive class.</param>
/// <param name="Probability">The model's probability of the positive class.</param>
public sealed record ReviewCase(string File, bool Positive, double Probability);

/// <summary>What a review band flags at one margin.</summary>
/// <param name="Margin">Half-width in log-odds.</param>
/// <param name="Low">The band's lower probability.</param>
/// <param name="High">The band's upper probability.</param>
/// <param name="Flagged">Images in the band.</param>
/// <param name="ErrorsCaught">Misclassified images in the band.</param>
public sealed record ReviewSweepPoint(double Margin, double Low, double High, int Flagged, int ErrorsCaught);

/// <summary>
/// Measures what the chest X-ray module's review flag (probability within a band around the threshold) catches, from a
/// <c>hipponode evaluate</c> classification report: the misclassified images, which of them the band flags, how many
/// correct images it flags too, and the same over a sweep of margins. <c>hipponode qa-flag</c> runs it on such a report;
/// the validation plan cites its output.
/// </summary>
public sealed class ReviewBandAnalysis
{
    /// <summary>The report's format name, as <c>hipponode evaluate</c> writes it for a classifier.</summary>
    public const string ReportFormat = "hipponode-classification-evaluation";

    /// <summary>The margins of the sweep (log-odds).</summary>
    public static readonly IReadOnlyList<double> SweepMargins = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0];

    /// <summary>The share of errors the chosen margin must catch (the rule that chose <see cref="ReviewBand.DefaultMargin"/> on validation).</summary>
    public const double ChoiceCatchShare = 2.0 / 3.0;

    private ReviewBandAnalysis(string name, IReadOnlyList<ReviewCase> cases, ReviewBand band, int worst)
    {
        Name = name;
        Cases = cases;
        Band = band;
        // The band is fixed per analysis: the errors and what it flags are computed once, not per property read.
        Errors = [.. cases.Where(IsError).OrderByDescending(c => Math.Abs(band.Distance(c.Probability))).ThenBy(c => c.File, StringComparer.Ordinal)];
        Flagged = cases.Count(c => band.Contains(c.Probability));
        ErrorsCaught = Errors.Count(c => band.Contains(c.Probability));
        WorstCount = Math.Min(worst, Errors.Count);
        Sweep = [.. SweepMargins.Select(m =>
        {
            var b = new ReviewBand(band.Threshold, m);
            return new ReviewSweepPoint(m, b.Low, b.High, cases.Count(c => b.Contains(c.Probability)), Errors.Count(c => b.Contains(c.Probability)));
        })];
    }

    /// <summary>The report's name.</summary>
    public string Name { get; }

    /// <summary>Every image.</summary>
    public IReadOnlyList<ReviewCase> Cases { get; }

    /// <summary>The band examined (the report's threshold and the margin asked for).</summary>
    public ReviewBand Band { get; }

    /// <summary>How many of the most confident errors are listed as the worst cases.</summary>
    public int WorstCount { get; }

    /// <summary>Images the threshold misclassifies, most confident first (largest distance from the threshold).</summary>
    public IReadOnlyList<ReviewCase> Errors { get; }

    /// <summary>Images the band flags.</summary>
    public int Flagged { get; }

    /// <summary>Errors the band flags.</summary>
    public int ErrorsCaught { get; }

    /// <summary>Correct images the band flags (reviews that find nothing wrong).</summary>
    public int CorrectFlagged => Flagged - ErrorsCaught;

    /// <summary>The worst cases: the most confident errors.</summary>
    public IReadOnlyList<ReviewCase> Worst => [.. Errors.Take(WorstCount)];

    /// <summary>The band at each margin of <see cref="SweepMargins"/>.</summary>
    public IReadOnlyList<ReviewSweepPoint> Sweep { get; }

    /// <summary>The smallest margin of the sweep whose band catches at least <see cref="ChoiceCatchShare"/> of the errors, or null.</summary>
    public double? ChosenMargin => Errors.Count == 0 ? null : Sweep.FirstOrDefault(p => p.ErrorsCaught >= ChoiceCatchShare * Errors.Count)?.Margin;

    /// <summary>True when the threshold misclassifies the image.</summary>
    public bool IsError(ReviewCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c.Probability >= Band.Threshold != c.Positive;
    }

    /// <summary>Reads a classification evaluation report and analyses it at <paramref name="margin"/>.</summary>
    /// <exception cref="FormatException">Not JSON, or not a classification evaluation report.</exception>
    public static ReviewBandAnalysis Run(string name, string json, double margin = ReviewBand.DefaultMargin, int worst = 5)
    {
        using (var doc = EvaluationReport.ParseReportJson(name, json))
        {
            var root = doc.RootElement;
            if (!IsReport(root)) throw new FormatException($"{name}: not a {ReportFormat} report");
            var threshold = root.GetProperty("summary").GetProperty("threshold").GetDouble();
            var positiveLabel = root.GetProperty("positiveLabel").GetString();
            var cases = new List<ReviewCase>();
            foreach (var c in root.GetProperty("cases").EnumerateArray())
                cases.Add(new ReviewCase(c.GetProperty("file").GetString() ?? "", c.GetProperty("label").GetString() == positiveLabel, c.GetProperty("probability").GetDouble()));
            if (cases.Count == 0) throw new FormatException($"{name}: the report has no cases");
            var band = new ReviewBand(threshold, margin);
            try
            {
                band.Validated();
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"{name}: {ex.Message}", ex);
            }
            return new ReviewBandAnalysis(name, cases, band, worst);
        }
    }

    /// <summary>True when the text is a classification evaluation report (so the verb picks this analysis).</summary>
    public static bool IsClassificationReport(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return IsReport(doc.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsReport(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String && f.GetString() == ReportFormat
        && root.TryGetProperty("cases", out var c) && c.ValueKind == JsonValueKind.Array;

    /// <summary>The text the verb prints: every figure the validation plan cites.</summary>
    public void WriteText(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var inv = CultureInfo.InvariantCulture;
        var errors = Errors;
        w.WriteLine(string.Create(inv, $"{Name}: {Cases.Count} images, threshold {Band.Threshold:0.0000}, review margin {Band.Margin:0.##} log-odds (band {Band.Low:0.0000}-{Band.High:0.0000})"));
        w.WriteLine(string.Create(inv, $"  errors at the threshold: {errors.Count} ({errors.Count(c => c.Positive)} false negatives, {errors.Count(c => !c.Positive)} false positives)"));
        w.WriteLine(string.Create(inv, $"  flagged for review: {Flagged} of {Cases.Count} ({100.0 * Flagged / Cases.Count:0.0} %); errors among them {ErrorsCaught}, correct {CorrectFlagged}"));
        w.WriteLine(string.Create(inv, $"  errors caught: {ErrorsCaught} of {errors.Count}"));
        foreach (var c in errors)
            w.WriteLine(string.Create(inv, $"    {(Band.Contains(c.Probability) ? "caught" : "missed")} {c.File} ({(c.Positive ? "positive" : "negative")}) probability {c.Probability:0.0000} distance {Band.Distance(c.Probability):+0.00;-0.00}"));
        w.WriteLine(string.Create(inv, $"  worst {WorstCount} (most confident errors): {WorstCaughtText()}"));
        w.WriteLine("  margin sweep (log-odds: band, flagged, errors caught):");
        foreach (var p in Sweep)
            w.WriteLine(string.Create(inv, $"    {p.Margin:0.0}: {p.Low:0.000}-{p.High:0.000}, {p.Flagged} of {Cases.Count} flagged, {p.ErrorsCaught} of {errors.Count} errors caught"));
        w.WriteLine(ChosenMargin is { } m
            ? string.Create(inv, $"  smallest margin of the sweep catching at least two thirds of the errors: {m:0.0}")
            : "  smallest margin of the sweep catching at least two thirds of the errors: none");
    }

    private string WorstCaughtText()
    {
        var worst = Worst;
        return string.Create(CultureInfo.InvariantCulture, $"{worst.Count(c => Band.Contains(c.Probability))} of {worst.Count} flagged");
    }

    /// <summary>The analysis as JSON.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("report", Name);
            w.WriteNumber("images", Cases.Count);
            w.WriteNumber("threshold", Band.Threshold);
            w.WriteNumber("margin", Band.Margin);
            w.WriteNumber("low", Math.Round(Band.Low, 6));
            w.WriteNumber("high", Math.Round(Band.High, 6));
            w.WriteNumber("errors", Errors.Count);
            w.WriteNumber("flagged", Flagged);
            w.WriteNumber("errorsCaught", ErrorsCaught);
            w.WriteNumber("correctFlagged", CorrectFlagged);
            if (ChosenMargin is { } m) w.WriteNumber("chosenMargin", m);
            else w.WriteNull("chosenMargin");
            w.WriteStartArray("errorCases");
            foreach (var c in Errors)
            {
                w.WriteStartObject();
                w.WriteString("file", c.File);
                w.WriteBoolean("positive", c.Positive);
                w.WriteNumber("probability", c.Probability);
                w.WriteNumber("distance", Math.Round(Band.Distance(c.Probability), 4));
                w.WriteBoolean("flagged", Band.Contains(c.Probability));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("sweep");
            foreach (var p in Sweep)
            {
                w.WriteStartObject();
                w.WriteNumber("margin", p.Margin);
                w.WriteNumber("low", Math.Round(p.Low, 6));
                w.WriteNumber("high", Math.Round(p.High, 6));
                w.WriteNumber("flagged", p.Flagged);
                w.WriteNumber("errorsCaught", p.ErrorsCaught);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
