using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Datasets;
using HippoNode.Onnx;
using HippoNode.Segmentation.Model;

namespace HippoNode.Training;

/// <summary>What <see cref="TrainingRun.Execute"/> trains and where it writes.</summary>
public sealed class TrainingRunOptions
{
    /// <summary>The MSD folder (imagesTr/, labelsTr/).</summary>
    public required string DataDir { get; init; }

    /// <summary>The split.json whose folds are trained (its test cases are never read).</summary>
    public required string SplitPath { get; init; }

    /// <summary>The model folder written (fold{k}.onnx, model.json).</summary>
    public required string OutDir { get; init; }

    /// <summary>The folds to train (each one member); null for all folds of the split.</summary>
    public IReadOnlyList<int>? Folds { get; init; }

    /// <summary>Training settings.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Continue each fold from its latest checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>Where the per-fold CSV and PNG logs go and (under checkpoints/) the checkpoints; default OutDir/training.</summary>
    public string? LogDir { get; init; }

    /// <summary>The model's name in model.json.</summary>
    public string Name { get; init; } = "hippocampus-voxel-mlp";

    /// <summary>The model's version in model.json.</summary>
    public string Version { get; init; } = "0.1.0";

    /// <summary>The model's description in model.json.</summary>
    public string Description { get; init; } =
        "CPU baseline for hippocampus segmentation (MSD Task04 crops, T2 MR): per-voxel MLP on fixed multi-scale features, " +
        "5-fold ensemble trained in C#; stands in for the 3D U-Net until a GPU training run. Not for diagnostic use.";

    /// <summary>The command line recorded in model.json, or null.</summary>
    public string? Command { get; init; }

    /// <summary>The log folder in effect.</summary>
    public string EffectiveLogDir => LogDir ?? Path.Combine(OutDir, "training");
}

/// <summary>The outcome of a run: the manifest written and each fold's result.</summary>
public sealed record TrainingRunResult(ModelManifest Manifest, IReadOnlyList<FoldResult> Folds, TimeSpan Elapsed);

/// <summary>Trains one voxel-classifier member per fold of a split and writes the model folder.</summary>
public static class TrainingRun
{
    /// <summary>Loads the folds' cases, trains each fold (validation on the held-out fold), exports and writes the folder.</summary>
    /// <exception cref="ArgumentException">A fold outside the split.</exception>
    public static TrainingRunResult Execute(TrainingRunOptions options, TextWriter progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var total = Stopwatch.StartNew();
        var o = options.Training;
        o.Validate();
        var split = DatasetSplit.Load(options.SplitPath);
        var folds = options.Folds ?? [.. Enumerable.Range(0, split.Folds.Count)];
        if (folds.Count == 0 || folds.Any(f => f < 0 || f >= split.Folds.Count) || folds.Distinct().Count() != folds.Count)
            throw new ArgumentException($"folds must be distinct values in 0..{split.Folds.Count - 1}");

        var test = new HashSet<string>(split.Test, StringComparer.Ordinal);
        var ids = folds.SelectMany(k => split.TrainingFor(k).Concat(split.Folds[k])).Distinct().Order(StringComparer.Ordinal).ToList();
        if (ids.FirstOrDefault(test.Contains) is { } leaked) throw new InvalidOperationException($"case {leaked} is both in the test list and in a fold");
        progress.WriteLine($"loading {ids.Count} cases from {options.DataDir} (the {split.Test.Count} test cases are not read)");
        var cases = new TrainingCase[ids.Count];
        Parallel.For(0, ids.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => cases[i] = TrainingCase.Load(options.DataDir, ids[i], o.Classes));
        var byId = cases.ToDictionary(c => c.Id, StringComparer.Ordinal);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded in {total.Elapsed.TotalSeconds:F1} s; {o.Bank.Count} features, layers {string.Join("-", o.LayerSizes)}, {o.Epochs} epochs, seed {o.Seed}"));

        var trainer = new VoxelClassifierTrainer(o);
        var results = new List<FoldResult>();
        var logDir = options.EffectiveLogDir;
        foreach (var k in folds)
        {
            var train = split.TrainingFor(k).Select(id => byId[id]).ToList();
            var validation = split.Folds[k].Select(id => byId[id]).ToList();
            var r = trainer.TrainFold(k, train, validation, new FoldRunSettings
            {
                LogDir = logDir,
                CheckpointDir = Path.Combine(logDir, "checkpoints"),
                Resume = options.Resume,
                Progress = progress,
            }, cancellationToken);
            results.Add(r);
            var last = r.History[^1];
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fold {k} done in {r.Elapsed.TotalSeconds:F0} s: {train.Count} training cases, validation dice whole {last.DiceWhole:F4} ({validation.Count} cases)"));
        }

        var members = results.Select(r => new VoxelClassifierMember(r.Model.ToWeights(o.Bank), r.Fold)).ToList();
        var manifest = VoxelClassifierFolderWriter.Write(options.OutDir, members, new ModelFolderInfo
        {
            Name = options.Name,
            Version = options.Version,
            Description = options.Description,
            NormalizationRegion = IntensityRegion.All,
            TrainingJson = TrainingJson(options, split, trainer, results, members[0].Weights),
            MetricsJson = MetricsJson(results),
        });
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {options.OutDir}: {string.Join(", ", manifest.Members.Select(m => m.File))} and {ModelManifest.FileName}; total {total.Elapsed.TotalSeconds:F0} s"));
        return new TrainingRunResult(manifest, results, total.Elapsed);
    }

