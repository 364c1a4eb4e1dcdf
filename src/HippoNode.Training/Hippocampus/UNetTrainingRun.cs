using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Datasets;
using HippoNode.Onnx;
using HippoNode.Segmentation.Model;
using HippoNode.Training.Torch;

namespace HippoNode.Training.Hippocampus;

/// <summary>What a hippocampus U-Net run trains and where it writes.</summary>
public sealed class UNetRunOptions
{
    /// <summary>The MSD folder (imagesTr/, labelsTr/).</summary>
    public required string DataDir { get; init; }

    /// <summary>The split.json whose folds are trained (its test cases are never read).</summary>
    public required string SplitPath { get; init; }

    /// <summary>The model folder written (fold{k}.onnx, model.json).</summary>
    public required string OutDir { get; init; }

    /// <summary>The folds to train (one member each); null for all folds of the split.</summary>
    public IReadOnlyList<int>? Folds { get; init; }

    /// <summary>Use only the first N training and N validation cases of each fold (smoke runs); null for all.</summary>
    public int? MaxCases { get; init; }

    /// <summary>The shared trainer's settings.</summary>
    public TrainerOptions Trainer { get; init; } = new();

    /// <summary>The task's settings.</summary>
    public UNetTaskOptions Task { get; init; } = new();

    /// <summary>Continue from checkpoints; folds already finished are not trained again.</summary>
    public bool Resume { get; init; }

    /// <summary>Curves (fold{k}.csv/.png) go here, checkpoints under checkpoints/; default OutDir/training.</summary>
    public string? LogDir { get; init; }

    /// <summary>For --device cuda: a PyTorch lib folder to load libtorch from.</summary>
    public string? LibTorchDir { get; init; }

    /// <summary>The model's name in model.json.</summary>
    public string Name { get; init; } = "hippocampus-unet3d";

    /// <summary>The model's version in model.json.</summary>
    public string Version { get; init; } = "1.0.0";

    /// <summary>The model's description in model.json.</summary>
    public string Description { get; init; } =
        "3D U-Net ensemble for hippocampus segmentation (MSD Task04 crops, T2 MR), one member per cross-validation fold, trained in C# with TorchSharp. Not for diagnostic use.";

    /// <summary>The command line recorded in model.json, or null.</summary>
    public string? Command { get; init; }

    /// <summary>The log folder in effect.</summary>
    public string EffectiveLogDir => LogDir ?? Path.Combine(OutDir, "training");
}

/// <summary>One finished member.</summary>
/// <param name="Fold">The fold held out for its validation.</param>
/// <param name="Weights">The final weights.</param>
/// <param name="History">Its epochs.</param>
/// <param name="BestEpoch">Its best validation epoch.</param>
/// <param name="TrainingCases">Cases trained on.</param>
/// <param name="ValidationCases">Cases validated on.</param>
public sealed record UNetMember(int Fold, UNetWeights Weights, IReadOnlyList<TrainerEpoch> History, int BestEpoch, int TrainingCases, int ValidationCases);

/// <summary>Trains one U-Net member per fold with the shared <see cref="Trainer"/> and writes the ONNX model folder.</summary>
public static class UNetTrainingRun
{
    private const string FinalWeights = "final.safetensors";
    private const string FinalHistory = "final.json";

