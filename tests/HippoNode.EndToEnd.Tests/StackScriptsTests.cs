using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.EndToEnd.Tests;

/// <summary>The deployment scripts: static checks, start/stop of the stack without Docker, and OHIF screenshots.</summary>
public partial class StackScriptsTests
{
    private static string[] ShellScripts => Directory.GetFiles(StackTools.Scripts, "*.sh");

    [ToolFact("bash")]
    public void Scripts_PassBashSyntaxCheck()
    {
        Assert.NotEmpty(ShellScripts);
        foreach (var script in ShellScripts)
        {
            var r = TestData.Run("bash", ["-n", script]);
            Assert.True(r.ExitCode == 0, $"{Path.GetFileName(script)}: {r.StdErr}");
        }
    }

    [ToolFact("shellcheck")]
    public void Scripts_PassShellcheck()
    {
        var r = TestData.Run("shellcheck", ["-x", .. ShellScripts], workingDirectory: StackTools.Scripts);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
    }

    [ToolFact("node")]
    public void ScreenshotTool_IsValidJavaScript()
    {
        var r = TestData.Run("node", ["--check", Path.Combine(StackTools.Scripts, "ohif", "ohif_screenshot.cjs")]);
        Assert.True(r.ExitCode == 0, r.StdErr);
    }

    [Fact]
    public void Compose_UsesTheScriptsPortsAeTitlesAndFiles()
    {
        var compose = File.ReadAllText(Path.Combine(TestData.RepoRoot, "docker-compose.yml"));
        var env = File.ReadAllText(Path.Combine(StackTools.Scripts, "stack-env.sh"));
        string Default(string name) => EnvDefault().Matches(env).Single(m => m.Groups[1].Value == name).Groups[2].Value;

        // Published ports: loopback only, and the same numbers start_stack.sh uses.
        foreach (var (port, variable) in new[] { ("4242", "ORTHANC_DICOM_PORT"), ("8042", "ORTHANC_HTTP_PORT"), ("3000", "OHIF_PORT"), ("11112", "HIPPONODE_PORT") })
        {
            Assert.Equal(port, Default(variable));
            Assert.Contains($"\"127.0.0.1:{port}:", compose, StringComparison.Ordinal);
        }
        Assert.Equal("ORTHANC", Default("ORTHANC_AET"));
        Assert.Equal("HIPPONODE", Default("HIPPONODE_AET"));
        Assert.Contains("HippoNode__AeTitle: HIPPONODE", compose, StringComparison.Ordinal);
        Assert.Contains("HippoNode__Pacs__AeTitle: ORTHANC", compose, StringComparison.Ordinal);
        Assert.Contains("HIPPONODE_HOST: hipponode", compose, StringComparison.Ordinal);
        Assert.Contains($"ohif/app:v{Default("OHIF_VERSION")}", compose, StringComparison.Ordinal);
        // Every file the compose file mounts exists in the repository.
        foreach (Match m in MountedPath().Matches(compose))
        {
            var path = Path.Combine(TestData.RepoRoot, m.Groups[1].Value);
            Assert.True(File.Exists(path) || Directory.Exists(path), $"docker-compose.yml mounts {m.Groups[1].Value}, which does not exist");
        }
        Assert.True(File.Exists(Path.Combine(TestData.RepoRoot, "Dockerfile")));
    }

