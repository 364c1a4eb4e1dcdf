using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>The outcome of a peer tool run.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Both streams, for assertion messages.</summary>
    public string Output => StdOut + StdErr;
}

/// <summary>Runs peer tools (DCMTK, Orthanc) without blocking a thread on them.</summary>
public static class Processes
{
    /// <summary>Runs to completion; kills the process tree and throws after <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        using var p = Start(fileName, args, out var stdout, out var stderr);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish in time");
        }
        return new ProcessResult(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts a long-running peer; its output is collected in the two builders.</summary>
    public static Process Start(string fileName, IEnumerable<string> args, out StringBuilder stdout, out StringBuilder stderr, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var o = new StringBuilder();
        var e = new StringBuilder();
        p.OutputDataReceived += (_, ev) => { if (ev.Data is not null) lock (o) o.AppendLine(ev.Data); };
        p.ErrorDataReceived += (_, ev) => { if (ev.Data is not null) lock (e) e.AppendLine(ev.Data); };
        if (!p.Start()) throw new InvalidOperationException($"could not start {fileName}");
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        stdout = o;
        stderr = e;
        return p;
    }

    /// <summary>Stops a process this test started (by its object, never by name) and waits for it.</summary>
    public static async Task StopAsync(Process p)
    {
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await p.WaitForExitAsync(cts.Token);
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
    }

    /// <summary>A free loopback port (TestNet).</summary>
    public static int FreePort() => TestNet.FreePort();

    /// <summary>Waits until the port accepts connections (TestNet).</summary>
    public static Task WaitForPortAsync(int port, TimeSpan timeout) => TestNet.WaitForPortAsync(port, timeout);
}
