using System.Text;
using System.Text.Json;
using HippoNode.Segmentation.Metrics;
using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>An evaluation run: per-case metrics, summaries (mean, median, worst five) for the ensemble and each member, and the failures.</summary>
/// <remarks>
/// JSON keys of a summary are <c>{metric}_{structure}_{mean|median}</c>, e.g. <c>summary.ensemble.dice_whole_mean</c>.
/// Metrics: dice, jaccard, sensitivity, specificity, volume_pred_mm3, volume_true_mm3, volume_diff_mm3 (predicted
/// minus true), abs_volume_diff_mm3. Undefined values (see <see cref="ConfusionCounts"/>) are null and left out of
/// the statistics; a statistic with no defined value is null.
/// </remarks>
public sealed class EvaluationReport
{
    /// <summary>The summary's metric names and how each is read from a structure's metrics.</summary>
    public static IReadOnlyList<(string Name, Func<StructureMetrics, double> Get)> SummaryMetrics { get; } =
    [
        ("dice", m => m.Dice),
        ("jaccard", m => m.Jaccard),
        ("sensitivity", m => m.Sensitivity),
        ("specificity", m => m.Specificity),
        ("volume_pred_mm3", m => m.PredictedVolumeMm3),
        ("volume_true_mm3", m => m.TrueVolumeMm3),
        ("volume_diff_mm3", m => m.VolumeDifferenceMm3),
        ("abs_volume_diff_mm3", m => Math.Abs(m.VolumeDifferenceMm3)),
    ];

    /// <summary>The model evaluated.</summary>
    public required ModelManifest Manifest { get; init; }

    /// <summary>The model folder.</summary>
    public required string ModelDir { get; init; }

    /// <summary>The images folder.</summary>
    public required string ImagesDir { get; init; }

    /// <summary>The reference labels folder.</summary>
    public required string LabelsDir { get; init; }

    /// <summary>The case list file, or null when every labelled image was used.</summary>
    public string? CasesSource { get; init; }

    /// <summary>The execution provider used.</summary>
    public string ExecutionProvider { get; init; } = "cpu";

    /// <summary>The test-time augmentation used: "none" or "mirror-x".</summary>
    public string TestTimeAugmentation { get; init; } = "none";

    /// <summary>The decision weights the argmax used, or null for plain argmax.</summary>
    public IReadOnlyList<double>? DecisionWeights { get; init; }

    /// <summary>The evaluated cases, in list order.</summary>
    public required IReadOnlyList<CaseResult> Cases { get; init; }

    /// <summary>The cases that could not be evaluated.</summary>
    public IReadOnlyList<CaseFailure> Failures { get; init; } = [];

    /// <summary>The structure used to rank the worst cases: "whole" when the manifest has it, else the last structure.</summary>
    public string RankingStructure => Manifest.Structures.Any(s => s.Name == "whole") ? "whole" : Manifest.Structures[^1].Name;

    /// <summary>Mean and median of the defined (non-NaN) values; nulls when there are none.</summary>
    public static (double? Mean, double? Median) Stats(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        if (v.Length == 0) return (null, null);
        var median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        return (v.Average(), median);
    }

