using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using HippoNode.Analysis.Selection;
using HippoNode.Classification;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Reporting;
using HippoNode.Segmentation.Evaluation;
using HippoNode.Segmentation.Inference;

namespace HippoNode.Analysis.ChestXray;

/// <summary>
/// <c>hipponode evaluate</c> for a classifier folder: classifies every labelled image (PNG, JPEG or DICOM) and writes
/// per-image probabilities, the summary at the model's threshold (pneumonia positive), the ROC curve, the reliability
/// bins, and ROC, confusion-matrix and reliability PNGs.
/// </summary>
public sealed class ChestEvaluationCommandLine
{
    /// <summary>The verb's usage text for a classifier folder.</summary>
    public const string Usage =
        "usage: hipponode evaluate --model DIR --images DIR --json OUT [--labels LIST.csv] [--threshold X] [--provider cpu|cuda] [--threads N]\n" +
        "                          [--perturb invert|flip-x|rotate-90|low-contrast|noise|crop-left]\n" +
        "  (DIR a classifier folder) --images holds NORMAL/ and PNEUMONIA/ (the model's labels) with PNG, JPEG or DICOM files,\n" +
        "  or, with --labels, any files listed as 'path,label' (paths relative to --images); writes OUT and OUT's stem + .roc.png,\n" +
        "  .confusion.png, .reliability.png; --perturb applies a deliberate fault to every image first (the validation plan's\n" +
        "  stress study); exit 0 when every image was classified";

    /// <summary>The classifier folder.</summary>
    public required string Model { get; init; }

    /// <summary>The images folder.</summary>
    public required string Images { get; init; }

    /// <summary>Where the JSON report goes.</summary>
    public required string Json { get; init; }

    /// <summary>A CSV of "path,label" lines, or null to take labels from the sub-folder names.</summary>
    public string? Labels { get; init; }

    /// <summary>A threshold replacing the model's, or null.</summary>
    public double? Threshold { get; init; }

    /// <summary>ONNX Runtime options.</summary>
    public InferenceOptions Inference { get; init; } = new();

    /// <summary>A fault of <see cref="ImagePerturbation.Kinds"/> applied to every image before classification, or null.</summary>
    public string? Perturbation { get; init; }

    /// <summary>Parses the verb's arguments.</summary>
    /// <exception cref="ArgumentException">A missing, unknown or malformed option; the message says which.</exception>
    public static ChestEvaluationCommandLine Parse(IReadOnlyList<string> args)
    {
        var values = VerbOptions.Parse(args, ["--model", "--images", "--json", "--labels", "--threshold", "--provider", "--threads", "--perturb"], ["--model", "--images", "--json"]);
        var perturb = values.GetValueOrDefault("--perturb");
        if (perturb is not null && !ImagePerturbation.Kinds.Contains(perturb))
            throw new ArgumentException($"--perturb '{perturb}' is not one of {string.Join(", ", ImagePerturbation.Kinds)}");
        double? threshold = null;
        if (values.TryGetValue("--threshold", out var t))
        {
            threshold = double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is > 0 and < 1
                ? v
                : throw new ArgumentException($"--threshold '{t}' must be a number strictly between 0 and 1");
        }
        var inference = new InferenceOptions
        {
            ExecutionProvider = values.GetValueOrDefault("--provider", "cpu").ToLowerInvariant(),
            IntraOpThreads = values.TryGetValue("--threads", out var th) ? VerbOptions.Int(th, "--threads") : 0,
        };
        inference.Validate();
        return new ChestEvaluationCommandLine
        {
            Model = values["--model"], Images = values["--images"], Json = values["--json"], Labels = values.GetValueOrDefault("--labels"),
            Threshold = threshold, Inference = inference, Perturbation = perturb,
        };
    }

    /// <summary>One labelled image and what the model said.</summary>
    private sealed record Case(string File, string Label, bool Positive, double Probability);

