using System.Globalization;
using HippoNode.Fuzzing;

namespace HippoNode.Bench;

/// <summary>
/// The long fuzz campaign: `fuzz [--inputs N] [--target NAME] [--seed S] [--out DIR] [--fresh]` runs each target (or
/// one) over N inputs (default 100,000), one target after another, with a progress line per 1,000 inputs and a
/// checkpoint after each, so that a killed campaign resumes where it stopped when run again with the same options.
/// Writes DIR/fuzz-report.json and DIR/fuzz-report.txt (and each target's checkpoint and saved findings). Exit code 0
/// when every target completed with no crash, no hang, no failed after-batch check and memory within bounds.
/// `fuzz capture` re-captures the network seed corpus (tests/HippoNode.Fuzzing/Corpus/pdu).
/// </summary>
public static class FuzzCommand
{
    /// <summary>Runs the campaign.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "capture")
        {
            var written = await PduCorpus.CaptureAsync(PduCorpus.SourceFolder, Console.WriteLine, CancellationToken.None);
            Console.WriteLine($"{written.Count} streams written to {PduCorpus.SourceFolder}");
            return 0;
        }
        long inputs = 100_000;
        var targets = FuzzTargets.Names.ToList();
        var seed = new FuzzOptions().BaseSeed;
        var outDir = BenchUtil.ResolvePath("fuzz-out");
        var fresh = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--inputs": inputs = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--target": targets = [.. args[++i].Split(',')]; break;
                case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outDir = Path.GetFullPath(args[++i]); break;
                case "--fresh": fresh = true; break;
                default: Console.Error.WriteLine($"fuzz: unknown option {args[i]}"); return 2;
            }
        }
        Directory.CreateDirectory(outDir);
        var reports = new List<FuzzReport>();
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        foreach (var name in targets)
        {
            var checkpoint = Path.Combine(outDir, $"{name}.checkpoint.json");
            if (fresh && File.Exists(checkpoint)) File.Delete(checkpoint);
            await using var target = FuzzTargets.Create(name);
            await target.InitializeAsync(cts.Token);
            Console.WriteLine($"{name}: {inputs:N0} inputs from base seed {seed}; seeds: {target.SeedSummary}");
            var report = await FuzzCampaign.RunAsync(target, new FuzzOptions
            {
                BaseSeed = seed, Inputs = inputs, CheckpointPath = checkpoint, FindingsDirectory = Path.Combine(outDir, "findings"),
                Progress = line => Console.WriteLine($"{DateTime.Now:HH:mm:ss} {line}"),
            }, cts.Token);
            reports.Add(report);
            Console.WriteLine(report.ToText());
            // The combined report holds every target run so far, also those of earlier invocations (from their checkpoints).
            WriteCombined(outDir, reports);
        }
        return reports.All(r => r.Clean) ? 0 : 1;
    }

    private static void WriteCombined(string outDir, List<FuzzReport> justRun)
    {
        var all = new List<FuzzReport>();
        foreach (var name in FuzzTargets.Names)
        {
            var r = justRun.FirstOrDefault(x => x.Target == name);
            var checkpoint = Path.Combine(outDir, $"{name}.checkpoint.json");
            if (r is null && File.Exists(checkpoint)) r = FuzzReport.FromJson(File.ReadAllText(checkpoint));
            if (r is not null) all.Add(r);
        }
        File.WriteAllText(Path.Combine(outDir, "fuzz-report.json"), System.Text.Json.JsonSerializer.Serialize(all, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(outDir, "fuzz-report.txt"), string.Join(Environment.NewLine, all.Select(r => r.ToText())));
        Console.WriteLine($"report: {Path.Combine(outDir, "fuzz-report.txt")} and .json");
    }
}