    /// <summary>Loads the cases, trains (or picks up) each fold, exports the members and writes the folder.</summary>
    /// <exception cref="ArgumentException">A fold outside the split, or bad settings.</exception>
    public static ModelManifest Execute(UNetRunOptions options, TextWriter progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Trainer.Validate();
        options.Task.Validate();
        var clock = Stopwatch.StartNew();
        var split = DatasetSplit.Load(options.SplitPath);
        var folds = options.Folds ?? [.. Enumerable.Range(0, split.Folds.Count)];
        if (folds.Count == 0 || folds.Any(f => f < 0 || f >= split.Folds.Count) || folds.Distinct().Count() != folds.Count)
            throw new ArgumentException($"folds must be distinct values in 0..{split.Folds.Count - 1}");
        var test = new HashSet<string>(split.Test, StringComparer.Ordinal);
        var trainIds = folds.ToDictionary(k => k, k => Limit(split.TrainingFor(k), options.MaxCases));
        var validationIds = folds.ToDictionary(k => k, k => Limit(split.Folds[k], options.MaxCases));
        var ids = trainIds.Values.Concat(validationIds.Values).SelectMany(x => x).Distinct().Order(StringComparer.Ordinal).ToList();
        if (ids.FirstOrDefault(test.Contains) is { } leaked) throw new InvalidOperationException($"case {leaked} is both in the test list and in a fold");
        if (!Directory.Exists(options.DataDir)) throw new DirectoryNotFoundException($"data folder {options.DataDir} does not exist");

        var device = TorchSetup.Initialize(options.Trainer.Device, options.Trainer.Threads, options.LibTorchDir);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loading {ids.Count} cases from {options.DataDir} (the {split.Test.Count} test cases are never read); device {options.Trainer.Device}, threads {(options.Trainer.Threads == 0 ? "default" : options.Trainer.Threads.ToString(CultureInfo.InvariantCulture))}"));
        var cases = new PreparedCase[ids.Count];
        Parallel.For(0, ids.Count, new ParallelOptions { CancellationToken = cancellationToken },
            i => cases[i] = new PreparedCase(TrainingCase.Load(options.DataDir, ids[i], options.Task.Architecture.Classes)));
        var byId = cases.ToDictionary(c => c.Id, StringComparer.Ordinal);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded in {clock.Elapsed.TotalSeconds:F1} s; {options.Task.Architecture}, {options.Task.Architecture.ParameterCount():N0} parameters, patch {options.Task.PatchSize.X}x{options.Task.PatchSize.Y}x{options.Task.PatchSize.Z}, batch {options.Task.BatchSize}, {options.Trainer.Epochs} epochs, seed {options.Trainer.Seed}"));

        var trainer = new Trainer(options.Trainer, device);
        var logDir = options.EffectiveLogDir;
        var members = new List<UNetMember>();
        for (var i = 0; i < folds.Count; i++)
        {
            var k = folds[i];
            var checkpointDir = Path.Combine(logDir, "checkpoints", string.Create(CultureInfo.InvariantCulture, $"fold{k}"));
            var train = trainIds[k].Select(id => byId[id]).ToList();
            var validation = validationIds[k].Select(id => byId[id]).ToList();
            using var task = new UNetSegmentationTask(train, validation, options.Task, Seeds.Derive(options.Trainer.Seed, (ulong)k));
            var fingerprint = task.Fingerprint();
            if (options.Resume && ReadFinished(checkpointDir, fingerprint, options.Task.Architecture) is { } done)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fold {k}: already finished ({done.History.Count} epochs), taken from {checkpointDir}"));
                members.Add(done with { Fold = k, TrainingCases = train.Count, ValidationCases = validation.Count });
                continue;
            }
            var laterEpochs = (folds.Count - i - 1) * options.Trainer.Epochs;
            var result = trainer.Train(task, new TrainerRunSettings
            {
                CheckpointDir = checkpointDir,
                LogDir = logDir,
                LogStem = string.Create(CultureInfo.InvariantCulture, $"fold{k}"),
                Label = string.Create(CultureInfo.InvariantCulture, $"fold {k}"),
                LossName = "Dice + CE",
                TaskFingerprint = fingerprint,
                Resume = options.Resume,
                LaterEpochs = laterEpochs,
                Progress = progress,
            }, cancellationToken);
            var weights = task.Network.ToWeights();
            var member = new UNetMember(k, weights, result.History, result.BestEpoch, train.Count, validation.Count);
            WriteFinished(checkpointDir, fingerprint, member);
            members.Add(member);
            var last = result.History[^1].Metrics;
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fold {k} done in {result.TrainingSeconds:F0} s of training: validation Dice anterior {Get(last, "dice_anterior"):F4} posterior {Get(last, "dice_posterior"):F4} whole {Get(last, "dice_whole"):F4} ({validation.Count} cases)"));
        }

