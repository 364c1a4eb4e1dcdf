using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HippoNode.Datasets;

namespace HippoNode.Segmentation.Model;

/// <summary>One learnable tensor: a state_dict name, a shape and float32 values in row-major (C) order.</summary>
public sealed class WeightTensor
{
    internal WeightTensor(ParameterSpec spec)
    {
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
public sealed class UNetWeights
{
    private readonly Dictionary<string, WeightTensor> _byName;
    private readonly List<WeightTensor> _ordered;

    /// <summary>Weights for <paramref name="architecture"/> in the identity state.</summary>
    public UNetWeights(UNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Architecture = architecture;
        _ordered = [.. architecture.Parameters().Select(p => new WeightTensor(p))];
        _byName = _ordered.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var t in _ordered)
        {
            if (t.Name.EndsWith(".norm.weight", StringComparison.Ordinal) || t.Name.EndsWith(".norm.running_var", StringComparison.Ordinal))
                Array.Fill(t.Data, 1f);
        }
    }

    /// <summary>The architecture these weights belong to.</summary>
    public UNetArchitecture Architecture { get; }

    /// <summary>Every tensor in <see cref="UNetArchitecture.Parameters"/> order.</summary>
    public IReadOnlyList<WeightTensor> Tensors => _ordered;

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The architecture has no such tensor.</exception>
    public WeightTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"the U-Net has no parameter '{name}'");