    [ToolFact("docker-compose")]
    public void Compose_IsValidForDockerCompose()
    {
        // `config` validates the file against the Compose schema without a Docker engine.
        var r = TestData.Run("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], workingDirectory: TestData.RepoRoot);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
    }

    [Fact]
    public void OrthancConfiguration_NamesTheRouterAndTheNodeModality()
    {
        // Orthanc substitutes ${VAR:-default} before parsing; do the same with the defaults to read it as JSON.
        var text = Substitution().Replace(File.ReadAllText(StackTools.OrthancConfig), m => m.Groups[2].Value);
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var root = doc.RootElement;
        Assert.Equal(4242, root.GetProperty("DicomPort").GetInt32());
        Assert.Equal(8042, root.GetProperty("HttpPort").GetInt32());
        Assert.False(root.GetProperty("RemoteAccessAllowed").GetBoolean());
        var node = root.GetProperty("DicomModalities").GetProperty("hipponode");
        Assert.Equal("HIPPONODE", node.GetProperty("AET").GetString());
        Assert.Equal(11112, node.GetProperty("Port").GetInt32());
        var lua = root.GetProperty("LuaScripts")[0].GetString()!;
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(StackTools.OrthancConfig)!, lua)), $"{lua} is missing");
        Assert.Equal("hipponode", root.GetProperty("HippoNodeRouting").GetProperty("Modality").GetString());
    }

    [StackFact("bash", "Orthanc", "dicomweb", "nginx", "curl", "echoscu", "storescu")]
    public async Task StartStack_ServesViewerAndProxiesDicomWeb_IsIdempotent_AndStopEndsEverything()
    {
        var dir = StackNet.TempDir("stack");
        // A stand-in OHIF build: this test checks our nginx and scripts, not OHIF (see Screenshot_ShowsStudyInOhif).
        var dist = Path.Combine(dir, "dist");
        Directory.CreateDirectory(dist);
        await File.WriteAllTextAsync(Path.Combine(dist, "index.html"), "<html>stand-in OHIF</html>");
        var env = StackEnvironment(dir, dist);
        var ohifPort = int.Parse(env["OHIF_PORT"], CultureInfo.InvariantCulture);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ohifPort}"), Timeout = TimeSpan.FromSeconds(20) };
        try
        {
            var start = Script("start_stack.sh", env, "--no-node");
            Assert.True(start.ExitCode == 0, start.Output);

            // Our app-config.js, not the package's; SPA routes fall back to index.html; DICOMweb reaches Orthanc.
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(StackTools.Scripts, "ohif", "app-config.js")), await http.GetStringAsync("/app-config.js"));
            Assert.Contains("stand-in OHIF", await http.GetStringAsync("/viewer?StudyInstanceUIDs=1.2.3"), StringComparison.Ordinal);
            var send = Script("send_volume.sh", env, TestData.Shared("TestVolumes", "Study1", "13_HCropVolume"));
            Assert.True(send.ExitCode == 0, send.Output);
            var studies = JsonDocument.Parse(await http.GetStringAsync("/dicom-web/studies")).RootElement;
            Assert.Equal(1, studies.GetArrayLength());

            var again = Script("start_stack.sh", env, "--no-node");
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Contains("orthanc already running", again.Output, StringComparison.Ordinal);
            Assert.Contains("nginx (OHIF) already running", again.Output, StringComparison.Ordinal);

            var pids = Directory.GetFiles(Path.Combine(dir, "run"), "*.pid").Select(f => int.Parse(File.ReadAllText(f), CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(2, pids.Count);
            var stop = Script("stop_stack.sh", env);
            Assert.True(stop.ExitCode == 0, stop.Output);
            Assert.All(pids, pid => Assert.False(Alive(pid), $"process {pid} still runs after stop_stack.sh"));
            Assert.False(StackNet.Listening(ohifPort));
            Assert.False(StackNet.Listening(int.Parse(env["ORTHANC_HTTP_PORT"], CultureInfo.InvariantCulture)));
            var stopAgain = Script("stop_stack.sh", env);
            Assert.True(stopAgain.ExitCode == 0, stopAgain.Output);
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }

    [StackFact("bash", "curl", "Orthanc", "dicomweb", "echoscu")]
    public void StartStack_RefusesAPortHeldByAnotherProgram()
    {
        var dir = StackNet.TempDir("stack-busy");
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var env = StackEnvironment(dir, Path.Combine(dir, "dist"));
        env["ORTHANC_HTTP_PORT"] = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        try
        {
            var start = Script("start_stack.sh", env, "--no-node", "--no-ohif");
            Assert.NotEqual(0, start.ExitCode);
            Assert.Contains($"port {env["ORTHANC_HTTP_PORT"]} (orthanc) is already in use", start.Output, StringComparison.Ordinal);
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }

    /// <summary>
    /// The real OHIF in chromium. Runs only where the OHIF package and playwright-core are already in the cache
    /// (deploy_scripts/start_stack.sh and ohif_screenshot.sh put them there once); tests never download them.
    /// </summary>
    [OhifFact]
    public async Task StartStack_WithTheNode_OhifShowsOurSegOverlayAndSrVolume()
    {
        var dir = StackNet.TempDir("ohif");
        var env = StackEnvironment(dir, OhifFactAttribute.OhifDist);
        // The whole stack as start_stack.sh runs it, the node included (the built hipponode beside the tests).
        env["ORTHANC_STABLE_AGE"] = "3";
        env["HIPPONODE_HTTP_URL"] = $"http://127.0.0.1:{StackNet.FreePort()}";
        env["HIPPONODE_CMD"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "hipponode.dll")}";
        var shots = Path.Combine(dir, "shots");
        try
        {
            var start = Script("start_stack.sh", env);
            Assert.True(start.ExitCode == 0, start.Output);
            // Study2's crop: 48x36 pixels, so the SEG's bit frames start on byte boundaries, which OHIF 3.13 decodes
            // correctly (see README: it misreads frames that start mid-byte).
            var hippoCrop = TestData.Shared("TestVolumes", "Study2", "14_HCropVolume");
            Assert.Equal(0, Script("send_volume.sh", env, hippoCrop).ExitCode);
            var uid = DicomFile.Open(Directory.GetFiles(hippoCrop)[0]).Dataset.GetString(DicomTags.StudyInstanceUID)!;

            // Orthanc routes the stable study to the node; the node's SEG, SR and report come back.
            using var orthanc = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{env["ORTHANC_HTTP_PORT"]}") };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (true)
            {
                var series = JsonDocument.Parse(await orthanc.GetStringAsync($"/dicom-web/studies/{uid}/series")).RootElement;
                var modalities = series.EnumerateArray().Select(e => e.GetProperty("00080060").GetProperty("Value")[0].GetString()).ToList();
                if (modalities.Contains("SEG") && modalities.Contains("SR") && modalities.Contains("OT")) break;
                Assert.True(DateTime.UtcNow < deadline, $"our results did not reach Orthanc: series {string.Join(", ", modalities)}");
                await Task.Delay(500);
            }

            var shot = Script("ohif_screenshot.sh", env, "--study", uid, "--seg", "--sr", "--out", shots,
                "--base", $"http://127.0.0.1:{env["OHIF_PORT"]}", "--timeout", "60", "--settle", "4");
            if (Environment.GetEnvironmentVariable("HIPPONODE_KEEP_SCREENSHOTS") is { Length: > 0 } keep)
                foreach (var f in Directory.GetFiles(shots)) File.Copy(f, Path.Combine(Directory.CreateDirectory(keep).FullName, Path.GetFileName(f)), true);
            Assert.True(shot.ExitCode == 0, shot.Output);
            var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(shots, "summary.json"))).RootElement;
            Assert.True(summary.GetProperty("viewerLoaded").GetBoolean());
            Assert.Contains("HippoNode SEG", summary.GetProperty("studyBrowser").GetString(), StringComparison.Ordinal);
            var seg = summary.GetProperty("seg");
            Assert.True(seg.GetProperty("hydrated").GetBoolean() && seg.GetProperty("loaded").GetBoolean(), seg.ToString());
            Assert.Contains("anterior hippocampus", seg.GetProperty("panelText").GetString(), StringComparison.Ordinal);
            Assert.Contains("posterior hippocampus", seg.GetProperty("panelText").GetString(), StringComparison.Ordinal);
            var sr = summary.GetProperty("sr");
            Assert.True(sr.GetProperty("loaded").GetBoolean(), sr.ToString());
            Assert.Contains("Volume:", sr.GetProperty("viewportText").GetString(), StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(shots, "02-seg.png")).Length > 10_000);
            Assert.True(new FileInfo(Path.Combine(shots, "03-sr.png")).Length > 10_000);
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }

    /// <summary>A run folder and free ports for one stack under test.</summary>
    private static Dictionary<string, string> StackEnvironment(string stackDir, string ohifDist) => new()
    {
        ["STACK_DIR"] = stackDir,
        ["ORTHANC_DICOM_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["ORTHANC_HTTP_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["OHIF_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["HIPPONODE_PORT"] = StackNet.FreePort().ToString(CultureInfo.InvariantCulture),
        ["ORTHANC_STABLE_AGE"] = "60",
        ["OHIF_DIST"] = ohifDist,
    };

    private static (int ExitCode, string Output) Script(string name, Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(StackTools.Scripts, name));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, $"{name} timed out\n{stdout.Result}{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^([A-Z_]+)=""\$\{\1:-([^}]*)\}""", RegexOptions.Multiline)]
    private static partial Regex EnvDefault();

    [GeneratedRegex(@"^\s*- \./([^:\s]+):", RegexOptions.Multiline)]
    private static partial Regex MountedPath();

    [GeneratedRegex(@"\$\{([A-Z_]+):-([^}]*)\}")]
    private static partial Regex Substitution();
}

