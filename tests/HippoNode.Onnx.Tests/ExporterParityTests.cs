using HippoNode.Datasets;
using HippoNode.Onnx;
using HippoNode.Segmentation.Model;
using HippoNode.Testing.Reference;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace HippoNode.Onnx.Tests;

/// <summary>The exporter is right when ONNX Runtime, running our file, agrees with the plain C# reference forward.</summary>
public sealed class ExporterParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, int, int, int> Cases => new()
    {
        // name, D, H, W
        { "instance-maxpool-transposed", 16, 16, 16 },
        { "instance-maxpool-transposed", 13, 10, 11 },
        { "batch-strided-nearest-relu", 16, 16, 16 },
        { "batch-strided-nearest-relu", 9, 12, 7 },
        { "nonorm-single-level", 5, 6, 7 },
        { "three-convs-depth3", 11, 9, 17 },
        { "production", 16, 16, 8 },
        { "production", 10, 9, 7 },
    };

    internal static UNetArchitecture Architecture(string name) => name switch
    {
        "instance-maxpool-transposed" => new UNetArchitecture { Channels = [4, 8, 16] },
        "batch-strided-nearest-relu" => new UNetArchitecture
        {
            Channels = [4, 8, 8],
            Normalization = NormalizationLayer.BatchNorm,
            Activation = ActivationLayer.Relu,
            Downsampling = DownsamplingLayer.StridedConv,
            Upsampling = UpsamplingLayer.Nearest,
        },
        "nonorm-single-level" => new UNetArchitecture { Channels = [6], Normalization = NormalizationLayer.None, InputChannels = 2 },
        "three-convs-depth3" => new UNetArchitecture { Channels = [3, 4, 5, 6], ConvolutionsPerBlock = 3, NegativeSlope = 0.2 },
        "production" => UNetArchitecture.Production,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeMatchesReference(string name, int d, int h, int w)
    {
        var arch = Architecture(name);
        var weights = UNetWeights.CreateRandom(arch, seed: 1234);
        var input = RandomInput(arch.InputChannels * d * h * w, seed: 99);

        var onnx = UNetOnnxExporter.Export(weights);
        var ort = Ort.Run(onnx, input, [1, arch.InputChannels, d, h, w]);
        var reference = ReferenceUNet.Forward(weights, input, d, h, w);

        Assert.Equal(reference.Length, ort.Length);
        var maxDiff = 0.0;
        for (var i = 0; i < ort.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(ort[i] - reference[i]));
        // Probabilities per voxel sum to 1: a check that the softmax axis is the channel axis.
        var voxels = d * h * w;
        for (var v = 0; v < voxels; v += 97)
        {
            var sum = 0.0;
            for (var c = 0; c < arch.Classes; c++) sum += ort[c * voxels + v];
            Assert.InRange(sum, 1 - 1e-5, 1 + 1e-5);
        }
        var spread = ort.Max() - ort.Min();
        output.WriteLine($"parity {name} {d}x{h}x{w} (padded to multiples of {arch.SizeMultiple}): max |ORT - reference| = {maxDiff:E2}, probability spread {spread:F3}, {onnx.Length} bytes");
        Assert.True(spread > 0.05, "random weights gave flat probabilities; the comparison would prove little");
        Assert.True(maxDiff <= Tolerance, $"max abs difference {maxDiff:E3} > {Tolerance}");
    }

    [Fact]
    public void FixedSizeExportWithoutGraphPaddingMatchesToo()
    {
        var arch = Architecture("instance-maxpool-transposed");
        var weights = UNetWeights.CreateRandom(arch, 7);
        var input = RandomInput(8 * 12 * 4, 8);
        var onnx = UNetOnnxExporter.Export(weights, new UNetExportOptions { PadInGraph = false });
        var ort = Ort.Run(onnx, input, [1, 1, 8, 12, 4]);
        var reference = ReferenceUNet.Forward(weights, input, 8, 12, 4);
        Assert.True(ort.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) <= Tolerance);
    }

    internal static float[] RandomInput(int n, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++) x[i] = (float)((rng.Next() >> 11) * (1.0 / (1UL << 53)) * 4 - 2);
        return x;
    }
}

/// <summary>Runs a model held in memory through ONNX Runtime (CPU) on one input.</summary>
internal static class Ort
{
    public static float[] Run(byte[] model, float[] input, long[] shape, string inputName = "image", string outputName = "probabilities")
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [value], [outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
