using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HippoNode.Datasets;
using HippoNode.Segmentation.Metrics;

namespace HippoNode.Training;

/// <summary>One epoch's record: training loss, validation Dice per structure, learning rate at its end, wall time.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double DiceAnterior, double DicePosterior, double DiceWhole, double LearningRate, double Seconds);

/// <summary>Where a fold's logs and checkpoints go, whether to resume, and where progress lines go.</summary>
public sealed class FoldRunSettings
{
    /// <summary>The folder of fold{k}.csv and fold{k}.png, or null for none.</summary>
    public string? LogDir { get; init; }

    /// <summary>The folder under which fold{k}/epochNNN.ckpt are written after every epoch, or null for none.</summary>
    public string? CheckpointDir { get; init; }

    /// <summary>Continue from the fold's latest checkpoint when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Stop after this many epochs in total (the schedule still spans <see cref="TrainingOptions.Epochs"/>); for interrupting runs in tests.</summary>
    public int? StopAfterEpoch { get; init; }

    /// <summary>Receives one line per epoch, or null.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>A trained fold: the network, its epoch history and whether it continued a checkpoint.</summary>
public sealed record FoldResult(int Fold, VoxelMlp Model, IReadOnlyList<EpochRecord> History, int ResumedFromEpoch, TimeSpan Elapsed);

/// <summary>Trains voxel-classifier MLPs on sampled voxels of training cases, validating every epoch on whole volumes.</summary>
/// <remarks>
/// Deterministic given <see cref="TrainingOptions.Seed"/>: each case's samples come from a seed derived from the run seed and
/// the case id, the initialisation from the run seed and the fold, each epoch's order from the run seed, fold and epoch;
/// every sum runs in a fixed order. A resumed fold therefore ends with the same weights as an uninterrupted one.
/// Sampled features are cached per case and shared between folds of one trainer.
/// </remarks>
public sealed class VoxelClassifierTrainer
{
    private readonly ConcurrentDictionary<string, CaseSamples> _samples = new(StringComparer.Ordinal);

