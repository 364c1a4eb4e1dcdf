using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Classification;
using HippoNode.Datasets;
using HippoNode.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace HippoNode.Training.Chest;

/// <summary>Augmentation for radiographs: small rotation, scaling and shift, brightness and contrast; never a flip (the heart is on the left).</summary>
public sealed class RadiographAugmentation
{
    /// <summary>The largest rotation, degrees.</summary>
    public double MaxRotationDegrees { get; init; } = 7;

    /// <summary>The scaling range.</summary>
    public (double Min, double Max) Scale { get; init; } = (0.9, 1.1);

    /// <summary>The largest shift, as a fraction of the size.</summary>
    public double MaxShift { get; init; } = 0.06;

    /// <summary>Probability of a brightness change of up to ±0.06 (of the [0, 1] display range).</summary>
    public double BrightnessProbability { get; init; } = 0.5;

    /// <summary>Probability of a contrast change in [0.85, 1.15].</summary>
    public double ContrastProbability { get; init; } = 0.5;

    /// <summary>No augmentation (tests, ablations).</summary>
    public static RadiographAugmentation None { get; } = new() { MaxRotationDegrees = 0, Scale = (1, 1), MaxShift = 0, BrightnessProbability = 0, ContrastProbability = 0 };

    /// <summary>The settings as a JSON object.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteNumber("maxRotationDegrees", MaxRotationDegrees);
        w.WriteNumber("scaleMin", Scale.Min);
        w.WriteNumber("scaleMax", Scale.Max);
        w.WriteNumber("maxShift", MaxShift);
        w.WriteNumber("brightnessProbability", BrightnessProbability);
        w.WriteNumber("contrastProbability", ContrastProbability);
        w.WriteString("flips", "none");
        w.WriteEndObject();
    }

    /// <summary>Writes an augmented copy of a normalised image (row-major <paramref name="width"/> x <paramref name="height"/>) into <paramref name="output"/>.</summary>
    /// <remarks>Outside the source image reads the value of black (normalised), as a radiograph's border would.</remarks>
    public void Apply(ReadOnlySpan<float> source, int width, int height, SplitMix64 rng, Span<float> output, float black)
    {
        var angle = (rng.NextDouble() * 2 - 1) * MaxRotationDegrees * Math.PI / 180;
        var scale = Scale.Min + rng.NextDouble() * (Scale.Max - Scale.Min);
        var dx = (rng.NextDouble() * 2 - 1) * MaxShift * width;
        var dy = (rng.NextDouble() * 2 - 1) * MaxShift * height;
        var brightness = rng.NextDouble() < BrightnessProbability ? (rng.NextDouble() * 2 - 1) * 0.06 : 0;
        var contrast = rng.NextDouble() < ContrastProbability ? 0.85 + rng.NextDouble() * 0.3 : 1;
        // Output pixel -> source pixel: inverse rotation and scaling about the centre, then the shift.
        double c = Math.Cos(angle) / scale, s = Math.Sin(angle) / scale;
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        // Normalised x = (v - 0.5) / 0.25-style: contrast about mid-grey is a factor, brightness an offset of b / std.
        var offset = (float)(brightness / 0.25);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var ox = x - cx - dx;
                var oy = y - cy - dy;
                var sx = cx + c * ox + s * oy;
                var sy = cy - s * ox + c * oy;
                var v = Bilinear(source, width, height, sx, sy, black);
                output[y * width + x] = (float)(v * contrast) + offset;
            }
        }
    }

    private static float Bilinear(ReadOnlySpan<float> p, int w, int h, double x, double y, float outside)
    {
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        var a = At(p, w, h, x0, y0, outside);
        var b = At(p, w, h, x0 + 1, y0, outside);
        var c = At(p, w, h, x0, y0 + 1, outside);
        var d = At(p, w, h, x0 + 1, y0 + 1, outside);
        return (float)((1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d));
    }

    private static float At(ReadOnlySpan<float> p, int w, int h, int x, int y, float outside) =>
        (uint)x < (uint)w && (uint)y < (uint)h ? p[y * w + x] : outside;

}

/// <summary>Settings of the chest X-ray classification task (besides the shared trainer's).</summary>
public sealed class ChestTaskOptions
{
    /// <summary>The network.</summary>
    public ResNetArchitecture Architecture { get; init; } = ResNetArchitecture.Production;

    /// <summary>The network input (size and normalisation), as the node will feed it.</summary>
    public ClassifierInput Input { get; init; } = new();

    /// <summary>Images per optimizer step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The augmentation.</summary>
    public RadiographAugmentation Augmentation { get; init; } = new();

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        Architecture.Validate();
        if (Architecture.Classes != 1) throw new ArgumentException("the chest task trains a one-logit head (sigmoid)");
        if (BatchSize < 2) throw new ArgumentException($"batch size must be at least 2 (batch norm), got {BatchSize}");
        if (Input.Width < 16 || Input.Height < 16) throw new ArgumentException($"input size {Input.Width}x{Input.Height} is too small");
    }

    /// <summary>The settings as a JSON object.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WritePropertyName("architecture");
        Architecture.WriteJson(w);
        w.WriteString("input", string.Create(CultureInfo.InvariantCulture, $"{Input.Width}x{Input.Height}, (v - {Input.Mean}) / {Input.Std} of the [0, 1] display values"));
        w.WriteNumber("batchSize", BatchSize);
        w.WriteString("loss", "binary cross-entropy on the logit, positive weight = normal / pneumonia images of the training part (class imbalance)");
        w.WritePropertyName("augmentation");
        Augmentation.WriteJson(w);
        w.WriteEndObject();
    }
}

