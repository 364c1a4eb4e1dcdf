using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using HippoNode.Onnx.Protobuf;

namespace HippoNode.Onnx;

/// <summary>The tensor element types our graphs use (values are ONNX TensorProto.DataType codes).</summary>
public enum OnnxElementType
{
    /// <summary>float32.</summary>
    Float = 1,

    /// <summary>int64 (shapes, pads, indices).</summary>
    Int64 = 7,
}

/// <summary>One dimension of a graph input or output: a fixed size or a named dynamic size.</summary>
public readonly record struct OnnxDim
{
    private OnnxDim(long? value, string? param)
    {
        Value = value;
        Param = param;
    }

    /// <summary>The fixed size, or null for a dynamic dimension.</summary>
    public long? Value { get; }

    /// <summary>The symbolic name of a dynamic dimension, or null for a fixed one.</summary>
    public string? Param { get; }

    /// <summary>A dimension of fixed size <paramref name="size"/>.</summary>
    public static OnnxDim Fixed(long size) => size >= 0 ? new(size, null) : throw new ArgumentOutOfRangeException(nameof(size));

    /// <summary>A dynamic dimension called <paramref name="name"/> (dimensions sharing a name must agree at run time).</summary>
    public static OnnxDim Dynamic(string name) => !string.IsNullOrEmpty(name) ? new(null, name) : throw new ArgumentException("a dynamic dimension needs a name", nameof(name));

    /// <summary>The size, or the symbolic name.</summary>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}

/// <summary>A node attribute: a name and an int, float, string or a list of ints or floats.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(AttributeProto proto) => Proto = proto;

    internal AttributeProto Proto { get; }

    /// <summary>The attribute's name.</summary>
    public string Name => Proto.Name;

    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });

    /// <summary>A UTF-8 string attribute.</summary>
    public static OnnxAttribute String(string name, string value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    /// <summary>A list-of-integers attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return new(a);
    }

    /// <summary>A list-of-floats attribute.</summary>
    public static OnnxAttribute Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return new(a);
    }
}

/// <summary>Identity and description of a model: producer, version, doc string and metadata properties.</summary>
public sealed class OnnxModelInfo
{
    /// <summary>The producing tool (ModelProto.producer_name).</summary>
    public string ProducerName { get; init; } = "HippoNode";

    /// <summary>The producing tool's version.</summary>
    public string ProducerVersion { get; init; } = typeof(OnnxModelInfo).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>A reverse-DNS namespace for the model (ModelProto.domain).</summary>
    public string Domain { get; init; } = "org.hipponode";

    /// <summary>An integer version of the model (ModelProto.model_version).</summary>
    public long ModelVersion { get; init; }

    /// <summary>A human description (ModelProto.doc_string).</summary>
    public string DocString { get; init; } = "";

    /// <summary>Key/value metadata (ModelProto.metadata_props), written in key order.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>Builds one ONNX graph node by node and serialises it as a model (IR version 8, default opset domain).</summary>
/// <remarks>
/// Every node input must already be defined (a graph input, an initializer or an earlier node's output), so the node
/// list is topologically sorted by construction and a typo fails here, not in a runtime's loader.
/// </remarks>
public sealed class OnnxGraphBuilder
{
    /// <summary>The IR version written: 8 goes with opsets up to 18 and is read by every current runtime.</summary>
    public const long IrVersion = 8;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private int _counter;

    /// <summary>A builder for a graph called <paramref name="graphName"/> against ONNX opset <paramref name="opset"/>.</summary>
    public OnnxGraphBuilder(string graphName, int opset = 17)
    {
        ArgumentException.ThrowIfNullOrEmpty(graphName);
        ArgumentOutOfRangeException.ThrowIfLessThan(opset, 13);
        _graph = new GraphProto { Name = graphName };
        Opset = opset;
    }

    /// <summary>The ONNX operator set version the nodes are written against.</summary>
    public int Opset { get; }

    /// <summary>The number of nodes so far.</summary>
    public int NodeCount => _graph.Node.Count;

    /// <summary>Declares a graph input.</summary>
    public string AddInput(string name, OnnxElementType type, IReadOnlyList<OnnxDim> shape, string doc = "")
    {
        Define(name);
        _graph.Input.Add(ValueInfo(name, type, shape, doc));
        return name;
    }

    /// <summary>Declares a graph output; <paramref name="name"/> must be produced by a node.</summary>
    public void AddOutput(string name, OnnxElementType type, IReadOnlyList<OnnxDim> shape, string doc = "")
    {
        if (!_defined.Contains(name)) throw new InvalidOperationException($"output '{name}' is not produced by any node");
        _graph.Output.Add(ValueInfo(name, type, shape, doc));
    }