    /// <summary>What was trained on and how: deterministic for the same inputs (no times), since it also goes into every member's metadata.</summary>
    private static string TrainingJson(TrainingRunOptions options, DatasetSplit split, VoxelClassifierTrainer trainer, IReadOnlyList<FoldResult> results, VoxelClassifierWeights example)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("method", "voxel-mlp: fixed multi-scale features of the z-scored image, per-voxel MLP trained with AdamW on sampled voxels (CPU, C#)");
            w.WriteString("framework", "HippoNode.Training (plain C#, no GPU)");
            w.WriteString("dataset", split.Dataset);
            w.WriteString("split", Path.GetFileName(options.SplitPath));
            w.WriteNumber("splitSeed", split.Seed);
            w.WriteNumber("testCasesExcluded", split.Test.Count);
            w.WriteString("members", "member k is trained on every cross-validation fold except k and validated on fold k");
            w.WriteStartArray("folds");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteNumber("fold", r.Fold);
                w.WriteNumber("trainingCases", split.TrainingFor(r.Fold).Count);
                w.WriteNumber("validationCases", split.Folds[r.Fold].Count);
                w.WriteNumber("epochs", r.History.Count);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("options");
            using (var doc = JsonDocument.Parse(trainer.Options.ToJson())) doc.RootElement.WriteTo(w);
            w.WritePropertyName("architecture");
            using (var doc = JsonDocument.Parse(example.ArchitectureJson())) doc.RootElement.WriteTo(w);
            if (options.Command is not null) w.WriteString("command", options.Command);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Cross-validation results (each member on its held-out fold, last epoch) and training times.</summary>
    private static string MetricsJson(IReadOnlyList<FoldResult> results)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("crossValidation");
            w.WriteString("description", "mean Dice of each member on its own held-out fold (whole volumes, argmax), after the last epoch; not the test set");
            w.WriteStartArray("folds");
            foreach (var r in results)
            {
                var h = r.History[^1];
                w.WriteStartObject();
                w.WriteNumber("fold", r.Fold);
                w.WriteNumber("dice_anterior", Math.Round(h.DiceAnterior, 4));
                w.WriteNumber("dice_posterior", Math.Round(h.DicePosterior, 4));
                w.WriteNumber("dice_whole", Math.Round(h.DiceWhole, 4));
                w.WriteNumber("trainingSeconds", Math.Round(r.History.Sum(e => e.Seconds), 1));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("dice_anterior_mean", Math.Round(results.Average(r => r.History[^1].DiceAnterior), 4));
            w.WriteNumber("dice_posterior_mean", Math.Round(results.Average(r => r.History[^1].DicePosterior), 4));
            w.WriteNumber("dice_whole_mean", Math.Round(results.Average(r => r.History[^1].DiceWhole), 4));
            w.WriteEndObject();
            w.WriteNumber("epochSecondsTotal", Math.Round(results.Sum(r => r.History.Sum(e => e.Seconds)), 1));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
