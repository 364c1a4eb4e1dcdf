using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HippoNode.Training.Torch;

/// <summary>Where and how one model (one fold of one module) is trained.</summary>
public sealed class TrainerRunSettings
{
    /// <summary>The model's checkpoint folder (epochNNN/ folders, best.bin); created when missing.</summary>
    public required string CheckpointDir { get; init; }

    /// <summary>Where the CSV and PNG curves go.</summary>
    public required string LogDir { get; init; }

    /// <summary>The curves' file stem, e.g. <c>fold0</c>.</summary>
    public required string LogStem { get; init; }

    /// <summary>A label for progress lines, e.g. <c>fold 0</c>.</summary>
    public required string Label { get; init; }

    /// <summary>What the loss is, for the plot (e.g. "Dice + CE").</summary>
    public string LossName { get; init; } = "loss";

    /// <summary>JSON that identifies the task's data and settings; a checkpoint written under other settings is refused.</summary>
    public string TaskFingerprint { get; init; } = "{}";

    /// <summary>Continue from the latest checkpoint when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Epochs of later models in the same run, for the run's ETA.</summary>
    public int LaterEpochs { get; init; }

    /// <summary>Progress lines go here.</summary>
    public TextWriter Progress { get; init; } = TextWriter.Null;

    /// <summary>Complete epoch checkpoints kept (the newest ones); at least 1.</summary>
    public int KeepCheckpoints { get; init; } = 2;
}

/// <summary>The outcome of one model's training.</summary>
/// <param name="History">Every epoch, the resumed ones included.</param>
/// <param name="BestEpoch">The epoch with the highest validation score (0 when never validated).</param>
/// <param name="ResumedFromEpoch">The checkpoint epoch this run started from (0: from scratch).</param>
/// <param name="Elapsed">Wall time of this process's part.</param>
public sealed record TrainerResult(IReadOnlyList<TrainerEpoch> History, int BestEpoch, int ResumedFromEpoch, TimeSpan Elapsed)
{
    /// <summary>The training time of all epochs, resumed ones included.</summary>
    public double TrainingSeconds => History.Sum(h => h.Seconds);
}

/// <summary>
/// The one trainer every module shares: AdamW with a poly schedule, a checkpoint after every epoch (weights, optimizer
/// state, epoch, history, best-so-far; written to a temporary folder and renamed into place, so a kill -9 at any moment
/// leaves the previous complete one), resume, per-epoch progress with ETA, and CSV + PNG curves.
/// </summary>
/// <remarks>
/// Determinism: initialisation comes from the caller (seeded before the model is built); data order and augmentation
/// come from the task's seeded streams keyed by epoch; so with the same seed and thread count a resumed run repeats an
/// uninterrupted one. The optimizer's moments and step are in the checkpoint.
/// </remarks>
public sealed class Trainer
{
    private const string StateFile = "state.json";
    private const string ModelFile = "model.bin";
    private const string OptimizerFile = "optimizer.bin";
    private const string BestFile = "best.bin";

    private readonly TrainerOptions _options;
    private readonly Device _device;

    /// <summary>A trainer with <paramref name="options"/> on <paramref name="device"/>.</summary>
    public Trainer(TrainerOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _device = device;
    }

    /// <summary>The settings.</summary>
    public TrainerOptions Options => _options;

