using HippoNode.Imaging;

namespace HippoNode.Segmentation.Inference;

/// <summary>The volume of one structure of a label map.</summary>
/// <param name="Structure">The structure's name.</param>
/// <param name="Voxels">Voxels inside it.</param>
/// <param name="VolumeMm3">Voxels times the voxel volume, in mm³.</param>
public sealed record StructureVolume(string Structure, long Voxels, double VolumeMm3);

/// <summary>What <see cref="SegmentationModel.Segment"/> produced for one volume.</summary>
public sealed class SegmentationResult
{
    internal SegmentationResult(VolumeShape shape, Spacing3 spacing, AffineMatrix affine, byte[] labels, float[] probabilities,
        IReadOnlyList<byte[]> memberLabels, IReadOnlyList<StructureVolume> volumes, double agreement, IReadOnlyList<TimeSpan> memberTimes, TimeSpan total)
    {
        Shape = shape;
        Spacing = spacing;
        Affine = affine;
        Labels = labels;
        Probabilities = probabilities;
        MemberLabels = memberLabels;
        Volumes = volumes;
        Agreement = agreement;
        MemberTimes = memberTimes;
        Total = total;
    }

    /// <summary>The grid of the input volume (and of every map here).</summary>
    public VolumeShape Shape { get; }

    /// <summary>The input's voxel size.</summary>
    public Spacing3 Spacing { get; }

    /// <summary>The input's affine.</summary>
    public AffineMatrix Affine { get; }

    /// <summary>The ensemble label map (argmax of the mean probabilities), one byte per voxel, x fastest.</summary>
    public byte[] Labels { get; }

    /// <summary>The ensemble's mean probabilities: one volume per label channel, channel-major, x fastest.</summary>
    public float[] Probabilities { get; }

    /// <summary>Each member's own label map (argmax of its probabilities), in member order.</summary>
    public IReadOnlyList<byte[]> MemberLabels { get; }

    /// <summary>Per-structure volumes of the ensemble label map.</summary>
    public IReadOnlyList<StructureVolume> Volumes { get; }

    /// <summary>Mean pairwise Dice of the members' foreground (all non-background labels: the whole hippocampus); 1 with one member.</summary>
    public double Agreement { get; }

    /// <summary>Wall time of each member's ONNX Runtime call.</summary>
    public IReadOnlyList<TimeSpan> MemberTimes { get; }

    /// <summary>Wall time of the whole call (normalisation, members, ensemble, argmax, volumes).</summary>
    public TimeSpan Total { get; }

    /// <summary>The volume of the named structure in mm³.</summary>
    /// <exception cref="KeyNotFoundException">No such structure in the manifest.</exception>
    public double VolumeMm3(string structure) =>
        Volumes.FirstOrDefault(v => v.Structure == structure)?.VolumeMm3 ?? throw new KeyNotFoundException($"no structure '{structure}'");

    /// <summary>The ensemble label map as a volume on the input's grid (for NIfTI or DICOM SEG writing).</summary>
    public Volume3D ToLabelVolume() => ToVolume(Labels);

    /// <summary>A label map of this result (e.g. one of <see cref="MemberLabels"/>) as a volume on the input's grid.</summary>
    public Volume3D ToVolume(byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var data = new float[labels.Length];
        for (var i = 0; i < labels.Length; i++) data[i] = labels[i];
        return new Volume3D(Shape, data, Spacing, Affine);
    }
}
