using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HippoNode.Segmentation.Model;

/// <summary>Where the padding to a size multiple happens.</summary>
public enum PaddingLocation
{
    /// <summary>Inside the ONNX graph (Pad before the network, Slice after): the model takes any size.</summary>
    Graph,

    /// <summary>In the host before inference (<see cref="Preprocessing.Pad"/>), cropped back after: for models with fixed-multiple inputs.</summary>
    Host,
}

/// <summary>A label value of the output map and its name.</summary>
public sealed record LabelDefinition(int Value, string Name);

/// <summary>A structure measured and scored: a name and the label values that make it up (whole = anterior + posterior).</summary>
public sealed record StructureDefinition(string Name, IReadOnlyList<int> Labels);

/// <summary>One ensemble member: an ONNX file in the model folder, with an optional checksum and training fold.</summary>
public sealed record ModelMember(string File, string? Sha256 = null, int? Fold = null);

/// <summary>The manifest of a model folder (<c>model.json</c>): what the members expect, how to prepare the input and how to read the output.</summary>
/// <remarks>
/// The folder holds <c>model.json</c> and the member <c>.onnx</c> files it names. Input tensor: NCDHW float32,
/// N = 1, C = 1 (the normalised image), D = the NIfTI z axis, H = y, W = x: exactly the voxel array as stored
/// (Volume3D's x-fastest order read as a C-order [z, y, x] array), no reorientation or resampling. Output:
/// softmax probabilities NCDHW, C = the label count, same spatial size as the input.
/// </remarks>
public sealed record ModelManifest
{
    /// <summary>The manifest's file name inside a model folder.</summary>
    public const string FileName = "model.json";

    /// <summary>The value of the <c>format</c> member.</summary>
    public const string FormatName = "hipponode-segmentation-model";

    /// <summary>The manifest format version this build reads and writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>The only tensor layout supported: batch, channel, then z, y, x.</summary>
    public const string Layout = "NCDHW";

    /// <summary>The model's name.</summary>
    public string Name { get; init; } = "hippocampus-unet3d";

    /// <summary>The model's version (free text, e.g. "1.0.0" or "0.0.0-random").</summary>
    public string Version { get; init; } = "0.0.0";

    /// <summary>A human description.</summary>
    public string Description { get; init; } = "";

    /// <summary>The name of each member's input tensor.</summary>
    public string InputName { get; init; } = "image";

    /// <summary>The name of each member's output tensor (softmax probabilities).</summary>
    public string OutputName { get; init; } = "probabilities";

    /// <summary>Spatial sizes inside the network must be multiples of this (2^depth).</summary>
    public int SizeMultiple { get; init; } = 8;

    /// <summary>Where the padding happens.</summary>
    public PaddingLocation Padding { get; init; } = PaddingLocation.Graph;

    /// <summary>The z-score region.</summary>
    public IntensityRegion NormalizationRegion { get; init; } = IntensityRegion.All;

    /// <summary>The standard deviation floor of the z-score.</summary>
    public double NormalizationEpsilon { get; init; } = 1e-8;

    /// <summary>The label values, in output channel order (channel i is label Labels[i].Value).</summary>
    public IReadOnlyList<LabelDefinition> Labels { get; init; } = HippocampusLabels;

    /// <summary>The structures scored and measured.</summary>
    public IReadOnlyList<StructureDefinition> Structures { get; init; } = HippocampusStructures;

    /// <summary>The ensemble members.</summary>
    public IReadOnlyList<ModelMember> Members { get; init; } = [];

    /// <summary>
    /// Per-channel multipliers of the probabilities before the argmax (of the ensemble mean and of each member), or null
    /// for plain argmax. Chosen on out-of-fold validation cases (<c>hipponode calibrate</c>) to undo a model's systematic
    /// over- or under-segmentation; the probabilities themselves are left as the network gives them.
    /// </summary>
    public IReadOnlyList<double>? DecisionWeights { get; init; }

