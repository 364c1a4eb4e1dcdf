namespace HippoNode.Imaging.Nifti;

/// <summary>A file that is not a readable NIfTI-1 image (truncated, bad magic, impossible dimensions, corrupt gzip, ...): names the file and the reason.</summary>
public sealed class NiftiFormatException : Exception
{
    /// <summary>A format error in <paramref name="path"/>.</summary>
    public NiftiFormatException(string path, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The file (or stream name) that failed.</summary>
    public string Path { get; }

    /// <summary>What was wrong, without the path.</summary>
    public string Reason { get; }
}
