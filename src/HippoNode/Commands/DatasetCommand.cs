using System.Globalization;
using HippoNode.Datasets;

namespace HippoNode.Commands;

/// <summary>`hipponode dataset check|split|perturb DIR`: curation report of an MSD-layout folder, the fixed seeded split of its clean pairs, and deliberately faulty copies of cases.</summary>
public static class DatasetCommand
{
    private const string Usage =
        "usage: hipponode dataset check DIR [--json OUT]\n" +
        "       hipponode dataset split DIR [--seed N] [--test-fraction F] [--folds K] [--out FILE]\n" +
        "       hipponode dataset perturb DIR --kind KIND --out OUT [--cases LIST|split.json] [--seed N]";

    /// <summary>Runs the verb; 0 when the report or split was made (excluded cases included), 1 when the folder is missing.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0) throw new UsageException($"no sub-command given\n{Usage}");
        var sub = args[0];
        var (dir, options) = Parse(args[1..], sub switch
        {
            "check" => ["--json"],
            "split" => ["--seed", "--test-fraction", "--folds", "--out"],
            "perturb" => ["--kind", "--out", "--cases", "--seed"],
            _ => throw new UsageException($"unknown sub-command '{sub}'\n{Usage}"),
        });

        if (sub == "perturb") return DatasetPerturbCommand.Run(dir, options, output, error);

        // Options are checked before the (slow) curation so a typo fails at once.
        var seed = options.TryGetValue("--seed", out var s) ? ParseNumber(s, "--seed", long.Parse) : DatasetSplitter.DefaultSeed;
        var fraction = options.TryGetValue("--test-fraction", out var f) ? ParseNumber(f, "--test-fraction", double.Parse) : DatasetSplitter.DefaultTestFraction;
        var folds = options.TryGetValue("--folds", out var k) ? ParseNumber(k, "--folds", int.Parse) : DatasetSplitter.DefaultFolds;
        if (!(fraction >= 0 && fraction < 1)) throw new UsageException("--test-fraction must be in [0, 1)");
        if (folds < 1) throw new UsageException("--folds must be at least 1");

        CurationReport report;
        try
        {
            report = DatasetCurator.Check(dir);
        }
        catch (DirectoryNotFoundException ex)
        {
            error.WriteLine($"hipponode dataset: {ex.Message}");
            return 1;
        }

        if (sub == "check")
        {
            report.WriteText(output);
            if (options.TryGetValue("--json", out var json))
            {
                using var file = File.Create(json);
                report.WriteJson(file);
                output.WriteLine($"json report: {json}");
            }
            return 0;
        }

        DatasetSplit split;
        try
        {
            split = DatasetSplitter.Create(report, seed, fraction, folds);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        if (options.TryGetValue("--out", out var outPath))
        {
            split.Save(outPath);
            output.WriteLine($"split of {split.AllCases.Count()} clean cases (seed {split.Seed}): test {split.Test.Count}, folds {string.Join('/', split.Folds.Select(x => x.Count))}, excluded {split.Excluded.Count} -> {outPath}");
        }
        else
        {
            output.Write(split.ToJson());
        }
        return 0;
    }

    private static (string Dir, Dictionary<string, string> Options) Parse(string[] args, string[] known)
    {
        string? dir = null;
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                if (!known.Contains(a)) throw new UsageException($"unknown option '{a}'\n{Usage}");
                if (i + 1 >= args.Length) throw new UsageException($"{a} needs a value");
                options[a] = args[++i];
            }
            else if (dir is null)
            {
                dir = a;
            }
            else
            {
                throw new UsageException($"unexpected argument '{a}' (one DIR only)\n{Usage}");
            }
        }
        return (dir ?? throw new UsageException($"no dataset folder given\n{Usage}"), options);
    }

    private static T ParseNumber<T>(string text, string option, Func<string, IFormatProvider, T> parse)
    {
        try
        {
            return parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new UsageException($"{option}: '{text}' is not a valid number");
        }
    }
}
