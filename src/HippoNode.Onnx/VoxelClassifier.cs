using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HippoNode.Onnx;

/// <summary>What a fixed voxel feature computes.</summary>
public enum VoxelFeatureKind
{
    /// <summary>The z-scored image itself.</summary>
    Image,

    /// <summary>A separable Gaussian (or Gaussian-derivative) filter of the image, zero padding.</summary>
    Gaussian,

    /// <summary>Local variance G(I²) - G(I)² with a Gaussian window, zero padding.</summary>
    LocalVariance,

    /// <summary>An earlier feature read at a fixed voxel offset (0 outside the volume).</summary>
    Shifted,

    /// <summary>A voxel coordinate along one axis.</summary>
    Coordinate,
}

/// <summary>How a coordinate feature is scaled.</summary>
public enum CoordinateMode
{
    /// <summary>(i + 0.5) / n: the voxel centre's position in the crop, in (0, 1).</summary>
    Normalized,

    /// <summary>(i + 0.5) · scale: distance from the first voxel (the start of the crop).</summary>
    FromStart,

    /// <summary>(n - i - 0.5) · scale: distance from the last voxel (the end of the crop).</summary>
    FromEnd,
}

/// <summary>One fixed (not learned) feature channel of the voxel classifier; build with the static factories.</summary>
/// <remarks>
/// Axes: 0 = x (W, fastest), 1 = y (H), 2 = z (D). Filters are cross-correlations (ONNX Conv semantics):
/// out[i] = Σ_o k[o] · in[i + o] for o in [-r, r], with zeros outside the volume, applied along x, then y, then z.
/// </remarks>
public sealed record VoxelFeature
{
    private VoxelFeature()
    {
    }

    /// <summary>The feature's kind.</summary>
    public VoxelFeatureKind Kind { get; private init; }

    /// <summary>The Gaussian's standard deviation in voxels (Gaussian, LocalVariance).</summary>
    public double Sigma { get; private init; }

    /// <summary>The derivative order along x, y, z (0, 1 or 2; Gaussian only).</summary>
    public (int X, int Y, int Z) Order { get; private init; }

    /// <summary>The index of the feature read (Shifted only); it must come earlier in the bank.</summary>
    public int Source { get; private init; }

    /// <summary>The offset read (Shifted only): the value at (x + X, y + Y, z + Z).</summary>
    public (int X, int Y, int Z) Offset { get; private init; }

    /// <summary>The axis (Coordinate only): 0 = x, 1 = y, 2 = z.</summary>
    public int Axis { get; private init; }

    /// <summary>The coordinate's scaling (Coordinate only).</summary>
    public CoordinateMode Mode { get; private init; }

    /// <summary>The multiplier of FromStart and FromEnd coordinates.</summary>
    public float Scale { get; private init; }

    /// <summary>How far the Gaussian kernels reach, in sigmas.</summary>
    public const double Truncate = 3.0;

    /// <summary>The z-scored image.</summary>
    public static VoxelFeature Image() => new() { Kind = VoxelFeatureKind.Image };

