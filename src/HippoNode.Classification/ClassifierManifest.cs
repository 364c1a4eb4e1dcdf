using System.Globalization;
using System.Text.Json;
using HippoNode.Segmentation.Model;

namespace HippoNode.Classification;

/// <summary>What the network takes: tensor name, size, and how an image becomes it (see <see cref="ImagePreprocessing"/>).</summary>
public sealed class ClassifierInput
{
    /// <summary>The input tensor's name.</summary>
    public string Name { get; init; } = "image";

    /// <summary>Columns of the network input.</summary>
    public int Width { get; init; } = 128;

    /// <summary>Rows of the network input.</summary>
    public int Height { get; init; } = 128;

    /// <summary>Subtracted from the [0, 1] display values.</summary>
    public double Mean { get; init; } = 0.5;

    /// <summary>Divides after the subtraction.</summary>
    public double Std { get; init; } = 0.25;
}

/// <summary>The manifest of a classifier model folder (<c>model.json</c>): the ONNX file, its input, outputs, labels, threshold and heat-map weights.</summary>
/// <remarks>
/// Input tensor: float32 [N, 1, Height, Width], the <see cref="GrayscaleImage"/> resampled to the input size and
/// normalised ((v - Mean) / Std). Outputs: <c>probability</c> [N] (the positive class), <c>logits</c> [N, Classes] and
/// <c>features</c> [N, C, h, w] (the last convolutional block). The class activation map weighs the features with
/// <see cref="EvidenceWeights"/> and <see cref="EvidenceBias"/>, copied from the linear head by the folder writer.
/// </remarks>
public sealed record ClassifierManifest
{
    /// <summary>The manifest's file name inside a model folder.</summary>
    public const string FileName = "model.json";

    /// <summary>The value of the <c>format</c> member.</summary>
    public const string FormatName = "hipponode-classification-model";

    /// <summary>The manifest format version this build reads and writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>The model's name.</summary>
    public string Name { get; init; } = "chest-xray-pneumonia";

    /// <summary>The model's version text.</summary>
    public string Version { get; init; } = "0.0.0";

    /// <summary>A human description.</summary>
    public string Description { get; init; } = "";

    /// <summary>True for a model made from random weights (plumbing tests, demos before training): its outputs mean nothing, and every report says so.</summary>
    public bool Untrained { get; init; }

    /// <summary>The ONNX file in the folder.</summary>
    public string File { get; init; } = "model.onnx";

    /// <summary>Its SHA-256 (lower-case hex), checked at load; null skips the check.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The input tensor and preprocessing.</summary>
    public ClassifierInput Input { get; init; } = new();

    /// <summary>The output holding the positive-class probability, [N].</summary>
    public string ProbabilityOutput { get; init; } = "probability";

    /// <summary>The output holding the head's logits, [N, Classes].</summary>
    public string LogitsOutput { get; init; } = "logits";

    /// <summary>The output holding the last convolutional features, [N, C, h, w].</summary>
    public string FeaturesOutput { get; init; } = "features";

    /// <summary>Class names; the positive class is <see cref="PositiveLabel"/>.</summary>
    public IReadOnlyList<string> Labels { get; init; } = ["NORMAL", "PNEUMONIA"];

    /// <summary>The class whose probability the model reports.</summary>
    public string PositiveLabel { get; init; } = "PNEUMONIA";

    /// <summary>The operating point: a probability at or above it is a positive decision.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>How the threshold was chosen (e.g. "Youden's J on the patient-level validation split").</summary>
    public string ThresholdSource { get; init; } = "default 0.5 (not tuned)";

    /// <summary>The head's positive-class evidence weights per feature channel (see <see cref="ClassifierWeights.EvidenceHead"/>).</summary>
    public IReadOnlyList<float> EvidenceWeights { get; init; } = [];

    /// <summary>The head's positive-class evidence bias.</summary>
    public float EvidenceBias { get; init; }

    /// <summary>The network.</summary>
    public ResNetArchitecture Architecture { get; init; } = ResNetArchitecture.Production;

    /// <summary>Training details as written by the trainer (a JSON object), or null.</summary>
    public JsonElement? Training { get; init; }

