using System.Diagnostics;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Security;

/// <summary>
/// The disk watermark: below it every C-STORE is answered A700 (out of resources) and nothing is written; once space
/// returns, storing resumes. And a file system that really fills up mid-instance ends in A700 with no partial file.
/// </summary>
public sealed class DiskSpaceTests : IDisposable
{
    private readonly string _work = TempDir.Create("disk");

    public void Dispose() => TempDir.Delete(_work);

    [ToolFact("storescu")]
    public async Task WatermarkAboveFreeSpace_StoreScuAndOurScuGetA700_NothingWritten_LoweredTheyStore()
    {
        var log = new ListLoggerFactory();
        await using var scp = await TestServer.StartAsync(log: log);
        var free = DriveFreeSpaceProbe.Instance.GetFreeBytes(scp.Options.IncomingDirectory);
        scp.Options.MinFreeBytes = free + (1L << 40); // a terabyte more than there is
        var files = TestInstances.Write(Path.Combine(_work, "study"), 2);
        string[] storescu = ["-v", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), .. files];

        var dcmtk = await Processes.RunAsync("storescu", storescu);
        // storescu halts on the first unsuccessful store (its default), so one refusal is all it reports.
        Assert.Contains("Received Store Response (Refused: OutOfResources)", dcmtk.Output, StringComparison.Ordinal);
        var ours = await DicomSender.SendAsync("127.0.0.1", scp.Port, TestHelpers.Client(), files).ToListAsync();
        Assert.All(ours, r => Assert.Equal(DicomStatus.OutOfResources, r.Status));
        Assert.All(ours, r => Assert.Contains("Out of disk space", r.Error, StringComparison.Ordinal));
        Assert.False(ours[0].IsPermanentFailure); // worth another try later
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Empty(scp.StoredFiles());
        Assert.Empty(scp.IncomingLeftovers());
        // One warning for the whole episode, with the figures; not one per refused instance.
        var low = log.Lines.Where(l => l.StartsWith("Warning 1005:", StringComparison.Ordinal)).ToList();
        Assert.Single(low);
        Assert.Contains($"below the watermark of {scp.Options.MinFreeBytes / (1024 * 1024)} MB", low[0], StringComparison.Ordinal);

        scp.Options.MinFreeBytes = 1024 * 1024; // space is back
        dcmtk = await Processes.RunAsync("storescu", storescu);
        Assert.True(dcmtk.ExitCode == 0, dcmtk.Output);
        Assert.DoesNotContain("OutOfResources", dcmtk.Output, StringComparison.Ordinal);
        Assert.Equal(2, scp.StoredFiles().Count);
        ours = await DicomSender.SendAsync("127.0.0.1", scp.Port, TestHelpers.Client(), files).ToListAsync();
        Assert.All(ours, r => Assert.True(r.Succeeded, r.Error));
        Assert.Contains(log.Lines, l => l.StartsWith("Information 1006:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InjectedProbe_DecidesPerRequest()
    {
        var probe = new SettableProbe { Free = 10 };
        await using var scp = await TestServer.StartAsync(o =>
        {
            o.MinFreeBytes = 100;
            o.FreeSpaceProbe = probe;
        });
        var file = TestInstances.Write(Path.Combine(_work, "p"), 1)[0];
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([file]), CancellationToken.None);
        Assert.Equal(DicomStatus.OutOfResources, (await a.StoreAsync(file, CancellationToken.None)).Status);
        probe.Free = 1000; // the same association goes on once there is room
        Assert.Equal(DicomStatus.Success, (await a.StoreAsync(file, CancellationToken.None)).Status);
        Assert.Single(scp.StoredFiles());
    }

    /// <summary>
    /// A real full disk: a 1 MiB tmpfs. An instance larger than the space left fails while it is written: A700, the
    /// partial file removed, the association and the server go on; a small one stores. Needs root (mount).
    /// </summary>
    [FullDiskFact]
    public async Task SmallFileSystemFillsMidInstance_A700_NoPartialFile_ServerGoesOn()
    {
        var mount = Path.Combine(_work, "tiny");
        Directory.CreateDirectory(mount);
        Assert.True(Mount(mount), "mount failed");
        try
        {
            var root = Path.Combine(mount, "root");
            var handler = new FileStoreHandler(root);
            await using var scp = await TestServer.StartAsync(o => o.IncomingDirectory = Path.Combine(root, ".incoming"), handler);
            var big = TestInstances.Write(Path.Combine(_work, "big"), 1, pixels: 1024)[0];   // 2 MiB of pixels
            var small = TestInstances.Write(Path.Combine(_work, "small"), 1, pixels: 64)[0]; // 8 KiB

            await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([big, small]), CancellationToken.None);
            var full = await a.StoreAsync(big, CancellationToken.None);
            Assert.Equal(DicomStatus.OutOfResources, full.Status);
            Assert.Empty(Directory.GetFiles(Path.Combine(root, ".incoming")));
            Assert.Empty(Directory.GetFiles(root, "*.dcm", SearchOption.AllDirectories));

            var fits = await a.StoreAsync(small, CancellationToken.None);
            Assert.True(fits.Succeeded, fits.Error);
            Assert.Single(Directory.GetFiles(root, "*.dcm", SearchOption.AllDirectories));
        }
        finally
        {
            Unmount(mount);
        }
    }

    private static bool Mount(string path) => Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", path);

    private static void Unmount(string path) => Run("umount", path);

    private static bool Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    private sealed class SettableProbe : IFreeSpaceProbe
    {
        public long Free { get; set; }

        public long GetFreeBytes(string directory) => Free;
    }

    /// <summary>Runs only where the test may mount a tmpfs (root on Linux, mount allowed); skips with the reason elsewhere.</summary>
    private sealed class FullDiskFactAttribute : FactAttribute
    {
        public FullDiskFactAttribute()
        {
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Skip = "needs root on Linux to mount a small tmpfs";
            else if (!CanMount()) Skip = "mounting a tmpfs is not permitted here (container without CAP_SYS_ADMIN)";
        }

        private static bool CanMount()
        {
            var probe = Path.Combine(Path.GetTempPath(), "hn-mount-probe-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(probe);
            try
            {
                if (!Mount(probe)) return false;
                Unmount(probe);
                return true;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return false;
            }
            finally
            {
                Directory.Delete(probe);
            }
        }
    }
}
