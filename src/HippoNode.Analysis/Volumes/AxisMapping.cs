using System.Globalization;
using HippoNode.Imaging;

namespace HippoNode.Analysis.Volumes;

/// <summary>
/// The permutation and flips that take a DICOM series' voxel grid (column, row, slice) to the model's training axes
/// (the closest canonical RAS order: voxel i toward patient Right, j toward Anterior, k toward Superior), and back.
/// </summary>
/// <remarks>
/// Like nibabel's <c>as_closest_canonical</c>: each source axis goes to the RAS axis its direction is closest to, reversed
/// when it points the other way; nothing is resampled. For a series with Image Orientation (Patient) 1\0\0\0\1\0 and
/// slices ascending in z (the TestVolumes HippoCrop) this gives i = Columns-1-column, j = Rows-1-row, k = slice: the
/// Udacity reference loader's <c>np.flip(pixel_array).T</c>. <see cref="ObliquityDegrees"/> is the largest angle between a
/// source axis and the RAS axis it was given; the caller refuses series above its threshold.
/// </remarks>
public sealed class AxisMapping
{
    private static readonly string[] SourceNames = ["column", "row", "slice"];
    private static readonly string[] ModelNames = ["i", "j", "k"];

    private AxisMapping(int[] sourceAxis, bool[] reversed, VolumeShape sourceShape, double obliquity)
    {
        SourceAxis = sourceAxis;
        Reversed = reversed;
        SourceShape = sourceShape;
        ModelShape = new VolumeShape(sourceShape[sourceAxis[0]], sourceShape[sourceAxis[1]], sourceShape[sourceAxis[2]]);
        ObliquityDegrees = obliquity;
    }

    /// <summary>For model axis t (0 = i, 1 = j, 2 = k): the source axis (0 = column, 1 = row, 2 = slice) it reads.</summary>
    public IReadOnlyList<int> SourceAxis { get; }

    /// <summary>For model axis t: true when it runs against its source axis (index N-1-source).</summary>
    public IReadOnlyList<bool> Reversed { get; }

    /// <summary>The source grid: X = Columns, Y = Rows, Z = slices (in spatial order).</summary>
    public VolumeShape SourceShape { get; }

    /// <summary>The model grid.</summary>
    public VolumeShape ModelShape { get; }

    /// <summary>The largest angle, in degrees, between a source axis and the RAS axis it was mapped to.</summary>
    public double ObliquityDegrees { get; }

    /// <summary>True when the mapping changes nothing.</summary>
    public bool IsIdentity => SourceAxis[0] == 0 && SourceAxis[1] == 1 && SourceAxis[2] == 2 && !Reversed.Any(r => r);

    /// <summary>The closest canonical mapping for a source grid whose voxel-to-RAS affine is <paramref name="sourceToRas"/>.</summary>
    /// <exception cref="ArgumentException">The affine is degenerate (an axis of zero length).</exception>
    public static AxisMapping FromAffine(AffineMatrix sourceToRas, VolumeShape sourceShape)
    {
        ArgumentNullException.ThrowIfNull(sourceToRas);
        var dirs = new double[3][];
        for (var a = 0; a < 3; a++)
        {
            var col = new[] { sourceToRas[0, a], sourceToRas[1, a], sourceToRas[2, a] };
            var len = Math.Sqrt(col.Sum(v => v * v));
            if (!(len > 1e-9)) throw new ArgumentException($"source axis {SourceNames[a]} has zero length in the affine {sourceToRas}", nameof(sourceToRas));
            dirs[a] = [.. col.Select(v => v / len)];
        }
        // Greedy on the largest direction cosine: exact for the axis-aligned and mildly oblique grids we accept, and
        // never assigns two source axes to one RAS axis.
        var sourceAxis = new int[3];
        var reversed = new bool[3];
        var usedSource = new bool[3];
        var usedModel = new bool[3];
        var obliquity = 0.0;
        var pairs = (from a in Enumerable.Range(0, 3) from t in Enumerable.Range(0, 3) select (a, t, c: Math.Abs(dirs[a][t])))
            .OrderByDescending(p => p.c).ThenBy(p => p.a).ThenBy(p => p.t);
        foreach (var (a, t, c) in pairs)
        {
            if (usedSource[a] || usedModel[t]) continue;
            usedSource[a] = usedModel[t] = true;
            sourceAxis[t] = a;
            reversed[t] = dirs[a][t] < 0;
            obliquity = Math.Max(obliquity, Math.Acos(Math.Min(1, c)) * 180 / Math.PI);
        }
        return new AxisMapping(sourceAxis, reversed, sourceShape, obliquity);
    }

