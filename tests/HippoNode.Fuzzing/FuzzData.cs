namespace HippoNode.Fuzzing;

/// <summary>Locates the repository and the shared data set (../shared/data beside it, or HIPPONODE_SHARED_DATA), as the tests do.</summary>
public static class FuzzData
{
    /// <summary>The repository root (the folder holding HippoNode.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared/data, or the HIPPONODE_SHARED_DATA environment variable when set.</summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("HIPPONODE_SHARED_DATA") is { Length: > 0 } env ? env : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>True when the shared data set is present.</summary>
    public static bool SharedAvailable => Directory.Exists(SharedData);

    /// <summary>A path under the shared data folder.</summary>
    public static string Shared(params string[] parts) => Path.Combine([SharedData, .. parts]);

    private static string FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "HippoNode.sln"))) return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
