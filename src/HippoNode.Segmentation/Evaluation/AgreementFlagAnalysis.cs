using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>One evaluated case as the agreement flag sees it: its Dice against the reference and its members' agreement.</summary>
/// <param name="Report">The evaluation report the case comes from.</param>
/// <param name="Id">The case id.</param>
/// <param name="Dice">The ensemble's Dice of the analysed structure.</param>
/// <param name="Agreement">Mean pairwise Dice of the members' foreground, as the node computes it.</param>
/// <param name="Flagged">True when the agreement is below the threshold (the node's rule).</param>
public sealed record FlagCase(string Report, string Id, double Dice, double Agreement, bool Flagged);

/// <summary>How well the agreement flag separates bad cases from good ones in one set of cases.</summary>
/// <param name="Name">The report's name (file name), or "pooled".</param>
/// <param name="Cases">Every case, worst Dice first.</param>
/// <param name="WorstCount">How many of the worst cases are examined (at most the number of cases).</param>
/// <param name="FailBelow">Dice below which a case counts as a failure, or null when not asked.</param>
public sealed record FlagSetSummary(string Name, IReadOnlyList<FlagCase> Cases, int WorstCount, double? FailBelow)
{
    /// <summary>The worst <see cref="WorstCount"/> cases by Dice.</summary>
    public IReadOnlyList<FlagCase> Worst => [.. Cases.Take(WorstCount)];

    /// <summary>Cases flagged.</summary>
    public int Flagged => Cases.Count(c => c.Flagged);

    /// <summary>Worst cases the flag catches.</summary>
    public int WorstFlagged => Worst.Count(c => c.Flagged);

    /// <summary>Cases whose Dice is below <see cref="FailBelow"/> (0 when not asked).</summary>
    public IReadOnlyList<FlagCase> Failures => FailBelow is { } f ? [.. Cases.Where(c => c.Dice < f)] : [];

    /// <summary>Failures the flag catches.</summary>
    public int FailuresFlagged => Failures.Count(c => c.Flagged);

    /// <summary>Flagged cases that are not failures (false alarms; only with <see cref="FailBelow"/>).</summary>
    public int FlaggedNotFailures => FailBelow is { } f ? Cases.Count(c => c.Flagged && c.Dice >= f) : 0;

    /// <summary>Spearman rank correlation of agreement and Dice (ties get mean ranks); null with fewer than 3 cases or no spread.</summary>
    public double? Spearman => AgreementFlagAnalysis.Spearman(Cases.Select(c => c.Agreement).ToList(), Cases.Select(c => c.Dice).ToList());

    /// <summary>The highest agreement among the worst cases: a threshold must lie above it to flag them all (null without cases).</summary>
    public double? AgreementToCatchWorst => Worst.Count == 0 ? null : Worst.Max(c => c.Agreement);

    /// <summary>How many cases a threshold just above <see cref="AgreementToCatchWorst"/> flags in this set.</summary>
    public int FlaggedToCatchWorst => AgreementToCatchWorst is { } a ? Cases.Count(c => c.Agreement <= a) : 0;
}

/// <summary>
/// Measures what the node's quality flag (ensemble agreement below a threshold) catches, from <c>hipponode evaluate</c>
/// reports: which cases it flags, whether the worst cases by Dice are among them, how agreement ranks against Dice, and
/// what threshold would have been needed. The verb <c>hipponode qa-flag</c> runs it; the validation plan cites its output.
/// </summary>
public sealed class AgreementFlagAnalysis
{
    /// <summary>The verb's usage text.</summary>
    public const string Usage =
        "usage: hipponode qa-flag --evaluation REPORT.json [--evaluation MORE.json ...] [--threshold 0.8] [--worst 5]\n" +
        "                         [--fail-below DICE] [--structure whole] [--json OUT]\n" +
        "  REPORT.json: the --json output of hipponode evaluate; a case is flagged when its agreement is below --threshold";

    private AgreementFlagAnalysis(double threshold, string structure, IReadOnlyList<FlagSetSummary> reports, FlagSetSummary? pooled)
    {
        Threshold = threshold;
        Structure = structure;
        Reports = reports;
        Pooled = pooled;
    }

    /// <summary>The agreement threshold (the node's <c>AgreementThreshold</c>).</summary>
    public double Threshold { get; }

    /// <summary>The structure whose Dice ranks the cases.</summary>
    public string Structure { get; }