    /// <summary>How <see cref="DecisionWeights"/> were chosen (the calibration's record), or null.</summary>
    public JsonElement? Calibration { get; init; }

    /// <summary>The network architecture, when the members were exported from a <see cref="UNetArchitecture"/>.</summary>
    public UNetArchitecture? Architecture { get; init; }

    /// <summary>Training information (data, split, epochs, ...), a free JSON object; null when absent.</summary>
    public JsonElement? Training { get; init; }

    /// <summary>Evaluation results (e.g. test-set Dice), a free JSON object; null when absent.</summary>
    public JsonElement? Metrics { get; init; }

    /// <summary>The MSD hippocampus labels: 0 background, 1 anterior, 2 posterior.</summary>
    public static IReadOnlyList<LabelDefinition> HippocampusLabels { get; } =
        [new(0, "background"), new(1, "anterior"), new(2, "posterior")];

    /// <summary>Anterior (1), posterior (2) and whole hippocampus (1 + 2).</summary>
    public static IReadOnlyList<StructureDefinition> HippocampusStructures { get; } =
        [new("anterior", [1]), new("posterior", [2]), new("whole", [1, 2])];

    /// <summary>A plain-language statement of the size handling, written into model.json.</summary>
    public string SizeHandlingDescription => SizeMultiple == 1
        ? "any input size; no padding (the network has no pooling)"
        : Padding == PaddingLocation.Graph
        ? $"any input size; inside the graph each spatial axis is zero-padded (in normalised units) up to the next multiple of {SizeMultiple}, floor(pad/2) voxels before and the rest after, and the logits are cropped back to the input size before the softmax"
        : $"the host zero-pads (in normalised units) each spatial axis up to the next multiple of {SizeMultiple}, floor(pad/2) before and the rest after, and crops the probabilities back";

    /// <summary>The manifest as model.json text (indented, "\n" line ends, trailing newline).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("name", Name);
            w.WriteString("version", Version);
            w.WriteString("description", Description);

            w.WriteStartObject("input");
            w.WriteString("name", InputName);
            w.WriteString("layout", Layout);
            w.WriteString("dtype", "float32");
            w.WriteStartObject("axes");
            w.WriteString("N", "batch, 1");
            w.WriteString("C", "channel, 1 (the z-scored image)");
            w.WriteString("D", "z");
            w.WriteString("H", "y");
            w.WriteString("W", "x");
            w.WriteEndObject();
            w.WriteString("orientation", "the NIfTI voxel grid as stored (x fastest): no reorientation, no resampling");
            w.WriteEndObject();

            w.WriteStartObject("output");
            w.WriteString("name", OutputName);
            w.WriteString("layout", Layout);
            w.WriteString("kind", "softmax probabilities over the channel axis; channel i is labels[i]");
            w.WriteEndObject();

            w.WriteStartObject("sizeHandling");
            w.WriteString("padding", Padding == PaddingLocation.Graph ? "graph" : "host");
            w.WriteNumber("multiple", SizeMultiple);
            w.WriteString("placement", "symmetric: floor(pad/2) before, the rest after");
            w.WriteNumber("padValue", 0);
            w.WriteString("description", SizeHandlingDescription);
            w.WriteEndObject();

            w.WriteStartObject("normalization");
            w.WriteString("method", "zscore");
            w.WriteString("region", NormalizationRegion == IntensityRegion.All ? "all" : "nonzero");
            w.WriteNumber("epsilon", NormalizationEpsilon);
            w.WriteString("description", "(v - mean) / std over the region's voxels (population statistics, double precision), applied to every voxel; non-finite voxels count as 0; std below epsilon leaves v - mean");
            w.WriteEndObject();