    /// <summary>A Gaussian of <paramref name="sigma"/> voxels, differentiated <paramref name="orderX"/>/<paramref name="orderY"/>/<paramref name="orderZ"/> times along each axis.</summary>
    public static VoxelFeature Gaussian(double sigma, int orderX = 0, int orderY = 0, int orderZ = 0)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be positive");
        foreach (var o in (int[])[orderX, orderY, orderZ])
        {
            if (o is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(orderX), o, "derivative orders are 0, 1 or 2");
        }
        return new() { Kind = VoxelFeatureKind.Gaussian, Sigma = sigma, Order = (orderX, orderY, orderZ) };
    }

    /// <summary>Local variance in a Gaussian window of <paramref name="sigma"/> voxels: G(I²) - G(I)².</summary>
    public static VoxelFeature LocalVariance(double sigma)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be positive");
        return new() { Kind = VoxelFeatureKind.LocalVariance, Sigma = sigma };
    }

    /// <summary>Feature <paramref name="source"/> read at offset (<paramref name="dx"/>, <paramref name="dy"/>, <paramref name="dz"/>), 0 outside.</summary>
    public static VoxelFeature Shifted(int source, int dx, int dy, int dz)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(source);
        return new() { Kind = VoxelFeatureKind.Shifted, Source = source, Offset = (dx, dy, dz) };
    }

    /// <summary>A coordinate along <paramref name="axis"/> (0 = x, 1 = y, 2 = z).</summary>
    public static VoxelFeature Coordinate(int axis, CoordinateMode mode, float scale = 1f)
    {
        if (axis is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis is 0, 1 or 2");
        if (!(scale > 0) || !float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be positive");
        return new() { Kind = VoxelFeatureKind.Coordinate, Axis = axis, Mode = mode, Scale = mode == CoordinateMode.Normalized ? 1f : scale };
    }

    /// <summary>The correlation kernel along <paramref name="axis"/> (Gaussian and LocalVariance), length 2r + 1, r = ceil(3 sigma).</summary>
    public float[] Kernel(int axis)
    {
        if (Kind is not (VoxelFeatureKind.Gaussian or VoxelFeatureKind.LocalVariance)) throw new InvalidOperationException($"a {Kind} feature has no kernel");
        var order = axis switch
        {
            0 => Order.X,
            1 => Order.Y,
            2 => Order.Z,
            _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis is 0, 1 or 2"),
        };
        return GaussianKernel(Sigma, Kind == VoxelFeatureKind.Gaussian ? order : 0);
    }

    /// <summary>A sampled Gaussian of <paramref name="sigma"/> truncated at 3 sigma (normalised to sum 1), or its first or second derivative as correlation weights, normalised on the truncated grid so that a ramp x gives exactly +1 and a parabola x²/2 exactly +1 (and a constant 0).</summary>
    public static float[] GaussianKernel(double sigma, int order)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(order, 2);
        var r = (int)Math.Ceiling(Truncate * sigma);
        var g = new double[2 * r + 1];
        double sum = 0;
        for (var o = -r; o <= r; o++) sum += g[o + r] = Math.Exp(-0.5 * o * o / (sigma * sigma));
        for (var i = 0; i < g.Length; i++) g[i] /= sum;
        var k = new double[g.Length];
        double m2 = 0;
        for (var o = -r; o <= r; o++) m2 += o * o * g[o + r];
        for (var o = -r; o <= r; o++)
        {
            k[o + r] = order switch
            {
                0 => g[o + r],
                1 => o * g[o + r] / m2,
                _ => (o * o - m2) * g[o + r],
            };
        }
        if (order == 2)
        {
            double curvature = 0;
            for (var o = -r; o <= r; o++) curvature += o * o / 2.0 * k[o + r];
            for (var i = 0; i < k.Length; i++) k[i] /= curvature;
        }
        return [.. k.Select(v => (float)v)];
    }

    /// <summary>A short readable name, e.g. "gauss(s=2,d=100)" or "shift(3;+4,0,0)".</summary>
    public string Name => Kind switch
    {
        VoxelFeatureKind.Image => "image",
        VoxelFeatureKind.Gaussian => string.Create(CultureInfo.InvariantCulture, $"gauss(s={Sigma:0.###},d={Order.X}{Order.Y}{Order.Z})"),
        VoxelFeatureKind.LocalVariance => string.Create(CultureInfo.InvariantCulture, $"localvar(s={Sigma:0.###})"),
        VoxelFeatureKind.Shifted => string.Create(CultureInfo.InvariantCulture, $"shift({Source};{Offset.X:+0;-0;0},{Offset.Y:+0;-0;0},{Offset.Z:+0;-0;0})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"coord({"xyz"[Axis]},{Mode.ToString().ToLowerInvariant()}{(Mode == CoordinateMode.Normalized ? "" : $",{Scale:R}")})"),
    };

    internal void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("kind", Kind.ToString().ToLowerInvariant());
        switch (Kind)
        {
            case VoxelFeatureKind.Gaussian:
                w.WriteNumber("sigma", Sigma);
                w.WriteStartArray("order");
                w.WriteNumberValue(Order.X);
                w.WriteNumberValue(Order.Y);
                w.WriteNumberValue(Order.Z);
                w.WriteEndArray();
                break;
            case VoxelFeatureKind.LocalVariance:
                w.WriteNumber("sigma", Sigma);
                break;
            case VoxelFeatureKind.Shifted:
                w.WriteNumber("source", Source);
                w.WriteStartArray("offset");
                w.WriteNumberValue(Offset.X);
                w.WriteNumberValue(Offset.Y);
                w.WriteNumberValue(Offset.Z);
                w.WriteEndArray();
                break;
            case VoxelFeatureKind.Coordinate:
                w.WriteString("axis", "xyz"[Axis].ToString());
                w.WriteString("mode", Mode.ToString().ToLowerInvariant());
                if (Mode != CoordinateMode.Normalized) w.WriteNumber("scale", Scale);
                break;
        }
        w.WriteEndObject();
    }
}

