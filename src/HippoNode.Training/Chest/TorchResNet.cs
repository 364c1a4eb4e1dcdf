using HippoNode.Classification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HippoNode.Training.Chest;

/// <summary>A torchvision BasicBlock: conv1 -> bn1 -> ReLU -> conv2 -> bn2, plus the identity or a 1x1 projection (downsample.0/.1), then ReLU.</summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    /// <summary>A block from <paramref name="cin"/> to <paramref name="cout"/> channels with <paramref name="stride"/>.</summary>
    public BasicBlock(int cin, int cout, int stride, bool project, double eps) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(cin, cout, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(cout, eps: eps);
        conv2 = nn.Conv2d(cout, cout, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(cout, eps: eps);
        if (project) downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride: stride, bias: false), nn.BatchNorm2d(cout, eps: eps));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        var shortcut = downsample is null ? x : downsample.forward(x);
        return nn.functional.relu(y + shortcut);
    }
}

/// <summary>The TorchSharp form of <see cref="ResNetArchitecture"/>, with torchvision's state_dict names (what the ONNX exporter reads); returns the logits [N, Classes].</summary>
public sealed class TorchResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly List<Sequential> _layers = []; // registered by hand as layer1..layerN (torchvision's names)
    private readonly Linear fc;
    private readonly ResNetArchitecture _architecture;

    /// <summary>Builds the network for <paramref name="architecture"/>.</summary>
    public TorchResNet(ResNetArchitecture architecture) : base(nameof(TorchResNet))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        _architecture = architecture;
        var a = architecture;
        conv1 = nn.Conv2d(a.InputChannels, a.StemChannels, a.StemKernel, stride: a.StemStride, padding: a.StemKernel / 2, bias: false);
        bn1 = nn.BatchNorm2d(a.StemChannels, eps: a.BatchNormEpsilon);
        for (var s = 0; s < a.Stages; s++)
        {
            var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (var b = 0; b < a.BlocksPerStage[s]; b++)
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(a.BlockInput(s, b), a.StageChannels[s], ResNetArchitecture.BlockStride(s, b), a.HasDownsample(s, b), a.BatchNormEpsilon)));
            _layers.Add(nn.Sequential(blocks));
        }
        fc = nn.Linear(a.FeatureChannels, a.Classes);
        RegisterComponents();
        for (var s = 0; s < a.Stages; s++) register_module(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"layer{s + 1}"), _layers[s]);
    }

    /// <summary>The description this network was built from.</summary>
    public ResNetArchitecture Architecture => _architecture;

    /// <summary>The last stage's feature map [N, C, h, w] (what the class activation map weighs).</summary>
    public Tensor Features(Tensor x)
    {
        var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
        if (_architecture.StemMaxPool) y = nn.functional.max_pool2d(y, 3, 2, 1);
        foreach (var layer in _layers) y = layer.forward(y);
        return y;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var f = Features(x);
        var pooled = nn.functional.adaptive_avg_pool2d(f, [1, 1]).flatten(1);
        return fc.forward(pooled);
    }

    /// <summary>Copies the state_dict (parameters and BatchNorm running statistics) into the exporter's weights.</summary>
    public ClassifierWeights ToWeights()
    {
        var entries = new List<(string, IReadOnlyList<long>, float[])>();
        foreach (var (name, tensor) in state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            using var cpu = tensor.detach().cpu().to(ScalarType.Float32).contiguous();
            entries.Add((name, cpu.shape, cpu.data<float>().ToArray()));
        }
        return ClassifierWeights.FromStateDict(_architecture, entries);
    }
}
