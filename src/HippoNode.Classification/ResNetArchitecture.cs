using System.Globalization;
using System.Text.Json;
using HippoNode.Segmentation.Model;

namespace HippoNode.Classification;

/// <summary>A framework-neutral description of a ResNet-18-like 2D classifier: stem, residual stages, global average pooling, linear head.</summary>
/// <remarks>
/// <para>The network, in PyTorch (torchvision <c>resnet</c>) terms and with torchvision's state_dict names:</para>
/// <code>
/// conv1   : Conv2d(InputChannels, StemChannels, StemKernel, stride=StemStride, padding=StemKernel/2, bias=False)
/// bn1     : BatchNorm2d(StemChannels, eps=BatchNormEpsilon) -> ReLU
///           [MaxPool2d(3, stride=2, padding=1) when StemMaxPool]
/// layer{s+1}.{b} : BasicBlock, s = 0..Stages-1, b = 0..BlocksPerStage[s]-1; stride 2 in block 0 of stages 1.., else 1
///     conv1 : Conv2d(cin, cout, 3, stride, padding=1, bias=False) -> bn1 -> ReLU
///     conv2 : Conv2d(cout, cout, 3, 1, padding=1, bias=False) -> bn2
///     downsample (block 0 when stride != 1 or cin != cout): 0 = Conv2d(cin, cout, 1, stride, bias=False), 1 = BatchNorm2d(cout)
///     out = ReLU(bn2 + (downsample(x) or x))
/// features: the last block's output [N, StageChannels[^1], h, w]  (for the class activation map)
/// avgpool: AdaptiveAvgPool2d(1) -> flatten
/// fc      : Linear(StageChannels[^1], Classes)  -> logits
/// probability of the positive class: sigmoid(logit) when Classes = 1; softmax(logits)[1] when Classes = 2
/// </code>
/// <para>Any input height and width work (the pooling is global); the model folder fixes the size the node feeds.
/// Output sizes follow PyTorch's floor arithmetic (<see cref="FeatureSize"/>).</para>
/// </remarks>
public sealed class ResNetArchitecture
{
    /// <summary>Input channels (1: grayscale).</summary>
    public int InputChannels { get; init; } = 1;

    /// <summary>Outputs of the linear head: 1 (sigmoid, binary cross-entropy on the logit) or 2 (softmax, class 1 positive).</summary>
    public int Classes { get; init; } = 1;

    /// <summary>Channels of the stem convolution.</summary>
    public int StemChannels { get; init; } = 32;

    /// <summary>The stem convolution's kernel size (odd; padding is half of it).</summary>
    public int StemKernel { get; init; } = 7;

    /// <summary>The stem convolution's stride.</summary>
    public int StemStride { get; init; } = 2;

    /// <summary>A 3x3 stride-2 max pooling after the stem (torchvision's ResNet has it).</summary>
    public bool StemMaxPool { get; init; }

    /// <summary>Output channels of each stage.</summary>
    public IReadOnlyList<int> StageChannels { get; init; } = [32, 64, 128, 256];

    /// <summary>Basic blocks per stage.</summary>
    public IReadOnlyList<int> BlocksPerStage { get; init; } = [2, 2, 2, 2];

    /// <summary>BatchNorm2d epsilon.</summary>
    public double BatchNormEpsilon { get; init; } = 1e-5;

    /// <summary>
    /// The chest X-ray classifier proposed for CPU training: ResNet-18's layout (2-2-2-2 basic blocks) at half width
    /// (32-64-128-256) without the stem max-pool, one logit. At 128x128 it costs about the same as torchvision's
    /// ResNet-18 at 128x128 (about 0.57 GMAC per image) but its last feature map is 8x8 instead of 4x4, which gives the
    /// heat map four times the cells; 2.8 million parameters.
    /// </summary>
    public static ResNetArchitecture Production { get; } = new();

    /// <summary>torchvision's ResNet-18 (64-128-256-512, stem max-pool) with a grayscale input and one logit.</summary>
    public static ResNetArchitecture ResNet18 { get; } = new() { StemChannels = 64, StemMaxPool = true, StageChannels = [64, 128, 256, 512] };

    /// <summary>The number of stages.</summary>
    public int Stages => StageChannels.Count;

    /// <summary>Channels of the feature map the class activation map is made from.</summary>
    public int FeatureChannels => StageChannels[^1];

    /// <summary>Input pixels per feature-map cell along each axis (for sizes divisible by it).</summary>
    public int FeatureStride => StemStride * (StemMaxPool ? 2 : 1) * (1 << (Stages - 1));

    /// <summary>The stride of block <paramref name="block"/> of stage <paramref name="stage"/>.</summary>
    public static int BlockStride(int stage, int block) => stage > 0 && block == 0 ? 2 : 1;