    /// <summary>True when the architecture has a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Copies <paramref name="values"/> into tensor <paramref name="name"/>, checking the shape when one is given.</summary>
    /// <exception cref="ArgumentException">Unknown name, wrong shape or wrong element count, or a non-finite value.</exception>
    public void Set(string name, ReadOnlySpan<float> values, IReadOnlyList<long>? shape = null)
    {
        if (!_byName.TryGetValue(name, out var t)) throw new ArgumentException($"the U-Net has no parameter '{name}'", nameof(name));
        if (shape is not null && !shape.SequenceEqual(t.Shape.Select(x => (long)x)))
            throw new ArgumentException($"'{name}' must have shape {t.Spec.ShapeText}, got [{string.Join(", ", shape)}]", nameof(shape));
        if (values.Length != t.Data.Length)
            throw new ArgumentException($"'{name}' needs {t.Data.Length} values ({t.Spec.ShapeText}), got {values.Length}", nameof(values));
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) throw new ArgumentException($"'{name}' holds a non-finite value", nameof(values));
        }
        values.CopyTo(t.Data);
    }

    /// <summary>Weights from a state_dict (name, shape, values); every parameter must be present, <c>num_batches_tracked</c> entries are ignored.</summary>
    /// <exception cref="ArgumentException">A missing, unknown or misshapen entry; the message lists them all.</exception>
    public static UNetWeights FromStateDict(UNetArchitecture architecture, IEnumerable<(string Name, IReadOnlyList<long> Shape, float[] Values)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var w = new UNetWeights(architecture);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, shape, values) in entries)
        {
            // A BatchNorm counter of training steps: not a weight, and inference does not need it.
            if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) continue;
            if (!w.Contains(name))
            {
                problems.Add($"unexpected '{name}'");
                continue;
            }
            try
            {
                w.Set(name, values, shape);
                seen.Add(name);
            }
            catch (ArgumentException ex)
            {
                problems.Add(ex.Message.Split(" (Parameter", 2)[0]);
            }
        }
        problems.AddRange(w._ordered.Where(t => !seen.Contains(t.Name)).Select(t => $"missing '{t.Name}' {t.Spec.ShapeText}"));
        if (problems.Count > 0) throw new ArgumentException($"state_dict does not match {architecture}: {string.Join("; ", problems)}", nameof(entries));
        return w;
    }

    /// <summary>Seeded random weights for tests and benchmarks (not a training initialisation): He-uniform convolutions, small biases, norm parameters near identity.</summary>
    /// <remarks>Uses SplitMix64, so the same seed gives the same weights on every runtime.</remarks>
    public static UNetWeights CreateRandom(UNetArchitecture architecture, ulong seed)
    {
        var w = new UNetWeights(architecture);
        var rng = new SplitMix64(seed);
        foreach (var t in w._ordered)
        {
            var n = t.Name;
            var (lo, hi) = n switch
            {
                _ when n.EndsWith(".norm.weight", StringComparison.Ordinal) => (0.5, 1.5),
                _ when n.EndsWith(".norm.running_var", StringComparison.Ordinal) => (0.5, 1.5),
                _ when n.EndsWith(".norm.bias", StringComparison.Ordinal) || n.EndsWith(".norm.running_mean", StringComparison.Ordinal) => (-0.2, 0.2),
                _ when n.EndsWith(".bias", StringComparison.Ordinal) => (-0.1, 0.1),
                _ => (-Math.Sqrt(6.0 / t.Spec.FanIn), Math.Sqrt(6.0 / t.Spec.FanIn)),
            };
            for (var i = 0; i < t.Data.Length; i++)
            {
                var u = (rng.Next() >> 11) * (1.0 / (1UL << 53));
                t.Data[i] = (float)(lo + (hi - lo) * u);
            }
        }
        return w;
    }

    /// <summary>Writes the weights as a safetensors file (F32, state_dict names), readable by PyTorch's <c>safetensors.torch.load_file</c>.</summary>
    public void SaveSafetensors(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["hipponode.architecture"] = Architecture.ToJson(),
        };
        using var headerStream = new MemoryStream();
        using (var j = new Utf8JsonWriter(headerStream))
        {
            j.WriteStartObject();
            j.WriteStartObject("__metadata__");
            foreach (var (k, v) in meta.OrderBy(kv => kv.Key, StringComparer.Ordinal)) j.WriteString(k, v);
            j.WriteEndObject();
            long offset = 0;
            foreach (var t in _ordered)
            {
                j.WriteStartObject(t.Name);
                j.WriteString("dtype", "F32");
                j.WriteStartArray("shape");
                foreach (var d in t.Shape) j.WriteNumberValue(d);
                j.WriteEndArray();
                j.WriteStartArray("data_offsets");
                j.WriteNumberValue(offset);
                offset += t.Data.Length * 4L;
                j.WriteNumberValue(offset);
                j.WriteEndArray();
                j.WriteEndObject();
            }
            j.WriteEndObject();
        }
        var header = headerStream.ToArray().ToList();
        // The format allows trailing spaces in the header; padding to 8 keeps the tensor data aligned.
        while (header.Count % 8 != 0) header.Add((byte)' ');
        using var f = File.Create(path);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
        f.Write(len);
        f.Write(CollectionsMarshal.AsSpan(header));
        foreach (var t in _ordered) WriteFloatsLittleEndian(f, t.Data);
    }

    /// <summary>Reads F32 weights for <paramref name="architecture"/> from a safetensors file (every parameter required; extra <c>num_batches_tracked</c> ignored).</summary>
    /// <exception cref="FormatException">Not a safetensors file, or an entry that is not F32.</exception>
    /// <exception cref="ArgumentException">The tensors do not match the architecture.</exception>
    public static UNetWeights LoadSafetensors(UNetArchitecture architecture, string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new FormatException($"{path}: too short for safetensors");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)(bytes.Length - 8)) throw new FormatException($"{path}: header length {n} exceeds the file");
        var dataStart = 8 + (int)n;
        var entries = new List<(string, IReadOnlyList<long>, float[])>();
        using (var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n)))
        {
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__") continue;
                var dtype = p.Value.GetProperty("dtype").GetString();
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                var offs = p.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                if (p.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) continue;
                if (dtype != "F32") throw new FormatException($"{path}: '{p.Name}' is {dtype}; only F32 is read");
                if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || dataStart + offs[1] > bytes.Length || (offs[1] - offs[0]) % 4 != 0)
                    throw new FormatException($"{path}: '{p.Name}' has bad data_offsets");
                var values = new float[(offs[1] - offs[0]) / 4];
                var src = bytes.AsSpan(dataStart + (int)offs[0], values.Length * 4);
                for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
                entries.Add((p.Name, shape, values));
            }
        }
        return FromStateDict(architecture, entries);
    }

    /// <summary>The total number of values.</summary>
    public long ParameterCount => _ordered.Sum(t => (long)t.Data.Length);

    internal static void WriteFloatsLittleEndian(Stream s, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            s.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var buf = new byte[data.Length * 4];
        for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(i * 4), data[i]);
        s.Write(buf);
    }
}
