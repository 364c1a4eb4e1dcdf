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

    /// <summary>Parses the arguments (after the module word).</summary>
    /// <exception cref="ArgumentException">A missing, unknown or malformed option; the message says which.</exception>
    public static UNetRunOptions Parse(IReadOnlyList<string> args)
    {
        var a = CommandArgs.Parse(args, ["--data", "--split", "--out", "--folds", "--batch", "--patch", "--channels", "--max-cases"], ["--no-augment"], ["--data", "--split", "--out"]);
        IReadOnlyList<int>? folds = null;
        if (a.Get("--folds") is { } f)
        {
            folds = [.. f.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => CommandArgs.ParseInt(s, "--folds"))];
            if (folds.Count == 0) throw new ArgumentException("--folds lists no fold");
            if (folds.Distinct().Count() != folds.Count) throw new ArgumentException("--folds repeats a fold");
            if (folds.Any(k => k < 0)) throw new ArgumentException("--folds must not be negative");
        }
        var trainer = a.Trainer(new TrainerOptions());
        var d = new UNetTaskOptions();
        var task = new UNetTaskOptions
        {
            Architecture = a.Get("--channels") is { } ch
                ? new UNetArchitecture { Channels = [.. ch.Split(',').Select(c => CommandArgs.ParseInt(c, "--channels"))] }
                : d.Architecture,
            BatchSize = a.Int("--batch", d.BatchSize),
            PatchSize = a.Get("--patch") is { } p ? Patch(p) : d.PatchSize,
            Augmentation = a.Has("--no-augment") ? AugmentationOptions.None : d.Augmentation,
        };
        task.Validate();
        var maxCases = a.IntOrNull("--max-cases");
        if (maxCases < 1) throw new ArgumentException("--max-cases must be at least 1");
        return new UNetRunOptions
        {
            DataDir = a["--data"],
            SplitPath = a["--split"],
            OutDir = a["--out"],
            Folds = folds,
            MaxCases = maxCases,
            Trainer = trainer,
            Task = task,
            Resume = a.Has("--resume"),
            LogDir = a.Get("--log-dir"),
            LibTorchDir = a.Get("--libtorch"),
            // --resume is left out: a resumed run produces the same model as an uninterrupted one, metadata included.
            Command = "hipponode train hippocampus " + string.Join(' ', args.Where(x => x != "--resume")),
        };
    }

    /// <summary>Trains and writes the model folder: 0 on success, 1 when data, split, checkpoint or output cannot be read or written, 2 for a bad command line.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        TrainingVerb.Run("hipponode train", Usage, () => Parse(args), o => UNetTrainingRun.Execute(o, output, cancellationToken), error);

    private static (int X, int Y, int Z) Patch(string s)
    {
        var parts = s.Split('x');
        if (parts.Length != 3) throw new ArgumentException($"--patch '{s}' is not XxYxZ");
        return (CommandArgs.ParseInt(parts[0], "--patch"), CommandArgs.ParseInt(parts[1], "--patch"), CommandArgs.ParseInt(parts[2], "--patch"));
    }

}
