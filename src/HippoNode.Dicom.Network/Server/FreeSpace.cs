using Microsoft.Extensions.Logging;

namespace HippoNode.Dicom.Network;

/// <summary>How much space is free for new files in a directory.</summary>
public interface IFreeSpaceProbe
{
    /// <summary>Bytes available to this process on the file system holding <paramref name="directory"/>.</summary>
    long GetFreeBytes(string directory);
}

/// <summary>The file system's own answer (statvfs on Linux, GetDiskFreeSpaceEx on Windows) through <see cref="DriveInfo"/>.</summary>
public sealed class DriveFreeSpaceProbe : IFreeSpaceProbe
{
    /// <summary>The one instance.</summary>
    public static DriveFreeSpaceProbe Instance { get; } = new();

    /// <inheritdoc />
    public long GetFreeBytes(string directory) => new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace;
}

/// <summary>
/// The SCP's disk watermark: answers whether a new instance may be written, and logs once when the free space falls
/// below the watermark and once when it is back (not once per refused instance: a study is hundreds of them).
/// </summary>
internal sealed class FreeSpaceGuard(DicomServerOptions options, ILogger logger)
{
    private int _low;

    /// <summary>True when there is room (or no watermark); otherwise the refusal comment for the C-STORE response.</summary>
    public bool HasRoom(out string? refusal)
    {
        refusal = null;
        var min = options.MinFreeBytes;
        if (min <= 0)
        {
            Volatile.Write(ref _low, 0);
            return true;
        }
        long free;
        try
        {
            free = options.FreeSpaceProbe.GetFreeBytes(options.IncomingDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Cannot tell: let the write itself find out (a full disk still ends in A700, with no partial file).
            Log.FreeSpaceUnknown(logger, options.IncomingDirectory, ex.Message);
            return true;
        }
        if (free >= min)
        {
            if (Interlocked.Exchange(ref _low, 0) == 1) Log.DiskSpaceRecovered(logger, free / Mb, min / Mb, options.IncomingDirectory);
            return true;
        }
        if (Interlocked.Exchange(ref _low, 1) == 0) Log.DiskSpaceLow(logger, free / Mb, min / Mb, options.IncomingDirectory);
        refusal = $"Out of disk space: {free / Mb} MB free, the SCP keeps at least {min / Mb} MB";
        return false;
    }

    private const long Mb = 1024 * 1024;
}
