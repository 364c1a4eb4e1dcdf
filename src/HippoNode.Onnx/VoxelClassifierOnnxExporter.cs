namespace HippoNode.Onnx;

/// <summary>What to write besides the weights: tensor names, identity and training information.</summary>
public sealed class VoxelClassifierExportOptions() : OnnxExportOptions("hippocampus-voxel-mlp",
    "per-voxel MLP on fixed multi-scale features (CPU baseline), 0 background, 1 anterior, 2 posterior")
{
    /// <summary>The output tensor's name (softmax probabilities).</summary>
    public string OutputName { get; init; } = "probabilities";

    /// <summary>Also expose the raw (unstandardised) feature channels as a second output <c>features</c> [batch, F, depth, height, width], for checking the C# feature code against the graph; off for deployed models.</summary>
    public bool ExposeFeatures { get; init; }
}

/// <summary>Turns a <see cref="VoxelClassifierWeights"/> into an ONNX model that takes any input size.</summary>
/// <remarks>
/// <para>Graph (opset 17): input <c>image</c> float32 [batch, 1, depth, height, width], dynamic sizes; output
/// <c>probabilities</c> [batch, classes, depth, height, width]. No pooling, so no size multiple and no padding.</para>
/// <para>Filters: the distinct separable kernels, grouped by input (image or image²) and kernel lengths, run as three
/// Conv nodes per group (along W with [C, 1, 1, 1, Lx], then depthwise along H and along D, zero padding), then Split
/// into channels. LocalVariance: Sub(G(I²), Mul(G(I), G(I))). Shifted: Pad with zeros on one side and Slice back.
/// Coordinates: Shape → Gather → Cast → Range(0.5, n, 1) → (Div n | Mul scale | (n - r)·scale) → Reshape → Expand.
/// Then Concat (feature order) → Sub mean → Mul scale → per layer Conv 1x1x1 (+ Relu) → Softmax(axis 1).</para>
/// </remarks>
public static class VoxelClassifierOnnxExporter
{
    /// <summary>The serialised ONNX model for <paramref name="weights"/>.</summary>
    public static byte[] Export(VoxelClassifierWeights weights, VoxelClassifierExportOptions? options = null)
    {
        options ??= new VoxelClassifierExportOptions();
        return Build(weights, options).ToBytes(Info(weights, options));
    }

    /// <summary>Writes the ONNX model for <paramref name="weights"/> to <paramref name="path"/>.</summary>
    public static void Export(VoxelClassifierWeights weights, string path, VoxelClassifierExportOptions? options = null)
    {
        options ??= new VoxelClassifierExportOptions();
        Build(weights, options).Save(path, Info(weights, options));
    }

    /// <summary>The metadata properties written.</summary>
    public static OnnxModelInfo Info(VoxelClassifierWeights weights, VoxelClassifierExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        return options.ModelInfo(weights.ArchitectureJson(), new Dictionary<string, string>
        {
            ["layout"] = "NCDHW; D = NIfTI z, H = y, W = x (voxel array as stored)",
            ["size_handling"] = "any size: no pooling, no padding to a multiple; filters and shifts read zeros outside the volume",
            ["output"] = "softmax probabilities over axis 1",
        });
    }

