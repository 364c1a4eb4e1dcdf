using System.Globalization;
using System.Text;

namespace HippoNode.Imaging;

/// <summary>A 4x4 affine voxel-to-world matrix in doubles (the last row is always 0 0 0 1): maps voxel indices (i, j, k) to millimetres.</summary>
public sealed class AffineMatrix : IEquatable<AffineMatrix>
{
    // Only the top three rows are stored: the bottom row of an affine is fixed, and keeping it out means no
    // caller can build a projective matrix by accident.
    private readonly double[] _m;

    private AffineMatrix(double[] top12) => _m = top12;

    /// <summary>The identity (1 mm voxels, origin at voxel 0).</summary>
    public static AffineMatrix Identity { get; } = Diagonal(1, 1, 1);

    /// <summary>A matrix from 12 (top three rows) or 16 (full, last row must be 0 0 0 1) row-major values.</summary>
    public static AffineMatrix FromRowMajor(ReadOnlySpan<double> values)
    {
        if (values.Length is not (12 or 16)) throw new ArgumentException($"an affine needs 12 or 16 values, got {values.Length}", nameof(values));
        if (values.Length == 16 && (values[12] != 0 || values[13] != 0 || values[14] != 0 || values[15] != 1))
            throw new ArgumentException("the last row of an affine must be 0 0 0 1", nameof(values));
        var top = values[..12].ToArray();
        foreach (var v in top)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("affine values must be finite", nameof(values));
        }
        return new AffineMatrix(top);
    }

    /// <summary>A scaling matrix with the voxel sizes on the diagonal and no translation.</summary>
    public static AffineMatrix Diagonal(double sx, double sy, double sz) =>
        FromRowMajor([sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, sz, 0]);

    /// <summary>A scaling matrix with <paramref name="spacing"/> on the diagonal and no translation.</summary>
    public static AffineMatrix Diagonal(Spacing3 spacing) => Diagonal(spacing.X, spacing.Y, spacing.Z);

    /// <summary>Element at <paramref name="row"/> (0-3) and <paramref name="col"/> (0-3).</summary>
    public double this[int row, int col]
    {
        get
        {
            if ((uint)col > 3) throw new ArgumentOutOfRangeException(nameof(col));
            return row switch
            {
                >= 0 and <= 2 => _m[row * 4 + col],
                3 => col == 3 ? 1 : 0,
                _ => throw new ArgumentOutOfRangeException(nameof(row)),
            };
        }
    }

    /// <summary>The world position (mm) of voxel index (i, j, k).</summary>
    public (double X, double Y, double Z) Transform(double i, double j, double k) =>
        (_m[0] * i + _m[1] * j + _m[2] * k + _m[3],
         _m[4] * i + _m[5] * j + _m[6] * k + _m[7],
         _m[8] * i + _m[9] * j + _m[10] * k + _m[11]);

    /// <summary>The length of each of the first three columns: the voxel size along i, j and k.</summary>
    public Spacing3 ColumnNorms() => new(
        Math.Sqrt(_m[0] * _m[0] + _m[4] * _m[4] + _m[8] * _m[8]),
        Math.Sqrt(_m[1] * _m[1] + _m[5] * _m[5] + _m[9] * _m[9]),
        Math.Sqrt(_m[2] * _m[2] + _m[6] * _m[6] + _m[10] * _m[10]));

    /// <summary>The determinant of the 3x3 linear part (negative for a left-handed voxel grid).</summary>
    public double Determinant3x3() =>
        _m[0] * (_m[5] * _m[10] - _m[6] * _m[9])
        - _m[1] * (_m[4] * _m[10] - _m[6] * _m[8])
        + _m[2] * (_m[4] * _m[9] - _m[5] * _m[8]);

    /// <summary>The largest absolute difference between corresponding elements.</summary>
    public double MaxAbsDifference(AffineMatrix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var max = 0.0;
        for (var i = 0; i < 12; i++) max = Math.Max(max, Math.Abs(_m[i] - other._m[i]));
        return max;
    }

    /// <summary>True when no element differs by more than <paramref name="tolerance"/>.</summary>
    public bool ApproximatelyEquals(AffineMatrix other, double tolerance) => MaxAbsDifference(other) <= tolerance;

    /// <summary>All 16 elements, row-major.</summary>
    public double[] ToArray() => [.. _m, 0, 0, 0, 1];

    /// <inheritdoc />
    public bool Equals(AffineMatrix? other) => other is not null && _m.AsSpan().SequenceEqual(other._m);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is AffineMatrix a && Equals(a);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in _m) h.Add(v);
        return h.ToHashCode();
    }

    /// <summary>The three top rows as "[a b c d; e f g h; i j k l]".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (var r = 0; r < 3; r++)
        {
            if (r > 0) sb.Append("; ");
            for (var c = 0; c < 4; c++)
            {
                if (c > 0) sb.Append(' ');
                sb.Append(_m[r * 4 + c].ToString("0.######", CultureInfo.InvariantCulture));
            }
        }
        return sb.Append(']').ToString();
    }
}