    /// <summary>Classifies and writes the report: 0 when every image was classified, 1 when one failed, none was found, or the model or list could not be loaded.</summary>
    public int Execute(TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        ClassifierModel model;
        try
        {
            model = ClassifierModel.Load(Model, Inference);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            error.WriteLine($"hipponode evaluate: cannot load classifier {Model}: {ex.Message}");
            return 1;
        }
        using (model)
        {
            var m = model.Manifest;
            List<(string File, string Label)> items;
            try
            {
                items = Labels is null ? FromFolders(m) : FromList(m);
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
            {
                error.WriteLine($"hipponode evaluate: {ex.Message}");
                return 1;
            }
            var threshold = Threshold ?? m.Threshold;
            output.WriteLine($"model {m} from {Model}; {items.Count} images under {Images}; threshold {threshold.ToString(CultureInfo.InvariantCulture)}{(Perturbation is null ? "" : $"; every image perturbed: {Perturbation}")}");
            if (m.Untrained) output.WriteLine("warning: the model is UNTRAINED (random weights): these figures mean nothing");
            var cases = new List<Case>();
            var failures = new List<(string File, string Reason)>();
            foreach (var (file, label) in items)
            {
                try
                {
                    var image = LoadImage(file);
                    // Seeded per file, so a rerun perturbs every image the same way.
                    if (Perturbation is { } kind) image = ImagePerturbation.Apply(image, kind, Seed(Path.GetRelativePath(Images, file)));
                    var result = model.Classify(image);
                    cases.Add(new Case(Path.GetRelativePath(Images, file), label, label == m.PositiveLabel, result.Probability));
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or AnalysisException or DicomException or ArgumentException)
                {
                    failures.Add((Path.GetRelativePath(Images, file), ex.Message));
                    output.WriteLine($"{Path.GetRelativePath(Images, file)}: FAILED {ex.Message}");
                }
            }
            var scored = cases.Select(c => new ScoredCase(c.Positive, c.Probability)).ToList();
            var confusion = BinaryMetrics.Confusion(scored, threshold);
            var auroc = BinaryMetrics.Auroc(scored);
            var roc = BinaryMetrics.RocCurve(scored);
            var reliability = BinaryMetrics.Reliability(scored);
            var ece = BinaryMetrics.ExpectedCalibrationError(scored);
            var charts = WriteCharts(m, confusion, auroc, roc, reliability, ece);
            WriteJson(m, threshold, cases, failures, confusion, auroc, roc, reliability, ece, BinaryMetrics.Brier(scored),
                scored.Count > 0 ? BinaryMetrics.YoudenThreshold(scored) : double.NaN, charts);
            var ic = CultureInfo.InvariantCulture;
            output.WriteLine(string.Create(ic,
                $"accuracy {confusion.Accuracy:F4}, AUROC {auroc:F4}, sensitivity {confusion.Sensitivity:F4}, specificity {confusion.Specificity:F4}, PPV {confusion.PositivePredictiveValue:F4}, NPV {confusion.NegativePredictiveValue:F4} " +
                $"(TP {confusion.TruePositives}, FP {confusion.FalsePositives}, TN {confusion.TrueNegatives}, FN {confusion.FalseNegatives}); {cases.Count} classified, {failures.Count} failed -> {Json}"));
            return failures.Count == 0 && cases.Count > 0 ? 0 : 1;
        }
    }

    private List<(string File, string Label)> FromFolders(ClassifierManifest m)
    {
        if (!Directory.Exists(Images)) throw new IOException($"--images {Images} is not a folder");
        var list = new List<(string, string)>();
        foreach (var label in m.Labels)
        {
            var folder = Path.Combine(Images, label);
            if (!Directory.Exists(folder)) throw new IOException($"{Images} has no {label}/ folder (expected one folder per label: {string.Join(", ", m.Labels)}; or give --labels)");
            list.AddRange(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(IsImageFile).Order(StringComparer.Ordinal).Select(f => (f, label)));
        }
        return list;
    }

    private List<(string File, string Label)> FromList(ClassifierManifest m)
    {
        var list = new List<(string, string)>();
        var n = 0;
        foreach (var raw in File.ReadLines(Labels!))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var comma = line.LastIndexOf(',');
            if (comma <= 0) throw new FormatException($"{Labels}:{n}: expected 'path,label', got '{line}'");
            var (path, label) = (line[..comma].Trim(), line[(comma + 1)..].Trim());
            if (n == 1 && !m.Labels.Contains(label, StringComparer.Ordinal) && label.Equals("label", StringComparison.OrdinalIgnoreCase)) continue; // a header line
            if (!m.Labels.Contains(label, StringComparer.Ordinal)) throw new FormatException($"{Labels}:{n}: label '{label}' is not one of the model's ({string.Join(", ", m.Labels)})");
            list.Add((Path.Combine(Images, path), label));
        }
        return list;
    }

