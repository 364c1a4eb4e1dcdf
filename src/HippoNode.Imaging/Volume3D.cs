namespace HippoNode.Imaging;

/// <summary>A scalar 3D image: float voxels with x fastest (NIfTI order), voxel spacing and a voxel-to-world affine.</summary>
/// <remarks>Independent of any file format: NIfTI files and DICOM series both become one of these.</remarks>
public sealed class Volume3D
{
    /// <summary>A volume over <paramref name="data"/> (not copied), which must hold exactly <c>shape.VoxelCount</c> values.</summary>
    public Volume3D(VolumeShape shape, float[] data, Spacing3 spacing, AffineMatrix affine)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(affine);
        if (shape.X < 1 || shape.Y < 1 || shape.Z < 1) throw new ArgumentException($"every dimension must be at least 1, got {shape}", nameof(shape));
        if (shape.VoxelCount != data.Length) throw new ArgumentException($"shape {shape} needs {shape.VoxelCount} voxels, data has {data.Length}", nameof(data));
        if (!IsPositiveFinite(spacing.X) || !IsPositiveFinite(spacing.Y) || !IsPositiveFinite(spacing.Z))
            throw new ArgumentException($"spacing must be positive and finite, got {spacing}", nameof(spacing));
        Shape = shape;
        Data = data;
        Spacing = spacing;
        Affine = affine;
    }

    /// <summary>A zero-filled volume; the affine defaults to the spacing on the diagonal.</summary>
    public static Volume3D Create(VolumeShape shape, Spacing3 spacing, AffineMatrix? affine = null)
    {
        if (shape.X < 1 || shape.Y < 1 || shape.Z < 1) throw new ArgumentException($"every dimension must be at least 1, got {shape}", nameof(shape));
        if (shape.VoxelCount > Array.MaxLength) throw new ArgumentException($"shape {shape} is too large for one array", nameof(shape));
        return new Volume3D(shape, new float[shape.VoxelCount], spacing, affine ?? AffineMatrix.Diagonal(spacing));
    }

    /// <summary>Size in voxels.</summary>
    public VolumeShape Shape { get; }

    /// <summary>Voxel values, index x + X·(y + Y·z).</summary>
    public float[] Data { get; }

    /// <summary>Voxel size in mm.</summary>
    public Spacing3 Spacing { get; }

    /// <summary>Voxel index to world (mm).</summary>
    public AffineMatrix Affine { get; }

    /// <summary>Number of voxels.</summary>
    public int VoxelCount => Data.Length;

    /// <summary>The flat index of voxel (x, y, z).</summary>
    public int Index(int x, int y, int z)
    {
        if ((uint)x >= (uint)Shape.X || (uint)y >= (uint)Shape.Y || (uint)z >= (uint)Shape.Z)
            throw new ArgumentOutOfRangeException(nameof(x), $"voxel ({x}, {y}, {z}) lies outside {Shape}");
        return x + Shape.X * (y + Shape.Y * z);
    }

    /// <summary>The value at voxel (x, y, z).</summary>
    public float this[int x, int y, int z]
    {
        get => Data[Index(x, y, z)];
        set => Data[Index(x, y, z)] = value;
    }

    /// <summary>The smallest and largest value, ignoring NaN; (NaN, NaN) when every voxel is NaN.</summary>
    public (float Min, float Max) Range()
    {
        var min = float.PositiveInfinity;
        var max = float.NegativeInfinity;
        foreach (var v in Data)
        {
            if (float.IsNaN(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return min > max ? (float.NaN, float.NaN) : (min, max);
    }

    /// <summary>True when shape and affine (within <paramref name="affineTolerance"/> mm) agree: the two volumes lie on the same grid.</summary>
    public bool SameGrid(Volume3D other, double affineTolerance = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Shape == other.Shape && Affine.ApproximatelyEquals(other.Affine, affineTolerance);
    }

    private static bool IsPositiveFinite(double v) => double.IsFinite(v) && v > 0;
}
