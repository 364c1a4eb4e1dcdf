using HippoNode.Classification;
using HippoNode.Testing.Reference;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace HippoNode.Onnx.Tests;

/// <summary>The classifier exporter is right when ONNX Runtime, running our file, agrees with the plain C# reference forward on random weights.</summary>
public sealed class ResNetExporterParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, int, int> Cases => new()
    {
        // name, H, W
        { "tiny-sigmoid", 32, 32 },
        { "tiny-sigmoid", 29, 37 },
        { "tiny-softmax-maxpool", 40, 33 },
        { "three-stages-k5-s1", 24, 20 },
        { "production", 64, 64 },
        { "resnet18", 64, 48 },
    };

    internal static ResNetArchitecture Architecture(string name) => name switch
    {
        "tiny-sigmoid" => new ResNetArchitecture { StemChannels = 4, StageChannels = [4, 8], BlocksPerStage = [1, 2] },
        "tiny-softmax-maxpool" => new ResNetArchitecture { Classes = 2, StemChannels = 6, StemMaxPool = true, StageChannels = [6, 8], BlocksPerStage = [2, 1] },
        "three-stages-k5-s1" => new ResNetArchitecture { StemChannels = 3, StemKernel = 5, StemStride = 1, StageChannels = [5, 6, 7], BlocksPerStage = [1, 1, 1], BatchNormEpsilon = 1e-3 },
        "production" => ResNetArchitecture.Production,
        "resnet18" => ResNetArchitecture.ResNet18,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeMatchesReference_ProbabilityLogitsAndFeatures(string name, int h, int w)
    {
        var arch = Architecture(name);
        var weights = ClassifierWeights.CreateRandom(arch, seed: 4321);
        var input = ExporterParityTests.RandomInput(arch.InputChannels * h * w, seed: 5);

        var onnx = ResNetOnnxExporter.Export(weights);
        using var session = new InferenceSession(onnx);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, arch.InputChannels, h, w]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["image"], [value], ["probability", "logits", "features"]);
        var probability = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var logits = outputs[1].GetTensorDataAsSpan<float>().ToArray();
        var featureShape = outputs[2].GetTensorTypeAndShape().Shape;
        var features = outputs[2].GetTensorDataAsSpan<float>().ToArray();
        var reference = ReferenceResNet.Forward(weights, input, h, w);

        Assert.Single(probability);
        Assert.Equal(arch.Classes, logits.Length);
        var (fh, fw) = arch.FeatureSize(h, w);
        Assert.Equal([1, arch.FeatureChannels, fh, fw], featureShape);
        Assert.Equal((reference.Features.C, reference.Features.H, reference.Features.W), (arch.FeatureChannels, fh, fw));

        var featureScale = Math.Max(1, reference.Features.V.Max(Math.Abs));
        var featureDiff = features.Zip(reference.Features.V).Max(p => Math.Abs(p.First - p.Second));
        var logitDiff = logits.Zip(reference.Logits).Max(p => Math.Abs(p.First - p.Second));
        var probabilityDiff = Math.Abs(probability[0] - reference.Probability);
        output.WriteLine($"parity {name} {h}x{w}: features {fh}x{fw}x{arch.FeatureChannels} max |diff| {featureDiff:E2} (scale {featureScale:G4}); " +
            $"logits {logitDiff:E2} (logit {reference.Logits[^1]:G4}); probability {probabilityDiff:E2} (p = {reference.Probability:F4}); {onnx.Length} bytes, {arch.ParameterCount()} values");
        Assert.True(probabilityDiff <= Tolerance, $"probability differs by {probabilityDiff:E3}");
        Assert.True(logitDiff <= Tolerance, $"logits differ by {logitDiff:E3}");
        Assert.True(featureDiff <= Tolerance, $"features differ by {featureDiff:E3} (values up to {featureScale:G4})");
        Assert.True(reference.Features.V.Count(v => v > 0) > reference.Features.V.Length / 10, "random weights gave almost no active features; the comparison would prove little");
    }

    [Fact]
    public void ProductionArchitecture_HasTheDocumentedSizeAndCost()
    {
        var a = ResNetArchitecture.Production;
        Assert.Equal((8, 8), a.FeatureSize(128, 128));
        Assert.Equal(16, a.FeatureStride);
        var r18 = ResNetArchitecture.ResNet18;
        Assert.Equal((4, 4), r18.FeatureSize(128, 128));
        output.WriteLine($"production: {a.ParameterCount()} values, {a.MultiplyAccumulates(128, 128) / 1e9:F3} GMAC at 128x128; resnet18: {r18.ParameterCount()} values, {r18.MultiplyAccumulates(128, 128) / 1e9:F3} GMAC");
        // Within 15 % of torchvision ResNet-18's cost at 128x128, which the lead measured at 27 ms fwd+bwd per image on two cores.
        Assert.InRange(a.MultiplyAccumulates(128, 128) / (double)r18.MultiplyAccumulates(128, 128), 0.85, 1.15);
    }
}
