using HippoNode.Segmentation.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HippoNode.Training.Torch;

/// <summary>One convolution unit: Conv3d(k=3, padding=1) -> norm -> activation, named <c>conv</c>, <c>norm</c>, <c>act</c>.</summary>
internal sealed class ConvUnit : nn.Module<Tensor, Tensor>
{
    private readonly Conv3d conv;
    private readonly nn.Module<Tensor, Tensor>? norm;
    private readonly nn.Module<Tensor, Tensor> act;

    /// <summary>Builds the unit for <paramref name="architecture"/>'s layer kinds.</summary>
    public ConvUnit(UNetArchitecture architecture, int cin, int cout, int stride) : base(nameof(ConvUnit))
    {
        conv = nn.Conv3d(cin, cout, 3, stride: stride, padding: 1, bias: true);
        norm = architecture.Normalization switch
        {
            NormalizationLayer.InstanceNorm => nn.InstanceNorm3d(cout, eps: architecture.NormEpsilon, affine: true, track_running_stats: false),
            NormalizationLayer.BatchNorm => nn.BatchNorm3d(cout, eps: architecture.NormEpsilon),
            _ => null,
        };
        act = architecture.Activation == ActivationLayer.LeakyRelu ? new StableLeakyReLU(architecture.NegativeSlope) : nn.ReLU();
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var c = conv.forward(input);
        if (norm is null) return act.forward(c);
        using var n = norm.forward(c);
        return act.forward(n);
    }
}

/// <summary>Leaky ReLU whose slope is one native Scalar that lives as long as the module.</summary>
/// <remarks>
/// TorchSharp's <c>nn.LeakyReLU</c> turns the slope into a temporary native Scalar on every call and never disposes it;
/// the garbage collector can finalize that Scalar while libtorch is still reading it, which aborted a training run
/// after about ten thousand steps ("Expected false to be true" in <c>Scalar::toFloat</c>). Holding the Scalar in a
/// field keeps it alive for every call.
/// </remarks>
internal sealed class StableLeakyReLU : nn.Module<Tensor, Tensor>
{
    private readonly Scalar slope;

    /// <summary>Creates the activation with <paramref name="negativeSlope"/>.</summary>
    public StableLeakyReLU(double negativeSlope) : base("LeakyReLU") => slope = negativeSlope.ToScalar();

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.leaky_relu(slope);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) slope.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A block of <see cref="UNetArchitecture.ConvolutionsPerBlock"/> units, named <c>convs.0</c>, <c>convs.1</c>, ...</summary>
internal sealed class ConvBlock : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ConvUnit> convs = new();

    /// <summary>Builds the units from their (in, out, stride) triples.</summary>
    public ConvBlock(UNetArchitecture architecture, IEnumerable<(int In, int Out, int Stride)> units) : base(nameof(ConvBlock))
    {
        foreach (var (cin, cout, stride) in units) convs.Add(new ConvUnit(architecture, cin, cout, stride));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = input;
        for (var i = 0; i < convs.Count; i++)
        {
            var y = convs[i].forward(x);
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = y;
        }
        return x;
    }
}

