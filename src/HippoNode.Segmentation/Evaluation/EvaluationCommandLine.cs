using System.Globalization;
using HippoNode.Segmentation.Inference;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>The <c>hipponode evaluate</c> verb's options and run, kept here so tests drive exactly what the command runs.</summary>
public sealed class EvaluationCommandLine
{
    /// <summary>The verb's usage text.</summary>
    public const string Usage =
        "usage: hipponode evaluate --images DIR --labels DIR --model DIR --json OUT [--cases LIST] [--save-labels DIR]\n" +
        "                          [--provider cpu|cuda] [--device N] [--threads N] [--tta none|mirror-x] [--decision-weights W0,W1,W2]\n" +
        "  --cases LIST   a text file of case ids (one per line) or a split.json (its test list); default: every image with a label";

    /// <summary>The images folder (&lt;id&gt;.nii.gz).</summary>
    public required string Images { get; init; }

    /// <summary>The reference labels folder (same file names).</summary>
    public required string Labels { get; init; }

    /// <summary>The model folder (model.json and members).</summary>
    public required string Model { get; init; }

    /// <summary>Where the JSON report goes.</summary>
    public required string Json { get; init; }

    /// <summary>The case list file, or null for every labelled image.</summary>
    public string? Cases { get; init; }

    /// <summary>Where to write the ensemble label maps, or null.</summary>
    public string? SaveLabels { get; init; }

    /// <summary>ONNX Runtime options.</summary>
    public InferenceOptions Inference { get; init; } = new();

    /// <summary>Parses the verb's arguments.</summary>
    /// <exception cref="ArgumentException">A missing, unknown or malformed option; the message says which.</exception>
    public static EvaluationCommandLine Parse(IReadOnlyList<string> args)
    {
        var values = VerbOptions.Parse(args, ["--images", "--labels", "--model", "--json", "--cases", "--save-labels", "--provider", "--device", "--threads", "--tta", "--decision-weights"],
            ["--images", "--labels", "--model", "--json"]);
        var inference = new InferenceOptions
        {
            ExecutionProvider = values.GetValueOrDefault("--provider", "cpu").ToLowerInvariant(),
            DeviceId = values.TryGetValue("--device", out var d) ? VerbOptions.Int(d, "--device") : 0,
            IntraOpThreads = values.TryGetValue("--threads", out var t) ? VerbOptions.Int(t, "--threads") : 0,
            MirrorX = values.GetValueOrDefault("--tta", "none") switch
            {
                "none" => false,
                "mirror-x" => true,
                var other => throw new ArgumentException($"--tta '{other}' is not none or mirror-x"),
            },
            DecisionWeights = values.TryGetValue("--decision-weights", out var dw) ? DecisionWeightsArgument(dw) : null,
        };
        inference.Validate();
        return new EvaluationCommandLine
        {
            Images = values["--images"],
            Labels = values["--labels"],
            Model = values["--model"],
            Json = values["--json"],
            Cases = values.GetValueOrDefault("--cases"),
            SaveLabels = values.GetValueOrDefault("--save-labels"),
            Inference = inference,
        };
    }

    /// <summary>Parses "W0,W1,..." into positive decision weights.</summary>
    /// <exception cref="ArgumentException">Not a list of positive numbers.</exception>
    public static IReadOnlyList<double> DecisionWeightsArgument(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new List<double>();
        foreach (var p in parts)
        {
            if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v <= 0)
                throw new ArgumentException($"--decision-weights '{text}' must be positive numbers separated by commas, one per label");
            values.Add(v);
        }
        return values;
    }

    /// <summary>Parses <paramref name="args"/> and runs; see <see cref="Execute"/> for the exit codes.</summary>
    /// <exception cref="ArgumentException">Bad arguments (the command maps this to exit code 2).</exception>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error) => Parse(args).Execute(output, error);

    /// <summary>Evaluates and writes the JSON report: 0 when every case was evaluated, 1 when a case failed, none was found, or the model or data could not be loaded.</summary>
    public int Execute(TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        IReadOnlyList<string>? ids = null;
        IReadOnlyList<EvaluationCase> cases;
        IReadOnlyList<(string Id, string Reason)> missing;
        try
        {
            if (Cases is not null) ids = CaseList.ReadIds(Cases);
            (cases, missing) = CaseList.Resolve(Images, Labels, ids);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            error.WriteLine($"hipponode evaluate: {ex.Message}");
            return 1;
        }

        SegmentationModel model;
        try
        {
            model = SegmentationModel.Load(Model, Inference);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            error.WriteLine($"hipponode evaluate: cannot load model {Model}: {ex.Message}");
            return 1;
        }

        using (model)
        {
            output.WriteLine($"model {model.Manifest} from {Model}, {Inference.ExecutionProvider}{(Inference.MirrorX ? ", TTA mirror-x" : "")}{(model.DecisionWeights is { } w ? $", decision weights {string.Join(",", w.Select(v => v.ToString(CultureInfo.InvariantCulture)))}" : "")}; {cases.Count} cases{(Cases is null ? "" : $" from {Cases}")}");
            foreach (var (id, reason) in missing) output.WriteLine($"{id}: FAILED {reason}");
            var (results, failures) = Evaluator.Run(model, cases, SaveLabels, output);
            var report = new EvaluationReport
            {
                Manifest = model.Manifest,
                ModelDir = Model,
                ImagesDir = Images,
                LabelsDir = Labels,
                CasesSource = Cases,
                ExecutionProvider = Inference.ExecutionProvider,
                TestTimeAugmentation = Inference.MirrorX ? "mirror-x" : "none",
                DecisionWeights = model.DecisionWeights,
                Cases = results,
                Failures = [.. missing.Select(m => new CaseFailure(m.Id, m.Reason)), .. failures],
            };
            report.Save(Json);
            var line = string.Join(", ", model.Manifest.Structures.Select(s =>
                report.EnsembleDiceMean(s.Name) is { } v ? string.Create(CultureInfo.InvariantCulture, $"{s.Name} {v:F4}") : $"{s.Name} n/a"));
            output.WriteLine($"ensemble mean dice: {line}; {results.Count} cases evaluated, {report.Failures.Count} failed -> {Json}");
            return report.Failures.Count == 0 && results.Count > 0 ? 0 : 1;
        }
    }
}