    internal static OnnxGraphBuilder Build(VoxelClassifierWeights weights, VoxelClassifierExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        weights.Validate();
        var bank = weights.Bank;
        var g = new OnnxGraphBuilder("voxel_mlp", options.Opset);
        OnnxDim[] inputShape = [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(1), OnnxDim.Dynamic("depth"), OnnxDim.Dynamic("height"), OnnxDim.Dynamic("width")];
        var image = g.AddInput(options.InputName, OnnxElementType.Float, inputShape, "z-scored image, NCDHW with D = NIfTI z, H = y, W = x");

        var filtered = BuildFilters(g, image, bank);
        var shape = g.Node("Shape", [image], "shape");
        var axisValues = new Dictionary<int, (string N, string R)>();
        var channels = new string[bank.Count];
        for (var i = 0; i < bank.Count; i++)
        {
            var f = bank.Features[i];
            channels[i] = f.Kind switch
            {
                VoxelFeatureKind.Image => image,
                VoxelFeatureKind.Gaussian => filtered[(false, KernelKey(f))],
                VoxelFeatureKind.LocalVariance => LocalVariance(g, filtered, f, i),
                VoxelFeatureKind.Shifted => Shift(g, channels[f.Source], f.Offset, i),
                _ => Coordinate(g, shape, axisValues, f, i),
            };
        }
        var features = g.Node("Concat", channels, "features", OnnxAttribute.Int("axis", 1));
        var mean = g.AddInitializer("standardize.mean", weights.FeatureMean, [1, bank.Count, 1, 1, 1]);
        var scale = g.AddInitializer("standardize.scale", weights.FeatureScale, [1, bank.Count, 1, 1, 1]);
        var x = g.Node("Mul", [g.Node("Sub", [features, mean], "standardize.sub"), scale], "standardize");
        for (var l = 0; l < weights.Layers.Count; l++)
        {
            var layer = weights.Layers[l];
            var w = g.AddInitializer($"layers.{l}.weight", layer.Weight, [layer.Outputs, layer.Inputs, 1, 1, 1]);
            var b = g.AddInitializer($"layers.{l}.bias", layer.Bias, [layer.Outputs]);
            x = g.Node("Conv", [x, w, b], $"layers.{l}", OnnxAttribute.Ints("kernel_shape", 1, 1, 1));
            if (layer.Relu) x = g.Node("Relu", [x], $"layers.{l}.relu");
        }
        var probs = g.Node("Softmax", [x], "softmax", OnnxAttribute.Int("axis", 1));
        g.Rename(probs, options.OutputName);
        OnnxDim[] outputShape = [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(weights.Classes), OnnxDim.Dynamic("depth"), OnnxDim.Dynamic("height"), OnnxDim.Dynamic("width")];
        g.AddOutput(options.OutputName, OnnxElementType.Float, outputShape, "softmax probabilities per class, same grid as the input");
        if (options.ExposeFeatures)
        {
            var exposed = g.Node("Identity", [features], "features.exposed");
            g.Rename(exposed, "features");
            g.AddOutput("features", OnnxElementType.Float,
                [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(bank.Count), OnnxDim.Dynamic("depth"), OnnxDim.Dynamic("height"), OnnxDim.Dynamic("width")], "raw feature channels");
        }
        return g;
    }

    private static (double Sigma, int X, int Y, int Z) KernelKey(VoxelFeature f) =>
        f.Kind == VoxelFeatureKind.Gaussian ? (f.Sigma, f.Order.X, f.Order.Y, f.Order.Z) : (f.Sigma, 0, 0, 0);

    /// <summary>Every separable filter the bank needs, keyed by (input is image², kernel), computed in grouped Conv nodes.</summary>
    private static Dictionary<(bool Squared, (double, int, int, int) Kernel), string> BuildFilters(OnnxGraphBuilder g, string image, VoxelFeatureBank bank)
    {
        var requests = new List<(bool Squared, VoxelFeature Feature)>();
        var seen = new HashSet<(bool, (double, int, int, int))>();
        foreach (var f in bank.Features)
        {
            if (f.Kind == VoxelFeatureKind.Gaussian && seen.Add((false, KernelKey(f)))) requests.Add((false, f));
            if (f.Kind == VoxelFeatureKind.LocalVariance)
            {
                if (seen.Add((false, KernelKey(f)))) requests.Add((false, VoxelFeature.Gaussian(f.Sigma)));
                if (seen.Add((true, KernelKey(f)))) requests.Add((true, VoxelFeature.Gaussian(f.Sigma)));
            }
        }
        var result = new Dictionary<(bool, (double, int, int, int)), string>();
        if (requests.Count == 0) return result;
        string? squared = requests.Any(r => r.Squared) ? g.Node("Mul", [image, image], "image_squared") : null;
        var groups = requests
            .Select(r => (r.Squared, r.Feature, Kx: r.Feature.Kernel(0), Ky: r.Feature.Kernel(1), Kz: r.Feature.Kernel(2)))
            .GroupBy(r => (r.Squared, r.Kx.Length, r.Ky.Length, r.Kz.Length))
            .ToList();
        var gi = 0;
        foreach (var group in groups)
        {
            var members = group.ToList();
            var c = members.Count;
            var (sq, lx, ly, lz) = group.Key;
            var p = $"filters.{gi++}";
            var wx = g.AddInitializer(p + ".x", members.SelectMany(m => m.Kx).ToArray(), [c, 1, 1, 1, lx]);
            var wy = g.AddInitializer(p + ".y", members.SelectMany(m => m.Ky).ToArray(), [c, 1, 1, ly, 1]);
            var wz = g.AddInitializer(p + ".z", members.SelectMany(m => m.Kz).ToArray(), [c, 1, lz, 1, 1]);
            var input = sq ? squared! : image;
            var t = g.Node("Conv", [input, wx], p + ".convx", OnnxAttribute.Ints("kernel_shape", 1, 1, lx), OnnxAttribute.Ints("pads", 0, 0, lx / 2, 0, 0, lx / 2));
            t = g.Node("Conv", [t, wy], p + ".convy", OnnxAttribute.Ints("kernel_shape", 1, ly, 1), OnnxAttribute.Ints("pads", 0, ly / 2, 0, 0, ly / 2, 0), OnnxAttribute.Int("group", c));
            t = g.Node("Conv", [t, wz], p + ".convz", OnnxAttribute.Ints("kernel_shape", lz, 1, 1), OnnxAttribute.Ints("pads", lz / 2, 0, 0, lz / 2, 0, 0), OnnxAttribute.Int("group", c));
            var outputs = c == 1 ? [t] : g.Node("Split", [t], c, p + ".split", OnnxAttribute.Int("axis", 1));
            for (var k = 0; k < c; k++) result[(members[k].Squared, KernelKey(members[k].Feature))] = outputs[k];
        }
        return result;
    }

