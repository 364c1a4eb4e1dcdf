using HippoNode.Classification;
using HippoNode.Training.Torch;

namespace HippoNode.Training.Chest;

/// <summary>The <c>train chest-xray</c> command line.</summary>
public static class ChestCommandLine
{
    /// <summary>The usage text.</summary>
    public const string Usage =
        "usage: hipponode train chest-xray --data DIR --out DIR [--split split.json | --split-seed N] [--epochs N] [--seed S] [--threads N]\n" +
        "         [--device cpu|cuda] [--libtorch DIR] [--lr X] [--batch N] [--size N] [--max-images N] [--no-augment] [--validate-every N] [--resume] [--log-dir DIR]\n" +
        "  DIR holds NORMAL/ and PNEUMONIA/; the images are split by patient (test, validation, training; split.json written to OUT),\n" +
        "  the ResNet trains on the training part, the best validation-AUROC epoch is exported with the Youden threshold of the validation part";

    /// <summary>Parses the arguments (after the module word).</summary>
    /// <exception cref="ArgumentException">The problem, named.</exception>
    public static ChestRunOptions Parse(IReadOnlyList<string> args)
    {
        var a = CommandArgs.Parse(args, ["--data", "--out", "--split", "--split-seed", "--batch", "--size", "--max-images"], ["--no-augment"], ["--data", "--out"]);
        var d = new ChestRunOptions { DataDir = "", OutDir = "" };
        var size = a.Int("--size", d.Task.Input.Width);
        var task = new ChestTaskOptions
        {
            BatchSize = a.Int("--batch", d.Task.BatchSize),
            Input = new ClassifierInput { Width = size, Height = size },
            Augmentation = a.Has("--no-augment") ? RadiographAugmentation.None : d.Task.Augmentation,
        };
        task.Validate();
        var maxImages = a.IntOrNull("--max-images");
        if (maxImages < 1) throw new ArgumentException("--max-images must be at least 1");
        return new ChestRunOptions
        {
            DataDir = a["--data"],
            OutDir = a["--out"],
            SplitPath = a.Get("--split"),
            SplitSeed = a.Int("--split-seed", (int)d.SplitSeed),
            MaxImages = maxImages,
            Trainer = a.Trainer(d.Trainer),
            Task = task,
            Resume = a.Has("--resume"),
            LogDir = a.Get("--log-dir"),
            LibTorchDir = a.Get("--libtorch"),
            Command = "hipponode train chest-xray " + string.Join(' ', args.Where(x => x != "--resume")),
        };
    }

    /// <summary>Trains and writes the model folder: 0 on success, 1 for unreadable data or output, 2 for a bad command line.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        TrainingVerb.Run("hipponode train chest-xray", Usage, () => Parse(args), o => ChestTrainingRun.Execute(o, output, cancellationToken), error);
}