    /// <summary>Trains <paramref name="task"/>'s model for the configured epochs (continuing a checkpoint when asked) and leaves the final weights in the model.</summary>
    /// <exception cref="InvalidDataException">The checkpoint to resume was written under other settings, or is unreadable.</exception>
    public TrainerResult Train(ITrainingTask task, TrainerRunSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(settings);
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(settings.CheckpointDir);
        foreach (var stale in Directory.EnumerateDirectories(settings.CheckpointDir, "*.tmp")) Directory.Delete(stale, true);
        var model = task.Model;
        model.to(_device);
        using var optimizer = optim.AdamW(model.parameters(), _options.LearningRate, weight_decay: _options.WeightDecay);
        var fingerprint = Fingerprint(settings.TaskFingerprint);
        var history = new List<TrainerEpoch>();
        var best = (Epoch: 0, Score: double.NegativeInfinity);
        var start = 0;
        if (settings.Resume && LatestCheckpoint(settings.CheckpointDir) is { } latest)
        {
            var state = ReadState(latest.Path);
            if (state.Fingerprint != fingerprint)
                throw new InvalidDataException($"{latest.Path} was written with other settings; train into another folder or without --resume\n  checkpoint: {state.Fingerprint}\n  this run:   {fingerprint}");
            model.load(Path.Combine(latest.Path, ModelFile));
            optimizer.load_state_dict(Path.Combine(latest.Path, OptimizerFile));
            history.AddRange(state.History);
            best = (state.BestEpoch, state.BestScore);
            start = latest.Epoch;
            settings.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{settings.Label}: resumed from {latest.Path} (epoch {start} of {_options.Epochs})"));
        }
        var resumedFrom = start;
        var measured = new List<double>();
        for (var epoch = start + 1; epoch <= _options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var epochClock = Stopwatch.StartNew();
            var lr = _options.LearningRateAt(epoch);
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            model.train();
            var steps = task.StepsPerEpoch(epoch);
            double lossSum = 0;
            for (var step = 0; step < steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = task.Loss(epoch, step, _device);
                loss.backward();
                optimizer.step();
                var value = loss.item<float>();
                if (!float.IsFinite(value)) throw new InvalidOperationException($"{settings.Label}: the loss became {value} at epoch {epoch}, step {step}; lower the learning rate");
                lossSum += value;
            }
            IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
            if (epoch % _options.ValidateEvery == 0 || epoch == _options.Epochs)
            {
                model.eval();
                using (no_grad()) metrics = task.Validate(_device);
            }
            var record = new TrainerEpoch(epoch, lossSum / Math.Max(1, steps), lr, epochClock.Elapsed.TotalSeconds, metrics);
            history.Add(record);
            var improved = false;
            if (metrics.Count > 0 && task.Score(metrics) is var score && score > best.Score)
            {
                best = (epoch, score);
                improved = true;
            }
            SaveCheckpoint(settings, model, optimizer, epoch, history, best, fingerprint, improved);
            TrainerLog.Write(settings.LogDir, settings.LogStem, settings.Label, settings.LossName, task.MetricNames, history);
            measured.Add(record.Seconds);
            settings.Progress.WriteLine(ProgressLine(settings, task, record, measured));
        }
        return new TrainerResult(history, best.Epoch, resumedFrom, clock.Elapsed);
    }

    /// <summary>Loads the best-scoring weights of a finished or interrupted run into <paramref name="model"/>; false when none were saved.</summary>
    public static bool LoadBest(nn.Module model, string checkpointDir)
    {
        ArgumentNullException.ThrowIfNull(model);
        var path = Path.Combine(checkpointDir, BestFile);
        if (!File.Exists(path)) return false;
        model.load(path);
        return true;
    }

