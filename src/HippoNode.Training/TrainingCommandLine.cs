using System.Globalization;

namespace HippoNode.Training;

/// <summary>The <c>hipponode train</c> verb's options and run, kept here so tests drive exactly what the command runs.</summary>
public sealed class TrainingCommandLine
{
    /// <summary>The verb's usage text.</summary>
    public const string Usage =
        "usage: hipponode train --data DIR --split split.json --out DIR [--folds 0,1,2,3,4] [--epochs N] [--seed S] [--resume] [--log-dir DIR]\n" +
        "  trains one voxel-MLP member per fold (validated on that fold; the split's test cases are never read),\n" +
        "  logs fold{k}.csv/.png and checkpoints under --log-dir (default OUT/training), writes fold{k}.onnx and model.json to OUT";

    /// <summary>The run's options.</summary>
    public required TrainingRunOptions Run { get; init; }

    /// <summary>Parses the verb's arguments.</summary>
    /// <exception cref="ArgumentException">A missing, unknown or malformed option; the message says which.</exception>
    public static TrainingCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var known = new[] { "--data", "--split", "--out", "--folds", "--epochs", "--seed", "--log-dir" };
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var resume = false;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--resume")
            {
                resume = true;
                continue;
            }
            if (!known.Contains(a)) throw new ArgumentException($"unknown argument '{a}'");
            if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value");
            if (!values.TryAdd(a, args[++i])) throw new ArgumentException($"{a} given twice");
        }
        foreach (var required in (string[])["--data", "--split", "--out"])
        {
            if (!values.ContainsKey(required)) throw new ArgumentException($"{required} is required");
        }
        var defaults = new TrainingOptions();
        IReadOnlyList<int>? folds = null;
        if (values.TryGetValue("--folds", out var f))
        {
            folds = [.. f.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => Int(s, "--folds"))];
            if (folds.Count == 0) throw new ArgumentException("--folds lists no fold");
            if (folds.Distinct().Count() != folds.Count) throw new ArgumentException("--folds repeats a fold");
            if (folds.Any(k => k < 0)) throw new ArgumentException("--folds must not be negative");
        }
        var epochs = values.TryGetValue("--epochs", out var e) ? Int(e, "--epochs") : defaults.Epochs;
        if (epochs < 1) throw new ArgumentException("--epochs must be at least 1");
        var seed = defaults.Seed;
        if (values.TryGetValue("--seed", out var s) && !ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            throw new ArgumentException($"--seed '{s}' is not a non-negative integer");
        return new TrainingCommandLine
        {
            Run = new TrainingRunOptions
            {
                DataDir = values["--data"],
                SplitPath = values["--split"],
                OutDir = values["--out"],
                Folds = folds,
                Training = new TrainingOptions { Epochs = epochs, Seed = seed },
                Resume = resume,
                LogDir = values.GetValueOrDefault("--log-dir"),
                // --resume is left out: a resumed run produces the same model as an uninterrupted one, metadata included.
                Command = "hipponode train " + string.Join(' ', args.Where(a => a != "--resume")),
            },
        };
    }

    /// <summary>Trains and writes the model folder: 0 on success, 1 when data, split or output cannot be read or written.</summary>
    public int Execute(TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            TrainingRun.Execute(Run, output, cancellationToken);
            return 0;
        }
        catch (Exception ex) when (IsDataError(ex))
        {
            error.WriteLine($"hipponode train: {ex.Message}");
            return 1;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(IsDataError))
        {
            // Cases load in parallel: report each distinct failure once.
            foreach (var m in ex.InnerExceptions.Select(i => i.Message).Distinct()) error.WriteLine($"hipponode train: {m}");
            return 1;
        }
    }

    private static bool IsDataError(Exception ex) =>
        ex is IOException or FormatException or InvalidDataException or UnauthorizedAccessException or HippoNode.Imaging.Nifti.NiftiFormatException;

    private static int Int(string s, string name) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{s}' is not an integer");
}
