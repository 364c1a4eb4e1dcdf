using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace HippoNode.Testing;

/// <summary>A DCMTK storescp child process on a loopback port, writing what it receives into a folder; killed on dispose.</summary>
public sealed class StorescpProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out, _err;
    private readonly bool _ownsFolder;

    private StorescpProcess(Process process, StringBuilder o, StringBuilder e, int port, string folder, bool ownsFolder)
    {
        _process = process;
        _out = o;
        _err = e;
        Port = port;
        Folder = folder;
        _ownsFolder = ownsFolder;
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Where it writes what it receives.</summary>
    public string Folder { get; }

    /// <summary>What it printed so far (for assertion messages).</summary>
    public string Output
    {
        get
        {
            lock (_out) lock (_err) return _out + "\n" + _err;
        }
    }

    /// <summary>
    /// Starts storescp as <paramref name="aeTitle"/> on <paramref name="port"/> (0: a free one) writing into
    /// <paramref name="folder"/> with <paramref name="options"/>; <paramref name="ownsFolder"/> deletes the folder on dispose.
    /// </summary>
    public static async Task<StorescpProcess> StartAsync(string aeTitle, string folder, IEnumerable<string> options, int port = 0, bool ownsFolder = false)
    {
        Directory.CreateDirectory(folder);
        if (port == 0) port = TestNet.FreePort();
        var p = TestProcess.Start("storescp", ["-aet", aeTitle, "-od", folder, .. options, port.ToString(CultureInfo.InvariantCulture)], out var o, out var e);
        await TestNet.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        return new StorescpProcess(p, o, e, port, folder, ownsFolder);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await TestProcess.StopAsync(_process);
        _process.Dispose();
        if (!_ownsFolder) return;
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // best effort: the OS cleans the temp folder eventually
        }
    }
}
