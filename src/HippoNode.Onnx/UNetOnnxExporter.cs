using System.Globalization;
using HippoNode.Segmentation.Model;

namespace HippoNode.Onnx;

/// <summary>What to write besides the weights: tensor names, size handling, identity and training information.</summary>
public sealed class UNetExportOptions() : OnnxExportOptions("hippocampus-unet3d", "3D U-Net segmentation of the hippocampus (0 background, 1 anterior, 2 posterior)")
{
    /// <summary>The output tensor's name (softmax probabilities).</summary>
    public string OutputName { get; init; } = "probabilities";

    /// <summary>Pad to the size multiple and crop back inside the graph (any input size works); otherwise the caller must feed multiples.</summary>
    public bool PadInGraph { get; init; } = true;
}

/// <summary>Turns a <see cref="UNetWeights"/> into an ONNX model: weights as initializers named like the PyTorch state_dict.</summary>
/// <remarks>
/// <para>Graph (opset 17): input <c>image</c> float32 [batch, C, depth, height, width] with dynamic batch and spatial sizes.</para>
/// <para>With <see cref="UNetExportOptions.PadInGraph"/>: Shape → Slice → (next multiple of 2^depth) arithmetic → Pad
/// (constant 0, floor(p/2) before, the rest after) → U-Net → Slice back to the input size → Softmax(axis 1).</para>
/// <para>U-Net units: Conv (3x3x3, pads 1, bias) → InstanceNormalization | BatchNormalization (inference) → LeakyRelu |
/// Relu; MaxPool 2/2 or a stride-2 first conv; ConvTranspose 2/2 or Resize (nearest, asymmetric, floor: each voxel
/// copied to a 2x2x2 block); Concat([skip, up], axis 1); 1x1x1 Conv head.</para>
/// </remarks>
public static class UNetOnnxExporter
{
    /// <summary>The serialised ONNX model for <paramref name="weights"/>.</summary>
    public static byte[] Export(UNetWeights weights, UNetExportOptions? options = null)
    {
        options ??= new UNetExportOptions();
        return Build(weights, options).ToBytes(Info(weights.Architecture, options));
    }

    /// <summary>Writes the ONNX model for <paramref name="weights"/> to <paramref name="path"/>.</summary>
    public static void Export(UNetWeights weights, string path, UNetExportOptions? options = null)
    {
        options ??= new UNetExportOptions();
        Build(weights, options).Save(path, Info(weights.Architecture, options));
    }

    /// <summary>The metadata properties written for <paramref name="architecture"/> and <paramref name="options"/>.</summary>
    public static OnnxModelInfo Info(UNetArchitecture architecture, UNetExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(options);
        return options.ModelInfo(architecture.ToJson(), new Dictionary<string, string>
        {
            ["layout"] = "NCDHW; D = NIfTI z, H = y, W = x (voxel array as stored)",
            ["size_handling"] = options.PadInGraph
                ? string.Create(CultureInfo.InvariantCulture, $"in graph: zero-pad each spatial axis to a multiple of {architecture.SizeMultiple} (floor(p/2) before, rest after), crop logits back before softmax")
                : string.Create(CultureInfo.InvariantCulture, $"none: spatial sizes must be multiples of {architecture.SizeMultiple}"),
            ["output"] = "softmax probabilities over axis 1",
        });
    }

