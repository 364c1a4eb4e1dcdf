using System.Globalization;
using HippoNode.Classification;

namespace HippoNode.Onnx;

/// <summary>What to write besides the weights: identity and training information.</summary>
public sealed class ResNetExportOptions() : OnnxExportOptions("chest-xray-pneumonia",
    "ResNet-like 2D classifier: positive-class probability, logits and last convolutional features");

/// <summary>Turns <see cref="ClassifierWeights"/> into an ONNX model: weights as initializers named like the PyTorch state_dict.</summary>
/// <remarks>
/// <para>Graph (opset 17): input <c>image</c> float32 [batch, C, height, width] (dynamic batch and size). Conv (no bias)
/// → BatchNormalization (inference form: running statistics) → Relu for the stem and inside each basic block;
/// MaxPool 3/2/1 when the stem has it; block output Relu(Add(bn2, shortcut)), the shortcut a 1x1 Conv + BatchNormalization
/// where the shape changes; GlobalAveragePool → Flatten → Gemm (transB) for the head.</para>
/// <para>Outputs: <c>probability</c> [batch] (Sigmoid of the single logit, or Softmax then Gather of class 1),
/// <c>logits</c> [batch, classes] and <c>features</c> [batch, C, h, w], the last block's output the class activation map
/// is computed from.</para>
/// </remarks>
public static class ResNetOnnxExporter
{
    /// <summary>The serialised ONNX model for <paramref name="weights"/>.</summary>
    public static byte[] Export(ClassifierWeights weights, ResNetExportOptions? options = null)
    {
        options ??= new ResNetExportOptions();
        return Build(weights, options).ToBytes(Info(weights.Architecture, options));
    }

    /// <summary>Writes the ONNX model for <paramref name="weights"/> to <paramref name="path"/>.</summary>
    public static void Export(ClassifierWeights weights, string path, ResNetExportOptions? options = null)
    {
        options ??= new ResNetExportOptions();
        Build(weights, options).Save(path, Info(weights.Architecture, options));
    }

    /// <summary>The metadata properties written for <paramref name="architecture"/> and <paramref name="options"/>.</summary>
    public static OnnxModelInfo Info(ResNetArchitecture architecture, ResNetExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(options);
        return options.ModelInfo(architecture.ToJson(), new Dictionary<string, string>
        {
            ["layout"] = "NCHW, C = 1 (grayscale)",
            ["outputs"] = string.Create(CultureInfo.InvariantCulture,
                $"probability [N] (positive class, {(architecture.Classes == 1 ? "sigmoid of the logit" : "softmax class 1")}); logits [N, {architecture.Classes}]; features [N, {architecture.FeatureChannels}, h, w]"),
        });
    }

    internal static OnnxGraphBuilder Build(ClassifierWeights weights, ResNetExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        var a = weights.Architecture;
        a.Validate();
        var g = new OnnxGraphBuilder("resnet2d", options.Opset);
        foreach (var t in weights.Tensors) g.AddInitializer(t.Name, t.Data, [.. t.Shape.Select(d => (long)d)]);
        var image = g.AddInput(options.InputName, OnnxElementType.Float,
            [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(a.InputChannels), OnnxDim.Dynamic("height"), OnnxDim.Dynamic("width")],
            "normalised grayscale image, NCHW");

        var p = a.StemKernel / 2;
        var x = Conv(g, image, "conv1", a.StemKernel, a.StemStride, p);
        x = g.Node("Relu", [BatchNorm(g, x, "bn1", a)], "relu");
        if (a.StemMaxPool)
        {
            x = g.Node("MaxPool", [x], "maxpool", OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("strides", 2, 2),
                OnnxAttribute.Ints("pads", 1, 1, 1, 1));
        }
        for (var s = 0; s < a.Stages; s++)
        {
            for (var b = 0; b < a.BlocksPerStage[s]; b++) x = BasicBlock(g, a, x, s, b);
        }
        var features = g.Rename(g.Node("Identity", [x], "features"), "features");
        var pooled = g.Node("Flatten", [g.Node("GlobalAveragePool", [x], "avgpool")], "flatten", OnnxAttribute.Int("axis", 1));
        var gemm = g.Node("Gemm", [pooled, "fc.weight", "fc.bias"], "fc", OnnxAttribute.Int("transB", 1));
        var logits = g.Rename(g.Node("Identity", [gemm], "logits"), "logits");
        string probability;
        if (a.Classes == 1)
        {
            var axes = g.AddInitializer("probability.axes", [1L], [1]);
            probability = g.Node("Squeeze", [g.Node("Sigmoid", [gemm], "sigmoid"), axes], "probability");
        }
        else
        {
            var positive = g.AddInitializer("probability.index", [1L], []);
            probability = g.Node("Gather", [g.Node("Softmax", [gemm], "softmax", OnnxAttribute.Int("axis", 1)), positive], "probability", OnnxAttribute.Int("axis", 1));
        }
        g.Rename(probability, "probability");
        g.AddOutput("probability", OnnxElementType.Float, [OnnxDim.Dynamic("batch")], "probability of the positive class");
        g.AddOutput(logits, OnnxElementType.Float, [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(a.Classes)], "head logits");
        g.AddOutput(features, OnnxElementType.Float, [OnnxDim.Dynamic("batch"), OnnxDim.Fixed(a.FeatureChannels), OnnxDim.Dynamic("feature_height"), OnnxDim.Dynamic("feature_width")],
            "last convolutional block's output (class activation map input)");
        return g;
    }

    private static string BasicBlock(OnnxGraphBuilder g, ResNetArchitecture a, string x, int stage, int block)
    {
        var p = ResNetArchitecture.Block(stage, block);
        var stride = ResNetArchitecture.BlockStride(stage, block);
        var y = g.Node("Relu", [BatchNorm(g, Conv(g, x, p + ".conv1", 3, stride, 1), p + ".bn1", a)], p + ".relu1");
        y = BatchNorm(g, Conv(g, y, p + ".conv2", 3, 1, 1), p + ".bn2", a);
        var shortcut = a.HasDownsample(stage, block)
            ? BatchNorm(g, Conv(g, x, p + ".downsample.0", 1, stride, 0), p + ".downsample.1", a)
            : x;
        return g.Node("Relu", [g.Node("Add", [y, shortcut], p + ".add")], p + ".relu2");
    }

    private static string Conv(OnnxGraphBuilder g, string x, string prefix, int kernel, int stride, int pad) =>
        g.Node("Conv", [x, prefix + ".weight"], prefix, OnnxAttribute.Ints("kernel_shape", kernel, kernel), OnnxAttribute.Ints("strides", stride, stride),
            OnnxAttribute.Ints("pads", pad, pad, pad, pad));

    private static string BatchNorm(OnnxGraphBuilder g, string x, string prefix, ResNetArchitecture a) =>
        g.Node("BatchNormalization", [x, prefix + ".weight", prefix + ".bias", prefix + ".running_mean", prefix + ".running_var"], prefix,
            OnnxAttribute.Float("epsilon", (float)a.BatchNormEpsilon));
}