/// <summary>Runs the OHIF screenshot test only where OHIF and playwright-core are cached and chromium, nginx and Orthanc are installed.</summary>
public sealed class OhifFactAttribute : FactAttribute
{
    private static readonly string Cache = Environment.GetEnvironmentVariable("HIPPONODE_CACHE") is { Length: > 0 } c
        ? c
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "hipponode");

    /// <summary>The cached OHIF build start_stack.sh serves.</summary>
    public static string OhifDist => Path.Combine(Cache, "ohif", "3.13.2", "package", "dist");

    /// <summary>Sets the skip reason when a prerequisite is missing.</summary>
    public OhifFactAttribute()
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (StackTools.Missing(["bash", "Orthanc", "dicomweb", "nginx", "curl", "echoscu", "storescu", "node", "npm", "chromium"]) is { } reason) Skip = reason;
        else if (!File.Exists(Path.Combine(OhifDist, "index.html"))) Skip = $"OHIF is not cached at {OhifDist} (run deploy_scripts/start_stack.sh once; tests do not download it)";
        else if (!File.Exists(Path.Combine(Cache, "playwright", "node_modules", "playwright-core", "package.json"))) Skip = "playwright-core is not cached (run deploy_scripts/ohif_screenshot.sh once; tests do not download it)";
    }
}