    /// <summary>The input channels of block <paramref name="block"/> of stage <paramref name="stage"/>.</summary>
    public int BlockInput(int stage, int block) => block > 0 ? StageChannels[stage] : stage == 0 ? StemChannels : StageChannels[stage - 1];

    /// <summary>True when the block has a projection shortcut (downsample.0 / downsample.1).</summary>
    public bool HasDownsample(int stage, int block) => block == 0 && (BlockStride(stage, block) != 1 || BlockInput(stage, block) != StageChannels[stage]);

    /// <summary>The state_dict prefix of a block: "layer{stage+1}.{block}".</summary>
    public static string Block(int stage, int block) => string.Create(CultureInfo.InvariantCulture, $"layer{stage + 1}.{block}");

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="InvalidOperationException">The problem, named.</exception>
    public void Validate()
    {
        if (InputChannels < 1) throw new InvalidOperationException($"InputChannels must be at least 1, is {InputChannels}");
        if (Classes is not (1 or 2)) throw new InvalidOperationException($"Classes must be 1 (sigmoid) or 2 (softmax), is {Classes}");
        if (StemChannels < 1) throw new InvalidOperationException($"StemChannels must be at least 1, is {StemChannels}");
        if (StemKernel < 1 || StemKernel % 2 == 0) throw new InvalidOperationException($"StemKernel must be odd and positive, is {StemKernel}");
        if (StemStride < 1) throw new InvalidOperationException($"StemStride must be at least 1, is {StemStride}");
        if (StageChannels is null || StageChannels.Count == 0 || StageChannels.Any(c => c < 1))
            throw new InvalidOperationException("StageChannels must list at least one positive channel count");
        if (BlocksPerStage is null || BlocksPerStage.Count != StageChannels.Count || BlocksPerStage.Any(b => b < 1))
            throw new InvalidOperationException("BlocksPerStage must give at least one block for each stage");
        if (!(BatchNormEpsilon > 0)) throw new InvalidOperationException($"BatchNormEpsilon must be positive, is {BatchNormEpsilon}");
    }

    /// <summary>Every learnable tensor in torchvision's state_dict order, with names and shapes.</summary>
    /// <remarks>BatchNorm's <c>num_batches_tracked</c> is not listed: inference never reads it and loading ignores it.</remarks>
    public IReadOnlyList<ParameterSpec> Parameters()
    {
        Validate();
        var list = new List<ParameterSpec> { new("conv1.weight", [StemChannels, InputChannels, StemKernel, StemKernel], InputChannels * StemKernel * StemKernel) };
        AddBatchNorm(list, "bn1", StemChannels);
        for (var s = 0; s < Stages; s++)
        {
            for (var b = 0; b < BlocksPerStage[s]; b++)
            {
                var p = Block(s, b);
                var (cin, cout) = (BlockInput(s, b), StageChannels[s]);
                list.Add(new ParameterSpec(p + ".conv1.weight", [cout, cin, 3, 3], cin * 9));
                AddBatchNorm(list, p + ".bn1", cout);
                list.Add(new ParameterSpec(p + ".conv2.weight", [cout, cout, 3, 3], cout * 9));
                AddBatchNorm(list, p + ".bn2", cout);
                if (!HasDownsample(s, b)) continue;
                list.Add(new ParameterSpec(p + ".downsample.0.weight", [cout, cin, 1, 1], cin));
                AddBatchNorm(list, p + ".downsample.1", cout);
            }
        }
        list.Add(new ParameterSpec("fc.weight", [Classes, FeatureChannels], FeatureChannels));
        list.Add(new ParameterSpec("fc.bias", [Classes], FeatureChannels));
        return list;
    }

    private static void AddBatchNorm(List<ParameterSpec> list, string prefix, int channels)
    {
        list.Add(new ParameterSpec(prefix + ".weight", [channels], 0));
        list.Add(new ParameterSpec(prefix + ".bias", [channels], 0));
        list.Add(new ParameterSpec(prefix + ".running_mean", [channels], 0));
        list.Add(new ParameterSpec(prefix + ".running_var", [channels], 0));
    }

    /// <summary>The total number of values in <see cref="Parameters"/> (running statistics included).</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.ElementCount);

    /// <summary>The feature map's height and width for an input of <paramref name="height"/> x <paramref name="width"/> (PyTorch floor arithmetic).</summary>
    public (int Height, int Width) FeatureSize(int height, int width)
    {
        static int Conv(int n, int k, int s, int p) => (n + 2 * p - k) / s + 1;
        int Through(int n)
        {
            n = Conv(n, StemKernel, StemStride, StemKernel / 2);
            if (StemMaxPool) n = Conv(n, 3, 2, 1);
            for (var s = 1; s < Stages; s++) n = Conv(n, 3, 2, 1);
            return n;
        }
        return (Through(height), Through(width));
    }

