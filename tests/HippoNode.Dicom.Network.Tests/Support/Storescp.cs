using System.Diagnostics;
using System.Text;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>A DCMTK storescp child process (AE STORESCP) on a free port, storing into a temporary folder; killed and cleaned on dispose.</summary>
public sealed class Storescp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out, _err;

    private Storescp(Process process, int port, string directory, StringBuilder o, StringBuilder e)
    {
        _process = process;
        Port = port;
        Directory = directory;
        _out = o;
        _err = e;
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Where it writes what it receives.</summary>
    public string Directory { get; }

    /// <summary>What it printed so far (for assertion messages).</summary>
    public string Output => _out + "\n" + _err;

    /// <summary>Starts storescp with <paramref name="extra"/> options (transfer syntax, TLS).</summary>
    public static async Task<Storescp> StartAsync(string[] extra)
    {
        var port = Processes.FreePort();
        var dir = TempDir.Create("storescp");
        var p = Processes.Start("storescp", ["-aet", "STORESCP", "-od", dir, "-dhl", .. extra, port.ToString()], out var o, out var e);
        await Processes.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        return new Storescp(p, port, dir, o, e);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Processes.StopAsync(_process);
        _process.Dispose();
        TempDir.Delete(Directory);
    }
}
