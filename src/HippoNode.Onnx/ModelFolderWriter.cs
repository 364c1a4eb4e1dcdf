using System.Text.Json;
using HippoNode.Segmentation.Model;

namespace HippoNode.Onnx;

/// <summary>One member to export: its weights and, when it came from cross-validation, its fold.</summary>
public sealed record ExportMember(UNetWeights Weights, int? Fold = null);

/// <summary>What a model folder says about itself besides the members: identity, training, metrics, preprocessing.</summary>
public sealed class ModelFolderInfo
{
    /// <summary>The model's name.</summary>
    public string Name { get; init; } = "hippocampus-unet3d";

    /// <summary>The model's version text.</summary>
    public string Version { get; init; } = "0.0.0";

    /// <summary>A human description.</summary>
    public string Description { get; init; } = "3D U-Net ensemble for hippocampus segmentation (MSD Task04 crops, T2 MR)";

    /// <summary>Training information as a JSON object text (data, split, folds, epochs, loss, seeds); written to model.json and each member's metadata.</summary>
    public string TrainingJson { get; init; } = "{}";

    /// <summary>Evaluation results as a JSON object text, or null.</summary>
    public string? MetricsJson { get; init; }

    /// <summary>The z-score region the trainer used.</summary>
    public IntensityRegion NormalizationRegion { get; init; } = IntensityRegion.All;

    /// <summary>Pad in the graph (default) or leave padding to the host.</summary>
    public bool PadInGraph { get; init; } = true;
}

/// <summary>Writes a model folder: one ONNX file per member (fold{k}.onnx, or member{i}.onnx without a fold) and model.json with their checksums.</summary>
public static class ModelFolderWriter
{
    /// <summary>Exports <paramref name="members"/> into <paramref name="folder"/> and returns the manifest written.</summary>
    /// <exception cref="ArgumentException">No members, members of different architectures, or a bad JSON text.</exception>
    public static ModelManifest Write(string folder, IReadOnlyList<ExportMember> members, ModelFolderInfo? info = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(members);
        info ??= new ModelFolderInfo();
        if (members.Count == 0) throw new ArgumentException("at least one member is needed", nameof(members));
        var arch = members[0].Weights.Architecture;
        var archJson = arch.ToJson();
        if (members.Any(m => m.Weights.Architecture.ToJson() != archJson)) throw new ArgumentException("all members must share one architecture", nameof(members));
        if (arch.Classes != ModelManifest.HippocampusLabels.Count)
            throw new ArgumentException($"the hippocampus labels need {ModelManifest.HippocampusLabels.Count} classes, the architecture has {arch.Classes}", nameof(members));
        var training = ParseObject(info.TrainingJson, nameof(info.TrainingJson));
        var metrics = info.MetricsJson is null ? (JsonElement?)null : ParseObject(info.MetricsJson, nameof(info.MetricsJson));

        var written = WriteMembers(folder, [.. members.Select(m => m.Fold)], (i, path, metadata) =>
            UNetOnnxExporter.Export(members[i].Weights, path, new UNetExportOptions
            {
                Name = info.Name,
                Version = info.Version,
                Description = info.Description,
                PadInGraph = info.PadInGraph,
                Training = info.TrainingJson,
                ExtraMetadata = metadata,
            }));
        var manifest = new ModelManifest
        {
            Name = info.Name,
            Version = info.Version,
            Description = info.Description,
            SizeMultiple = arch.SizeMultiple,
            Padding = info.PadInGraph ? PaddingLocation.Graph : PaddingLocation.Host,
            NormalizationRegion = info.NormalizationRegion,
            Members = written,
            Architecture = arch,
            Training = training,
            Metrics = metrics,
        };
        manifest.Save(folder);
        return manifest;
    }

    /// <summary>
    /// Creates <paramref name="folder"/> and writes member i with <paramref name="export"/>(i, path, metadata) as fold{k}.onnx
    /// (member{i}.onnx without a fold), the fold going into its metadata; returns the members with their checksums.
    /// </summary>
    internal static List<ModelMember> WriteMembers(string folder, IReadOnlyList<int?> folds, Action<int, string, IReadOnlyDictionary<string, string>> export)
    {
        Directory.CreateDirectory(folder);
        var written = new List<ModelMember>();
        for (var i = 0; i < folds.Count; i++)
        {
            var fold = folds[i];
            var file = fold is { } f ? $"fold{f}.onnx" : $"member{i}.onnx";
            var path = Path.Combine(folder, file);
            var metadata = fold is { } k
                ? new Dictionary<string, string> { ["fold"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture) }
                : new Dictionary<string, string>();
            export(i, path, metadata);
            written.Add(new ModelMember(file, ModelManifest.Sha256Of(path), fold));
        }
        return written;
    }

    /// <summary>Parses a manifest section that must be one JSON object; ArgumentException naming <paramref name="what"/> otherwise.</summary>
    internal static JsonElement ParseObject(string json, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{what} must be a JSON object");
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{what} is not valid JSON: {ex.Message}", ex);
        }
    }
}
