using HippoNode.Dicom.Network;
using Microsoft.Extensions.Options;

namespace HippoNode.Node.Storage;

/// <summary>The storage folder's free space against the watermark (HippoNode:Storage:MinFreeMegabytes), for the SCP, /health and /metrics.</summary>
public sealed class DiskStatus(IFreeSpaceProbe probe, StoragePaths paths, IOptions<NodeOptions> options)
{
    private const long Mb = 1024 * 1024;

    /// <summary>The probe the SCP asks before each instance.</summary>
    public IFreeSpaceProbe Probe => probe;

    /// <summary>The watermark in bytes; 0 when off.</summary>
    public long MinFreeBytes => Math.Max(0, options.Value.Storage.MinFreeMegabytes) * Mb;

    /// <summary>Free bytes on the storage folder's file system; null when it cannot be measured.</summary>
    public long? FreeBytes()
    {
        try
        {
            return probe.GetFreeBytes(Directory.Exists(paths.Root) ? paths.Root : Path.GetDirectoryName(paths.Root) ?? paths.Root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>True when receiving is paused: below the watermark.</summary>
    public bool IsBelowWatermark(long? free) => MinFreeBytes > 0 && free is { } f && f < MinFreeBytes;
}
