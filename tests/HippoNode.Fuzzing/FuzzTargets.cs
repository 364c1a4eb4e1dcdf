namespace HippoNode.Fuzzing;

/// <summary>The targets by name.</summary>
public static class FuzzTargets
{
    /// <summary>Every target name, in campaign order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["part10", "dimse", "pdu", "volume"];

    /// <summary>A new, uninitialised target.</summary>
    public static FuzzTarget Create(string name) => name switch
    {
        "part10" => new Part10Target(),
        "dimse" => new DimseCommandTarget(),
        "pdu" => new PduStreamTarget(),
        "volume" => new SeriesVolumeTarget(),
        _ => throw new ArgumentException($"unknown fuzz target '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}
