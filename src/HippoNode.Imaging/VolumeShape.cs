namespace HippoNode.Imaging;

/// <summary>The size of a 3D volume in voxels along x, y and z (x varies fastest in memory).</summary>
public readonly record struct VolumeShape(int X, int Y, int Z)
{
    /// <summary>X × Y × Z.</summary>
    public long VoxelCount => (long)X * Y * Z;

    /// <summary>The size along axis 0 (x), 1 (y) or 2 (z).</summary>
    public int this[int axis] => axis switch
    {
        0 => X,
        1 => Y,
        2 => Z,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis is 0, 1 or 2"),
    };

    /// <summary>"XxYxZ", e.g. "35x51x35".</summary>
    public override string ToString() => $"{X}x{Y}x{Z}";
}

/// <summary>Voxel size in millimetres along x, y and z.</summary>
public readonly record struct Spacing3(double X, double Y, double Z)
{
    /// <summary>1 mm isotropic.</summary>
    public static Spacing3 One { get; } = new(1, 1, 1);

    /// <summary>The volume of one voxel in mm³.</summary>
    public double VoxelVolume => X * Y * Z;

    /// <summary>The size along axis 0 (x), 1 (y) or 2 (z).</summary>
    public double this[int axis] => axis switch
    {
        0 => X,
        1 => Y,
        2 => Z,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis is 0, 1 or 2"),
    };

    /// <summary>"XxYxZ mm" with invariant formatting.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"{X:0.####}x{Y:0.####}x{Z:0.####} mm");
}