    /// <summary>A trainer with <paramref name="options"/>.</summary>
    public VoxelClassifierTrainer(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The training options.</summary>
    public TrainingOptions Options { get; }

    /// <summary>The sampled voxels of one case: raw features (sample-major), labels and weights.</summary>
    internal sealed record CaseSamples(float[] Features, byte[] Labels, float[] Weights)
    {
        public int Count => Labels.Length;
    }

    internal CaseSamples SamplesOf(TrainingCase c) => _samples.GetOrAdd(c.Id, _ =>
    {
        var f = Options.Bank.Count;
        var v = (int)c.Shape.VoxelCount;
        var features = FeatureExtractor.Compute(Options.Bank, c.Normalized, c.Shape);
        var (idx, w) = VoxelSampler.Sample(c.Labels, c.Shape, Options, Seeds.Derive(Options.Seed, 1, Seeds.Hash(c.Id)));
        var rows = new float[idx.Length * f];
        var labels = new byte[idx.Length];
        for (var k = 0; k < idx.Length; k++)
        {
            for (var ch = 0; ch < f; ch++) rows[k * f + ch] = features[ch * v + idx[k]];
            labels[k] = c.Labels[idx[k]];
        }
        return new CaseSamples(rows, labels, w);
    });

    /// <summary>Trains fold <paramref name="fold"/> on <paramref name="train"/>, validating on <paramref name="validation"/> after every epoch.</summary>
    public FoldResult TrainFold(int fold, IReadOnlyList<TrainingCase> train, IReadOnlyList<TrainingCase> validation, FoldRunSettings? settings = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        if (train.Count == 0) throw new ArgumentException("no training cases", nameof(train));
        if (train.Any(t => t.Labels.Any(l => l >= Options.Classes))) throw new ArgumentException($"a label is not below {Options.Classes}", nameof(train));
        settings ??= new FoldRunSettings();
        var total = Stopwatch.StartNew();
        var o = Options;
        var f = o.Bank.Count;

        // The fold's sample matrix, case order as given, then the standardisation over it.
        var parts = new CaseSamples[train.Count];
        Parallel.For(0, train.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => parts[i] = SamplesOf(train[i]));
        var n = parts.Sum(p => p.Count);
        var x = new float[(long)n * f];
        var y = new byte[n];
        var w = new float[n];
        var at = 0;
        foreach (var p in parts)
        {
            p.Features.CopyTo(x, (long)at * f);
            p.Labels.CopyTo(y, at);
            p.Weights.CopyTo(w, at);
            at += p.Count;
        }
        var mlp = new VoxelMlp(o.LayerSizes);
        Standardization(x, f, mlp.FeatureMean, mlp.FeatureScale);
        mlp.Initialize(Seeds.Derive(o.Seed, 2, (ulong)fold));
        var adam = new AdamOptimizer(mlp.Parameters.Length, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay);
        var history = new List<EpochRecord>();

        var startEpoch = 0;
        if (settings.Resume && settings.CheckpointDir is not null && TrainingCheckpoint.Latest(settings.CheckpointDir, fold) is { } latest)
        {
            var ck = TrainingCheckpoint.Load(latest);
            ck.Restore(o, fold, mlp, adam);
            history.AddRange(ck.History);
            startEpoch = ck.Epoch;
            settings.Progress?.WriteLine($"fold {fold}: resumed from {latest} (epoch {ck.Epoch})");
            if (settings.LogDir is not null) TrainingLog.Write(settings.LogDir, fold, history);
        }

        // Validation features are computed once per fold.
        var valFeatures = new float[validation.Count][];
        Parallel.For(0, validation.Count, new ParallelOptions { CancellationToken = cancellationToken },
            i => valFeatures[i] = FeatureExtractor.Compute(o.Bank, validation[i].Normalized, validation[i].Shape));

        var stepsPerEpoch = (n + o.BatchSize - 1) / o.BatchSize;
        var totalSteps = (long)stepsPerEpoch * o.Epochs;
        var chunkRows = (o.BatchSize + o.Chunks - 1) / o.Chunks;
        var workspaces = Enumerable.Range(0, o.Chunks).Select(_ => new VoxelMlp.Workspace(mlp, chunkRows)).ToArray();
        var chunkLoss = new double[o.Chunks];
        var gradient = new float[mlp.Parameters.Length];
        var lastEpoch = Math.Min(o.Epochs, settings.StopAfterEpoch ?? o.Epochs);
        for (var epoch = startEpoch; epoch < lastEpoch; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            var order = Permutation(n, Seeds.Derive(o.Seed, 3, (ulong)fold, (ulong)epoch));
            double lossSum = 0, weightSum = 0, lr = 0;
            for (var s = 0; s < stepsPerEpoch; s++)
            {
                var b0 = s * o.BatchSize;
                var rows = Math.Min(o.BatchSize, n - b0);
                double bw = 0;
                for (var k = 0; k < rows; k++) bw += w[order[b0 + k]];
                var scale = (float)(1 / bw);
                mlp.RefreshTransposed();
                Parallel.For(0, o.Chunks, c =>
                {
                    var ws = workspaces[c];
                    var r0 = c * chunkRows;
                    var count = Math.Clamp(rows - r0, 0, chunkRows);
                    Array.Clear(ws.Gradient);
                    chunkLoss[c] = 0;
                    if (count == 0) return;
                    var labels = ws.Labels;
                    var weights = ws.Weights;
                    for (var k = 0; k < count; k++)
                    {
                        var row = order[b0 + r0 + k];
                        x.AsSpan((int)((long)row * f), f).CopyTo(ws.Input.AsSpan(k * f, f));
                        labels[k] = y[row];
                        weights[k] = w[row];
                    }
                    mlp.Standardize(ws.Input.AsSpan(0, count * f));
                    chunkLoss[c] = mlp.ForwardBackward(ws, count, labels.AsSpan(0, count), weights.AsSpan(0, count), scale);
                });
                Array.Clear(gradient);
                foreach (var ws in workspaces) VoxelMlp.Add(ws.Gradient, gradient);
                lr = o.LearningRateAt(adam.Step, totalSteps);
                adam.Update(mlp.Parameters, gradient, lr);
                foreach (var l in chunkLoss) lossSum += l;
                weightSum += bw;
            }
            var (da, dp, dw) = Validate(mlp, validation, valFeatures);
            var record = new EpochRecord(epoch + 1, lossSum / weightSum, da, dp, dw, lr, sw.Elapsed.TotalSeconds);
            history.Add(record);
            settings.Progress?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fold {fold} epoch {record.Epoch}/{o.Epochs}: loss {record.TrainLoss:F4}, val dice anterior {da:F4} posterior {dp:F4} whole {dw:F4}, lr {lr:E2}, {record.Seconds:F1} s"));
            if (settings.CheckpointDir is not null)
                new TrainingCheckpoint(o.ToJson(), fold, epoch + 1, adam.Step, adam.Beta1Power, adam.Beta2Power, mlp, adam.M, adam.V, history).Save(TrainingCheckpoint.PathFor(settings.CheckpointDir, fold, epoch + 1));
            if (settings.LogDir is not null) TrainingLog.Write(settings.LogDir, fold, history);
        }
        return new FoldResult(fold, mlp, history, startEpoch, total.Elapsed);
    }

    /// <summary>Mean validation Dice (anterior {1}, posterior {2}, whole {1, 2}) of the argmax label maps; NaN without validation cases.</summary>
    internal static (double Anterior, double Posterior, double Whole) Validate(VoxelMlp mlp, IReadOnlyList<TrainingCase> cases, float[][] features)
    {
        if (cases.Count == 0) return (double.NaN, double.NaN, double.NaN);
        double a = 0, p = 0, wh = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var labels = PredictLabels(mlp, features[i], cases[i].Labels.Length);
            a += OverlapMetrics.Dice(labels, cases[i].Labels, [1]);
            p += OverlapMetrics.Dice(labels, cases[i].Labels, [2]);
            wh += OverlapMetrics.Dice(labels, cases[i].Labels, [1, 2]);
        }
        return (a / cases.Count, p / cases.Count, wh / cases.Count);
    }

