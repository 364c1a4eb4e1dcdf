using System.Globalization;
using System.Text.Json;

namespace HippoNode.Segmentation.Model;

/// <summary>How each convolution's output is normalised before the activation.</summary>
public enum NormalizationLayer
{
    /// <summary>InstanceNorm3d with a learned per-channel scale and shift (affine), statistics of the sample itself.</summary>
    InstanceNorm,

    /// <summary>BatchNorm3d in inference form: running mean and variance, learned scale and shift.</summary>
    BatchNorm,

    /// <summary>No normalisation.</summary>
    None,
}

/// <summary>The nonlinearity after each normalisation.</summary>
public enum ActivationLayer
{
    /// <summary>LeakyReLU with <see cref="UNetArchitecture.NegativeSlope"/>.</summary>
    LeakyRelu,

    /// <summary>ReLU.</summary>
    Relu,
}

/// <summary>How the encoder halves the resolution between levels.</summary>
public enum DownsamplingLayer
{
    /// <summary>MaxPool3d, kernel 2, stride 2, before the next level's block.</summary>
    MaxPool,

    /// <summary>The first 3x3x3 convolution of each deeper block has stride 2 (padding 1); no extra weights.</summary>
    StridedConv,
}

/// <summary>How the decoder doubles the resolution between levels.</summary>
public enum UpsamplingLayer
{
    /// <summary>ConvTranspose3d, kernel 2, stride 2, from the deeper level's channels to this level's.</summary>
    TransposedConv,

    /// <summary>Nearest-neighbour x2 (each voxel copied to a 2x2x2 block); the channel count is kept.</summary>
    Nearest,
}

/// <summary>One named learnable tensor of the U-Net, named as in a PyTorch <c>state_dict</c>.</summary>
/// <param name="Name">The state_dict key, e.g. <c>encoders.0.convs.1.conv.weight</c>.</param>
/// <param name="Shape">The tensor shape, PyTorch order (Conv3d weight: out, in, kD, kH, kW).</param>
/// <param name="FanIn">Inputs feeding one output element (for initialisation scales); 0 for norm parameters.</param>
public sealed record ParameterSpec(string Name, IReadOnlyList<int> Shape, int FanIn)
{
    /// <summary>The number of elements (product of the shape).</summary>
    public int ElementCount => Shape.Aggregate(1, (a, b) => checked(a * b));

    /// <summary>The shape as "[a, b, c]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>A framework-neutral description of a 3D U-Net: channels per level, block layout and layer kinds.</summary>
/// <remarks>
/// <para>
/// The network, for <c>L = Channels.Count</c> levels (depth <c>L - 1</c> halvings), in PyTorch terms:
/// </para>
/// <code>
/// block(cin, cout) = [Conv3d(cin, cout, 3, padding=1, bias=True) -> Norm(cout) -> Act] x ConvolutionsPerBlock
///                    (with StridedConv, the first conv of encoder blocks 1.. has stride 2)
/// encoders.l : block(l == 0 ? InputChannels : Channels[l-1], Channels[l])      l = 0 .. L-1
///              (with MaxPool, MaxPool3d(2, 2) precedes encoders.l for l >= 1)
/// upsamplers.l : ConvTranspose3d(Channels[l+1], Channels[l], 2, stride=2)      l = 0 .. L-2 (TransposedConv only)
///                or nearest x2 (no weights)
/// decoders.l : block(Channels[l] + up channels, Channels[l]) on cat([skip_l, up_l], dim=1)   l = L-2 .. 0
/// head       : Conv3d(Channels[0], Classes, 1) -> Softmax(dim=1)
/// </code>
/// <para>
/// Each convolution's norm and activation live under the same module: <c>encoders.0.convs.1.conv.weight</c>,
/// <c>encoders.0.convs.1.norm.weight</c>. <see cref="Parameters"/> lists every state_dict entry a trainer must
/// produce, with its shape. Input sizes must be multiples of <see cref="SizeMultiple"/> inside the network; the
/// exported graph pads and crops so that any size is accepted (see <c>model.json</c>'s <c>sizeHandling</c>).
/// </para>
/// </remarks>
public sealed class UNetArchitecture
{
    /// <summary>Input channels (1: a single T2 MR image).</summary>
    public int InputChannels { get; init; } = 1;

