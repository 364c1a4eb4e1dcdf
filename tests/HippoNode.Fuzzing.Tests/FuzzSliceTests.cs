using HippoNode.Fuzzing;
using Xunit.Abstractions;

namespace HippoNode.Fuzzing.Tests;

/// <summary>
/// The CI slice of the fuzz campaign: the same targets, mutators and invariants as `bench fuzz`, a few thousand
/// seeded inputs each (deterministic: the inputs are a function of the base seed). Reproduce a finding with
/// `dotnet run -c Release --project bench/HippoNode.Bench -- fuzz --target NAME --seed SEED --inputs 1`, or set
/// HIPPONODE_FUZZ_SEED and HIPPONODE_FUZZ_COUNT here.
/// </summary>
public sealed class FuzzSliceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("part10", 20_000)]
    [InlineData("dimse", 5_000)]
    [InlineData("pdu", 2_000)]
    [InlineData("volume", 2_000)]
    public async Task Target_EveryInputEndsTheDocumentedWay(string name, int count)
    {
        count = int.TryParse(Environment.GetEnvironmentVariable("HIPPONODE_FUZZ_COUNT"), out var c) ? c : count;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HIPPONODE_FUZZ_SEED"), out var s) ? s : new FuzzOptions().BaseSeed;
        await using var target = FuzzTargets.Create(name);
        await target.InitializeAsync(CancellationToken.None);
        var report = await FuzzCampaign.RunAsync(target, new FuzzOptions
        {
            BaseSeed = seed, Inputs = count, FindingsDirectory = Path.Combine(Path.GetTempPath(), "hipponode-fuzz-findings"), Progress = output.WriteLine,
        });
        output.WriteLine(report.ToText());
        Assert.True(report.Clean, report.ToText());
        // The mutations must reach both sides of the parser, or the slice proves nothing.
        Assert.True(report.Accepted > 0 && report.Rejected > 0, $"{name}: {report.Accepted} accepted, {report.Rejected} rejected");
    }

    [Fact]
    public async Task Part10SeedCorpus_ParsesAndRewrites()
    {
        var target = new Part10Target();
        await target.InitializeAsync(CancellationToken.None);
        var problems = new List<string>();
        foreach (var (name, bytes) in target.Seeds)
        {
            foreach (var seekable in new[] { true, false })
            {
                var outcome = Part10Target.Exercise(bytes, seekable);
                var broken = Part10Target.BrokenSeeds.Any(b => name.EndsWith(b, StringComparison.Ordinal));
                if (outcome.Verdict == Verdict.Crash) problems.Add($"{name}: {outcome.Problem}");
                else if (!broken && outcome.Verdict == Verdict.Rejected) problems.Add($"{name} ({(seekable ? "seekable" : "non-seekable")}): does not parse");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void PduCorpus_HoldsCapturedAssociationsOfEveryRequestor()
    {
        var corpus = PduCorpus.Load();
        var names = corpus.Select(c => c.Name).ToList();
        Assert.Contains(names, n => n.StartsWith("storescu", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("echoscu", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("ourscu", StringComparison.Ordinal));
        foreach (var (name, bytes) in corpus)
        {
            var pdus = PduCorpus.Split(bytes);
            Assert.True(pdus.Sum(p => p.Length) == bytes.Length, $"{name}: not a whole number of PDUs");
            Assert.Equal(0x01, pdus[0][0]); // A-ASSOCIATE-RQ first
            Assert.Equal(0x05, pdus[^1][0]); // A-RELEASE-RQ last
        }
        Assert.Contains(corpus, c => PduCorpus.Split(c.Bytes).Count(p => p[0] == 0x04) > 3); // a fragmented data set
    }

    [Fact]
    public async Task Campaign_ResumesFromItsCheckpoint()
    {
        var dir = Directory.CreateTempSubdirectory("hipponode-fuzz-resume").FullName;
        try
        {
            var checkpoint = Path.Combine(dir, "dimse.checkpoint.json");
            await using var target = FuzzTargets.Create("dimse");
            await target.InitializeAsync(CancellationToken.None);
            var first = await FuzzCampaign.RunAsync(target, new FuzzOptions { Inputs = 2_000, BatchSize = 500, CheckpointPath = checkpoint });
            var resumed = await FuzzCampaign.RunAsync(target, new FuzzOptions { Inputs = 3_000, BatchSize = 500, CheckpointPath = checkpoint });
            var straight = await FuzzCampaign.RunAsync(target, new FuzzOptions { Inputs = 3_000, BatchSize = 500 });
            Assert.Equal(2_000, first.Inputs);
            Assert.Equal(1, resumed.Resumes);
            Assert.Equal(3_000, resumed.Inputs);
            // The same inputs, whether run in one go or in two: the counts agree.
            Assert.Equal(straight.Accepted, resumed.Accepted);
            Assert.Equal(straight.Rejected, resumed.Rejected);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