        var manifest = ModelFolderWriter.Write(options.OutDir, [.. members.Select(m => new ExportMember(m.Weights, m.Fold))], new ModelFolderInfo
        {
            Name = options.Name,
            Version = options.Version,
            Description = options.Description,
            NormalizationRegion = IntensityRegion.All,
            PadInGraph = true,
            TrainingJson = TrainingJson(options, split, members),
            MetricsJson = MetricsJson(members),
        });
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {options.OutDir}: {string.Join(", ", manifest.Members.Select(m => m.File))} and {ModelManifest.FileName}; {clock.Elapsed.TotalSeconds:F0} s in this process"));
        return manifest;
    }

    private static IReadOnlyList<string> Limit(IReadOnlyList<string> ids, int? max) => max is { } m ? [.. ids.Take(m)] : ids;

    private static double Get(IReadOnlyDictionary<string, double> m, string key) => m.TryGetValue(key, out var v) ? v : double.NaN;

    // A fold without validation cases has no Dice: JSON null rather than NaN, which JSON cannot hold.
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, Math.Round(value, 4));
        else w.WriteNull(name);
    }

    private static void WriteFinished(string dir, string fingerprint, UNetMember m)
    {
        var weightsTemp = Path.Combine(dir, FinalWeights + ".tmp");
        m.Weights.SaveSafetensors(weightsTemp, new Dictionary<string, string> { ["fold"] = m.Fold.ToString(CultureInfo.InvariantCulture) });
        File.Move(weightsTemp, Path.Combine(dir, FinalWeights), true);
        var json = new StringBuilder();
        using (var ms = new MemoryStream())
        {
            using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("fingerprint", fingerprint);
                w.WriteNumber("bestEpoch", m.BestEpoch);
                TrainerLog.WriteHistory(w, "history", m.History);
                w.WriteEndObject();
            }
            json.Append(Encoding.UTF8.GetString(ms.ToArray()));
        }
        var temp = Path.Combine(dir, FinalHistory + ".tmp");
        File.WriteAllText(temp, json.ToString());
        File.Move(temp, Path.Combine(dir, FinalHistory), true);
    }

    private static UNetMember? ReadFinished(string dir, string fingerprint, UNetArchitecture architecture)
    {
        var historyPath = Path.Combine(dir, FinalHistory);
        var weightsPath = Path.Combine(dir, FinalWeights);
        if (!File.Exists(historyPath) || !File.Exists(weightsPath)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(historyPath));
        var root = doc.RootElement;
        if (root.GetProperty("fingerprint").GetString() != fingerprint) return null;
        var history = TrainerLog.ReadHistory(root.GetProperty("history"));
        return new UNetMember(-1, UNetWeights.LoadSafetensors(architecture, weightsPath), history, root.GetProperty("bestEpoch").GetInt32(), 0, 0);
    }

    private static string TrainingJson(UNetRunOptions options, DatasetSplit split, IReadOnlyList<UNetMember> members)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("method", "3D U-Net (nnU-Net-style: instance norm, leaky ReLU, Dice + CE, patch sampling with foreground oversampling, spatial and intensity augmentation, poly learning rate), trained in C#");
            w.WriteString("framework", "TorchSharp 0.107.0 (libtorch 2.10) via HippoNode.Training's shared trainer; exported by HippoNode.Onnx");
            w.WriteString("dataset", split.Dataset);
            w.WriteString("split", Path.GetFileName(options.SplitPath));
            w.WriteNumber("splitSeed", split.Seed);
            w.WriteNumber("testCasesExcluded", split.Test.Count);
            w.WriteString("members", "member k is trained on every cross-validation fold except k and validated on fold k; the final epoch's weights are exported");
            w.WriteStartArray("folds");
            foreach (var m in members)
            {
                w.WriteStartObject();
                w.WriteNumber("fold", m.Fold);
                w.WriteNumber("trainingCases", m.TrainingCases);
                w.WriteNumber("validationCases", m.ValidationCases);
                w.WriteNumber("epochs", m.History.Count);
                w.WriteNumber("bestEpoch", m.BestEpoch);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("trainer");
            using (var doc = JsonDocument.Parse(options.Trainer.ToJson())) doc.RootElement.WriteTo(w);
            w.WritePropertyName("task");
            options.Task.WriteJson(w);
            if (options.MaxCases is { } mc) w.WriteNumber("maxCasesPerFold", mc);
            if (options.Command is not null) w.WriteString("command", options.Command);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string MetricsJson(IReadOnlyList<UNetMember> members)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("crossValidation");
            w.WriteString("description", "mean Dice of each member on its own held-out fold (whole volumes, argmax), after the last epoch; not the test set");
            w.WriteStartArray("folds");
            foreach (var m in members)
            {
                var last = m.History[^1].Metrics;
                w.WriteStartObject();
                w.WriteNumber("fold", m.Fold);
                foreach (var name in (string[])["dice_anterior", "dice_posterior", "dice_whole"]) Number(w, name, Get(last, name));
                w.WriteNumber("trainingSeconds", Math.Round(m.History.Sum(e => e.Seconds), 1));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            foreach (var name in (string[])["dice_anterior", "dice_posterior", "dice_whole"]) Number(w, name + "_mean", members.Average(m => Get(m.History[^1].Metrics, name)));
            w.WriteEndObject();
            w.WriteNumber("epochSecondsTotal", Math.Round(members.Sum(m => m.History.Sum(e => e.Seconds)), 1));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