    /// <summary>Adds a float32 initializer (a constant or a weight) stored as little-endian raw data.</summary>
    public string AddInitializer(string name, ReadOnlySpan<float> values, IReadOnlyList<long> dims)
    {
        CheckCount(name, values.Length, dims);
        Define(name);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        byte[] raw;
        if (BitConverter.IsLittleEndian)
        {
            raw = MemoryMarshal.AsBytes(values).ToArray();
        }
        else
        {
            raw = new byte[values.Length * 4];
            for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
        }
        t.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds an int64 initializer.</summary>
    public string AddInitializer(string name, ReadOnlySpan<long> values, IReadOnlyList<long> dims)
    {
        CheckCount(name, values.Length, dims);
        Define(name);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values.ToArray());
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name (derived from <paramref name="name"/> or the op type).</summary>
    /// <param name="opType">The operator, e.g. "Conv".</param>
    /// <param name="inputs">Input value names; "" leaves an optional input out.</param>
    /// <param name="name">The node name (made unique); also the stem of the output name.</param>
    /// <param name="attributes">The node's attributes.</param>
    public string Node(string opType, IReadOnlyList<string> inputs, string? name = null, params OnnxAttribute[] attributes) =>
        Node(opType, inputs, 1, name, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs and returns their names.</summary>
    public IReadOnlyList<string> Node(string opType, IReadOnlyList<string> inputs, int outputCount, string? name, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var i in inputs)
        {
            if (i.Length > 0 && !_defined.Contains(i)) throw new InvalidOperationException($"{opType} node reads '{i}', which nothing defines yet");
        }
        var nodeName = Unique(name ?? opType, _nodeNames);
        var node = new NodeProto { OpType = opType, Name = nodeName };
        node.Input.AddRange(inputs);
        var outputs = new List<string>(outputCount);
        for (var k = 0; k < outputCount; k++)
        {
            var o = Unique(outputCount == 1 ? nodeName + ":out" : $"{nodeName}:out{k}", _defined);
            _defined.Add(o);
            outputs.Add(o);
        }
        node.Output.AddRange(outputs);
        foreach (var a in attributes) node.Attribute.Add(a.Proto);
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Renames the output of the last node that produced <paramref name="value"/> to <paramref name="newName"/> (used to give graph outputs their public names).</summary>
    public string Rename(string value, string newName)
    {
        if (_defined.Contains(newName)) throw new InvalidOperationException($"'{newName}' is already defined");
        var node = _graph.Node.LastOrDefault(n => n.Output.Contains(value)) ?? throw new InvalidOperationException($"no node produces '{value}'");
        if (_graph.Node.Any(n => n.Input.Contains(value))) throw new InvalidOperationException($"'{value}' is already read by a node; rename it before use");
        node.Output[node.Output.IndexOf(value)] = newName;
        _defined.Remove(value);
        _defined.Add(newName);
        return newName;
    }

    /// <summary>The serialised model.</summary>
    public byte[] ToBytes(OnnxModelInfo info) => BuildProto(info).ToByteArray();

    /// <summary>Writes the serialised model to <paramref name="path"/>.</summary>
    public void Save(string path, OnnxModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, ToBytes(info));
    }

    internal ModelProto BuildProto(OnnxModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (_graph.Output.Count == 0) throw new InvalidOperationException("the graph has no outputs");
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = info.ProducerName,
            ProducerVersion = info.ProducerVersion,
            Domain = info.Domain,
            ModelVersion = info.ModelVersion,
            DocString = info.DocString,
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in info.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    private void Define(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_defined.Add(name)) throw new InvalidOperationException($"'{name}' is defined twice");
    }

    private string Unique(string stem, HashSet<string> taken)
    {
        if (!taken.Contains(stem)) return stem;
        string candidate;
        do candidate = $"{stem}_{++_counter}"; while (taken.Contains(candidate));
        return candidate;
    }

    private static void CheckCount(string name, int count, IReadOnlyList<long> dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var expected = dims.Aggregate(1L, (a, b) => a * b);
        if (dims.Any(d => d < 0) || expected != count) throw new ArgumentException($"initializer '{name}': shape [{string.Join(", ", dims)}] needs {expected} values, got {count}");
    }

    private static ValueInfoProto ValueInfo(string name, OnnxElementType type, IReadOnlyList<OnnxDim> shape, string doc)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var s = new TensorShapeProto();
        foreach (var d in shape)
        {
            s.Dim.Add(d.Value is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d.Param });
        }
        return new ValueInfoProto
        {
            Name = name,
            DocString = doc,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = s } },
        };
    }
}