    /// <summary>Multiply-accumulates of one forward pass at <paramref name="height"/> x <paramref name="width"/> (convolutions and the head).</summary>
    public long MultiplyAccumulates(int height, int width)
    {
        static int Conv(int n, int k, int s, int p) => (n + 2 * p - k) / s + 1;
        var (h, w) = (Conv(height, StemKernel, StemStride, StemKernel / 2), Conv(width, StemKernel, StemStride, StemKernel / 2));
        long macs = (long)h * w * StemChannels * InputChannels * StemKernel * StemKernel;
        if (StemMaxPool) (h, w) = (Conv(h, 3, 2, 1), Conv(w, 3, 2, 1));
        for (var s = 0; s < Stages; s++)
        {
            for (var b = 0; b < BlocksPerStage[s]; b++)
            {
                var stride = BlockStride(s, b);
                var (cin, cout) = (BlockInput(s, b), StageChannels[s]);
                (h, w) = (Conv(h, 3, stride, 1), Conv(w, 3, stride, 1));
                macs += (long)h * w * cout * (cin * 9 + cout * 9);
                if (HasDownsample(s, b)) macs += (long)h * w * cout * cin;
            }
        }
        return macs + (long)FeatureChannels * Classes;
    }

    /// <summary>Writes the description as a JSON object (the <c>architecture</c> member of model.json).</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteString("type", "resnet2d");
        w.WriteNumber("inputChannels", InputChannels);
        w.WriteNumber("classes", Classes);
        w.WriteNumber("stemChannels", StemChannels);
        w.WriteNumber("stemKernel", StemKernel);
        w.WriteNumber("stemStride", StemStride);
        w.WriteBoolean("stemMaxPool", StemMaxPool);
        w.WriteStartArray("stageChannels");
        foreach (var c in StageChannels) w.WriteNumberValue(c);
        w.WriteEndArray();
        w.WriteStartArray("blocksPerStage");
        foreach (var b in BlocksPerStage) w.WriteNumberValue(b);
        w.WriteEndArray();
        w.WriteString("block", "basic");
        w.WriteNumber("batchNormEpsilon", BatchNormEpsilon);
        w.WriteEndObject();
    }

    /// <summary>The description as compact JSON text.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms)) WriteJson(w);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Reads a description written by <see cref="WriteJson"/>; missing members take the defaults.</summary>
    /// <exception cref="FormatException">A member has the wrong type or value.</exception>
    public static ResNetArchitecture FromJson(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException("architecture must be a JSON object");
        try
        {
            if (e.TryGetProperty("type", out var t) && t.GetString() != "resnet2d") throw new FormatException($"architecture type '{t.GetString()}' is not resnet2d");
            if (e.TryGetProperty("block", out var bl) && bl.GetString() != "basic") throw new FormatException($"block '{bl.GetString()}' is not basic");
            var d = new ResNetArchitecture();
            var a = new ResNetArchitecture
            {
                InputChannels = e.TryGetProperty("inputChannels", out var ic) ? ic.GetInt32() : d.InputChannels,
                Classes = e.TryGetProperty("classes", out var cl) ? cl.GetInt32() : d.Classes,
                StemChannels = e.TryGetProperty("stemChannels", out var sc) ? sc.GetInt32() : d.StemChannels,
                StemKernel = e.TryGetProperty("stemKernel", out var sk) ? sk.GetInt32() : d.StemKernel,
                StemStride = e.TryGetProperty("stemStride", out var ss) ? ss.GetInt32() : d.StemStride,
                StemMaxPool = e.TryGetProperty("stemMaxPool", out var mp) ? mp.GetBoolean() : d.StemMaxPool,
                StageChannels = e.TryGetProperty("stageChannels", out var ch) ? [.. ch.EnumerateArray().Select(x => x.GetInt32())] : d.StageChannels,
                BlocksPerStage = e.TryGetProperty("blocksPerStage", out var bp) ? [.. bp.EnumerateArray().Select(x => x.GetInt32())] : d.BlocksPerStage,
                BatchNormEpsilon = e.TryGetProperty("batchNormEpsilon", out var be) ? be.GetDouble() : d.BatchNormEpsilon,
            };
            a.Validate();
            return a;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"bad architecture: {ex.Message}", ex);
        }
    }

    /// <summary>A one-line description, e.g. "resnet2d stem 32 k7 s2, stages 32/64/128/256 x 2/2/2/2, 1 -> 1".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"resnet2d stem {StemChannels} k{StemKernel} s{StemStride}{(StemMaxPool ? " +maxpool" : "")}, stages {string.Join('/', StageChannels)} x {string.Join('/', BlocksPerStage)}, {InputChannels} -> {Classes}");
}
