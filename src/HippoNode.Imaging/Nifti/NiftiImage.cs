namespace HippoNode.Imaging.Nifti;

/// <summary>A NIfTI file as read: its header, the first 3D volume, and notes on what the reader decided (e.g. which volume of a 4D file it took).</summary>
public sealed class NiftiImage(string path, NiftiHeader header, Volume3D volume, IReadOnlyList<string> notes, bool compressed)
{
    /// <summary>The file read.</summary>
    public string Path { get; } = path;

    /// <summary>The decoded header.</summary>
    public NiftiHeader Header { get; } = header;

    /// <summary>The voxels (scaled by scl_slope/scl_inter), spacing and affine.</summary>
    public Volume3D Volume { get; } = volume;

    /// <summary>Things worth knowing that did not stop the read (e.g. "4D image with 3 volumes: took the first").</summary>
    public IReadOnlyList<string> Notes { get; } = notes;

    /// <summary>True when the file was gzip-compressed (.nii.gz).</summary>
    public bool Compressed { get; } = compressed;
}
