using HippoNode.Classification;

namespace HippoNode.Onnx;

/// <summary>What a classifier folder says about itself besides the weights: identity, input, labels, operating point, training and metrics.</summary>
public sealed class ClassifierFolderInfo
{
    /// <summary>The model's name.</summary>
    public string Name { get; init; } = "chest-xray-pneumonia";

    /// <summary>The model's version text.</summary>
    public string Version { get; init; } = "0.0.0";

    /// <summary>A human description.</summary>
    public string Description { get; init; } = "Pneumonia on frontal (PA/AP) chest radiographs: ResNet-like 2D CNN trained from scratch";

    /// <summary>Set for random or otherwise untrained weights: the folder says so and every report carries the warning.</summary>
    public bool Untrained { get; init; }

    /// <summary>The network input size and normalisation (default 128x128, mean 0.5, std 0.25).</summary>
    public ClassifierInput Input { get; init; } = new();

    /// <summary>Class names in output order (index 1 is the positive class of a 2-class head).</summary>
    public IReadOnlyList<string> Labels { get; init; } = ["NORMAL", "PNEUMONIA"];

    /// <summary>The positive class.</summary>
    public string PositiveLabel { get; init; } = "PNEUMONIA";

    /// <summary>The operating point chosen on validation data (positive when probability >= threshold).</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>How the threshold was chosen.</summary>
    public string ThresholdSource { get; init; } = "default 0.5 (not tuned)";

    /// <summary>Training information as a JSON object text (data, patient-level split, epochs, augmentation, loss, machine, time).</summary>
    public string TrainingJson { get; init; } = "{}";

    /// <summary>Validation results as a JSON object text, or null.</summary>
    public string? MetricsJson { get; init; }
}

/// <summary>Writes a classifier model folder: <c>model.onnx</c> (our exporter) and <c>model.json</c> (<see cref="ClassifierManifest"/>) with its checksum and the head's CAM weights.</summary>
public static class ClassifierFolderWriter
{
    /// <summary>The ONNX file's name inside the folder.</summary>
    public const string OnnxFileName = "model.onnx";

    /// <summary>
    /// The trainer's entry point: exports a state_dict of <paramref name="architecture"/> (names and shapes as
    /// <see cref="ResNetArchitecture.Parameters"/> lists them; <c>num_batches_tracked</c> entries are ignored) into <paramref name="folder"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A missing, unknown or misshapen tensor (all listed), or a bad JSON text or setting.</exception>
    public static ClassifierManifest Write(string folder, ResNetArchitecture architecture, IEnumerable<(string Name, IReadOnlyList<long> Shape, float[] Values)> stateDict,
        ClassifierFolderInfo? info = null) =>
        Write(folder, ClassifierWeights.FromStateDict(architecture, stateDict), info);

    /// <summary>Exports <paramref name="weights"/> into <paramref name="folder"/> and returns the manifest written.</summary>
    /// <exception cref="ArgumentException">A bad JSON text or setting.</exception>
    public static ClassifierManifest Write(string folder, ClassifierWeights weights, ClassifierFolderInfo? info = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(weights);
        info ??= new ClassifierFolderInfo();
        var training = ModelFolderWriter.ParseObject(info.TrainingJson, nameof(info.TrainingJson));
        var metrics = info.MetricsJson is null ? (System.Text.Json.JsonElement?)null : ModelFolderWriter.ParseObject(info.MetricsJson, nameof(info.MetricsJson));
        if (weights.Architecture.Classes == 2 && info.Labels.Count == 2 && info.Labels[1] != info.PositiveLabel)
            throw new ArgumentException($"a 2-class head reports class 1 ('{info.Labels[1]}') as positive, but PositiveLabel is '{info.PositiveLabel}'");
        var (evidence, bias) = weights.EvidenceHead();
        var manifest = new ClassifierManifest
        {
            Name = info.Name,
            Version = info.Version,
            Description = info.Description,
            Untrained = info.Untrained,
            File = OnnxFileName,
            Input = info.Input,
            Labels = info.Labels,
            PositiveLabel = info.PositiveLabel,
            Threshold = info.Threshold,
            ThresholdSource = info.ThresholdSource,
            EvidenceWeights = evidence,
            EvidenceBias = bias,
            Architecture = weights.Architecture,
            Training = training,
            Metrics = metrics,
        };
        try
        {
            manifest.Validate();
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"the model folder settings do not validate: {ex.Message}", ex);
        }
        Directory.CreateDirectory(folder);
        var onnx = Path.Combine(folder, OnnxFileName);
        ResNetOnnxExporter.Export(weights, onnx, new ResNetExportOptions
        {
            InputName = info.Input.Name,
            Name = info.Name,
            Version = info.Version,
            Description = info.Description,
            Training = info.TrainingJson,
            ExtraMetadata = info.Untrained ? new Dictionary<string, string> { ["untrained"] = "true: random weights, the outputs mean nothing" } : new Dictionary<string, string>(),
        });
        manifest = manifest with { Sha256 = ClassifierManifest.Sha256Of(onnx) };
        manifest.Save(folder);
        return manifest;
    }

    /// <summary>
    /// A folder of seeded RANDOM weights, marked untrained in model.json, the ONNX metadata and the model name: for tests and
    /// demos that prove the plumbing before a trained model exists. Its probabilities mean nothing.
    /// </summary>
    public static ClassifierManifest WriteUntrained(string folder, ulong seed = 12, ResNetArchitecture? architecture = null, ClassifierInput? input = null) =>
        Write(folder, ClassifierWeights.CreateRandom(architecture ?? ResNetArchitecture.Production, seed), new ClassifierFolderInfo
        {
            Name = "chest-xray-UNTRAINED-random",
            Version = "0.0.0-untrained",
            Description = "UNTRAINED: seeded random weights for plumbing tests and demos; the probability means nothing",
            Untrained = true,
            Input = input ?? new ClassifierInput(),
            ThresholdSource = "not tuned: untrained model",
            TrainingJson = "{\"trained\": false}",
        });
}
