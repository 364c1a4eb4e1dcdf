using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Segmentation.Metrics;
using HippoNode.Segmentation.Model;
using HippoNode.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace HippoNode.Training.Hippocampus;

/// <summary>A training case with what the sampler needs precomputed: the z-scored image, labels and the foreground voxel indices.</summary>
public sealed class PreparedCase
{
    /// <summary>Prepares <paramref name="c"/>.</summary>
    public PreparedCase(TrainingCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        Id = c.Id;
        Shape = c.Shape;
        Image = c.Normalized;
        Labels = c.Labels;
        var fg = new List<int>();
        for (var i = 0; i < Labels.Length; i++)
        {
            if (Labels[i] != 0) fg.Add(i);
        }
        Foreground = [.. fg];
    }

    /// <summary>The case id.</summary>
    public string Id { get; }

    /// <summary>The grid.</summary>
    public VolumeShape Shape { get; }

    /// <summary>The z-scored image, x fastest.</summary>
    public float[] Image { get; }

    /// <summary>The labels, x fastest.</summary>
    public byte[] Labels { get; }

    /// <summary>Indices of the labelled voxels.</summary>
    public int[] Foreground { get; }
}

/// <summary>Settings of the 3D U-Net segmentation task (besides the shared trainer's).</summary>
public sealed class UNetTaskOptions
{
    /// <summary>The network.</summary>
    public UNetArchitecture Architecture { get; init; } = UNetArchitecture.Production;

    /// <summary>Training patch size (x, y, z); multiples of the architecture's size multiple.</summary>
    public (int X, int Y, int Z) PatchSize { get; init; } = (32, 48, 32);

    /// <summary>Patches per optimizer step.</summary>
    public int BatchSize { get; init; } = 2;

    /// <summary>The augmentation.</summary>
    public AugmentationOptions Augmentation { get; init; } = new();

    /// <summary>Throws when the settings do not fit the architecture.</summary>
    public void Validate()
    {
        Architecture.Validate();
        var m = Architecture.SizeMultiple;
        if (PatchSize.X % m != 0 || PatchSize.Y % m != 0 || PatchSize.Z % m != 0 || PatchSize.X < m || PatchSize.Y < m || PatchSize.Z < m)
            throw new ArgumentException($"patch size {PatchSize.X}x{PatchSize.Y}x{PatchSize.Z} must be positive multiples of {m}");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
    }

    /// <summary>The settings as a JSON object.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WritePropertyName("architecture");
        Architecture.WriteJson(w);
        w.WriteString("patchSize", string.Create(CultureInfo.InvariantCulture, $"{PatchSize.X}x{PatchSize.Y}x{PatchSize.Z} (x, y, z)"));
        w.WriteNumber("batchSize", BatchSize);
        w.WriteString("loss", "cross-entropy + (1 - soft Dice over the foreground classes, batch Dice, smooth 1e-5)");
        w.WritePropertyName("augmentation");
        Augmentation.WriteJson(w);
        w.WriteString("validation", "whole volumes, zero-padded to the size multiple (as the exported graph does), argmax; mean per-case Dice");
        w.WriteEndObject();
    }
}

/// <summary>The hippocampus U-Net as a <see cref="ITrainingTask"/>: augmented patches, Dice + cross-entropy, whole-volume validation Dice per label.</summary>
public sealed class UNetSegmentationTask : ITrainingTask, IDisposable
{
    private static readonly string[] Names = ["dice_anterior", "dice_posterior", "dice_whole"];
    private readonly IReadOnlyList<PreparedCase> _train;
    private readonly IReadOnlyList<PreparedCase> _validation;
    private readonly UNetTaskOptions _options;
    private readonly PatchSampler _sampler;
    private readonly ulong _seed;
    private readonly TorchUNet _net;

    /// <summary>A task over <paramref name="train"/> and <paramref name="validation"/>; the network is initialised from <paramref name="seed"/>.</summary>
    public UNetSegmentationTask(IReadOnlyList<PreparedCase> train, IReadOnlyList<PreparedCase> validation, UNetTaskOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("no training cases");
        _train = train;
        _validation = validation;
        _options = options;
        _seed = seed;
        _sampler = new PatchSampler(options.PatchSize, options.Augmentation);
        // libtorch's generator draws the initial weights; seeding it here makes them a function of the seed.
        manual_seed(unchecked((long)Seeds.Derive(seed, 0x494E4954UL)));
        _net = new TorchUNet(options.Architecture);
    }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Model => _net;

    /// <summary>The network, typed.</summary>
    public TorchUNet Network => _net;

    /// <inheritdoc />
    public IReadOnlyList<string> MetricNames => Names;