    /// <summary>Evaluation results (a JSON object), or null.</summary>
    public JsonElement? Metrics { get; init; }

    /// <summary>The label that is not positive.</summary>
    public string NegativeLabel => Labels.First(l => l != PositiveLabel);

    /// <summary>True when the folder holds a classifier manifest (a model.json whose format is <see cref="FormatName"/>).</summary>
    public static bool IsClassifierFolder(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!System.IO.File.Exists(path)) return false;
        try
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String && f.GetString() == FormatName;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Throws when the manifest cannot work.</summary>
    /// <exception cref="FormatException">The problem, named by its model.json key.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new FormatException("'name' must not be empty");
        if (string.IsNullOrWhiteSpace(File) || File.Contains('/') || File.Contains('\\') || File.Contains(".."))
            throw new FormatException($"'file' must be a file name inside the folder, is '{File}'");
        if (Input.Width < 8 || Input.Height < 8) throw new FormatException($"'input' size {Input.Width}x{Input.Height} must be at least 8x8");
        if (!double.IsFinite(Input.Mean) || !(Input.Std > 0) || !double.IsFinite(Input.Std)) throw new FormatException("'input.std' must be positive and 'input.mean' finite");
        if (Labels.Count != 2 || Labels.Distinct(StringComparer.Ordinal).Count() != 2 || Labels.Any(string.IsNullOrWhiteSpace))
            throw new FormatException("'labels' must name two different classes");
        if (!Labels.Contains(PositiveLabel, StringComparer.Ordinal)) throw new FormatException($"'positiveLabel' '{PositiveLabel}' is not one of the labels");
        if (!(Threshold is > 0 and < 1)) throw new FormatException($"'threshold' must lie strictly between 0 and 1, is {Threshold.ToString(CultureInfo.InvariantCulture)}");
        try
        {
            Architecture.Validate();
        }
        catch (InvalidOperationException ex)
        {
            throw new FormatException($"'architecture': {ex.Message}", ex);
        }
        if (EvidenceWeights.Count != Architecture.FeatureChannels)
            throw new FormatException($"'cam.weights' has {EvidenceWeights.Count} values; the architecture's features have {Architecture.FeatureChannels} channels");
        if (EvidenceWeights.Any(v => !float.IsFinite(v)) || !float.IsFinite(EvidenceBias)) throw new FormatException("'cam' holds a non-finite value");
    }

    /// <summary>Reads and validates <c>model.json</c> in <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">No model.json.</exception>
    /// <exception cref="FormatException">Not a classifier manifest, or a bad value (named).</exception>
    public static ClassifierManifest Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{folder} has no {FileName}", path);
        try
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
            return Parse(doc.RootElement, path);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static ClassifierManifest Parse(JsonElement r, string path)
    {
        try
        {
            if (r.ValueKind != JsonValueKind.Object) throw new FormatException("the top level must be an object");
            var format = r.TryGetProperty("format", out var f) ? f.GetString() : null;
            if (format != FormatName) throw new FormatException($"'format' is '{format}', not '{FormatName}' (a segmentation model folder?)");
            var version = r.GetProperty("formatVersion").GetInt32();
            if (version != FormatVersion) throw new FormatException($"'formatVersion' {version} is not supported (this build reads {FormatVersion})");
            var input = r.GetProperty("input");
            var outputs = r.GetProperty("outputs");
            var cam = r.GetProperty("cam");
            var m = new ClassifierManifest
            {
                Name = r.GetProperty("name").GetString() ?? "",
                Version = r.GetProperty("version").GetString() ?? "",
                Description = r.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "",
                Untrained = r.TryGetProperty("untrained", out var u) && u.GetBoolean(),
                File = r.GetProperty("file").GetString() ?? "",
                Sha256 = r.TryGetProperty("sha256", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString() : null,
                Input = new ClassifierInput
                {
                    Name = input.GetProperty("name").GetString() ?? "",
                    Width = input.GetProperty("width").GetInt32(),
                    Height = input.GetProperty("height").GetInt32(),
                    Mean = input.GetProperty("mean").GetDouble(),
                    Std = input.GetProperty("std").GetDouble(),
                },
                ProbabilityOutput = outputs.GetProperty("probability").GetString() ?? "",
                LogitsOutput = outputs.GetProperty("logits").GetString() ?? "",
                FeaturesOutput = outputs.GetProperty("features").GetString() ?? "",
                Labels = [.. r.GetProperty("labels").EnumerateArray().Select(x => x.GetString() ?? "")],
                PositiveLabel = r.GetProperty("positiveLabel").GetString() ?? "",
                Threshold = r.GetProperty("threshold").GetDouble(),
                ThresholdSource = r.TryGetProperty("thresholdSource", out var ts) ? ts.GetString() ?? "" : "",
                EvidenceWeights = [.. cam.GetProperty("weights").EnumerateArray().Select(x => x.GetSingle())],
                EvidenceBias = cam.GetProperty("bias").GetSingle(),
                Architecture = ResNetArchitecture.FromJson(r.GetProperty("architecture")),
                Training = r.TryGetProperty("training", out var tr) && tr.ValueKind == JsonValueKind.Object ? tr.Clone() : null,
                Metrics = r.TryGetProperty("metrics", out var me) && me.ValueKind == JsonValueKind.Object ? me.Clone() : null,
            };
            m.Validate();
            return m;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Writes <c>model.json</c> into <paramref name="folder"/> (indented UTF-8).</summary>
    public void Save(string folder)
    {
        Validate();
        Directory.CreateDirectory(folder);
        using var fs = System.IO.File.Create(Path.Combine(folder, FileName));
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", FormatName);
        w.WriteNumber("formatVersion", FormatVersion);
        w.WriteString("task", "binary image classification");
        w.WriteString("name", Name);
        w.WriteString("version", Version);
        w.WriteString("description", Description);
        w.WriteBoolean("untrained", Untrained);
        w.WriteString("file", File);
        if (Sha256 is null) w.WriteNull("sha256");
        else w.WriteString("sha256", Sha256);
        w.WriteStartObject("input");
        w.WriteString("name", Input.Name);
        w.WriteString("layout", "NCHW, N = 1, C = 1");
        w.WriteNumber("width", Input.Width);
        w.WriteNumber("height", Input.Height);
        w.WriteString("image", "grayscale display values in [0, 1], brighter = higher (MONOCHROME2 polarity)");
        w.WriteString("resize", "stretch the whole image to width x height (aspect not kept); separable triangle filter, antialiased when shrinking");
        w.WriteNumber("mean", Input.Mean);
        w.WriteNumber("std", Input.Std);
        w.WriteString("normalization", "(v - mean) / std");
        w.WriteEndObject();
        w.WriteStartObject("outputs");
        w.WriteString("probability", ProbabilityOutput);
        w.WriteString("logits", LogitsOutput);
        w.WriteString("features", FeaturesOutput);
        w.WriteEndObject();
        w.WriteStartArray("labels");
        foreach (var l in Labels) w.WriteStringValue(l);
        w.WriteEndArray();
        w.WriteString("positiveLabel", PositiveLabel);
        w.WriteNumber("threshold", Threshold);
        w.WriteString("thresholdSource", ThresholdSource);
        w.WriteString("decision", "positive when probability >= threshold");
        w.WriteStartObject("cam");
        w.WriteString("definition", "evidence(x, y) = bias + sum_c weights[c] * features[c, y, x]; its mean over the grid is the positive-class logit (or the logit difference for 2-class softmax)");
        w.WriteStartArray("weights");
        foreach (var v in EvidenceWeights) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteNumber("bias", EvidenceBias);
        w.WriteEndObject();
        w.WritePropertyName("architecture");
        Architecture.WriteJson(w);
        if (Training is { } t)
        {
            w.WritePropertyName("training");
            t.WriteTo(w);
        }
        if (Metrics is { } m)
        {
            w.WritePropertyName("metrics");
            m.WriteTo(w);
        }
        w.WriteEndObject();
    }

    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256Of(string path) => ModelManifest.Sha256Of(path);

    /// <summary>"name version" plus "(UNTRAINED)" for random weights.</summary>
    public override string ToString() => $"{Name} {Version}{(Untrained ? " (UNTRAINED: random weights)" : "")}";
}
