using System.Diagnostics;
using System.Globalization;

namespace HippoNode.Bench;

/// <summary>What every benchmark needs: locating data, running peer tools, printing rates.</summary>
internal static class BenchUtil
{
    /// <summary>The repository root (the folder holding HippoNode.sln), from the working directory or the program's.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A path given on the command line: absolute, relative to the working directory if it exists there, else to the repository root.</summary>
    public static string ResolvePath(string path)
    {
        if (Path.IsPathRooted(path)) return path;
        var here = Path.GetFullPath(path);
        return Directory.Exists(here) || File.Exists(here) ? here : Path.GetFullPath(Path.Combine(RepoRoot, path));
    }

    /// <summary>True when an executable is on PATH.</summary>
    public static bool HasTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, name)));

    /// <summary>Runs a tool with its output sent to /dev/null (so printing costs the tool only, not our pipe), returning its exit code.</summary>
    public static int RunQuiet(string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" >/dev/null");
        psi.ArgumentList.Add(tool);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {tool}");
        var err = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        err.GetAwaiter().GetResult();
        return p.ExitCode;
    }

    /// <summary>Starts a long-running peer (Orthanc, the node, storescp) whose output is read and dropped, so a full pipe never stalls it.</summary>
    public static Process StartDrained(string exe, IEnumerable<string> args, Dictionary<string, string> env, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Splits a file list into batches whose command lines stay well under ARG_MAX.</summary>
    public static IEnumerable<List<string>> Batches(IReadOnlyList<string> files, int maxChars = 100_000)
    {
        var batch = new List<string>();
        var chars = 0;
        foreach (var f in files)
        {
            if (batch.Count > 0 && chars + f.Length + 1 > maxChars)
            {
                yield return batch;
                batch = [];
                chars = 0;
            }
            batch.Add(f);
            chars += f.Length + 1;
        }
        if (batch.Count > 0) yield return batch;
    }

    /// <summary>Megabytes (10^6 bytes) per second.</summary>
    public static double MBps(long bytes, TimeSpan elapsed) => bytes / 1e6 / elapsed.TotalSeconds;

    /// <summary>A number formatted invariantly.</summary>
    public static string F(double v, int decimals = 1) => v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "HippoNode.sln"))) return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }

    /// <summary>A TCP port free on 127.0.0.1 right now (for peers that cannot be told to bind port 0).</summary>
    public static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