/// <summary>The ordered list of fixed features a voxel classifier sees (channel i of its input is feature i).</summary>
public sealed class VoxelFeatureBank
{
    /// <summary>A bank of <paramref name="features"/>, checked (<see cref="Validate"/>).</summary>
    public VoxelFeatureBank(IReadOnlyList<VoxelFeature> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        Features = [.. features];
        Validate();
    }

    /// <summary>The features in channel order.</summary>
    public IReadOnlyList<VoxelFeature> Features { get; }

    /// <summary>The number of channels.</summary>
    public int Count => Features.Count;

    /// <summary>
    /// The hippocampus baseline's bank (49 channels): the image; Gaussians at sigma 1, 2 and 4; first derivatives at
    /// sigma 1 and 2 and second derivatives at sigma 2 along each axis; local variance at sigma 1, 2 and 4; context
    /// along each axis, both ways: the sigma-1 Gaussian read 2 voxels away, the sigma-2 Gaussian 4 and 8 voxels away,
    /// the sigma-4 Gaussian 8 voxels away; and per axis the normalised position and the distances from the crop's start
    /// and end (in units of 32 voxels; the MSD crops are centred on the hippocampus with similar margins).
    /// </summary>
    public static VoxelFeatureBank Hippocampus { get; } = CreateHippocampus();

    private static VoxelFeatureBank CreateHippocampus()
    {
        var f = new List<VoxelFeature>
        {
            VoxelFeature.Image(),
            VoxelFeature.Gaussian(1),
            VoxelFeature.Gaussian(2),
            VoxelFeature.Gaussian(4),
        };
        const int g1 = 1, g2 = 2, g4 = 3;
        foreach (var s in (double[])[1, 2])
        {
            f.Add(VoxelFeature.Gaussian(s, 1, 0, 0));
            f.Add(VoxelFeature.Gaussian(s, 0, 1, 0));
            f.Add(VoxelFeature.Gaussian(s, 0, 0, 1));
        }
        f.Add(VoxelFeature.Gaussian(2, 2, 0, 0));
        f.Add(VoxelFeature.Gaussian(2, 0, 2, 0));
        f.Add(VoxelFeature.Gaussian(2, 0, 0, 2));
        f.Add(VoxelFeature.LocalVariance(1));
        f.Add(VoxelFeature.LocalVariance(2));
        f.Add(VoxelFeature.LocalVariance(4));
        foreach (var (source, d) in (ReadOnlySpan<(int, int)>)[(g1, 2), (g2, 4), (g2, 8), (g4, 8)])
        {
            for (var axis = 0; axis < 3; axis++)
            {
                foreach (var sign in (int[])[-1, 1])
                {
                    var o = sign * d;
                    f.Add(VoxelFeature.Shifted(source, axis == 0 ? o : 0, axis == 1 ? o : 0, axis == 2 ? o : 0));
                }
            }
        }
        for (var axis = 0; axis < 3; axis++)
        {
            f.Add(VoxelFeature.Coordinate(axis, CoordinateMode.Normalized));
            f.Add(VoxelFeature.Coordinate(axis, CoordinateMode.FromStart, 1f / 32));
            f.Add(VoxelFeature.Coordinate(axis, CoordinateMode.FromEnd, 1f / 32));
        }
        return new VoxelFeatureBank(f);
    }

    /// <summary>Throws when a Shifted feature reads itself or a later feature, or the bank is empty.</summary>
    /// <exception cref="ArgumentException">The problem, named.</exception>
    public void Validate()
    {
        if (Features.Count == 0) throw new ArgumentException("a feature bank needs at least one feature");
        for (var i = 0; i < Features.Count; i++)
        {
            if (Features[i] is null) throw new ArgumentException($"feature {i} is null");
            if (Features[i].Kind == VoxelFeatureKind.Shifted && Features[i].Source >= i)
                throw new ArgumentException($"feature {i} ({Features[i].Name}) reads feature {Features[i].Source}, which does not come before it");
        }
    }

    /// <summary>The bank as a JSON array text (one object per feature).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms)) WriteJson(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    internal void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartArray();
        foreach (var f in Features) f.WriteJson(w);
        w.WriteEndArray();
    }
}