/// <summary>The TorchSharp form of <see cref="UNetArchitecture"/>: its <c>state_dict</c> names and shapes are exactly <see cref="UNetArchitecture.Parameters"/>.</summary>
/// <remarks>Returns logits (no softmax): training takes logits, the exported ONNX graph adds the softmax.</remarks>
public sealed class TorchUNet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ConvBlock> encoders = new();
    private readonly ModuleList<ConvTranspose3d> upsamplers = new();
    private readonly ModuleList<ConvBlock> decoders = new();
    private readonly Conv3d head;
    private readonly UNetArchitecture _architecture;

    /// <summary>Builds the network for <paramref name="architecture"/>.</summary>
    public TorchUNet(UNetArchitecture architecture) : base(nameof(TorchUNet))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        _architecture = architecture;
        var a = architecture;
        for (var l = 0; l <= a.Depth; l++)
        {
            var level = l;
            encoders.Add(new ConvBlock(a, Enumerable.Range(0, a.ConvolutionsPerBlock).Select(u => a.EncoderConv(level, u))));
        }
        if (a.Upsampling == UpsamplingLayer.TransposedConv)
        {
            for (var l = 0; l < a.Depth; l++) upsamplers.Add(nn.ConvTranspose3d(a.Channels[l + 1], a.Channels[l], 2, stride: 2));
        }
        // decoders.l exists for l = 0 .. Depth-1; a ModuleList indexes from 0, so add them in level order.
        for (var l = 0; l < a.Depth; l++)
        {
            var level = l;
            decoders.Add(new ConvBlock(a, Enumerable.Range(0, a.ConvolutionsPerBlock).Select(u =>
            {
                var (cin, cout) = a.DecoderConv(level, u);
                return (cin, cout, 1);
            })));
        }
        head = nn.Conv3d(a.Channels[0], a.Classes, 1, bias: true);
        RegisterComponents();
    }

    /// <summary>The description this network was built from.</summary>
    public UNetArchitecture Architecture => _architecture;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var a = _architecture;
        var skips = new List<Tensor>(a.Depth + 1);
        var x = input;
        try
        {
            for (var l = 0; l <= a.Depth; l++)
            {
                if (l > 0 && a.Downsampling == DownsamplingLayer.MaxPool)
                {
                    var pooled = nn.functional.max_pool3d(x, [2, 2, 2], [2, 2, 2]);
                    x = pooled;
                    skips.Add(pooled); // owned for disposal only
                }
                x = encoders[l].forward(x);
                skips.Add(x);
            }
            var levelOut = x;
            for (var l = a.Depth - 1; l >= 0; l--)
            {
                var skip = EncoderOutput(skips, l, a);
                using var up = a.Upsampling == UpsamplingLayer.TransposedConv
                    ? upsamplers[l].forward(levelOut)
                    : nn.functional.interpolate(levelOut, scale_factor: [2.0, 2.0, 2.0], mode: InterpolationMode.Nearest);
                using var cat = torch.cat([skip, up], 1);
                var next = decoders[l].forward(cat);
                if (l < a.Depth - 1) levelOut.Dispose();
                levelOut = next;
            }
            var logits = head.forward(levelOut);
            if (a.Depth > 0) levelOut.Dispose();
            return logits;
        }
        finally
        {
            foreach (var t in skips)
            {
                if (!ReferenceEquals(t, input)) t.Dispose();
            }
        }
    }

    // skips holds [enc0, pool1, enc1, pool2, enc2, ...] with max pooling and [enc0, enc1, ...] otherwise.
    private static Tensor EncoderOutput(List<Tensor> skips, int level, UNetArchitecture a) =>
        a.Downsampling == DownsamplingLayer.MaxPool ? skips[level == 0 ? 0 : 2 * level] : skips[level];

    /// <summary>Copies the parameters into the framework-neutral weights the ONNX exporter reads.</summary>
    public UNetWeights ToWeights()
    {
        var entries = new List<(string, IReadOnlyList<long>, float[])>();
        foreach (var (name, tensor) in state_dict())
        {
            using var cpu = tensor.detach().cpu().to(ScalarType.Float32).contiguous();
            entries.Add((name, cpu.shape, cpu.data<float>().ToArray()));
        }
        return UNetWeights.FromStateDict(_architecture, entries);
    }

    /// <summary>Loads framework-neutral weights (for parity tests and warm starts).</summary>
    public void LoadWeights(UNetWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        using var _ = torch.no_grad();
        var sd = state_dict();
        foreach (var t in weights.Tensors)
        {
            if (!sd.TryGetValue(t.Name, out var target)) throw new ArgumentException($"the network has no tensor '{t.Name}'");
            using var src = torch.tensor(t.Data, [.. t.Shape.Select(s => (long)s)]);
            target.copy_(src);
        }
    }
}