    /// <summary>Output classes (3: background, anterior, posterior).</summary>
    public int Classes { get; init; } = 3;

    /// <summary>Feature channels per level, finest first; the count minus one is the number of halvings.</summary>
    public IReadOnlyList<int> Channels { get; init; } = [16, 32, 64, 128];

    /// <summary>Convolution + norm + activation units per encoder and decoder block.</summary>
    public int ConvolutionsPerBlock { get; init; } = 2;

    /// <summary>The normalisation after each 3x3x3 convolution.</summary>
    public NormalizationLayer Normalization { get; init; } = NormalizationLayer.InstanceNorm;

    /// <summary>The epsilon added to the variance by the normalisation (PyTorch default 1e-5).</summary>
    public double NormEpsilon { get; init; } = 1e-5;

    /// <summary>The activation after each normalisation.</summary>
    public ActivationLayer Activation { get; init; } = ActivationLayer.LeakyRelu;

    /// <summary>LeakyReLU's slope for negative inputs (PyTorch default 0.01).</summary>
    public double NegativeSlope { get; init; } = 0.01;

    /// <summary>How the encoder halves the resolution.</summary>
    public DownsamplingLayer Downsampling { get; init; } = DownsamplingLayer.MaxPool;

    /// <summary>How the decoder doubles the resolution.</summary>
    public UpsamplingLayer Upsampling { get; init; } = UpsamplingLayer.TransposedConv;

    /// <summary>The architecture of the hippocampus model: 4 levels of 16/32/64/128 channels, two convs per block, InstanceNorm, LeakyReLU, max pooling, transposed convolutions.</summary>
    /// <remarks>Three halvings fit the ~35x50x35 MSD crops (padded to 40x56x40, deepest level 5x7x5) without padding most of the input away.</remarks>
    public static UNetArchitecture Production { get; } = new();

    /// <summary>The number of halvings (levels minus one).</summary>
    public int Depth => Channels.Count - 1;

    /// <summary>2^Depth: every spatial size inside the network must be a multiple of this.</summary>
    public int SizeMultiple => 1 << Depth;

    /// <summary>Throws when the description cannot be built (no levels, non-positive counts, a bad slope or epsilon).</summary>
    /// <exception cref="ArgumentException">The description is inconsistent.</exception>
    public void Validate()
    {
        if (InputChannels < 1) throw new ArgumentException($"InputChannels must be at least 1, got {InputChannels}");
        if (Classes < 2) throw new ArgumentException($"Classes must be at least 2, got {Classes}");
        if (Channels is null || Channels.Count < 1) throw new ArgumentException("Channels needs at least one level");
        if (Channels.Count > 8) throw new ArgumentException($"at most 8 levels are supported, got {Channels.Count}");
        if (Channels.Any(c => c < 1)) throw new ArgumentException($"every level needs at least one channel, got [{string.Join(", ", Channels)}]");
        if (ConvolutionsPerBlock < 1) throw new ArgumentException($"ConvolutionsPerBlock must be at least 1, got {ConvolutionsPerBlock}");
        if (!(NormEpsilon > 0 && double.IsFinite(NormEpsilon))) throw new ArgumentException($"NormEpsilon must be positive, got {NormEpsilon}");
        if (!(NegativeSlope >= 0 && NegativeSlope < 1)) throw new ArgumentException($"NegativeSlope must be in [0, 1), got {NegativeSlope}");
        if (!Enum.IsDefined(Normalization) || !Enum.IsDefined(Activation) || !Enum.IsDefined(Downsampling) || !Enum.IsDefined(Upsampling))
            throw new ArgumentException("an enum member of the architecture is out of range");
    }

    /// <summary>The state_dict prefix of convolution unit <paramref name="unit"/> of encoder block <paramref name="level"/>.</summary>
    public static string EncoderUnit(int level, int unit) => $"encoders.{level}.convs.{unit}";