    /// <inheritdoc />
    public int StepsPerEpoch(int epoch) => (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>The identity of the task's data and settings, for checkpoints.</summary>
    public string Fingerprint()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WritePropertyName("unet");
            _options.WriteJson(w);
            w.WriteString("seed", _seed.ToString(CultureInfo.InvariantCulture));
            w.WriteString("train", Seeds.Hash(string.Join(',', _train.Select(c => c.Id))).ToString("X16", CultureInfo.InvariantCulture));
            w.WriteNumber("trainCases", _train.Count);
            w.WriteString("validation", Seeds.Hash(string.Join(',', _validation.Select(c => c.Id))).ToString("X16", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <inheritdoc />
    public Tensor Loss(int epoch, int step, Device device)
    {
        var order = Order(epoch);
        var b = Math.Min(_options.BatchSize, _train.Count - step * _options.BatchSize);
        var (px, py, pz) = _options.PatchSize;
        var n = px * py * pz;
        var image = new float[b * n];
        var labels = new long[b * n];
        Parallel.For(0, b, i =>
        {
            var index = step * _options.BatchSize + i;
            var rng = new SplitMix64(Seeds.Derive(_seed, 0x50415443UL, (ulong)epoch, (ulong)index));
            _sampler.Sample(_train[order[index]], rng, image.AsSpan(i * n, n), labels.AsSpan(i * n, n));
        });
        var x = tensor(image, [b, 1, pz, py, px]).to(device);
        var y = tensor(labels, [b, pz, py, px]).to(device);
        var logits = _net.forward(x);
        return DiceCrossEntropy(logits, y, _options.Architecture.Classes);
    }

    /// <summary>Cross-entropy plus one minus the soft Dice of the foreground classes over the whole batch (nnU-Net's batch Dice).</summary>
    public static Tensor DiceCrossEntropy(Tensor logits, Tensor target, int classes)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        var ce = nn.functional.cross_entropy(logits, target);
        var probs = nn.functional.softmax(logits, 1);
        var onehot = nn.functional.one_hot(target, classes).permute(0, 4, 1, 2, 3).to(probs.dtype);
        long[] dims = [0, 2, 3, 4];
        var intersection = (probs * onehot).sum(dims);
        var denominator = probs.sum(dims) + onehot.sum(dims);
        var dice = intersection.mul(Two).add(Smooth).div(denominator.add(Smooth));
        var foreground = dice.narrow(0, 1, classes - 1).mean();
        return ce.add(foreground.neg().add(One));
    }

    // Long-lived native scalars: a literal in a tensor expression becomes a temporary Scalar that TorchSharp never
    // disposes, and the garbage collector may free it while libtorch reads it (see StableLeakyReLU).
    private static readonly Scalar One = 1.0.ToScalar();
    private static readonly Scalar Two = 2.0.ToScalar();
    private static readonly Scalar Smooth = 1e-5.ToScalar();

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Validate(Device device)
    {
        if (_validation.Count == 0) return new Dictionary<string, double>();
        var sums = new double[3];
        foreach (var c in _validation)
        {
            var predicted = Predict(_net, c.Shape, c.Image, device);
            var d = CaseDice(predicted, c.Labels);
            for (var i = 0; i < 3; i++) sums[i] += d[i];
        }
        return new Dictionary<string, double>
        {
            [Names[0]] = sums[0] / _validation.Count,
            [Names[1]] = sums[1] / _validation.Count,
            [Names[2]] = sums[2] / _validation.Count,
        };
    }

    /// <inheritdoc />
    public double Score(IReadOnlyDictionary<string, double> metrics) => (metrics[Names[0]] + metrics[Names[1]]) / 2;

    /// <summary>The network's label per voxel of a whole volume (zero-padded to the size multiple and cropped back, as the exported graph does).</summary>
    public static byte[] Predict(TorchUNet net, VolumeShape shape, float[] normalized, Device device)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(normalized);
        var plan = Preprocessing.PlanPadding(shape, net.Architecture.SizeMultiple);
        var padded = Preprocessing.Pad(normalized, 1, plan);
        using var scope = NewDisposeScope();
        var p = plan.Padded;
        var x = tensor(padded, [1, 1, p.Z, p.Y, p.X]).to(device);
        var labels = net.forward(x).argmax(1).to(ScalarType.Float32).cpu();
        var cropped = Preprocessing.Crop(labels.data<float>().ToArray(), 1, plan);
        var result = new byte[cropped.Length];
        for (var i = 0; i < result.Length; i++) result[i] = (byte)cropped[i];
        return result;
    }

    /// <summary>Dice of anterior (1), posterior (2) and whole (1 or 2) between a prediction and the truth (1 when both are empty).</summary>
    public static double[] CaseDice(byte[] predicted, byte[] truth)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(truth);
        var result = new double[3];
        for (var s = 0; s < 3; s++)
        {
            long tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < truth.Length; i++)
            {
                var p = s == 2 ? predicted[i] != 0 : predicted[i] == s + 1;
                var t = s == 2 ? truth[i] != 0 : truth[i] == s + 1;
                if (p && t) tp++;
                else if (p) fp++;
                else if (t) fn++;
            }
            result[s] = new ConfusionCounts(tp, fp, fn, 0).Dice;
        }
        return result;
    }

    private int[] Order(int epoch) => Seeds.Permutation(_train.Count, Seeds.Derive(_seed, 0x4F524445UL, (ulong)epoch));

    /// <inheritdoc />
    public void Dispose() => _net.Dispose();
}