    internal static OnnxGraphBuilder Build(UNetWeights weights, UNetExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        var a = weights.Architecture;
        a.Validate();
        var g = new OnnxGraphBuilder("unet3d", options.Opset);
        foreach (var t in weights.Tensors) g.AddInitializer(t.Name, t.Data, [.. t.Shape.Select(d => (long)d)]);

        OnnxDim[] inputShape = [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(a.InputChannels), OnnxDim.Dynamic("depth"), OnnxDim.Dynamic("height"), OnnxDim.Dynamic("width")];
        var image = g.AddInput(options.InputName, OnnxElementType.Float, inputShape,
            "z-scored image, NCDHW with D = NIfTI z, H = y, W = x");

        var x = image;
        string? before = null, spatial = null;
        if (options.PadInGraph) (x, before, spatial) = PadToMultiple(g, image, a.SizeMultiple);

        var skips = new string[a.Depth];
        for (var l = 0; l <= a.Depth; l++)
        {
            if (l > 0 && a.Downsampling == DownsamplingLayer.MaxPool)
                x = g.Node("MaxPool", [x], $"encoders.{l}.pool", OnnxAttribute.Ints("kernel_shape", 2, 2, 2), OnnxAttribute.Ints("strides", 2, 2, 2));
            for (var u = 0; u < a.ConvolutionsPerBlock; u++) x = Unit(g, a, x, UNetArchitecture.EncoderUnit(l, u), a.EncoderConv(l, u).Stride);
            if (l < a.Depth) skips[l] = x;
        }
        for (var l = a.Depth - 1; l >= 0; l--)
        {
            string up;
            if (a.Upsampling == UpsamplingLayer.TransposedConv)
            {
                var p = UNetArchitecture.Upsampler(l);
                up = g.Node("ConvTranspose", [x, p + ".weight", p + ".bias"], p,
                    OnnxAttribute.Ints("kernel_shape", 2, 2, 2), OnnxAttribute.Ints("strides", 2, 2, 2));
            }
            else
            {
                var scales = g.AddInitializer($"upsample.{l}.scales", [1f, 1f, 2f, 2f, 2f], [5]);
                // asymmetric + floor: output voxel i reads input voxel floor(i / 2), PyTorch's nearest x2.
                up = g.Node("Resize", [x, "", scales], $"upsample.{l}",
                    OnnxAttribute.String("mode", "nearest"),
                    OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
                    OnnxAttribute.String("nearest_mode", "floor"));
            }
            x = g.Node("Concat", [skips[l], up], $"decoders.{l}.concat", OnnxAttribute.Int("axis", 1));
            for (var u = 0; u < a.ConvolutionsPerBlock; u++) x = Unit(g, a, x, UNetArchitecture.DecoderUnit(l, u), 1);
        }
        var logits = g.Node("Conv", [x, UNetArchitecture.Head + ".weight", UNetArchitecture.Head + ".bias"], UNetArchitecture.Head,
            OnnxAttribute.Ints("kernel_shape", 1, 1, 1));
        if (options.PadInGraph)
        {
            // Cropping the logits (not the probabilities) keeps the softmax off the padding.
            var ends = g.Node("Add", [before!, spatial!], "crop.ends");
            var axes = g.AddInitializer("crop.axes", [2L, 3L, 4L], [3]);
            logits = g.Node("Slice", [logits, before!, ends, axes], "crop");
        }
        var probs = g.Node("Softmax", [logits], "softmax", OnnxAttribute.Int("axis", 1));
        g.Rename(probs, options.OutputName);
        OnnxDim[] outputShape = [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(a.Classes), OnnxDim.Dynamic("depth"), OnnxDim.Dynamic("height"), OnnxDim.Dynamic("width")];
        g.AddOutput(options.OutputName, OnnxElementType.Float, outputShape, "softmax probabilities per class, same grid as the input");
        return g;
    }

    private static (string Padded, string Before, string Spatial) PadToMultiple(OnnxGraphBuilder g, string image, int multiple)
    {
        var shape = g.Node("Shape", [image], "pad.shape");
        var spatial = g.Node("Slice", [shape, g.AddInitializer("pad.spatial_start", [2L], [1]), g.AddInitializer("pad.spatial_end", [5L], [1])], "pad.spatial");
        var m = g.AddInitializer("pad.multiple", [(long)multiple, multiple, multiple], [3]);
        var mMinus1 = g.AddInitializer("pad.multiple_minus_1", [(long)multiple - 1, multiple - 1, multiple - 1], [3]);
        var two = g.AddInitializer("pad.two", [2L, 2L, 2L], [3]);
        // Integer ops only (Add, Div, Mul, Sub on int64): padded = (n + m - 1) / m * m.
        var padded = g.Node("Mul", [g.Node("Div", [g.Node("Add", [spatial, mMinus1], "pad.round_up"), m], "pad.blocks"), m], "pad.padded");
        var total = g.Node("Sub", [padded, spatial], "pad.total");
        var before = g.Node("Div", [total, two], "pad.before");
        var after = g.Node("Sub", [total, before], "pad.after");
        var zeros = g.AddInitializer("pad.zeros", [0L, 0L], [2]);
        var pads = g.Node("Concat", [zeros, before, zeros, after], "pad.pads", OnnxAttribute.Int("axis", 0));
        var value = g.AddInitializer("pad.value", [0f], []);
        var x = g.Node("Pad", [image, pads, value], "pad", OnnxAttribute.String("mode", "constant"));
        return (x, before, spatial);
    }

    private static string Unit(OnnxGraphBuilder g, UNetArchitecture a, string x, string prefix, int stride)
    {
        x = g.Node("Conv", [x, prefix + ".conv.weight", prefix + ".conv.bias"], prefix + ".conv",
            OnnxAttribute.Ints("kernel_shape", 3, 3, 3), OnnxAttribute.Ints("pads", 1, 1, 1, 1, 1, 1), OnnxAttribute.Ints("strides", stride, stride, stride));
        var eps = OnnxAttribute.Float("epsilon", (float)a.NormEpsilon);
        x = a.Normalization switch
        {
            NormalizationLayer.InstanceNorm => g.Node("InstanceNormalization", [x, prefix + ".norm.weight", prefix + ".norm.bias"], prefix + ".norm", eps),
            NormalizationLayer.BatchNorm => g.Node("BatchNormalization",
                [x, prefix + ".norm.weight", prefix + ".norm.bias", prefix + ".norm.running_mean", prefix + ".norm.running_var"], prefix + ".norm", eps),
            _ => x,
        };
        return a.Activation == ActivationLayer.LeakyRelu
            ? g.Node("LeakyRelu", [x], prefix + ".act", OnnxAttribute.Float("alpha", (float)a.NegativeSlope))
            : g.Node("Relu", [x], prefix + ".act");
    }
}