    /// <summary>Parses a report read from <paramref name="name"/> (a file the user named); text that is not JSON is a <see cref="FormatException"/> naming it.</summary>
    public static JsonDocument ParseReportJson(string name, string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{name}: not JSON ({ex.Message})", ex);
        }
    }

    /// <summary>The summary of one prediction source (<paramref name="select"/> picks the ensemble's or a member's metrics of a case), in key order.</summary>
    public IReadOnlyList<KeyValuePair<string, double?>> Summarize(Func<CaseResult, IReadOnlyList<StructureMetrics>> select)
    {
        ArgumentNullException.ThrowIfNull(select);
        var list = new List<KeyValuePair<string, double?>>();
        foreach (var s in Manifest.Structures)
        {
            foreach (var (name, get) in SummaryMetrics)
            {
                var (mean, median) = Stats(Cases.Select(c => get(select(c).Single(m => m.Structure == s.Name))));
                list.Add(new($"{name}_{s.Name}_mean", mean));
                list.Add(new($"{name}_{s.Name}_median", median));
            }
        }
        return list;
    }

    /// <summary>The five cases with the lowest Dice of <see cref="RankingStructure"/> (ties by id) for a prediction source.</summary>
    public IReadOnlyList<CaseResult> WorstFive(Func<CaseResult, IReadOnlyList<StructureMetrics>> select) =>
        [.. Cases.OrderBy(c => select(c).Single(m => m.Structure == RankingStructure).Dice).ThenBy(c => c.Id, StringComparer.Ordinal).Take(5)];

    /// <summary>The ensemble's mean Dice of <paramref name="structure"/>, or null without cases.</summary>
    public double? EnsembleDiceMean(string structure) => Stats(Cases.Select(c => c.Ensemble.Single(m => m.Structure == structure).Dice)).Mean;

    /// <summary>Writes the report as indented JSON.</summary>
    public void WriteJson(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, NewLine = "\n" });
        w.WriteStartObject();
        w.WriteNumber("version", 1);
        w.WriteStartObject("model");
        w.WriteString("dir", ModelDir);
        w.WriteString("name", Manifest.Name);
        w.WriteString("version", Manifest.Version);
        w.WriteString("executionProvider", ExecutionProvider);
        w.WriteString("testTimeAugmentation", TestTimeAugmentation);
        if (DecisionWeights is { } dw)
        {
            w.WriteStartArray("decisionWeights");
            foreach (var v in dw) w.WriteNumberValue(v);
            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("decisionWeights");
        }
        w.WriteStartArray("members");
        foreach (var m in Manifest.Members) w.WriteStringValue(m.File);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("images", ImagesDir);
        w.WriteString("labels", LabelsDir);
        if (CasesSource is null) w.WriteNull("cases_source");
        else w.WriteString("cases_source", CasesSource);
        w.WriteStartObject("conventions");
        w.WriteString("structures", string.Join("; ", Manifest.Structures.Select(s => $"{s.Name} = labels {string.Join("+", s.Labels)}")));
        w.WriteString("dice", "2TP/(2TP+FP+FN); 1 when prediction and truth are both empty, 0 when only one is");
        w.WriteString("jaccard", "TP/(TP+FP+FN); 1 when both are empty");
        w.WriteString("sensitivity", "TP/(TP+FN); null (undefined) when the truth is empty");
        w.WriteString("specificity", "TN/(TN+FP); null when there are no true negatives");
        w.WriteString("volumes", "voxel count x voxel volume from the NIfTI spacing, mm3; volume_diff_mm3 = predicted - true");
        w.WriteString("statistics", "mean and median over cases with a defined value; worst_five ranks by dice of " + RankingStructure);
        w.WriteString("ensemble", "mean of member probabilities, argmax; each member alone is its own argmax");
        w.WriteString("agreement", "mean pairwise Dice between members' foreground (all non-background labels)");
        w.WriteEndObject();

        w.WriteStartObject("summary");
        w.WriteNumber("cases", Cases.Count);
        w.WriteNumber("failures", Failures.Count);
        w.WriteStartObject("ensemble");
        WriteSummary(w, c => c.Ensemble);
        var (agreeMean, agreeMedian) = Stats(Cases.Select(c => c.Agreement));
        WriteNumberOrNull(w, "agreement_mean", agreeMean);
        WriteNumberOrNull(w, "agreement_median", agreeMedian);
        WriteNumberOrNull(w, "seconds_per_case_median", Stats(Cases.Select(c => c.Elapsed.TotalSeconds)).Median);
        w.WriteEndObject();
        w.WriteStartArray("members");
        for (var k = 0; k < Manifest.Members.Count; k++)
        {
            var member = k;
            w.WriteStartObject();
            w.WriteString("file", Manifest.Members[k].File);
            WriteSummary(w, c => c.Members[member]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartArray("cases");
        foreach (var c in Cases)
        {
            w.WriteStartObject();
            w.WriteString("id", c.Id);
            w.WriteString("image", c.ImagePath);
            w.WriteString("label", c.LabelPath);
            w.WriteStartArray("shape");
            w.WriteNumberValue(c.Shape.X);
            w.WriteNumberValue(c.Shape.Y);
            w.WriteNumberValue(c.Shape.Z);
            w.WriteEndArray();
            w.WriteStartArray("spacing_mm");
            w.WriteNumberValue(c.Spacing.X);
            w.WriteNumberValue(c.Spacing.Y);
            w.WriteNumberValue(c.Spacing.Z);
            w.WriteEndArray();
            w.WriteNumber("voxel_volume_mm3", c.Spacing.VoxelVolume);
            w.WriteNumber("agreement", c.Agreement);
            w.WriteNumber("seconds", c.Elapsed.TotalSeconds);
            if (c.SavedLabelPath is not null) w.WriteString("prediction", c.SavedLabelPath);
            w.WritePropertyName("ensemble");
            WriteStructures(w, c.Ensemble);
            w.WriteStartArray("members");
            foreach (var m in c.Members) WriteStructures(w, m);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("failures");
        foreach (var f in Failures)
        {
            w.WriteStartObject();
            w.WriteString("id", f.Id);
            w.WriteString("reason", f.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Writes the JSON report to <paramref name="path"/> (folders created).</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var ms = new MemoryStream();
        WriteJson(ms);
        ms.WriteByte((byte)'\n');
        File.WriteAllBytes(path, ms.ToArray());
    }

    /// <summary>The report as JSON text.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        WriteJson(ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private void WriteSummary(Utf8JsonWriter w, Func<CaseResult, IReadOnlyList<StructureMetrics>> select)
    {
        w.WriteNumber("cases", Cases.Count);
        foreach (var (k, v) in Summarize(select)) WriteNumberOrNull(w, k, v);
        w.WriteStartArray("worst_five");
        foreach (var c in WorstFive(select))
        {
            w.WriteStartObject();
            w.WriteString("id", c.Id);
            foreach (var m in select(c)) w.WriteNumber($"dice_{m.Structure}", m.Dice);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteStructures(Utf8JsonWriter w, IReadOnlyList<StructureMetrics> metrics)
    {
        w.WriteStartObject();
        foreach (var m in metrics)
        {
            w.WriteStartObject(m.Structure);
            w.WriteNumber("dice", m.Dice);
            w.WriteNumber("jaccard", m.Jaccard);
            WriteNumberOrNull(w, "sensitivity", m.Sensitivity);
            WriteNumberOrNull(w, "specificity", m.Specificity);
            w.WriteNumber("volume_pred_mm3", m.PredictedVolumeMm3);
            w.WriteNumber("volume_true_mm3", m.TrueVolumeMm3);
            w.WriteNumber("volume_diff_mm3", m.VolumeDifferenceMm3);
            w.WriteNumber("tp", m.Counts.TruePositive);
            w.WriteNumber("fp", m.Counts.FalsePositive);
            w.WriteNumber("fn", m.Counts.FalseNegative);
            w.WriteNumber("tn", m.Counts.TrueNegative);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }
}