    /// <summary>The state_dict prefix of convolution unit <paramref name="unit"/> of decoder block <paramref name="level"/>.</summary>
    public static string DecoderUnit(int level, int unit) => $"decoders.{level}.convs.{unit}";

    /// <summary>The state_dict prefix of the transposed convolution from level <paramref name="level"/> + 1 up to <paramref name="level"/>.</summary>
    public static string Upsampler(int level) => $"upsamplers.{level}";

    /// <summary>The state_dict prefix of the final 1x1x1 convolution.</summary>
    public const string Head = "head";

    /// <summary>Input and output channels and stride of encoder unit (<paramref name="level"/>, <paramref name="unit"/>).</summary>
    public (int In, int Out, int Stride) EncoderConv(int level, int unit)
    {
        var cin = unit > 0 ? Channels[level] : level == 0 ? InputChannels : Channels[level - 1];
        var stride = unit == 0 && level > 0 && Downsampling == DownsamplingLayer.StridedConv ? 2 : 1;
        return (cin, Channels[level], stride);
    }

    /// <summary>Input and output channels of decoder unit (<paramref name="level"/>, <paramref name="unit"/>); unit 0 reads the concatenation [skip, upsampled].</summary>
    public (int In, int Out) DecoderConv(int level, int unit)
    {
        var upChannels = Upsampling == UpsamplingLayer.TransposedConv ? Channels[level] : Channels[level + 1];
        return (unit == 0 ? Channels[level] + upChannels : Channels[level], Channels[level]);
    }

    /// <summary>Every learnable tensor, in a fixed order (encoders, upsamplers, decoders, head), with PyTorch state_dict names and shapes.</summary>
    /// <remarks>BatchNorm's <c>num_batches_tracked</c> counter is not listed: inference never reads it, and <see cref="UNetWeights.FromStateDict"/> ignores it.</remarks>
    public IReadOnlyList<ParameterSpec> Parameters()
    {
        Validate();
        var list = new List<ParameterSpec>();
        for (var l = 0; l <= Depth; l++)
        {
            for (var u = 0; u < ConvolutionsPerBlock; u++)
            {
                var (cin, cout, _) = EncoderConv(l, u);
                AddUnit(list, EncoderUnit(l, u), cin, cout);
            }
        }
        if (Upsampling == UpsamplingLayer.TransposedConv)
        {
            for (var l = 0; l < Depth; l++)
            {
                var p = Upsampler(l);
                // PyTorch ConvTranspose3d stores (in, out, k, k, k), which is also ONNX ConvTranspose's W layout.
                list.Add(new ParameterSpec(p + ".weight", [Channels[l + 1], Channels[l], 2, 2, 2], Channels[l + 1] * 8));
                list.Add(new ParameterSpec(p + ".bias", [Channels[l]], Channels[l + 1] * 8));
            }
        }
        for (var l = Depth - 1; l >= 0; l--)
        {
            for (var u = 0; u < ConvolutionsPerBlock; u++)
            {
                var (cin, cout) = DecoderConv(l, u);
                AddUnit(list, DecoderUnit(l, u), cin, cout);
            }
        }
        list.Add(new ParameterSpec(Head + ".weight", [Classes, Channels[0], 1, 1, 1], Channels[0]));
        list.Add(new ParameterSpec(Head + ".bias", [Classes], Channels[0]));
        return list;
    }

    private void AddUnit(List<ParameterSpec> list, string prefix, int cin, int cout)
    {
        list.Add(new ParameterSpec(prefix + ".conv.weight", [cout, cin, 3, 3, 3], cin * 27));
        list.Add(new ParameterSpec(prefix + ".conv.bias", [cout], cin * 27));
        if (Normalization == NormalizationLayer.None) return;
        list.Add(new ParameterSpec(prefix + ".norm.weight", [cout], 0));
        list.Add(new ParameterSpec(prefix + ".norm.bias", [cout], 0));
        if (Normalization != NormalizationLayer.BatchNorm) return;
        list.Add(new ParameterSpec(prefix + ".norm.running_mean", [cout], 0));
        list.Add(new ParameterSpec(prefix + ".norm.running_var", [cout], 0));
    }