    private static string LocalVariance(OnnxGraphBuilder g, Dictionary<(bool, (double, int, int, int)), string> filtered, VoxelFeature f, int index)
    {
        var key = KernelKey(f);
        var mean = filtered[(false, key)];
        var meanSq = g.Node("Mul", [mean, mean], $"feature.{index}.mean_squared");
        return g.Node("Sub", [filtered[(true, key)], meanSq], $"feature.{index}.localvar");
    }

    private static string Shift(OnnxGraphBuilder g, string source, (int X, int Y, int Z) offset, int index)
    {
        if (offset == (0, 0, 0)) return source;
        // Axes 2, 3, 4 = z, y, x. Reading x + d: d > 0 pads d zeros after and slices from d; d < 0 pads -d before and slices to -|d|.
        int[] d = [offset.Z, offset.Y, offset.X];
        long[] pads = [0, 0, Math.Max(-d[0], 0), Math.Max(-d[1], 0), Math.Max(-d[2], 0), 0, 0, Math.Max(d[0], 0), Math.Max(d[1], 0), Math.Max(d[2], 0)];
        var p = $"feature.{index}.shift";
        var padded = g.Node("Pad", [source, g.AddInitializer(p + ".pads", pads, [10]), g.AddInitializer(p + ".value", [0f], [])], p + ".pad",
            OnnxAttribute.String("mode", "constant"));
        long[] starts = [Math.Max(d[0], 0), Math.Max(d[1], 0), Math.Max(d[2], 0)];
        long[] ends = [.. d.Select(v => v >= 0 ? long.MaxValue : v)];
        return g.Node("Slice", [padded, g.AddInitializer(p + ".starts", starts, [3]), g.AddInitializer(p + ".ends", ends, [3]), g.AddInitializer(p + ".axes", [2L, 3L, 4L], [3])], p);
    }

    private static string Coordinate(OnnxGraphBuilder g, string shape, Dictionary<int, (string N, string R)> axisValues, VoxelFeature f, int index)
    {
        var dim = 4 - f.Axis; // x -> W (4), y -> H (3), z -> D (2)
        var a = "xyz"[f.Axis].ToString();
        if (!axisValues.TryGetValue(f.Axis, out var v))
        {
            var n = g.Node("Gather", [shape, g.AddInitializer($"coord.{a}.dim", [(long)dim], [])], $"coord.{a}.size", OnnxAttribute.Int("axis", 0));
            var nf = g.Node("Cast", [n], $"coord.{a}.size_float", OnnxAttribute.Int("to", (long)OnnxElementType.Float));
            var r = g.Node("Range", [g.AddInitializer($"coord.{a}.start", [0.5f], []), nf, g.AddInitializer($"coord.{a}.delta", [1f], [])], $"coord.{a}.centres");
            axisValues[f.Axis] = v = (nf, r);
        }
        var p = $"feature.{index}.coord";
        var values = f.Mode switch
        {
            CoordinateMode.Normalized => g.Node("Div", [v.R, v.N], p + ".normalized"),
            CoordinateMode.FromStart => g.Node("Mul", [v.R, g.AddInitializer(p + ".scale", [f.Scale], [])], p + ".from_start"),
            _ => g.Node("Mul", [g.Node("Sub", [v.N, v.R], p + ".reversed"), g.AddInitializer(p + ".scale", [f.Scale], [])], p + ".from_end"),
        };
        long[] target = [1, 1, 1, 1, 1];
        target[dim] = -1;
        var reshaped = g.Node("Reshape", [values, g.AddInitializer(p + ".shape", target, [5])], p + ".reshape");
        return g.Node("Expand", [reshaped, shape], p);
    }
}
