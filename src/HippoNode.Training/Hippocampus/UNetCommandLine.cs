using System.Globalization;
using HippoNode.Segmentation.Model;
using HippoNode.Training.Torch;

namespace HippoNode.Training.Hippocampus;

/// <summary>The <c>train hippocampus</c> command line: parsing and running, kept here so tests drive exactly what the verb runs.</summary>
public static class UNetCommandLine
{
    /// <summary>The usage text.</summary>
    public const string Usage =
        "usage: hipponode train [hippocampus] --data DIR --split split.json --out DIR [--folds 0,1,2,3,4] [--epochs N] [--seed S]\n" +
        "         [--threads N] [--device cpu|cuda] [--libtorch DIR] [--lr X] [--batch N] [--patch XxYxZ] [--channels 16,32,64,128]\n" +
        "         [--max-cases N] [--no-augment] [--validate-every N] [--resume] [--log-dir DIR]\n" +
        "  trains one 3D U-Net member per fold with TorchSharp (validated on that fold; the split's test cases are never read),\n" +
        "  prints a line per epoch (loss, validation Dice per label, time, ETA), writes fold{k}.csv/.png and checkpoints under\n" +
        "  --log-dir (default OUT/training; --resume continues after a kill), and fold{k}.onnx + model.json to OUT";

    private static readonly string[] Valued =
        ["--data", "--split", "--out", "--folds", "--epochs", "--seed", "--threads", "--device", "--libtorch", "--lr", "--batch", "--patch", "--channels", "--max-cases", "--validate-every", "--log-dir"];

    /// <summary>Parses the arguments (after the module word).</summary>
    /// <exception cref="ArgumentException">A missing, unknown or malformed option; the message says which.</exception>
    public static UNetRunOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        bool resume = false, noAugment = false;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--resume") { resume = true; continue; }
            if (a == "--no-augment") { noAugment = true; continue; }
            if (!Valued.Contains(a)) throw new ArgumentException($"unknown argument '{a}'");
            if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value");
            if (!values.TryAdd(a, args[++i])) throw new ArgumentException($"{a} given twice");
        }
        foreach (var required in (string[])["--data", "--split", "--out"])
        {
            if (!values.ContainsKey(required)) throw new ArgumentException($"{required} is required");
        }
        IReadOnlyList<int>? folds = null;
        if (values.TryGetValue("--folds", out var f))
        {
            folds = [.. f.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => Int(s, "--folds"))];
            if (folds.Count == 0) throw new ArgumentException("--folds lists no fold");
            if (folds.Distinct().Count() != folds.Count) throw new ArgumentException("--folds repeats a fold");
            if (folds.Any(k => k < 0)) throw new ArgumentException("--folds must not be negative");
        }
        var t = new TrainerOptions();
        var seed = t.Seed;
        if (values.TryGetValue("--seed", out var s) && !ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            throw new ArgumentException($"--seed '{s}' is not a non-negative integer");
        var trainer = new TrainerOptions
        {
            Epochs = values.TryGetValue("--epochs", out var e) ? Int(e, "--epochs") : t.Epochs,
            Seed = seed,
            Threads = values.TryGetValue("--threads", out var th) ? Int(th, "--threads") : t.Threads,
            Device = values.GetValueOrDefault("--device") ?? t.Device,
            LearningRate = values.TryGetValue("--lr", out var lr) ? Double(lr, "--lr") : t.LearningRate,
            ValidateEvery = values.TryGetValue("--validate-every", out var ve) ? Int(ve, "--validate-every") : t.ValidateEvery,
        };
        trainer.Validate();
        var d = new UNetTaskOptions();
        var task = new UNetTaskOptions
        {
            Architecture = values.TryGetValue("--channels", out var ch)
                ? new UNetArchitecture { Channels = [.. ch.Split(',').Select(c => Int(c, "--channels"))] }
                : d.Architecture,
            BatchSize = values.TryGetValue("--batch", out var b) ? Int(b, "--batch") : d.BatchSize,
            PatchSize = values.TryGetValue("--patch", out var p) ? Patch(p) : d.PatchSize,
            Augmentation = noAugment ? AugmentationOptions.None : d.Augmentation,
        };
        task.Validate();
        int? maxCases = values.TryGetValue("--max-cases", out var mc) ? Int(mc, "--max-cases") : null;
        if (maxCases < 1) throw new ArgumentException("--max-cases must be at least 1");
        return new UNetRunOptions
        {
            DataDir = values["--data"],
            SplitPath = values["--split"],
            OutDir = values["--out"],
            Folds = folds,
            MaxCases = maxCases,
            Trainer = trainer,
            Task = task,
            Resume = resume,
            LogDir = values.GetValueOrDefault("--log-dir"),
            LibTorchDir = values.GetValueOrDefault("--libtorch"),
            // --resume is left out: a resumed run produces the same model as an uninterrupted one, metadata included.
            Command = "hipponode train hippocampus " + string.Join(' ', args.Where(a => a != "--resume")),
        };
    }

    /// <summary>Trains and writes the model folder: 0 on success, 1 when data, split, checkpoint or output cannot be read or written.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        UNetRunOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException ex)
        {
            error.WriteLine($"hipponode train: {ex.Message}\n{Usage}");
            return 2;
        }
        try
        {
            UNetTrainingRun.Execute(options, output, cancellationToken);
            return 0;
        }
        catch (Exception ex) when (IsDataError(ex) || ex is ArgumentException)
        {
            error.WriteLine($"hipponode train: {ex.Message}");
            return ex is ArgumentException ? 2 : 1;
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

    private static (int X, int Y, int Z) Patch(string s)
    {
        var parts = s.Split('x');
        if (parts.Length != 3) throw new ArgumentException($"--patch '{s}' is not XxYxZ");
        return (Int(parts[0], "--patch"), Int(parts[1], "--patch"), Int(parts[2], "--patch"));
    }

    private static int Int(string s, string name) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{s}' is not an integer");

    private static double Double(string s, string name) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{s}' is not a number");
}
