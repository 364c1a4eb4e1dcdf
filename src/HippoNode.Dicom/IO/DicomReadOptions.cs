namespace HippoNode.Dicom.IO;

/// <summary>How the parse core reads: where values may stay on disk, where to stop, how deep to nest.</summary>
public sealed record DicomReadOptions
{
    /// <summary>Defaults: values of 64 KiB or more stay in the file, nesting up to 64 levels.</summary>
    public static readonly DicomReadOptions Default = new();

    /// <summary>Values at least this long are left in the file (read on use) when the source is a seekable file.</summary>
    public long LargeValueThreshold { get; init; } = 64 * 1024;

    /// <summary>Top-level reading stops before the first tag at or above this one (e.g. PixelData for headers only).</summary>
    public DicomTag? StopAtTag { get; init; }

    /// <summary>Top-level reading stops before the first element outside this group (File Meta Information: 0002).</summary>
    internal ushort? OnlyGroup { get; init; }

    /// <summary>Deepest sequence nesting accepted; deeper input is malformed (and would exhaust the stack).</summary>
    public int MaxDepth { get; init; } = 64;
}
