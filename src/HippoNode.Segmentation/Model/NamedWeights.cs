using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using HippoNode.Datasets;

namespace HippoNode.Segmentation.Model;

/// <summary>
/// A fixed set of learnable tensors named like a PyTorch <c>state_dict</c>: what every network description
/// (<see cref="UNetWeights"/>, the chest X-ray classifier's weights) hands from a trainer to an exporter.
/// </summary>
/// <remarks>Filling by name checks names, shapes and finiteness; a state_dict that does not fit lists every problem at once.</remarks>
public abstract class NamedWeights
{
    private readonly Dictionary<string, WeightTensor> _byName;
    private readonly List<WeightTensor> _ordered;
    private readonly string _what;

    /// <summary>One zero tensor per spec, in the given order; <paramref name="what"/> names the network in messages ("the U-Net").</summary>
    protected NamedWeights(IEnumerable<ParameterSpec> parameters, string what)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _what = what;
        _ordered = [.. parameters.Select(p => new WeightTensor(p))];
        _byName = _ordered.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Every tensor, in the network's parameter order.</summary>
    public IReadOnlyList<WeightTensor> Tensors => _ordered;

    /// <summary>The total number of values.</summary>
    public long ParameterCount => _ordered.Sum(t => (long)t.Data.Length);

    /// <summary>The architecture as JSON text (written into safetensors metadata).</summary>
    protected abstract string ArchitectureJson { get; }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The network has no such tensor.</exception>
    public WeightTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{_what} has no parameter '{name}'");

    /// <summary>True when the network has a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Copies <paramref name="values"/> into tensor <paramref name="name"/>, checking the shape when one is given.</summary>
    /// <exception cref="ArgumentException">Unknown name, wrong shape or wrong element count, or a non-finite value.</exception>
    public void Set(string name, ReadOnlySpan<float> values, IReadOnlyList<long>? shape = null)
    {
        if (!_byName.TryGetValue(name, out var t)) throw new ArgumentException($"{_what} has no parameter '{name}'", nameof(name));
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

    /// <summary>Fills every tensor from a state_dict; <c>num_batches_tracked</c> entries are ignored (a BatchNorm step counter, not a weight).</summary>
    /// <exception cref="ArgumentException">A missing, unknown or misshapen entry; the message lists them all and names <paramref name="architecture"/>.</exception>
    protected void Load(IEnumerable<(string Name, IReadOnlyList<long> Shape, float[] Values)> entries, string architecture)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, shape, values) in entries)
        {
            if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) continue;
            if (!Contains(name))
            {
                problems.Add($"unexpected '{name}'");
                continue;
            }
            try
            {
                Set(name, values, shape);
                seen.Add(name);
            }
            catch (ArgumentException ex)
            {
                problems.Add(ex.Message.Split(" (Parameter", 2)[0]);
            }
        }
        problems.AddRange(_ordered.Where(t => !seen.Contains(t.Name)).Select(t => $"missing '{t.Name}' {t.Spec.ShapeText}"));
        if (problems.Count > 0) throw new ArgumentException($"state_dict does not match {architecture}: {string.Join("; ", problems)}", nameof(entries));
    }

    /// <summary>Fills every tensor, in order, with SplitMix64 uniform values in the range <paramref name="range"/> gives it (same seed, same weights everywhere).</summary>
    protected void Randomize(ulong seed, Func<WeightTensor, (double Lo, double Hi)> range)
    {
        ArgumentNullException.ThrowIfNull(range);
        var rng = new SplitMix64(seed);
        foreach (var t in _ordered)
        {
            var (lo, hi) = range(t);
            for (var i = 0; i < t.Data.Length; i++)
            {
                var u = (rng.Next() >> 11) * (1.0 / (1UL << 53));
                t.Data[i] = (float)(lo + (hi - lo) * u);
            }
        }
    }

    /// <summary>Writes the weights as a safetensors file (F32, state_dict names), readable by PyTorch's <c>safetensors.torch.load_file</c>.</summary>
    public void SaveSafetensors(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["hipponode.architecture"] = ArchitectureJson,
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

    /// <summary>The F32 entries of a safetensors file as a state_dict (<c>num_batches_tracked</c> left out).</summary>
    /// <exception cref="FormatException">Not a safetensors file, or an entry that is not F32.</exception>
    protected static List<(string Name, IReadOnlyList<long> Shape, float[] Values)> ReadSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new FormatException($"{path}: too short for safetensors");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)(bytes.Length - 8)) throw new FormatException($"{path}: header length {n} exceeds the file");
        var dataStart = 8 + (int)n;
        var entries = new List<(string, IReadOnlyList<long>, float[])>();
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
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
        return entries;
    }

    private static void WriteFloatsLittleEndian(Stream s, float[] data)
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
