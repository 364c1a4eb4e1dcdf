using System.Globalization;
using HippoNode.Analysis.Selection;
using HippoNode.Dicom;

namespace HippoNode.Analysis.ChestXray;

/// <summary>Applies the chest X-ray rules image by image and picks the one radiograph of the study to classify.</summary>
/// <remarks>
/// A series may hold a PA and a lateral view, so the rules apply to each instance. Among the eligible images the
/// tie-break prefers, in order: the view position listed first in the rules (PA before AP), an uncompressed file, the SOP
/// class listed first (DX for presentation, DX for processing, CR), the larger image, the higher Series Number, then the
/// lower SOP Instance UID (ordinal), so the choice never depends on file order.
/// </remarks>
internal static class ImageSelector
{
    /// <summary>The tie-break, as result.json and the README state it.</summary>
    public const string TieBreak = "view position in the rules' order (PA before AP), uncompressed, SOP class in the rules' order, most pixels, highest Series Number, lowest SOP Instance UID (ordinal)";

    /// <summary>The decision for every series (in the order given) and the chosen image with its series, or nulls when none is eligible.</summary>
    public static (IReadOnlyList<SeriesDecision> Decisions, ScannedSeries? Series, ScannedInstance? Image) Select(IReadOnlyList<ScannedSeries> series, SelectionRules rules)
    {
        var checks = series.SelectMany(s => s.Instances.Select(i => (Series: s, Instance: i, Failures: Failures(i, rules)))).ToList();
        var eligible = checks.Where(c => c.Failures.Count == 0).ToList();
        var chosen = eligible
            .OrderBy(c => Rank(rules.ViewPositions, Text(c.Instance.Header, DicomTags.ViewPosition)))
            .ThenBy(c => c.Instance.Compressed)
            .ThenBy(c => Rank(rules.SopClassUids, Text(c.Instance.Header, DicomTags.SOPClassUID)))
            .ThenByDescending(c => (long)Int(c.Instance.Header, DicomTags.Rows) * Int(c.Instance.Header, DicomTags.Columns))
            .ThenByDescending(c => c.Series.SeriesNumber ?? int.MinValue)
            .ThenBy(c => Text(c.Instance.Header, DicomTags.SOPInstanceUID), StringComparer.Ordinal)
            .Select(c => ((ScannedSeries, ScannedInstance)?)(c.Series, c.Instance))
            .FirstOrDefault();

        var decisions = new List<SeriesDecision>();
        foreach (var s in series)
        {
            var mine = checks.Where(c => ReferenceEquals(c.Series, s)).ToList();
            var good = mine.Where(c => c.Failures.Count == 0).ToList();
            var isChosen = chosen is { } ch && ReferenceEquals(ch.Item1, s);
            string reason;
            if (isChosen)
            {
                var img = chosen!.Value.Item2;
                reason = $"chosen: {Describe(img)}" + (eligible.Count > 1 ? $"; {eligible.Count} images meet the rules, tie-break ({TieBreak}) prefers this one" : ", the only image that meets the rules");
            }
            else if (good.Count > 0)
            {
                reason = $"eligible, not chosen: {good.Count} image(s) meet the rules; tie-break ({TieBreak}) prefers {Describe(chosen!.Value.Item2)} of {chosen.Value.Item1.Label}";
            }
            else
            {
                // The same failures on every image are said once; differing ones are listed per image.
                var distinct = mine.Select(c => string.Join("; ", c.Failures)).Distinct(StringComparer.Ordinal).ToList();
                reason = "skipped: " + (distinct.Count == 1
                    ? distinct[0]
                    : string.Join(" | ", mine.Select(c => $"{Path.GetFileName(c.Instance.Path)}: {string.Join("; ", c.Failures)}")));
            }
            decisions.Add(new SeriesDecision(s.SeriesInstanceUid, s.Description, s.Modality, s.Instances.Count, isChosen, reason));
        }
        return (decisions, chosen?.Item1, chosen?.Item2);
    }

    /// <summary>Every rule one image breaks.</summary>
    internal static List<string> Failures(ScannedInstance instance, SelectionRules rules)
    {
        var h = instance.Header;
        var f = new List<string>();
        RuleChecks.Attributes(h, rules, f);
        var (rows, columns) = (Int(h, DicomTags.Rows), Int(h, DicomTags.Columns));
        if (rules.Rows is { } r && !r.Contains(rows)) f.Add($"rows {rows} outside {r}");
        if (rules.Columns is { } c && !c.Contains(columns)) f.Add($"columns {columns} outside {c}");
        if (rules.Slices is { } s && !s.Contains(1)) f.Add($"1 image, outside {s}");
        if (Int(h, DicomTags.NumberOfFrames) > 1) f.Add($"multi-frame ({Int(h, DicomTags.NumberOfFrames)} frames); a radiograph is one frame");
        var samples = h.TryGetValue<int>(DicomTags.SamplesPerPixel, out var spp) ? spp : 1;
        if (samples != 1) f.Add($"{samples} samples per pixel (colour); a radiograph is grayscale");
        if (HippoNode.Reporting.ReportingOptions.IsOwnObject(h)) f.Add("a HippoNode result (Manufacturer HippoNode)");
        return f;
    }

    private static string Describe(ScannedInstance i) => string.Create(CultureInfo.InvariantCulture,
        $"image {Path.GetFileName(i.Path)} ({Text(i.Header, DicomTags.ViewPosition) ?? "no view position"}, {Text(i.Header, DicomTags.Modality)}, {Int(i.Header, DicomTags.Columns)}x{Int(i.Header, DicomTags.Rows)}{(i.Compressed ? ", compressed" : "")})");

    private static int Rank(IReadOnlyList<string>? preferred, string? value)
    {
        if (preferred is null || value is null) return 0;
        for (var i = 0; i < preferred.Count; i++)
        {
            if (string.Equals(preferred[i], value, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return preferred.Count;
    }

    private static string? Text(DicomDataset h, DicomTag tag) => h.GetString(tag)?.Trim() is { Length: > 0 } t ? t : null;

    private static int Int(DicomDataset h, DicomTag tag) => h.TryGetValue<int>(tag, out var v) ? v : 0;
}
