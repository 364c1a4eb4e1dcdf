namespace HippoNode.Onnx;

/// <summary>What every exporter writes besides the weights: the input's name, the operator set, the model's identity and training information.</summary>
public abstract class OnnxExportOptions
{
    /// <summary>Options whose model is called <paramref name="name"/> and described as <paramref name="description"/> unless set otherwise.</summary>
    protected OnnxExportOptions(string name, string description)
    {
        Name = name;
        Description = description;
    }

    /// <summary>The ONNX operator set (17 by default; 13 is the least the ops used allow).</summary>
    public int Opset { get; init; } = 17;

    /// <summary>The input tensor's name.</summary>
    public string InputName { get; init; } = "image";

    /// <summary>The model's name (metadata "name").</summary>
    public string Name { get; init; }

    /// <summary>The model's version text (metadata "version").</summary>
    public string Version { get; init; } = "0.0.0";

    /// <summary>An integer model version (ModelProto.model_version).</summary>
    public long ModelVersion { get; init; }

    /// <summary>A human description (ModelProto.doc_string).</summary>
    public string Description { get; init; }

    /// <summary>Training information as JSON text (metadata "training"): data, split, fold, epochs, loss, ...</summary>
    public string Training { get; init; } = "{}";

    /// <summary>More metadata properties; the exporter's own keys win on a clash.</summary>
    public IReadOnlyDictionary<string, string> ExtraMetadata { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The model's identity and metadata: <see cref="ExtraMetadata"/>, then "name", "version", "training", "architecture"
    /// and the exporter's own <paramref name="keys"/> over them.
    /// </summary>
    internal OnnxModelInfo ModelInfo(string architectureJson, IEnumerable<KeyValuePair<string, string>> keys)
    {
        var m = new Dictionary<string, string>(ExtraMetadata, StringComparer.Ordinal)
        {
            ["name"] = Name,
            ["version"] = Version,
            ["training"] = Training,
            ["architecture"] = architectureJson,
        };
        foreach (var (k, v) in keys) m[k] = v;
        return new OnnxModelInfo { ModelVersion = ModelVersion, DocString = Description, Metadata = m };
    }
}
