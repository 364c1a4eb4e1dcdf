using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Node.Tests.Support;

/// <summary>DCMTK's storescp as the PACS stand-in: every reception becomes its own file (+uf), so "arrived once" is countable.</summary>
public sealed class StoreScp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out, _err;

    private StoreScp(Process p, StringBuilder o, StringBuilder e, int port, string folder)
    {
        _process = p;
        _out = o;
        _err = e;
        Port = port;
        Folder = folder;
    }

    public int Port { get; }

    public string Folder { get; }

    public string Output => _out + "\n" + _err;

    /// <summary>Starts storescp as AE "PACS" on <paramref name="port"/> (0: a free one) writing into <paramref name="folder"/>; <paramref name="extra"/> adds options (TLS).</summary>
    public static async Task<StoreScp> StartAsync(string folder, int port = 0, IEnumerable<string>? extra = null)
    {
        Directory.CreateDirectory(folder);
        if (port == 0) port = FreePort();
        var psi = new ProcessStartInfo("storescp") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-aet", "PACS", "-od", folder, "+uf", "-v" }.Concat(extra ?? []).Append(port.ToString(System.Globalization.CultureInfo.InvariantCulture))) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var o = new StringBuilder();
        var e = new StringBuilder();
        p.OutputDataReceived += (_, ev) => { if (ev.Data is not null) lock (o) o.AppendLine(ev.Data); };
        p.ErrorDataReceived += (_, ev) => { if (ev.Data is not null) lock (e) e.AppendLine(ev.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        await WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        return new StoreScp(p, o, e, port, folder);
    }

    /// <summary>SOP Instance UIDs of the files received, one entry per reception.</summary>
    public IReadOnlyList<string> ReceivedUids() => Directory.EnumerateFiles(Folder)
        .Select(f => DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!.Trim()).ToList();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }

    /// <summary>A free loopback port (TestNet).</summary>
    public static int FreePort() => TestNet.FreePort();

    /// <summary>Waits until the port accepts connections (TestNet).</summary>
    public static Task WaitForPortAsync(int port, TimeSpan timeout) => TestNet.WaitForPortAsync(port, timeout);
}

/// <summary>DCMTK's storescu as the modality / Orthanc sending into the node.</summary>
public static class StoreScu
{
    /// <summary>Sends every file under <paramref name="folder"/>; returns the exit code and output; <paramref name="extra"/> adds options (TLS, -v).</summary>
    public static (int ExitCode, string Output) Send(int port, string folder, string callingAe = "ORTHANC", string calledAe = "HIPPONODE", IEnumerable<string>? extra = null)
    {
        var (code, o, e) = TestData.Run("storescu", [.. extra ?? [], "-aet", callingAe, "-aec", calledAe, "+sd", "+r", "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), folder],
            TimeSpan.FromMinutes(1));
        return (code, o + e);
    }
}