    private static bool IsImageFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".dcm" || IsDicom(path);

    private static bool IsDicom(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> head = stackalloc byte[132];
            return f.Read(head) == 132 && head[128] == (byte)'D' && head[129] == (byte)'I' && head[130] == (byte)'C' && head[131] == (byte)'M';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>A PNG/JPEG decoded, or a DICOM radiograph through the node's grayscale pipeline: the same image the node would classify.</summary>
    // FNV-1a of the relative path: stable across runs and machines, unlike string.GetHashCode.
    private static ulong Seed(string relative)
    {
        var h = 14695981039346656037UL;
        foreach (var ch in relative.Replace('\\', '/')) h = (h ^ ch) * 1099511628211UL;
        return h;
    }

    private static GrayscaleImage LoadImage(string path)
    {
        if (!IsDicom(path)) return GrayscaleImage.Load(path);
        var file = DicomFile.Open(path, DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData });
        var instance = new ScannedInstance(path, file.Dataset, file.TransferSyntax);
        return RadiographReader.Read($"file {Path.GetFileName(path)}", instance).Image;
    }

    private (string Roc, string Confusion, string Reliability) WriteCharts(ClassifierManifest m, ConfusionMatrix c, double auroc, IReadOnlyList<RocPoint> roc,
        IReadOnlyList<ReliabilityBin> reliability, double ece)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(Json))!;
        Directory.CreateDirectory(dir);
        var stem = Path.Combine(dir, Path.GetFileNameWithoutExtension(Json));
        var paths = (stem + ".roc.png", stem + ".confusion.png", stem + ".reliability.png");
        var title = $"{m.Name} {m.Version}{(m.Untrained ? " (UNTRAINED)" : "")}";
        File.WriteAllBytes(paths.Item1, EvaluationCharts.RocPng([.. roc.Select(p => (p.FalsePositiveRate, p.TruePositiveRate))], auroc,
            double.IsNaN(c.Specificity) || double.IsNaN(c.Sensitivity) ? null : (1 - c.Specificity, c.Sensitivity), $"ROC: {title}"));
        File.WriteAllBytes(paths.Item2, EvaluationCharts.ConfusionPng(c.TruePositives, c.FalsePositives, c.TrueNegatives, c.FalseNegatives, m.NegativeLabel, m.PositiveLabel,
            $"Confusion at threshold: {title}"));
        File.WriteAllBytes(paths.Item3, EvaluationCharts.ReliabilityPng([.. reliability.Select(b => (b.MeanPredicted, b.ObservedPositive, b.Count))], ece, $"Reliability: {title}"));
        return paths;
    }

    private void WriteJson(ClassifierManifest m, double threshold, List<Case> cases, List<(string File, string Reason)> failures, ConfusionMatrix c, double auroc,
        IReadOnlyList<RocPoint> roc, IReadOnlyList<ReliabilityBin> reliability, double ece, double brier, double youden, (string Roc, string Confusion, string Reliability) charts)
    {
        static void Number(Utf8JsonWriter w, string name, double v)
        {
            if (double.IsFinite(v)) w.WriteNumber(name, Math.Round(v, 6));
            else w.WriteNull(name);
        }
        using var fs = File.Create(Json);
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("format", "hipponode-classification-evaluation");
        w.WriteNumber("formatVersion", 1);
        w.WriteStartObject("model");
        w.WriteString("name", m.Name);
        w.WriteString("version", m.Version);
        w.WriteString("folder", Path.GetFullPath(Model));
        w.WriteBoolean("untrained", m.Untrained);
        w.WriteString("thresholdSource", Threshold is null ? m.ThresholdSource : "--threshold");
        w.WriteEndObject();
        w.WriteString("images", Path.GetFullPath(Images));
        w.WriteString("labels", Labels is null ? "sub-folder names" : Path.GetFullPath(Labels));
        w.WriteString("positiveLabel", m.PositiveLabel);
        if (Perturbation is null) w.WriteNull("perturbation");
        else w.WriteString("perturbation", Perturbation);
        w.WriteString("executionProvider", Inference.ExecutionProvider);
        w.WriteStartObject("summary");
        w.WriteNumber("count", cases.Count);
        w.WriteNumber("positives", cases.Count(x => x.Positive));
        w.WriteNumber("negatives", cases.Count(x => !x.Positive));
        w.WriteNumber("failed", failures.Count);
        w.WriteNumber("threshold", threshold);
        Number(w, "accuracy", c.Accuracy);
        Number(w, "auroc", auroc);
        Number(w, "sensitivity", c.Sensitivity);
        Number(w, "specificity", c.Specificity);
        Number(w, "ppv", c.PositivePredictiveValue);
        Number(w, "npv", c.NegativePredictiveValue);
        Number(w, "f1", c.F1);
        w.WriteNumber("tp", c.TruePositives);
        w.WriteNumber("fp", c.FalsePositives);
        w.WriteNumber("tn", c.TrueNegatives);
        w.WriteNumber("fn", c.FalseNegatives);
        Number(w, "brier", brier);
        Number(w, "ece", ece);
        Number(w, "youdenThreshold", youden);
        w.WriteString("decisionRule", "positive when probability >= threshold");
        w.WriteEndObject();
        w.WriteStartObject("charts");
        w.WriteString("roc", Path.GetFileName(charts.Roc));
        w.WriteString("confusion", Path.GetFileName(charts.Confusion));
        w.WriteString("reliability", Path.GetFileName(charts.Reliability));
        w.WriteEndObject();
        w.WriteStartArray("roc");
        foreach (var p in roc)
        {
            w.WriteStartObject();
            Number(w, "threshold", p.Threshold);
            w.WriteNumber("fpr", Math.Round(p.FalsePositiveRate, 6));
            w.WriteNumber("tpr", Math.Round(p.TruePositiveRate, 6));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("reliability");
        foreach (var b in reliability)
        {
            w.WriteStartObject();
            w.WriteNumber("lower", b.Lower);
            w.WriteNumber("upper", b.Upper);
            w.WriteNumber("count", b.Count);
            Number(w, "meanPredicted", b.MeanPredicted);
            Number(w, "observedPositive", b.ObservedPositive);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("cases");
        foreach (var x in cases)
        {
            w.WriteStartObject();
            w.WriteString("file", x.File);
            w.WriteString("label", x.Label);
            w.WriteNumber("probability", Math.Round(x.Probability, 6));
            var predicted = x.Probability >= threshold;
            w.WriteString("predicted", predicted ? m.PositiveLabel : m.NegativeLabel);
            w.WriteBoolean("correct", predicted == x.Positive);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("failures");
        foreach (var (file, reason) in failures)
        {
            w.WriteStartObject();
            w.WriteString("file", file);
            w.WriteString("reason", reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