    /// <summary>The newest complete epoch checkpoint under <paramref name="checkpointDir"/>, or null.</summary>
    public static (int Epoch, string Path)? LatestCheckpoint(string checkpointDir)
    {
        if (!Directory.Exists(checkpointDir)) return null;
        (int, string)? latest = null;
        foreach (var dir in Directory.EnumerateDirectories(checkpointDir, "epoch*"))
        {
            var name = Path.GetFileName(dir);
            if (!int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var e)) continue; // *.tmp and others
            if (!File.Exists(Path.Combine(dir, StateFile))) continue;
            if (latest is null || e > latest.Value.Item1) latest = (e, dir);
        }
        return latest;
    }

    private string Fingerprint(string taskFingerprint)
    {
        // Thread count and device are part of the numbers on CPU (reduction order), so they are part of the identity.
        using var task = JsonDocument.Parse(taskFingerprint);
        using var opts = JsonDocument.Parse(_options.ToJson());
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WritePropertyName("trainer");
            opts.RootElement.WriteTo(w);
            w.WritePropertyName("task");
            task.RootElement.WriteTo(w);
            w.WriteNumber("threads", _options.Threads);
            w.WriteString("device", _options.Device);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private void SaveCheckpoint(TrainerRunSettings s, nn.Module model, OptimizerHelper optimizer, int epoch, List<TrainerEpoch> history,
        (int Epoch, double Score) best, string fingerprint, bool improved)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"epoch{epoch:D3}");
        var final = Path.Combine(s.CheckpointDir, name);
        var temp = final + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        model.save(Path.Combine(temp, ModelFile));
        optimizer.save_state_dict(Path.Combine(temp, OptimizerFile));
        WriteState(Path.Combine(temp, StateFile), new CheckpointState(fingerprint, epoch, history, best.Epoch, best.Score));
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(temp, final);
        if (improved)
        {
            // best.bin is replaced by rename, so a reader never sees half a file.
            var bestTemp = Path.Combine(s.CheckpointDir, BestFile + ".tmp");
            File.Copy(Path.Combine(final, ModelFile), bestTemp, true);
            File.Move(bestTemp, Path.Combine(s.CheckpointDir, BestFile), true);
        }
        var complete = Directory.EnumerateDirectories(s.CheckpointDir, "epoch*")
            .Select(d => (Dir: d, Ok: int.TryParse(Path.GetFileName(d).AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var e), Epoch: e))
            .Where(x => x.Ok).OrderByDescending(x => x.Epoch).ToList();
        foreach (var old in complete.Skip(Math.Max(1, s.KeepCheckpoints))) Directory.Delete(old.Dir, true);
    }

    private string ProgressLine(TrainerRunSettings s, ITrainingTask task, TrainerEpoch r, List<double> measured)
    {
        var perEpoch = measured.Average();
        var foldLeft = (_options.Epochs - r.Epoch) * perEpoch;
        var runLeft = foldLeft + s.LaterEpochs * perEpoch;
        var metrics = r.Metrics.Count == 0 ? "(not validated)" : string.Join(" ", task.MetricNames.Where(r.Metrics.ContainsKey).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m} {r.Metrics[m]:F4}")));
        return string.Create(CultureInfo.InvariantCulture,
            $"{s.Label} epoch {r.Epoch}/{_options.Epochs}  loss {r.TrainLoss:F4}  val {metrics}  lr {r.LearningRate:E2}  {r.Seconds:F0} s  ETA {Eta(foldLeft)} ({s.Label}), {Eta(runLeft)} (run)");
    }

    private static string Eta(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:D2}m") : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}m{t.Seconds:D2}s");
    }

    private sealed record CheckpointState(string Fingerprint, int Epoch, IReadOnlyList<TrainerEpoch> History, int BestEpoch, double BestScore);

    private static void WriteState(string path, CheckpointState state)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("fingerprint", state.Fingerprint);
        w.WriteNumber("epoch", state.Epoch);
        w.WriteNumber("bestEpoch", state.BestEpoch);
        // Doubles go as round-trip strings: JSON has no infinity, and a resumed log must equal an uninterrupted one.
        w.WriteString("bestScore", TrainerLog.Text(state.BestScore));
        TrainerLog.WriteHistory(w, "history", state.History);
        w.WriteEndObject();
    }

    private static CheckpointState ReadState(string dir)
    {
        var path = Path.Combine(dir, StateFile);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            var history = TrainerLog.ReadHistory(root.GetProperty("history"));
            return new CheckpointState(root.GetProperty("fingerprint").GetString()!, root.GetProperty("epoch").GetInt32(), history,
                root.GetProperty("bestEpoch").GetInt32(), TrainerLog.Number(root.GetProperty("bestScore")));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: unreadable checkpoint state ({ex.Message})", ex);
        }
    }
}
