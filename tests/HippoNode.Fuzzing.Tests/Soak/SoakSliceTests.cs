using System.Text.Json;
using Xunit.Abstractions;

namespace HippoNode.Fuzzing.Tests.Soak;

/// <summary>
/// A short slice of the load and soak harness (`bench soak`), run as the README runs it: `hipponode serve` as a child
/// process, storescu processes and our SCU sending 10 synthetic studies over 5 concurrent associations into it,
/// storescp as the PACS, and the node killed with SIGKILL twice during the run and restarted on the same storage. The
/// harness checks its own criteria (each study analysed once, each result delivered once, no leaked descriptors or
/// temp files, caught up); this test asserts its verdict and the figures behind it.
/// </summary>
public sealed class SoakSliceTests(ITestOutputHelper output)
{
    [ToolFact("storescu", "storescp")]
    public async Task TenStudies_FiveAssociations_TwoKills_NothingLostNothingDuplicated()
    {
        var config = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var bench = Path.Combine(TestData.RepoRoot, "bench", "HippoNode.Bench", "bin", config, "net10.0", "HippoNode.Bench.dll");
        Assert.True(File.Exists(bench), $"{bench} is missing: building this test project builds it (dotnet build tests/HippoNode.Fuzzing.Tests -c {config})");
        var outDir = Directory.CreateTempSubdirectory("hipponode-soak-slice").FullName;
        try
        {
            var (exit, stdout, stderr) = await Task.Run(() => TestData.Run("dotnet", [bench, "soak", "--studies", "10", "--concurrency", "5", "--kills", "2", "--stall-seconds", "180", "--out", outDir],
                TimeSpan.FromMinutes(8), TestData.RepoRoot));
            output.WriteLine(stdout);
            output.WriteLine(stderr);
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "soak-report.json")));
            var figures = report.RootElement.GetProperty("figures");
            var criteria = string.Join("\n", report.RootElement.GetProperty("criteria").EnumerateArray().Select(c => c.GetString()));
            Assert.True(exit == 0, $"soak exit code {exit}:\n{criteria}");
            Assert.True(figures.GetProperty("pass").GetBoolean(), criteria);
            Assert.Equal(10, figures.GetProperty("jobsDoneOnce").GetInt32());
            Assert.Equal(30, figures.GetProperty("resultUidsInPacs").GetInt32());
            Assert.Equal(2, figures.GetProperty("kills").GetInt32());
            Assert.DoesNotContain("FAIL", criteria, StringComparison.Ordinal);
            Assert.True(File.ReadAllLines(Path.Combine(outDir, "soak-samples.csv")).Length > 2, "the sampler wrote no rows");
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }
}
