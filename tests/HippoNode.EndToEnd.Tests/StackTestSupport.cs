using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace HippoNode.EndToEnd.Tests;

/// <summary>Where the stack's peers live on a Debian machine (the packages .ci/run installs).</summary>
public static class StackTools
{
    /// <summary>The Orthanc server of the Debian package, or null.</summary>
    public static string? Orthanc =>
        new[] { "/usr/sbin/Orthanc", "/usr/bin/Orthanc" }.FirstOrDefault(File.Exists)
        ?? (TestData.HasTool("Orthanc") ? "Orthanc" : null);

    /// <summary>The DICOMweb plugin of the Debian package orthanc-dicomweb (OHIF's only way into Orthanc).</summary>
    public static string DicomWebPlugin => "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

    /// <summary>The repository's Orthanc configuration, as deployed.</summary>
    public static string OrthancConfig => Path.Combine(TestData.RepoRoot, "orthanc", "orthanc.json");

    /// <summary>A folder of the repository's deployment scripts.</summary>
    public static string Scripts => Path.Combine(TestData.RepoRoot, "deploy_scripts");

    /// <summary>The first missing prerequisite among the named tools, "Orthanc" and "dicomweb" included; null when all are there.</summary>
    public static string? Missing(IEnumerable<string> tools)
    {
        foreach (var t in tools)
        {
            switch (t)
            {
                case "Orthanc" when Orthanc is null:
                    return "Orthanc is not installed (apt-get install orthanc; .ci/run does)";
                case "dicomweb" when !File.Exists(DicomWebPlugin):
                    return $"the Orthanc DICOMweb plugin is not installed ({DicomWebPlugin}; apt-get install orthanc-dicomweb)";
                case "model" when !File.Exists(Path.Combine(TestData.RepoRoot, "models", "hippocampus", "model.json")):
                    return "no trained model in models/hippocampus (model.json missing)";
                case "Orthanc" or "dicomweb" or "model":
                    break;
                default:
                    if (!TestData.HasTool(t)) return $"{t} not on PATH (.ci/run installs it)";
                    break;
            }
        }
        return null;
    }
}

/// <summary>A fact that needs the shared data and the stack's peers ("Orthanc", "dicomweb" or any PATH tool); skips with the reason otherwise.</summary>
public sealed class StackFactAttribute : FactAttribute
{
    /// <summary>Skips when the shared data or any prerequisite is absent.</summary>
    public StackFactAttribute(params string[] prerequisites)
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (StackTools.Missing(prerequisites) is { } reason) Skip = reason;
    }
}

/// <summary>A child process whose output lines are kept for waiting on, killed with its tree on dispose.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ChildProcess(Process process) => _process = process;

    /// <summary>Every stdout and stderr line so far.</summary>
    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>True once the process ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts a program with extra environment variables.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        var p = new Process { StartInfo = psi };
        var child = new ChildProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) child._lines.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) child._lines.Enqueue(e.Data); };
        if (!p.Start()) throw new InvalidOperationException($"could not start {fileName}");
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until at least <paramref name="count"/> output lines match; returns them, or fails with the output tail.</summary>
    public async Task<IReadOnlyList<string>> WaitForLinesAsync(Func<string, bool> match, int count, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = _lines.Where(match).ToList();
            if (found.Count >= count) return found;
            if (HasExited || DateTime.UtcNow > until)
            {
                Assert.Fail($"{what}: not seen within {timeout.TotalSeconds:0} s (exited: {HasExited}). Output tail:\n{string.Join('\n', _lines.TakeLast(30))}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL (on Linux): the process gets no chance to run shutdown code.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Kills the process tree and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // already gone, or stuck: nothing more a test can do
        }
        _process.Dispose();
    }
}

/// <summary>Loopback ports and temp folders for the stack tests.</summary>
public static class StackNet
{
    /// <summary>A TCP port free on 127.0.0.1 right now.</summary>
    public static int FreePort() => TestNet.FreePort();