    /// <summary>One summary per report, in the order given.</summary>
    public IReadOnlyList<FlagSetSummary> Reports { get; }

    /// <summary>All reports' cases together, or null with a single report.</summary>
    public FlagSetSummary? Pooled { get; }

    /// <summary>Analyses evaluation reports given as (name, JSON text).</summary>
    /// <exception cref="FormatException">A report that is not <c>hipponode evaluate</c> JSON, or lacks the structure or the agreement; the message names the report.</exception>
    /// <exception cref="ArgumentException">No report, a threshold or fail-below outside [0, 1], or worst below 1.</exception>
    public static AgreementFlagAnalysis Run(IReadOnlyList<(string Name, string Json)> reports, double threshold = 0.8, int worst = 5, double? failBelow = null, string structure = "whole")
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0) throw new ArgumentException("at least one evaluation report is needed");
        if (!(threshold is >= 0 and <= 1)) throw new ArgumentException($"the threshold must lie in [0, 1], is {threshold}");
        if (failBelow is { } f && !(f is >= 0 and <= 1)) throw new ArgumentException($"the fail-below Dice must lie in [0, 1], is {f}");
        if (worst < 1) throw new ArgumentException($"worst must be at least 1, is {worst}");

        var sets = new List<FlagSetSummary>();
        foreach (var (name, json) in reports)
        {
            var cases = ReadCases(name, json, structure, threshold);
            sets.Add(new FlagSetSummary(name, cases, Math.Min(worst, cases.Count), failBelow));
        }
        FlagSetSummary? pooled = null;
        if (sets.Count > 1)
        {
            var all = Ordered(sets.SelectMany(s => s.Cases));
            pooled = new FlagSetSummary("pooled", all, Math.Min(worst, all.Count), failBelow);
        }
        return new AgreementFlagAnalysis(threshold, structure, sets, pooled);
    }

    /// <summary>Reads report files and analyses them; each report is named by its file name.</summary>
    public static AgreementFlagAnalysis RunFiles(IReadOnlyList<string> paths, double threshold = 0.8, int worst = 5, double? failBelow = null, string structure = "whole")
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Run([.. paths.Select(p => (Path.GetFileName(p), File.ReadAllText(p)))], threshold, worst, failBelow, structure);
    }

    private static List<FlagCase> Ordered(IEnumerable<FlagCase> cases) =>
        [.. cases.OrderBy(c => c.Dice).ThenBy(c => c.Report, StringComparer.Ordinal).ThenBy(c => c.Id, StringComparer.Ordinal)];

    private static List<FlagCase> ReadCases(string name, string json, string structure, double threshold)
    {
        using (var doc = EvaluationReport.ParseReportJson(name, json))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
                throw new FormatException($"{name}: not a hipponode evaluate report (no 'cases' array)");
            var list = new List<FlagCase>();
            foreach (var c in cases.EnumerateArray())
            {
                var id = c.TryGetProperty("id", out var idElement) ? idElement.GetString() ?? "?" : "?";
                if (!c.TryGetProperty("agreement", out var agreement) || agreement.ValueKind != JsonValueKind.Number)
                    throw new FormatException($"{name}: case {id} has no agreement");
                if (!c.TryGetProperty("ensemble", out var ensemble) || !ensemble.TryGetProperty(structure, out var s) ||
                    !s.TryGetProperty("dice", out var dice) || dice.ValueKind != JsonValueKind.Number)
                    throw new FormatException($"{name}: case {id} has no ensemble Dice for structure '{structure}'");
                var a = agreement.GetDouble();
                list.Add(new FlagCase(name, id, dice.GetDouble(), a, a < threshold));
            }
            if (list.Count == 0) throw new FormatException($"{name}: the report has no cases");
            return Ordered(list);
        }
    }

    /// <summary>Spearman's rank correlation (Pearson on mean ranks); null with fewer than 3 pairs or a constant side.</summary>
    public static double? Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException("both sides need the same number of values");
        if (x.Count < 3) return null;
        var rx = Ranks(x);
        var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? null : sxy / Math.Sqrt(sxx * syy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            var mean = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++) ranks[order[k]] = mean;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>Writes the human-readable summary: per report (and pooled), the flag's catch on the worst cases and the failures.</summary>
    public void WriteText(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(inv, $"quality flag: agreement < {Threshold}; cases ranked by ensemble Dice of '{Structure}'"));
        foreach (var s in Pooled is null ? Reports : [.. Reports, Pooled])
        {
            w.WriteLine();
            var agreements = s.Cases.Select(c => c.Agreement).Order().ToList();
            w.WriteLine(string.Create(inv, $"{s.Name}: {s.Cases.Count} cases; agreement min {agreements[0]:F4}, median {Median(agreements):F4}, max {agreements[^1]:F4}"));
            w.WriteLine(string.Create(inv, $"  flagged: {s.Flagged} of {s.Cases.Count}"));
            w.WriteLine(string.Create(inv, $"  worst {s.WorstCount} by Dice, flagged: {s.WorstFlagged} of {s.WorstCount}"));
            foreach (var c in s.Worst)
                w.WriteLine(string.Create(inv, $"    {Label(s, c)}  dice {c.Dice:F4}  agreement {c.Agreement:F4}  {(c.Flagged ? "FLAGGED" : "not flagged")}"));
            if (s.FailBelow is { } f)
            {
                w.WriteLine(string.Create(inv, $"  failures (dice < {f}): {s.Failures.Count}, flagged: {s.FailuresFlagged} of {s.Failures.Count}; flagged cases that are not failures: {s.FlaggedNotFailures}"));
                // The flag's errors by name, so that they can be looked at.
                foreach (var c in s.Failures.Where(c => !c.Flagged))
                    w.WriteLine(string.Create(inv, $"    missed failure: {Label(s, c)}  dice {c.Dice:F4}  agreement {c.Agreement:F4}"));
                foreach (var c in s.Cases.Where(c => c.Flagged && c.Dice >= f))
                    w.WriteLine(string.Create(inv, $"    false alarm: {Label(s, c)}  dice {c.Dice:F4}  agreement {c.Agreement:F4}"));
            }
            w.WriteLine(s.Spearman is { } rho
                ? string.Create(inv, $"  Spearman rank correlation of agreement and Dice: {rho:F3}")
                : "  Spearman rank correlation of agreement and Dice: undefined");
            if (s.AgreementToCatchWorst is { } a)
                w.WriteLine(string.Create(inv, $"  to flag all worst {s.WorstCount} the threshold must exceed {a:F4}, which flags {s.FlaggedToCatchWorst} of {s.Cases.Count} cases"));
        }
    }

    private static string Label(FlagSetSummary s, FlagCase c) => s.Name == "pooled" ? $"{c.Report}:{c.Id}" : c.Id;

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>The same figures as JSON.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("threshold", Threshold);
            w.WriteString("structure", Structure);
            w.WriteString("rule", "flagged when agreement < threshold; agreement = mean pairwise Dice of the members' foreground");
            w.WriteStartArray("reports");
            foreach (var s in Reports) WriteSet(w, s);
            w.WriteEndArray();
            if (Pooled is null) w.WriteNull("pooled");
            else
            {
                w.WritePropertyName("pooled");
                WriteSet(w, Pooled);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteSet(Utf8JsonWriter w, FlagSetSummary s)
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        w.WriteNumber("cases", s.Cases.Count);
        w.WriteNumber("flagged", s.Flagged);
        w.WriteNumber("worst", s.WorstCount);
        w.WriteNumber("worst_flagged", s.WorstFlagged);
        if (s.FailBelow is { } f)
        {
            w.WriteNumber("fail_below", f);
            w.WriteNumber("failures", s.Failures.Count);
            w.WriteNumber("failures_flagged", s.FailuresFlagged);
            w.WriteNumber("flagged_not_failures", s.FlaggedNotFailures);
        }
        if (s.Spearman is { } rho) w.WriteNumber("spearman_agreement_dice", rho);
        else w.WriteNull("spearman_agreement_dice");
        if (s.AgreementToCatchWorst is { } a)
        {
            w.WriteNumber("agreement_to_catch_worst", a);
            w.WriteNumber("flagged_to_catch_worst", s.FlaggedToCatchWorst);
        }
        w.WriteStartArray("ranked_cases");
        foreach (var c in s.Cases)
        {
            w.WriteStartObject();
            w.WriteString("report", c.Report);
            w.WriteString("id", c.Id);
            w.WriteNumber("dice", c.Dice);
            w.WriteNumber("agreement", c.Agreement);
            w.WriteBoolean("flagged", c.Flagged);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
