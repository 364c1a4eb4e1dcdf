using System.Diagnostics;
using System.Text;

namespace HippoNode.Testing;

/// <summary>Long-running peer processes a test starts (storescp, Orthanc, a trainer) and stops by their object, never by name.</summary>
public static class TestProcess
{
    /// <summary>Starts a program; its output is collected in the two builders (read them under a lock on the builder).</summary>
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

    /// <summary>Kills the process tree of a process this test started and waits (at most 10 s) for it to go.</summary>
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
}