/// <summary>One fully connected layer applied per voxel (a 1x1x1 convolution): y = W x + b, then ReLU when <paramref name="Relu"/>.</summary>
/// <param name="Inputs">Input channels.</param>
/// <param name="Outputs">Output channels.</param>
/// <param name="Weight">Row-major [Outputs, Inputs] (PyTorch/ONNX order).</param>
/// <param name="Bias">[Outputs].</param>
/// <param name="Relu">True for hidden layers, false for the logits.</param>
public sealed record VoxelDenseLayer(int Inputs, int Outputs, float[] Weight, float[] Bias, bool Relu);

/// <summary>A trained voxel classifier: the feature bank, the per-feature standardisation and the MLP layers.</summary>
/// <remarks>
/// Per voxel: features f (channel order of <see cref="Bank"/>), standardised (f - mean) · scale, then the layers
/// (ReLU between them), then softmax over the last layer's outputs (one per label).
/// </remarks>
public sealed class VoxelClassifierWeights
{
    /// <summary>A classifier; the sizes must chain (<see cref="Validate"/>).</summary>
    public VoxelClassifierWeights(VoxelFeatureBank bank, float[] featureMean, float[] featureScale, IReadOnlyList<VoxelDenseLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(featureMean);
        ArgumentNullException.ThrowIfNull(featureScale);
        ArgumentNullException.ThrowIfNull(layers);
        Bank = bank;
        FeatureMean = featureMean;
        FeatureScale = featureScale;
        Layers = [.. layers];
        Validate();
    }

    /// <summary>The fixed features.</summary>
    public VoxelFeatureBank Bank { get; }

    /// <summary>Per-feature mean subtracted before the MLP.</summary>
    public float[] FeatureMean { get; }

    /// <summary>Per-feature factor applied after the subtraction (1 / standard deviation).</summary>
    public float[] FeatureScale { get; }

    /// <summary>The MLP layers, input first.</summary>
    public IReadOnlyList<VoxelDenseLayer> Layers { get; }

    /// <summary>The number of output classes (labels).</summary>
    public int Classes => Layers[^1].Outputs;

    /// <summary>Learned parameters (weights and biases; the standardisation is not counted).</summary>
    public int ParameterCount => Layers.Sum(l => l.Weight.Length + l.Bias.Length);

    /// <summary>Throws when sizes do not chain or arrays have the wrong length.</summary>
    /// <exception cref="ArgumentException">The problem, named.</exception>
    public void Validate()
    {
        var n = Bank.Count;
        if (FeatureMean.Length != n || FeatureScale.Length != n) throw new ArgumentException($"standardisation needs {n} values per array, got {FeatureMean.Length} and {FeatureScale.Length}");
        if (Layers.Count == 0) throw new ArgumentException("at least one layer is needed");
        var inputs = n;
        for (var i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            if (l.Inputs != inputs) throw new ArgumentException($"layer {i} takes {l.Inputs} inputs, the previous stage gives {inputs}");
            if (l.Outputs < 1 || l.Weight.Length != l.Inputs * l.Outputs || l.Bias.Length != l.Outputs)
                throw new ArgumentException($"layer {i}: [{l.Outputs}, {l.Inputs}] needs {l.Inputs * l.Outputs} weights and {l.Outputs} biases, got {l.Weight.Length} and {l.Bias.Length}");
            if (l.Relu == (i == Layers.Count - 1)) throw new ArgumentException($"layer {i}: hidden layers use ReLU and the last (logits) does not");
            inputs = l.Outputs;
        }
        if (Classes < 2) throw new ArgumentException("at least two classes are needed");
    }

    /// <summary>The architecture as JSON text: kind, features, standardisation sizes, layer sizes, parameter count.</summary>
    public string ArchitectureJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("kind", "voxel-mlp");
            w.WriteString("description", "per-voxel MLP (1x1x1 convolutions) on fixed multi-scale features of the z-scored image; softmax over labels");
            w.WriteNumber("features", Bank.Count);
            w.WritePropertyName("featureBank");
            Bank.WriteJson(w);
            w.WriteStartArray("layers");
            foreach (var l in Layers)
            {
                w.WriteStartObject();
                w.WriteNumber("inputs", l.Inputs);
                w.WriteNumber("outputs", l.Outputs);
                w.WriteString("activation", l.Relu ? "relu" : "softmax");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("parameters", ParameterCount);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
