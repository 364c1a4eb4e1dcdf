using HippoNode.Segmentation.Model;

namespace HippoNode.Classification;

/// <summary>The weights of one <see cref="ResNetArchitecture"/>: every tensor of <see cref="ResNetArchitecture.Parameters"/>, by state_dict name.</summary>
/// <remarks>
/// The hand-over point between a trainer and the exporter: fill it from a state_dict (<see cref="FromStateDict"/>) and
/// give it to <c>HippoNode.Onnx.ClassifierFolderWriter</c>. A new instance holds the identity state (zero weights,
/// BatchNorm scale 1, shift 0, running mean 0, running variance 1).
/// </remarks>
public sealed class ClassifierWeights : NamedWeights
{
    /// <summary>Weights for <paramref name="architecture"/> in the identity state.</summary>
    public ClassifierWeights(ResNetArchitecture architecture)
        : base(Specs(architecture), "the classifier")
    {
        Architecture = architecture;
        foreach (var t in Tensors)
        {
            if (IsBatchNorm(t.Name, "weight") || IsBatchNorm(t.Name, "running_var")) Array.Fill(t.Data, 1f);
        }
    }

    /// <summary>The architecture these weights belong to.</summary>
    public ResNetArchitecture Architecture { get; }

    /// <inheritdoc />
    protected override string ArchitectureJson => Architecture.ToJson();

    /// <summary>Weights from a state_dict (name, shape, values); every parameter must be present, <c>num_batches_tracked</c> entries are ignored.</summary>
    /// <exception cref="ArgumentException">A missing, unknown or misshapen entry; the message lists them all.</exception>
    public static ClassifierWeights FromStateDict(ResNetArchitecture architecture, IEnumerable<(string Name, IReadOnlyList<long> Shape, float[] Values)> entries)
    {
        var w = new ClassifierWeights(architecture);
        w.Load(entries, architecture.ToString());
        return w;
    }

    /// <summary>Reads F32 weights for <paramref name="architecture"/> from a safetensors file (every parameter required).</summary>
    /// <exception cref="FormatException">Not a safetensors file, or an entry that is not F32.</exception>
    /// <exception cref="ArgumentException">The tensors do not match the architecture.</exception>
    public static ClassifierWeights LoadSafetensors(ResNetArchitecture architecture, string path) => FromStateDict(architecture, ReadSafetensors(path));

    /// <summary>
    /// Seeded random weights for tests and plumbing (never a trained model): He-uniform convolutions scaled down so that the
    /// residual sums stay moderate, BatchNorm parameters near identity, a small head.
    /// </summary>
    /// <remarks>Uses SplitMix64, so the same seed gives the same weights on every runtime.</remarks>
    public static ClassifierWeights CreateRandom(ResNetArchitecture architecture, ulong seed)
    {
        var w = new ClassifierWeights(architecture);
        w.Randomize(seed, t => t.Name switch
        {
            var n when IsBatchNorm(n, "weight") || IsBatchNorm(n, "running_var") => (0.5, 1.5),
            var n when IsBatchNorm(n, "bias") || IsBatchNorm(n, "running_mean") => (-0.2, 0.2),
            "fc.bias" => (-0.1, 0.1),
            _ => (-Math.Sqrt(3.0 / t.Spec.FanIn), Math.Sqrt(3.0 / t.Spec.FanIn)),
        });
        return w;
    }

    /// <summary>
    /// The positive-class evidence vector of the head (what the class activation map weighs the features with): fc row 0 and
    /// its bias for one logit; row 1 minus row 0 (and the bias difference) for two-class softmax, whose positive probability
    /// is the sigmoid of that difference.
    /// </summary>
    public (float[] Weights, float Bias) EvidenceHead()
    {
        var fc = this["fc.weight"].Data;
        var bias = this["fc.bias"].Data;
        var c = Architecture.FeatureChannels;
        if (Architecture.Classes == 1) return (fc[..c], bias[0]);
        var diff = new float[c];
        for (var i = 0; i < c; i++) diff[i] = fc[c + i] - fc[i];
        return (diff, bias[1] - bias[0]);
    }

    private static bool IsBatchNorm(string name, string member)
    {
        if (!name.EndsWith("." + member, StringComparison.Ordinal)) return false;
        var module = name[..^(member.Length + 1)];
        return module.EndsWith("bn1", StringComparison.Ordinal) || module.EndsWith("bn2", StringComparison.Ordinal)
            || module.EndsWith("downsample.1", StringComparison.Ordinal);
    }

    private static IReadOnlyList<ParameterSpec> Specs(ResNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return architecture.Parameters();
    }
}