    /// <summary>The total number of learnable values.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.ElementCount);

    /// <summary>Writes the description as a JSON object (the <c>architecture</c> member of model.json).</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteString("type", "unet3d");
        w.WriteNumber("inputChannels", InputChannels);
        w.WriteNumber("classes", Classes);
        w.WriteStartArray("channels");
        foreach (var c in Channels) w.WriteNumberValue(c);
        w.WriteEndArray();
        w.WriteNumber("convolutionsPerBlock", ConvolutionsPerBlock);
        w.WriteString("normalization", Name(Normalization));
        w.WriteNumber("normEpsilon", NormEpsilon);
        w.WriteString("activation", Name(Activation));
        w.WriteNumber("negativeSlope", NegativeSlope);
        w.WriteString("downsampling", Name(Downsampling));
        w.WriteString("upsampling", Name(Upsampling));
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
    /// <exception cref="FormatException">A member has the wrong type or an unknown value.</exception>
    public static UNetArchitecture FromJson(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException("architecture must be a JSON object");
        try
        {
            if (e.TryGetProperty("type", out var t) && t.GetString() != "unet3d") throw new FormatException($"architecture type '{t.GetString()}' is not unet3d");
            var d = new UNetArchitecture();
            var a = new UNetArchitecture
            {
                InputChannels = e.TryGetProperty("inputChannels", out var ic) ? ic.GetInt32() : d.InputChannels,
                Classes = e.TryGetProperty("classes", out var cl) ? cl.GetInt32() : d.Classes,
                Channels = e.TryGetProperty("channels", out var ch) ? [.. ch.EnumerateArray().Select(x => x.GetInt32())] : d.Channels,
                ConvolutionsPerBlock = e.TryGetProperty("convolutionsPerBlock", out var cb) ? cb.GetInt32() : d.ConvolutionsPerBlock,
                Normalization = e.TryGetProperty("normalization", out var n) ? Parse<NormalizationLayer>(n.GetString()) : d.Normalization,
                NormEpsilon = e.TryGetProperty("normEpsilon", out var ne) ? ne.GetDouble() : d.NormEpsilon,
                Activation = e.TryGetProperty("activation", out var ac) ? Parse<ActivationLayer>(ac.GetString()) : d.Activation,
                NegativeSlope = e.TryGetProperty("negativeSlope", out var ns) ? ns.GetDouble() : d.NegativeSlope,
                Downsampling = e.TryGetProperty("downsampling", out var ds) ? Parse<DownsamplingLayer>(ds.GetString()) : d.Downsampling,
                Upsampling = e.TryGetProperty("upsampling", out var us) ? Parse<UpsamplingLayer>(us.GetString()) : d.Upsampling,
            };
            a.Validate();
            return a;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"bad architecture: {ex.Message}", ex);
        }
    }

    /// <summary>A one-line description, e.g. "unet3d 16/32/64/128 x2 instance_norm leaky_relu(0.01) max_pool transposed_conv, 1 -> 3".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"unet3d {string.Join('/', Channels)} x{ConvolutionsPerBlock} {Name(Normalization)} {Name(Activation)}{(Activation == ActivationLayer.LeakyRelu ? $"({NegativeSlope})" : "")} {Name(Downsampling)} {Name(Upsampling)}, {InputChannels} -> {Classes}");

    /// <summary>The snake_case JSON name of an enum member (InstanceNorm becomes instance_norm).</summary>
    public static string Name<T>(T value) where T : struct, Enum
    {
        var s = value.ToString();
        var sb = new System.Text.StringBuilder(s.Length + 4);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsUpper(s[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(s[i]));
        }
        return sb.ToString();
    }

    private static T Parse<T>(string? name) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
        {
            if (Name(v) == name) return v;
        }
        throw new FormatException($"unknown {typeof(T).Name} '{name}' (expected {string.Join(", ", Enum.GetValues<T>().Select(v => Name(v)))})");
    }
}
