namespace HippoNode.Classification;

/// <summary>
/// A class activation map (Zhou et al., CVPR 2016): the positive-class evidence of every cell of the last feature map,
/// evidence(x, y) = bias + Σ_c w_c · F_c(y, x), with w and bias the head's evidence vector. Because the head reads the
/// global average of the features, the mean of this map is exactly the positive-class logit.
/// </summary>
public sealed class ClassActivationMap
{
    private ClassActivationMap(int width, int height, float[] values)
    {
        Width = width;
        Height = height;
        Values = values;
    }

    /// <summary>Cells along x (feature-map columns).</summary>
    public int Width { get; }

    /// <summary>Cells along y (feature-map rows).</summary>
    public int Height { get; }

    /// <summary>Evidence per cell, row-major.</summary>
    public float[] Values { get; }

    /// <summary>The mean evidence: the positive-class logit the map explains.</summary>
    public double Mean => Values.Average(v => (double)v);

    /// <summary>The map for features laid out [C, height, width] (row-major, one image).</summary>
    /// <exception cref="ArgumentException">The sizes do not match.</exception>
    public static ClassActivationMap Compute(ReadOnlySpan<float> features, int channels, int height, int width, IReadOnlyList<float> weights, float bias)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var cells = height * width;
        if (channels < 1 || cells < 1 || features.Length != channels * cells) throw new ArgumentException($"{features.Length} feature values do not fill [{channels}, {height}, {width}]");
        if (weights.Count != channels) throw new ArgumentException($"{weights.Count} weights for {channels} feature channels");
        var values = new double[cells];
        Array.Fill(values, bias);
        for (var c = 0; c < channels; c++)
        {
            var w = (double)weights[c];
            var plane = features.Slice(c * cells, cells);
            for (var i = 0; i < cells; i++) values[i] += w * plane[i];
        }
        return new ClassActivationMap(width, height, [.. values.Select(v => (float)v)]);
    }

    /// <summary>
    /// The map resampled bilinearly onto an image of <paramref name="width"/> x <paramref name="height"/>, cell centres at
    /// ((i + 0.5) · width / Width - 0.5) (PyTorch's <c>align_corners=False</c>), edges held: the feature grid covers the
    /// whole image because the network saw the whole image stretched to its input.
    /// </summary>
    public float[] Upsample(int width, int height)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"target size {width}x{height} must be positive");
        var xs = Taps(width, Width);
        var ys = Taps(height, Height);
        var result = new float[width * height];
        for (var y = 0; y < height; y++)
        {
            var (y0, y1, fy) = ys[y];
            for (var x = 0; x < width; x++)
            {
                var (x0, x1, fx) = xs[x];
                var top = Values[y0 * Width + x0] * (1 - fx) + Values[y0 * Width + x1] * fx;
                var bottom = Values[y1 * Width + x0] * (1 - fx) + Values[y1 * Width + x1] * fx;
                result[y * width + x] = top * (1 - fy) + bottom * fy;
            }
        }
        return result;
    }

    /// <summary>
    /// Positive evidence relative to its maximum: max(v, 0) / max over the map, in [0, 1]; all zeros when no cell has
    /// positive evidence (nothing points towards the positive class, so nothing is highlighted).
    /// </summary>
    public static float[] RelativePositive(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var max = values.Length == 0 ? 0 : values.Max();
        var result = new float[values.Length];
        if (!(max > 0)) return result;
        for (var i = 0; i < values.Length; i++) result[i] = Math.Max(values[i], 0) / max;
        return result;
    }

    private static (int I0, int I1, float F)[] Taps(int outSize, int inSize)
    {
        var taps = new (int, int, float)[outSize];
        var scale = (double)inSize / outSize;
        for (var o = 0; o < outSize; o++)
        {
            var src = Math.Clamp((o + 0.5) * scale - 0.5, 0, inSize - 1);
            var i0 = (int)Math.Floor(src);
            var i1 = Math.Min(i0 + 1, inSize - 1);
            taps[o] = (i0, i1, (float)(src - i0));
        }
        return taps;
    }
}