            w.WriteStartArray("labels");
            foreach (var l in Labels)
            {
                w.WriteStartObject();
                w.WriteNumber("value", l.Value);
                w.WriteString("name", l.Name);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("structures");
            foreach (var s in Structures)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteStartArray("labels");
                foreach (var v in s.Labels) w.WriteNumberValue(v);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("ensemble", DecisionWeights is null
                ? "mean of the members' probabilities, then argmax (ties go to the lower label)"
                : "mean of the members' probabilities, each channel multiplied by its decision weight, then argmax (ties go to the lower label)");
            if (DecisionWeights is { } dw)
            {
                w.WriteStartArray("decisionWeights");
                foreach (var v in dw) w.WriteNumberValue(v);
                w.WriteEndArray();
            }
            if (Calibration is { } cal)
            {
                w.WritePropertyName("calibration");
                cal.WriteTo(w);
            }

            w.WriteStartArray("members");
            foreach (var m in Members)
            {
                w.WriteStartObject();
                w.WriteString("file", m.File);
                if (m.Sha256 is not null) w.WriteString("sha256", m.Sha256);
                if (m.Fold is { } fold) w.WriteNumber("fold", fold);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (Architecture is not null)
            {
                w.WritePropertyName("architecture");
                Architecture.WriteJson(w);
            }
            if (Training is { } t)
            {
                w.WritePropertyName("training");
                t.WriteTo(w);
            }
            if (Metrics is { } m2)
            {
                w.WritePropertyName("metrics");
                m2.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>A copy with <paramref name="weights"/> as its decision weights and <paramref name="calibration"/> as their record.</summary>
    public ModelManifest With(IReadOnlyList<double>? weights, JsonElement? calibration) => this with { DecisionWeights = weights, Calibration = calibration };

    /// <summary>Parses model.json text.</summary>
    /// <exception cref="FormatException">Not a manifest of this format, or an unsupported convention.</exception>
    public static ModelManifest Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            if (r.GetProperty("format").GetString() != FormatName) throw new FormatException($"format is not {FormatName}");
            var version = r.GetProperty("formatVersion").GetInt32();
            if (version != FormatVersion) throw new FormatException($"model.json format version {version}, this build reads version {FormatVersion}");
            var input = r.GetProperty("input");
            var output = r.GetProperty("output");
            if (input.GetProperty("layout").GetString() != Layout || output.GetProperty("layout").GetString() != Layout)
                throw new FormatException($"only the {Layout} layout is supported");
            var axes = input.GetProperty("axes");
            if (axes.GetProperty("D").GetString() != "z" || axes.GetProperty("H").GetString() != "y" || axes.GetProperty("W").GetString() != "x")
                throw new FormatException("only the axis convention D = z, H = y, W = x is supported");
            var size = r.GetProperty("sizeHandling");
            var norm = r.GetProperty("normalization");
            if (norm.GetProperty("method").GetString() != "zscore") throw new FormatException("only zscore normalisation is supported");
            var manifest = new ModelManifest
            {
                Name = r.GetProperty("name").GetString() ?? "",
                Version = r.GetProperty("version").GetString() ?? "",
                Description = r.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "",
                InputName = input.GetProperty("name").GetString() ?? throw new FormatException("input.name is null"),
                OutputName = output.GetProperty("name").GetString() ?? throw new FormatException("output.name is null"),
                SizeMultiple = size.GetProperty("multiple").GetInt32(),
                Padding = size.GetProperty("padding").GetString() switch
                {
                    "graph" => PaddingLocation.Graph,
                    "host" => PaddingLocation.Host,
                    var p => throw new FormatException($"sizeHandling.padding '{p}' is neither graph nor host"),
                },
                NormalizationRegion = norm.GetProperty("region").GetString() switch
                {
                    "all" => IntensityRegion.All,
                    "nonzero" => IntensityRegion.Nonzero,
                    var g => throw new FormatException($"normalization.region '{g}' is neither all nor nonzero"),
                },
                NormalizationEpsilon = norm.TryGetProperty("epsilon", out var eps) ? eps.GetDouble() : 1e-8,
                Labels = [.. r.GetProperty("labels").EnumerateArray().Select(l => new LabelDefinition(l.GetProperty("value").GetInt32(), l.GetProperty("name").GetString() ?? ""))],
                Structures = [.. r.GetProperty("structures").EnumerateArray().Select(s => new StructureDefinition(
                    s.GetProperty("name").GetString() ?? "", [.. s.GetProperty("labels").EnumerateArray().Select(v => v.GetInt32())]))],
                Members = [.. r.GetProperty("members").EnumerateArray().Select(m => new ModelMember(
                    m.GetProperty("file").GetString() ?? throw new FormatException("member file is null"),
                    m.TryGetProperty("sha256", out var h) ? h.GetString() : null,
                    m.TryGetProperty("fold", out var f) ? f.GetInt32() : null))],
                DecisionWeights = r.TryGetProperty("decisionWeights", out var dws) && dws.ValueKind == JsonValueKind.Array
                    ? [.. dws.EnumerateArray().Select(v => v.GetDouble())] : null,
                Calibration = r.TryGetProperty("calibration", out var cl) ? cl.Clone() : null,
                Architecture = r.TryGetProperty("architecture", out var a) ? UNetArchitecture.FromJson(a) : null,
                Training = r.TryGetProperty("training", out var t) ? t.Clone() : null,
                Metrics = r.TryGetProperty("metrics", out var mt) ? mt.Clone() : null,
            };
            manifest.Validate();
            return manifest;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a valid {FileName}: {ex.Message}", ex);
        }
    }

    /// <summary>Throws when the manifest is inconsistent (no members, bad labels, structures naming unknown labels, a member path leaving the folder).</summary>
    /// <exception cref="FormatException">The inconsistency, named.</exception>
    public void Validate()
    {
        if (Members.Count == 0) throw new FormatException("the manifest lists no members");
        if (SizeMultiple < 1) throw new FormatException($"sizeHandling.multiple must be at least 1, got {SizeMultiple}");
        if (Labels.Count < 2) throw new FormatException("at least two labels (background and one structure) are needed");
        if (Labels.Select(l => l.Value).Distinct().Count() != Labels.Count) throw new FormatException("label values repeat");
        if (Labels.Any(l => l.Value is < 0 or > 255)) throw new FormatException("label values must be in 0..255");
        if (Labels[0].Value != 0) throw new FormatException("channel 0 must be the background label 0");
        foreach (var s in Structures)
        {
            if (s.Labels.Count == 0 || s.Labels.Any(v => v == 0 || Labels.All(l => l.Value != v)))
                throw new FormatException($"structure '{s.Name}' must name existing non-background labels");
        }
        foreach (var m in Members)
        {
            // Member names are plain file names: a manifest must not reach outside its folder.
            if (m.File.Length == 0 || m.File != Path.GetFileName(m.File) || m.File is "." or "..")
                throw new FormatException($"member file '{m.File}' must be a plain file name inside the model folder");
        }
        if (Members.Select(m => m.File).Distinct(StringComparer.Ordinal).Count() != Members.Count) throw new FormatException("member files repeat");
        if (DecisionWeights is { } weights && (weights.Count != Labels.Count || weights.Any(v => !double.IsFinite(v) || v <= 0)))
            throw new FormatException($"decisionWeights must hold one positive finite number per label ({Labels.Count})");
        if (Architecture is not null && Architecture.Classes != Labels.Count)
            throw new FormatException($"the architecture has {Architecture.Classes} classes but {Labels.Count} labels are listed");
    }

    /// <summary>Reads <c>model.json</c> from <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">No model.json there.</exception>
    public static ModelManifest Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {FileName} in {folder}", path);
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="folder"/>/model.json.</summary>
    public void Save(string folder)
    {
        Validate();
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, FileName), ToJson(), new UTF8Encoding(false));
    }

    /// <summary>The lowercase hex SHA-256 of a file (member checksums).</summary>
    public static string Sha256Of(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>"name version (N members)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} {Version} ({Members.Count} members)");
}
