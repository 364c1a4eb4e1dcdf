using System.Diagnostics;
using System.Reflection;

namespace HippoNode.Commands;

/// <summary>`hipponode train`: runs the training executable (<c>hipponode-train</c>, project src/HippoNode.Training) with the same arguments.</summary>
/// <remarks>
/// Training needs libtorch (TorchSharp, ~1 GB of natives), which the node must not carry, so the trainer is its own
/// executable. This verb finds it: <c>HIPPONODE_TRAINER</c> (a .dll or an executable), then <c>hipponode-train.dll</c>
/// next to this program, then the repository's project this program was built from (<c>dotnet run --project</c>, which
/// builds it when needed).
/// </remarks>
public static class TrainCommand
{
    /// <summary>How the trainer is started: the program and its leading arguments.</summary>
    public sealed record Launch(string FileName, IReadOnlyList<string> Arguments, string Description);

    /// <summary>Runs the trainer with <paramref name="args"/> and returns its exit code; 1 with a message when no trainer is found.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var launch = Locate(Environment.GetEnvironmentVariable("HIPPONODE_TRAINER"), AppContext.BaseDirectory, BuiltFrom());
        if (launch is null)
        {
            await error.WriteLineAsync("hipponode train: the training executable (hipponode-train) is not installed with this node; " +
                "run it from a source checkout (dotnet run --project src/HippoNode -- train ...) or set HIPPONODE_TRAINER to hipponode-train.dll").ConfigureAwait(false);
            return 1;
        }
        var psi = new ProcessStartInfo(launch.FileName) { UseShellExecute = false };
        foreach (var a in launch.Arguments) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {launch.FileName}");
        // Ctrl-C reaches the trainer too (same process group): it stops after writing nothing half, and we wait for it.
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>Where the trainer is: the override, a copy next to this program, or the project this program was built from; null when none exists.</summary>
    public static Launch? Locate(string? overridePath, string baseDirectory, (string Project, string Configuration)? builtFrom)
    {
        if (!string.IsNullOrEmpty(overridePath))
        {
            return overridePath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? new Launch("dotnet", ["exec", overridePath], overridePath)
                : new Launch(overridePath, [], overridePath);
        }
        var beside = Path.Combine(baseDirectory, "hipponode-train.dll");
        if (File.Exists(beside)) return new Launch("dotnet", ["exec", beside], beside);
        if (builtFrom is { } b && File.Exists(b.Project))
            return new Launch("dotnet", ["run", "--project", b.Project, "-c", b.Configuration, "--no-launch-profile", "--"], b.Project);
        return null;
    }

    /// <summary>The trainer project and configuration recorded when this program was built (see HippoNode.csproj).</summary>
    private static (string Project, string Configuration)? BuiltFrom()
    {
        var meta = typeof(TrainCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        return meta.TryGetValue("HippoNodeTrainerProject", out var p) && p is not null && meta.TryGetValue("HippoNodeConfiguration", out var c) && c is not null
            ? (p, c)
            : null;
    }
}
