namespace HippoNode.Segmentation.Model;

/// <summary>One learnable tensor: a state_dict name, a shape and float32 values in row-major (C) order.</summary>
public sealed class WeightTensor
{
    /// <summary>A tensor of <paramref name="spec"/>'s shape, all zeros.</summary>
    public WeightTensor(ParameterSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Data = new float[spec.ElementCount];
    }

    /// <summary>The name and shape this tensor must have.</summary>
    public ParameterSpec Spec { get; }

    /// <summary>The state_dict name.</summary>
    public string Name => Spec.Name;

    /// <summary>The shape, PyTorch order.</summary>
    public IReadOnlyList<int> Shape => Spec.Shape;

    /// <summary>The values, row-major; writable so a trainer can copy into it.</summary>
    public float[] Data { get; }
}

/// <summary>The weights of one <see cref="UNetArchitecture"/>: every tensor of <see cref="UNetArchitecture.Parameters"/>, by state_dict name.</summary>
/// <remarks>
/// This is the hand-over point between training and export: a trainer (TorchSharp, PyTorch via safetensors, ...)
/// fills it by name, <c>HippoNode.Onnx.UNetOnnxExporter</c> turns it into an ONNX model. A new instance holds the
/// identity state (zero convolutions, norm scale 1, shift 0, running variance 1).
/// </remarks>
public sealed class UNetWeights : NamedWeights
{
    /// <summary>Weights for <paramref name="architecture"/> in the identity state.</summary>
    public UNetWeights(UNetArchitecture architecture)
        : base(Specs(architecture), "the U-Net")
    {
        Architecture = architecture;
        foreach (var t in Tensors)
        {
            if (t.Name.EndsWith(".norm.weight", StringComparison.Ordinal) || t.Name.EndsWith(".norm.running_var", StringComparison.Ordinal))
                Array.Fill(t.Data, 1f);
        }
    }

    /// <summary>The architecture these weights belong to.</summary>
    public UNetArchitecture Architecture { get; }

    /// <inheritdoc />
    protected override string ArchitectureJson => Architecture.ToJson();

    /// <summary>Weights from a state_dict (name, shape, values); every parameter must be present, <c>num_batches_tracked</c> entries are ignored.</summary>
    /// <exception cref="ArgumentException">A missing, unknown or misshapen entry; the message lists them all.</exception>
    public static UNetWeights FromStateDict(UNetArchitecture architecture, IEnumerable<(string Name, IReadOnlyList<long> Shape, float[] Values)> entries)
    {
        var w = new UNetWeights(architecture);
        w.Load(entries, architecture.ToString());
        return w;
    }

    /// <summary>Seeded random weights for tests and benchmarks (not a training initialisation): He-uniform convolutions, small biases, norm parameters near identity.</summary>
    /// <remarks>Uses SplitMix64, so the same seed gives the same weights on every runtime.</remarks>
    public static UNetWeights CreateRandom(UNetArchitecture architecture, ulong seed)
    {
        var w = new UNetWeights(architecture);
        w.Randomize(seed, t => t.Name switch
        {
            var n when n.EndsWith(".norm.weight", StringComparison.Ordinal) => (0.5, 1.5),
            var n when n.EndsWith(".norm.running_var", StringComparison.Ordinal) => (0.5, 1.5),
            var n when n.EndsWith(".norm.bias", StringComparison.Ordinal) || n.EndsWith(".norm.running_mean", StringComparison.Ordinal) => (-0.2, 0.2),
            var n when n.EndsWith(".bias", StringComparison.Ordinal) => (-0.1, 0.1),
            _ => (-Math.Sqrt(6.0 / t.Spec.FanIn), Math.Sqrt(6.0 / t.Spec.FanIn)),
        });
        return w;
    }

    /// <summary>Reads F32 weights for <paramref name="architecture"/> from a safetensors file (every parameter required; extra <c>num_batches_tracked</c> ignored).</summary>
    /// <exception cref="FormatException">Not a safetensors file, or an entry that is not F32.</exception>
    /// <exception cref="ArgumentException">The tensors do not match the architecture.</exception>
    public static UNetWeights LoadSafetensors(UNetArchitecture architecture, string path) => FromStateDict(architecture, ReadSafetensors(path));

    private static IReadOnlyList<ParameterSpec> Specs(UNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return architecture.Parameters();
    }
}