    /// <summary>The model grid's voxel-to-RAS affine, given the source grid's.</summary>
    public AffineMatrix ModelAffine(AffineMatrix sourceToRas)
    {
        ArgumentNullException.ThrowIfNull(sourceToRas);
        var m = new double[12];
        var origin = new double[3];
        for (var r = 0; r < 3; r++) origin[r] = sourceToRas[r, 3];
        for (var t = 0; t < 3; t++)
        {
            var a = SourceAxis[t];
            var sign = Reversed[t] ? -1.0 : 1.0;
            for (var r = 0; r < 3; r++)
            {
                m[r * 4 + t] = sign * sourceToRas[r, a];
                if (Reversed[t]) origin[r] += sourceToRas[r, a] * (SourceShape[a] - 1);
            }
        }
        for (var r = 0; r < 3; r++) m[r * 4 + 3] = origin[r];
        return AffineMatrix.FromRowMajor(m);
    }

    /// <summary>The model grid's voxel size, given the source grid's.</summary>
    public Spacing3 ModelSpacing(Spacing3 source) => new(source[SourceAxis[0]], source[SourceAxis[1]], source[SourceAxis[2]]);

    /// <summary>Reorders a source-grid array (column fastest, then row, then slice) into the model grid (i fastest).</summary>
    public T[] ToModel<T>(ReadOnlySpan<T> source)
    {
        Check(source.Length);
        var model = new T[source.Length];
        var (baseOffset, step) = ModelSteps();
        var i = 0;
        for (var z = 0; z < SourceShape.Z; z++)
            for (var y = 0; y < SourceShape.Y; y++)
            {
                var offset = baseOffset + z * step[2] + y * step[1];
                for (var x = 0; x < SourceShape.X; x++, i++) model[offset + x * step[0]] = source[i];
            }
        return model;
    }

    /// <summary>Reorders a model-grid array back to the source grid (column fastest, then row, then slice): the inverse of <see cref="ToModel{T}"/>.</summary>
    public T[] ToSource<T>(ReadOnlySpan<T> model)
    {
        Check(model.Length);
        var source = new T[model.Length];
        var (baseOffset, step) = ModelSteps();
        var i = 0;
        for (var z = 0; z < SourceShape.Z; z++)
            for (var y = 0; y < SourceShape.Y; y++)
            {
                var offset = baseOffset + z * step[2] + y * step[1];
                for (var x = 0; x < SourceShape.X; x++, i++) source[i] = model[offset + x * step[0]];
            }
        return source;
    }

    /// <summary>How each model axis reads the source, e.g. "i = 34 - column, j = 50 - row, k = slice".</summary>
    public string Describe()
    {
        var parts = new string[3];
        for (var t = 0; t < 3; t++)
        {
            var a = SourceAxis[t];
            parts[t] = Reversed[t]
                ? string.Create(CultureInfo.InvariantCulture, $"{ModelNames[t]} = {SourceShape[a] - 1} - {SourceNames[a]}")
                : $"{ModelNames[t]} = {SourceNames[a]}";
        }
        return string.Join(", ", parts);
    }

    /// <inheritdoc />
    public override string ToString() => Describe();

    // Per source axis: how far one step moves in the model array, and where source voxel (0, 0, 0) lands.
    private (int BaseOffset, int[] Step) ModelSteps()
    {
        int[] modelStride = [1, ModelShape.X, ModelShape.X * ModelShape.Y];
        var step = new int[3];
        var baseOffset = 0;
        for (var t = 0; t < 3; t++)
        {
            var a = SourceAxis[t];
            step[a] = Reversed[t] ? -modelStride[t] : modelStride[t];
            if (Reversed[t]) baseOffset += (SourceShape[a] - 1) * modelStride[t];
        }
        return (baseOffset, step);
    }

    private void Check(int length)
    {
        if (length != SourceShape.VoxelCount) throw new ArgumentException($"expected {SourceShape.VoxelCount} voxels ({SourceShape}), got {length}");
    }
}