/// <summary>Pneumonia classification as a <see cref="ITrainingTask"/>: augmented radiographs, weighted binary cross-entropy, validation AUROC.</summary>
public sealed class ChestClassificationTask : ITrainingTask, IDisposable
{
    private static readonly string[] Names = ["auroc", "accuracy", "sensitivity", "specificity", "loss"];
    private readonly ChestSamples _train;
    private readonly ChestSamples _validation;
    private readonly ChestTaskOptions _options;
    private readonly ulong _seed;
    private readonly TorchResNet _net;
    private readonly float _positiveWeight;
    private readonly float _black;

    /// <summary>A task over the loaded parts; the network is initialised from <paramref name="seed"/>.</summary>
    public ChestClassificationTask(ChestSamples train, ChestSamples validation, ChestTaskOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (train.Count < options.BatchSize) throw new ArgumentException($"{train.Count} training images are fewer than one batch of {options.BatchSize}");
        _train = train;
        _validation = validation;
        _options = options;
        _seed = seed;
        var positives = train.Labels.Count(l => l);
        _positiveWeight = positives == 0 ? 1f : (train.Count - positives) / (float)positives;
        _black = (float)((0 - options.Input.Mean) / options.Input.Std);
        manual_seed(unchecked((long)Seeds.Derive(seed, 0x494E4954UL)));
        _net = new TorchResNet(options.Architecture);
    }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Model => _net;

    /// <summary>The network, typed.</summary>
    public TorchResNet Network => _net;

    /// <inheritdoc />
    public IReadOnlyList<string> MetricNames => Names;

    /// <summary>The weight of a positive image in the loss.</summary>
    public float PositiveWeight => _positiveWeight;

    /// <inheritdoc />
    // The last incomplete batch is dropped: batch norm statistics of a handful of images are noise.
    public int StepsPerEpoch(int epoch) => _train.Count / _options.BatchSize;

    /// <summary>The identity of the task's data and settings, for checkpoints.</summary>
    public string Fingerprint()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WritePropertyName("chest");
            _options.WriteJson(w);
            w.WriteString("seed", _seed.ToString(CultureInfo.InvariantCulture));
            w.WriteString("train", Seeds.Hash(string.Join(',', _train.Files)).ToString("X16", CultureInfo.InvariantCulture));
            w.WriteString("validation", Seeds.Hash(string.Join(',', _validation.Files)).ToString("X16", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <inheritdoc />
    public Tensor Loss(int epoch, int step, Device device)
    {
        var order = Order(epoch);
        var b = _options.BatchSize;
        var (w, h) = (_train.Width, _train.Height);
        var n = w * h;
        var images = new float[b * n];
        var targets = new float[b];
        Parallel.For(0, b, i =>
        {
            var index = order[step * b + i];
            var rng = new SplitMix64(Seeds.Derive(_seed, 0x43485354UL, (ulong)epoch, (ulong)(step * b + i)));
            _options.Augmentation.Apply(_train.Pixels[index], w, h, rng, images.AsSpan(i * n, n), _black);
            targets[i] = _train.Labels[index] ? 1f : 0f;
        });
        var x = tensor(images, [b, 1, h, w]).to(device);
        var y = tensor(targets, [b, 1]).to(device);
        var logits = _net.forward(x);
        using var weight = tensor(new[] { _positiveWeight }).to(device);
        return nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weights: weight);
    }

    /// <summary>The positive probability of every image of <paramref name="samples"/> (eval mode, batches of 64).</summary>
    public double[] Predict(ChestSamples samples, Device device)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var n = samples.Width * samples.Height;
        var result = new double[samples.Count];
        for (var start = 0; start < samples.Count; start += 64)
        {
            using var scope = NewDisposeScope();
            var b = Math.Min(64, samples.Count - start);
            var batch = new float[b * n];
            for (var i = 0; i < b; i++) samples.Pixels[start + i].CopyTo(batch, i * n);
            var p = nn.functional.sigmoid(_net.forward(tensor(batch, [b, 1, samples.Height, samples.Width]).to(device))).cpu().data<float>().ToArray();
            for (var i = 0; i < b; i++) result[start + i] = p[i];
        }
        return result;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Validate(Device device)
    {
        if (_validation.Count == 0) return new Dictionary<string, double>();
        var p = Predict(_validation, device);
        var cases = p.Select((v, i) => new ScoredCase(_validation.Labels[i], v)).ToList();
        var confusion = BinaryMetrics.Confusion(cases, 0.5);
        var loss = cases.Average(c => -(c.Positive ? Math.Log(Math.Max(c.Score, 1e-7)) : Math.Log(Math.Max(1 - c.Score, 1e-7))));
        return new Dictionary<string, double>
        {
            ["auroc"] = BinaryMetrics.Auroc(cases),
            ["accuracy"] = confusion.Accuracy,
            ["sensitivity"] = confusion.Sensitivity,
            ["specificity"] = confusion.Specificity,
            ["loss"] = loss,
        };
    }

    /// <inheritdoc />
    public double Score(IReadOnlyDictionary<string, double> metrics) => metrics["auroc"];

    private int[] Order(int epoch) => Seeds.Permutation(_train.Count, Seeds.Derive(_seed, 0x4F524445UL, (ulong)epoch));

    /// <inheritdoc />
    public void Dispose() => _net.Dispose();
}
