using HippoNode.Segmentation.Model;
using HippoNode.Training.Hippocampus;
using HippoNode.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace HippoNode.Training.Tests;

/// <summary>libtorch loads on this machine (the build's fix of the native shim) and the TorchSharp U-Net is the architecture the exporter describes.</summary>
public sealed class TorchTests
{
    [Fact]
    public void Torch_Loads_AndOneTrainingStepLowersTheLossOfThatBatch()
    {
        TorchSetup.Initialize("cpu", 1);
        manual_seed(7);
        using var net = new TorchUNet(new UNetArchitecture { Channels = [4, 8] });
        using var optimizer = optim.AdamW(net.parameters(), 1e-2);
        using var x = randn([2, 1, 8, 8, 8]);
        using var y = randint(0, 3, [2, 8, 8, 8]);
        float Loss()
        {
            using var scope = NewDisposeScope();
            return UNetSegmentationTask.DiceCrossEntropy(net.forward(x), y, 3).item<float>();
        }
        var before = Loss();
        using (var scope = NewDisposeScope())
        {
            optimizer.zero_grad();
            var loss = UNetSegmentationTask.DiceCrossEntropy(net.forward(x), y, 3);
            loss.backward();
            Assert.All(net.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, "every parameter gets a gradient"));
            optimizer.step();
        }
        var after = Loss();
        Assert.True(float.IsFinite(before) && after < before, $"loss {before} -> {after}");
    }

    public static TheoryData<string> Architectures => ["production", "batch-strided-nearest", "single-level", "three-convs"];

    private static UNetArchitecture Architecture(string name) => name switch
    {
        "production" => UNetArchitecture.Production,
        "batch-strided-nearest" => new UNetArchitecture
        {
            Channels = [4, 8, 8], Normalization = NormalizationLayer.BatchNorm, Activation = ActivationLayer.Relu,
            Downsampling = DownsamplingLayer.StridedConv, Upsampling = UpsamplingLayer.Nearest,
        },
        "single-level" => new UNetArchitecture { Channels = [6], Normalization = NormalizationLayer.None },
        "three-convs" => new UNetArchitecture { Channels = [3, 4, 5, 6], ConvolutionsPerBlock = 3 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void StateDict_HasExactlyTheArchitecturesTensors(string name)
    {
        var arch = Architecture(name);
        using var net = new TorchUNet(arch);
        var expected = arch.Parameters().ToDictionary(p => p.Name, p => p.Shape.Select(s => (long)s).ToArray());
        // BatchNorm's step counter is a buffer the exporter does not need.
        var actual = net.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        Assert.All(expected, kv => Assert.Equal(kv.Value, actual[kv.Key]));
    }

    [Fact]
    public void ToWeights_LoadWeights_RoundTripEveryValue()
    {
        var arch = new UNetArchitecture { Channels = [4, 8, 16] };
        using var a = new TorchUNet(arch);
        var weights = a.ToWeights();
        using var b = new TorchUNet(arch);
        b.LoadWeights(weights);
        var again = b.ToWeights();
        Assert.All(weights.Tensors, t => Assert.Equal(t.Data, again[t.Name].Data));
    }

    [Fact]
    public void Initialize_UnknownDevice_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => TorchSetup.Initialize("tpu", 1));
    }
}
