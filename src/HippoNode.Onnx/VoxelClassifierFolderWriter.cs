using System.Text.Json;
using HippoNode.Segmentation.Model;

namespace HippoNode.Onnx;

/// <summary>One voxel-classifier member to export and, when it came from cross-validation, its fold.</summary>
public sealed record VoxelClassifierMember(VoxelClassifierWeights Weights, int? Fold = null);

/// <summary>Writes a model folder of voxel-classifier members in the same layout as <see cref="ModelFolderWriter"/>: fold{k}.onnx (or member{i}.onnx) and model.json with checksums.</summary>
/// <remarks>
/// The manifest has no U-Net <c>architecture</c> (the classifier's description goes into <c>training</c> and each
/// member's metadata) and declares <c>sizeHandling</c> multiple 1 with padding "graph": the graph takes any size and
/// no padding to a multiple happens. <see cref="ModelFolderInfo.PadInGraph"/> is ignored.
/// </remarks>
public static class VoxelClassifierFolderWriter
{
    /// <summary>Exports <paramref name="members"/> into <paramref name="folder"/> and returns the manifest written.</summary>
    /// <exception cref="ArgumentException">No members, members of different shapes, the wrong class count, or a bad JSON text.</exception>
    public static ModelManifest Write(string folder, IReadOnlyList<VoxelClassifierMember> members, ModelFolderInfo info)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(info);
        if (members.Count == 0) throw new ArgumentException("at least one member is needed", nameof(members));
        var bank = members[0].Weights.Bank.ToJson();
        if (members.Any(m => m.Weights.Bank.ToJson() != bank)) throw new ArgumentException("all members must share one feature bank", nameof(members));
        if (members.Any(m => m.Weights.Classes != ModelManifest.HippocampusLabels.Count))
            throw new ArgumentException($"the hippocampus labels need {ModelManifest.HippocampusLabels.Count} classes", nameof(members));
        var training = ModelFolderWriter.ParseObject(info.TrainingJson, nameof(info.TrainingJson));
        var metrics = info.MetricsJson is null ? (JsonElement?)null : ModelFolderWriter.ParseObject(info.MetricsJson, nameof(info.MetricsJson));

        var written = ModelFolderWriter.WriteMembers(folder, [.. members.Select(m => m.Fold)], (i, path, metadata) =>
            VoxelClassifierOnnxExporter.Export(members[i].Weights, path, new VoxelClassifierExportOptions
            {
                Name = info.Name,
                Version = info.Version,
                Description = info.Description,
                Training = info.TrainingJson,
                ExtraMetadata = metadata,
            }));
        var manifest = new ModelManifest
        {
            Name = info.Name,
            Version = info.Version,
            Description = info.Description,
            SizeMultiple = 1,
            Padding = PaddingLocation.Graph,
            NormalizationRegion = info.NormalizationRegion,
            Members = written,
            Training = training,
            Metrics = metrics,
        };
        manifest.Save(folder);
        return manifest;
    }
}
