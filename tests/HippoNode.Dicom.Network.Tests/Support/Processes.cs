using System.Diagnostics;

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
        using var p = TestProcess.Start(fileName, args, out var stdout, out var stderr);
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

    /// <summary>A free loopback port (TestNet).</summary>
    public static int FreePort() => TestNet.FreePort();

    /// <summary>Waits until the port accepts connections (TestNet).</summary>
    public static Task WaitForPortAsync(int port, TimeSpan timeout) => TestNet.WaitForPortAsync(port, timeout);
}