    /// <summary>True when something accepts connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool Listening(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Waits until a port accepts connections.</summary>
    public static async Task WaitForPortAsync(int port, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!Listening(port))
        {
            if (DateTime.UtcNow > until) Assert.Fail($"{what} did not listen on port {port} within {timeout.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string TempDir(string prefix)
    {
        var d = Path.Combine(Path.GetTempPath(), $"hipponode-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Deletes a temp folder, ignoring what cannot be deleted.</summary>
    public static void DeleteDir(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// Orthanc (Debian package) run with the repository's orthanc/orthanc.json and Lua router, on free loopback ports with
/// temp storage; the node modality "hipponode" points at <see cref="NodePort"/>. For tests that need the real PACS.
/// </summary>
public sealed class OrthancHost : IAsyncDisposable
{
    private readonly string _dir;

    private readonly Dictionary<string, string> _environment;

    private OrthancHost(ChildProcess process, string dir, int dicomPort, int httpPort, int nodePort, Dictionary<string, string> environment)
    {
        _environment = environment;
        Process = process;
        _dir = dir;
        DicomPort = dicomPort;
        HttpPort = httpPort;
        NodePort = nodePort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>The server process (its log: Lua router decisions appear as "HippoNode router: ..." lines).</summary>
    public ChildProcess Process { get; private set; }

    /// <summary>Orthanc's DICOM port (AE ORTHANC).</summary>
    public int DicomPort { get; }

    /// <summary>Orthanc's HTTP port (REST and /dicom-web/).</summary>
    public int HttpPort { get; }

    /// <summary>Where the "hipponode" modality is expected.</summary>
    public int NodePort { get; }

    /// <summary>A client of the REST API.</summary>
    public HttpClient Http { get; }

    /// <summary>The environment start_stack.sh would give Orthanc, for these ports and this storage.</summary>
    public static Dictionary<string, string> Environment(string storage, int dicomPort, int httpPort, int nodePort, int stableAgeSeconds) => new()
    {
        ["ORTHANC_STORAGE"] = storage,
        ["ORTHANC_DICOM_PORT"] = dicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ORTHANC_HTTP_PORT"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ORTHANC_STABLE_AGE"] = stableAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ORTHANC_AET"] = "ORTHANC",
        ["HIPPONODE_AET"] = "HIPPONODE",
        ["HIPPONODE_HOST"] = "127.0.0.1",
        ["HIPPONODE_PORT"] = nodePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Starts Orthanc and waits for its REST API and DICOM port.</summary>
    public static async Task<OrthancHost> StartAsync(int nodePort, int stableAgeSeconds)
    {
        var dir = StackNet.TempDir("orthanc");
        int dicomPort = StackNet.FreePort(), httpPort = StackNet.FreePort();
        var env = Environment(Path.Combine(dir, "db"), dicomPort, httpPort, nodePort, stableAgeSeconds);
        // Run from elsewhere than orthanc/: the Lua script path must resolve relative to the configuration file.
        var process = ChildProcess.Start(StackTools.Orthanc!, [StackTools.OrthancConfig], env, workingDirectory: dir);
        var host = new OrthancHost(process, dir, dicomPort, httpPort, nodePort, env);
        await host.WaitUntilUpAsync();
        return host;
    }

    /// <summary>Stops Orthanc (the PACS is down) and keeps its storage for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync() => await Process.DisposeAsync();

    /// <summary>Starts Orthanc again on the same ports and storage.</summary>
    public async Task RestartAsync()
    {
        Process = ChildProcess.Start(StackTools.Orthanc!, [StackTools.OrthancConfig], _environment, workingDirectory: _dir);
        await WaitUntilUpAsync();
    }

    private async Task WaitUntilUpAsync()
    {
        var host = this;
        var process = Process;
        var dicomPort = DicomPort;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var rsp = await host.Http.GetAsync("/system");
                if (rsp.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            if (process.HasExited || DateTime.UtcNow > until)
            {
                var tail = string.Join('\n', process.Lines.TakeLast(20));
                await host.DisposeAsync();
                Assert.Fail($"Orthanc did not start with orthanc/orthanc.json:\n{tail}");
            }
            await Task.Delay(100);
        }
        await StackNet.WaitForPortAsync(dicomPort, TimeSpan.FromSeconds(20), "Orthanc DICOM");
    }

    /// <summary>Orthanc's identifier of a study, by StudyInstanceUID.</summary>
    public async Task<string> StudyIdAsync(string studyInstanceUid)
    {
        using var rsp = await Http.PostAsync("/tools/lookup", new StringContent(studyInstanceUid));
        rsp.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await rsp.Content.ReadAsStringAsync());
        return doc.RootElement.EnumerateArray().Single(e => e.GetProperty("Type").GetString() == "Study").GetProperty("ID").GetString()!;
    }

    /// <summary>A REST resource as JSON.</summary>
    public async Task<JsonElement> GetJsonAsync(string path)
    {
        var text = await Http.GetStringAsync(path);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>The router's log lines about one study.</summary>
    public Task<IReadOnlyList<string>> WaitForRouterAsync(string studyId, int count, TimeSpan timeout) =>
        Process.WaitForLinesAsync(l => l.Contains($"HippoNode router: study {studyId}:", StringComparison.Ordinal), count, timeout, $"router decision #{count} for study {studyId}");

    /// <summary>Stops Orthanc and deletes its storage.</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        StackNet.DeleteDir(_dir);
    }
}
