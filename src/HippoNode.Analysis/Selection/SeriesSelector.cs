using System.Globalization;
using System.Text.RegularExpressions;
using HippoNode.Dicom;

namespace HippoNode.Analysis.Selection;

/// <summary>The rule check of one series: the reasons it fails (empty when eligible).</summary>
internal sealed record SeriesCheck(ScannedSeries Series, IReadOnlyList<string> Failures)
{
    public bool Eligible => Failures.Count == 0;
}

/// <summary>Applies <see cref="SelectionRules"/> to the series of a study and picks one.</summary>
/// <remarks>
/// Tie-break when several series are eligible, in this order: (1) the most slices (instances); (2) the highest
/// Series Number (a missing number counts as lowest), i.e. the latest acquisition or derivation; (3) the lowest Series
/// Instance UID in ordinal string order, so the choice never depends on file order.
/// </remarks>
internal static class SeriesSelector
{
    /// <summary>The tie-break, as result.json and the README state it.</summary>
    public const string TieBreak = "most slices, then highest Series Number, then lowest Series Instance UID (ordinal)";

    /// <summary>Checks every series against the rules.</summary>
    public static IReadOnlyList<SeriesCheck> Check(IReadOnlyList<ScannedSeries> series, SelectionRules rules) =>
        [.. series.Select(s => new SeriesCheck(s, Failures(s, rules)))];

    /// <summary>The decisions for every series (in the order given) and the chosen series, or null when none is eligible.</summary>
    public static (IReadOnlyList<SeriesDecision> Decisions, ScannedSeries? Chosen) Select(IReadOnlyList<ScannedSeries> series, SelectionRules rules)
    {
        var checks = Check(series, rules);
        var eligible = checks.Where(c => c.Eligible).Select(c => c.Series).ToList();
        var chosen = eligible
            .OrderByDescending(s => s.Instances.Count)
            .ThenByDescending(s => s.SeriesNumber ?? int.MinValue)
            .ThenBy(s => s.SeriesInstanceUid, StringComparer.Ordinal)
            .FirstOrDefault();
        var decisions = checks.Select(c =>
        {
            var s = c.Series;
            string reason;
            if (!c.Eligible) reason = "skipped: " + string.Join("; ", c.Failures);
            else if (ReferenceEquals(s, chosen))
                reason = eligible.Count == 1
                    ? "chosen: the only series that meets the rules"
                    : $"chosen: {eligible.Count} series meet the rules; tie-break ({TieBreak}) prefers this one";
            else reason = $"eligible, not chosen: tie-break ({TieBreak}) prefers {chosen!.Label}";
            return new SeriesDecision(s.SeriesInstanceUid, s.Description, s.Modality, s.Instances.Count, ReferenceEquals(s, chosen), reason);
        }).ToList();
        return (decisions, chosen);
    }

    private static List<string> Failures(ScannedSeries s, SelectionRules rules)
    {
        var f = new List<string>();
        RuleChecks.Attributes(s.Instances[0].Header, rules, f);
        if (rules.Slices is { } slices && !slices.Contains(s.Instances.Count))
            f.Add($"{s.Instances.Count} slices, outside {slices}");
        if (rules.Rows is { } rows && !s.RowValues.All(rows.Contains))
            f.Add($"rows {Values(s.RowValues)} outside {rows}");
        if (rules.Columns is { } columns && !s.ColumnValues.All(columns.Contains))
            f.Add($"columns {Values(s.ColumnValues)} outside {columns}");
        // Not configurable: the volume reader takes single-frame images only, and HippoNode's own results routed back
        // to the node (same study) must never be analysed as if they were images of the patient.
        if (s.MaxFrames > 1) f.Add($"multi-frame instances ({s.MaxFrames} frames) are not supported");
        if (HippoNode.Reporting.ReportingOptions.IsOwnObject(s.Instances[0].Header)) f.Add("a HippoNode result series (Manufacturer HippoNode)");
        return f;
    }

    private static string Values(IReadOnlyList<int> v) => v.Count == 1
        ? v[0].ToString(CultureInfo.InvariantCulture)
        : string.Join("/", v.Select(x => x.ToString(CultureInfo.InvariantCulture)));
}
