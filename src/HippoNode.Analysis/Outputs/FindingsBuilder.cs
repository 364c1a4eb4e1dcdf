using HippoNode.Analysis.Volumes;
using HippoNode.Reporting;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Metrics;
using HippoNode.Segmentation.Model;

namespace HippoNode.Analysis.Outputs;

/// <summary>How one label of the model is reported: name, codes and colour.</summary>
internal sealed record SegmentDefinition(int LabelValue, string Label, CodedConcept Category, CodedConcept Type, CodedConcept? Modifier, RgbColour Colour);

/// <summary>Builds the writers' input (<see cref="StudyFindings"/>) from a segmented series.</summary>
internal static class FindingsBuilder
{
    /// <summary>SCT 91723000 "Anatomical Structure" (CID 7150 Segmentation Property Categories).</summary>
    public static readonly CodedConcept AnatomicalStructure = new("91723000", "SCT", "Anatomical Structure");

    /// <summary>SCT 5976008 "Hippocampus".</summary>
    public static readonly CodedConcept Hippocampus = new("5976008", "SCT", "Hippocampus");

    /// <summary>The model's labels 1 and 2 (MSD Task04: anterior and posterior hippocampus), as SEG segments.</summary>
    public static IReadOnlyList<SegmentDefinition> Catalogue { get; } =
    [
        new(1, "anterior hippocampus", AnatomicalStructure, Hippocampus, new("255549009", "SCT", "Anterior"), new RgbColour(255, 165, 0)),
        new(2, "posterior hippocampus", AnatomicalStructure, Hippocampus, new("255551008", "SCT", "Posterior"), new RgbColour(0, 170, 255)),
    ];

    /// <summary>Report names of the manifest's structures.</summary>
    public static string StructureName(string structure) => structure switch
    {
        "anterior" => "anterior hippocampus",
        "posterior" => "posterior hippocampus",
        "whole" => "whole hippocampus",
        _ => structure,
    };

    /// <summary>Pairwise Dice of the members' foreground and the resulting quality figures.</summary>
    public static QualityFindings Quality(SegmentationResult result, ModelManifest manifest, double threshold)
    {
        int[] foreground = [.. manifest.Labels.Where(l => l.Value != 0).Select(l => l.Value)];
        var pairs = new List<MemberAgreement>();
        for (var a = 0; a < result.MemberLabels.Count; a++)
            for (var b = a + 1; b < result.MemberLabels.Count; b++)
                pairs.Add(new MemberAgreement(a, b, OverlapMetrics.Dice(result.MemberLabels[a], result.MemberLabels[b], foreground)));
        return new QualityFindings(result.Agreement, threshold, result.Agreement < threshold, pairs);
    }

    /// <summary>The findings on the source grid: the label map mapped back per source slice, segments, structures, quality.</summary>
    /// <exception cref="AnalysisException">The model has a label the catalogue does not describe.</exception>
    public static StudyFindings Build(SourceSeries source, AxisMapping mapping, SegmentationResult result, ModelManifest manifest, int memberCount,
        QualityFindings quality, DateTimeOffset contentTime)
    {
        var sourceLabels = mapping.ToSource<byte>(result.Labels);
        var plane = source.Rows * source.Columns;
        var labels = new byte[source.Slices.Count][];
        for (var s = 0; s < labels.Length; s++) labels[s] = sourceLabels.AsSpan(s * plane, plane).ToArray();

        var voxelVolume = result.Spacing.VoxelVolume;
        var counts = new long[256];
        foreach (var v in sourceLabels) counts[v]++;
        var segments = new List<SegmentFinding>();
        foreach (var label in manifest.Labels.Where(l => l.Value != 0))
        {
            var def = Catalogue.FirstOrDefault(d => d.LabelValue == label.Value)
                ?? throw new AnalysisException($"model label {label.Value} '{label.Name}' has no segment definition (codes, colour) in the analysis");
            segments.Add(new SegmentFinding(segments.Count + 1, def.LabelValue, def.Label, def.Category, def.Type, def.Modifier, def.Colour,
                counts[def.LabelValue] * voxelVolume, counts[def.LabelValue]));
        }

        return new StudyFindings
        {
            SourceSlices = [.. source.Slices.Select(s => s.Header)],
            Rows = source.Rows,
            Columns = source.Columns,
            Labels = labels,
            Pixels = source.Pixels,
            PixelSpacing = source.PixelSpacing,
            SliceSpacing = source.SliceSpacing,
            Segments = segments,
            Structures = [.. result.Volumes.Select(v => new StructureMeasurement(StructureName(v.Structure), v.VolumeMm3))],
            Quality = quality,
            Algorithm = new AlgorithmInfo(manifest.Name, manifest.Version, "Artificial Intelligence", memberCount),
            ContentTime = contentTime,
        };
    }
}
