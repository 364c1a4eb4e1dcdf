using System.Diagnostics;

namespace HippoNode.Testing;

/// <summary>Locates the repository and the shared data set (../shared/data next to the repository).</summary>
public static class TestData
{
    /// <summary>The repository root (the folder holding HippoNode.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared/data, or the HIPPONODE_SHARED_DATA environment variable when set.</summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("HIPPONODE_SHARED_DATA") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>True when the shared data set is present.</summary>
    public static bool SharedAvailable => Directory.Exists(SharedData);

    /// <summary>The skip reason used when the shared data set is absent.</summary>
    public static string SharedMissingReason => $"shared data not found at {SharedData} (tests that need ../shared/data skip; CI has it)";

    /// <summary>A path under the shared data folder.</summary>
    public static string Shared(params string[] parts) => Path.Combine([SharedData, .. parts]);

    /// <summary>True when an executable is on PATH.</summary>
    public static bool HasTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, name)));

    /// <summary>Runs a process to completion and returns exit code, stdout and stderr; kills it after the timeout.</summary>
    public static (int ExitCode, string StdOut, string StdErr) Run(string fileName, IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish in time");
        }
        return (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "HippoNode.sln"))) return d.FullName;
        }
        throw new InvalidOperationException("HippoNode.sln not found above the test assembly");
    }
}

/// <summary>A fact that skips, with a clear reason, when ../shared/data or a named peer tool is missing.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    /// <summary>Skips when the shared data or any of <paramref name="tools"/> is absent.</summary>
    public SharedDataFactAttribute(params string[] tools)
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (tools.FirstOrDefault(t => !TestData.HasTool(t)) is { } missing) Skip = $"{missing} not on PATH (install dcmtk/dicom3tools; .ci/run does)";
    }
}

/// <summary>A theory that skips, with a clear reason, when ../shared/data or a named peer tool is missing.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips when the shared data or any of <paramref name="tools"/> is absent.</summary>
    public SharedDataTheoryAttribute(params string[] tools)
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (tools.FirstOrDefault(t => !TestData.HasTool(t)) is { } missing) Skip = $"{missing} not on PATH (install dcmtk/dicom3tools; .ci/run does)";
    }
}

/// <summary>A fact that skips when a named peer tool is missing (no shared data needed).</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    /// <summary>Skips when any of <paramref name="tools"/> is absent.</summary>
    public ToolFactAttribute(params string[] tools)
    {
        if (tools.FirstOrDefault(t => !TestData.HasTool(t)) is { } missing) Skip = $"{missing} not on PATH (.ci/run installs it)";
    }
}

/// <summary>A theory that skips when a named peer tool is missing (no shared data needed).</summary>
public sealed class ToolTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips when any of <paramref name="tools"/> is absent.</summary>
    public ToolTheoryAttribute(params string[] tools)
    {
        if (tools.FirstOrDefault(t => !TestData.HasTool(t)) is { } missing) Skip = $"{missing} not on PATH (.ci/run installs it)";
    }
}