    /// <summary>The argmax label (ties to the lower label) per voxel for channel-major raw features.</summary>
    public static byte[] PredictLabels(VoxelMlp mlp, ReadOnlyMemory<float> features, int voxels)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        var probs = mlp.Predict(features, voxels);
        var labels = new byte[voxels];
        for (var v = 0; v < voxels; v++)
        {
            var best = 0;
            var bestP = probs[v];
            for (var c = 1; c < mlp.Classes; c++)
            {
                if (probs[c * voxels + v] > bestP)
                {
                    best = c;
                    bestP = probs[c * voxels + v];
                }
            }
            labels[v] = (byte)best;
        }
        return labels;
    }

    /// <summary>Per-feature mean and 1/std (population, double, row order) of raw rows; a std below 1e-6 gives scale 1.</summary>
    internal static void Standardization(float[] x, int f, float[] mean, float[] scale)
    {
        var n = x.Length / f;
        var sum = new double[f];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < f; c++) sum[c] += x[(long)r * f + c];
        }
        var m = sum.Select(s => s / Math.Max(n, 1)).ToArray();
        var sq = new double[f];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < f; c++)
            {
                var d = x[(long)r * f + c] - m[c];
                sq[c] += d * d;
            }
        }
        for (var c = 0; c < f; c++)
        {
            var std = Math.Sqrt(sq[c] / Math.Max(n, 1));
            mean[c] = (float)m[c];
            scale[c] = std < 1e-6 ? 1f : (float)(1 / std);
        }
    }

    /// <summary>A Fisher-Yates permutation of 0..n-1 driven by SplitMix64(<paramref name="seed"/>).</summary>
    internal static int[] Permutation(int n, ulong seed)
    {
        var p = new int[n];
        for (var i = 0; i < n; i++) p[i] = i;
        var rng = new SplitMix64(seed);
        for (var i = n - 1; i > 0; i--)
        {
            var j = rng.NextBelow(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
