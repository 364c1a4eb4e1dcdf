using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Classification;
using HippoNode.Onnx;
using HippoNode.Training.Torch;
using SkiaSharp;
using TorchSharp;

namespace HippoNode.Training.Chest;

/// <summary>What a chest X-ray run trains and where it writes.</summary>
public sealed class ChestRunOptions
{
    /// <summary>The folder with NORMAL/ and PNEUMONIA/.</summary>
    public required string DataDir { get; init; }

    /// <summary>The model folder written (model.onnx, model.json, split.json, curves).</summary>
    public required string OutDir { get; init; }

    /// <summary>An existing split to use; null draws one with <see cref="SplitSeed"/> (and writes it to the output).</summary>
    public string? SplitPath { get; init; }

    /// <summary>The seed of a newly drawn split.</summary>
    public long SplitSeed { get; init; } = 20261206;

    /// <summary>Use at most this many images of each part (smoke runs); null for all.</summary>
    public int? MaxImages { get; init; }

    /// <summary>The shared trainer's settings.</summary>
    public TrainerOptions Trainer { get; init; } = new() { Epochs = 15, LearningRate = 1e-3, WeightDecay = 1e-4 };

    /// <summary>The task's settings.</summary>
    public ChestTaskOptions Task { get; init; } = new();

    /// <summary>Continue from the checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>Curves and checkpoints; default OutDir/training.</summary>
    public string? LogDir { get; init; }

    /// <summary>For --device cuda: a PyTorch lib folder to load libtorch from.</summary>
    public string? LibTorchDir { get; init; }

    /// <summary>The model's version in model.json.</summary>
    public string Version { get; init; } = "1.0.0";

    /// <summary>The command line recorded in model.json.</summary>
    public string? Command { get; init; }

    /// <summary>The log folder in effect.</summary>
    public string EffectiveLogDir => LogDir ?? Path.Combine(OutDir, "training");
}

/// <summary>Trains the pneumonia classifier with the shared <see cref="Trainer"/>, picks the operating threshold and checks calibration on the validation patients, and writes the model folder.</summary>
public static class ChestTrainingRun
{
    /// <summary>Runs the whole training; returns the manifest written.</summary>
    public static ClassifierManifest Execute(ChestRunOptions options, TextWriter progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        options.Trainer.Validate();
        options.Task.Validate();
        var clock = Stopwatch.StartNew();
        var images = ChestSplit.List(options.DataDir);
        var split = options.SplitPath is null ? ChestSplit.Create(images, options.SplitSeed) : ChestSplit.Load(options.SplitPath);
        var known = images.Select(i => i.File).ToHashSet(StringComparer.Ordinal);
        if (split.Train.Concat(split.Validation).FirstOrDefault(f => !known.Contains(f)) is { } missing)
            throw new FileNotFoundException($"{missing} of the split is not in {options.DataDir}");
        IReadOnlyList<string> Take(IReadOnlyList<string> l) => options.MaxImages is { } m ? [.. l.Where((_, i) => i % Math.Max(1, l.Count / m) == 0).Take(m)] : l;
        var device = TorchSetup.Initialize(options.Trainer.Device, options.Trainer.Threads, options.LibTorchDir);
        var train = new ChestSamples(options.DataDir, Take(split.Train), options.Task.Input);
        var validation = new ChestSamples(options.DataDir, Take(split.Validation), options.Task.Input);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded in {clock.Elapsed.TotalSeconds:F1} s: training {train}, validation {validation}; the {split.Test.Count} test images are never read. {options.Task.Architecture}, {options.Task.Input.Width}x{options.Task.Input.Height}, batch {options.Task.BatchSize}, {options.Trainer.Epochs} epochs"));

        using var task = new ChestClassificationTask(train, validation, options.Task, options.Trainer.Seed);
        var logDir = options.EffectiveLogDir;
        var checkpointDir = Path.Combine(logDir, "checkpoints");
        var result = new Trainer(options.Trainer, device).Train(task, new TrainerRunSettings
        {
            CheckpointDir = checkpointDir,
            LogDir = logDir,
            LogStem = "chest",
            Label = "chest",
            LossName = "weighted BCE",
            TaskFingerprint = task.Fingerprint(),
            Resume = options.Resume,
            Progress = progress,
        }, cancellationToken);

        // The exported weights are the best validation epoch's (AUROC); threshold and calibration come from them.
        Trainer.LoadBest(task.Network, checkpointDir);
        task.Model.to(device);
        task.Network.eval();
        double[] scores;
        using (TorchSharp.torch.no_grad()) scores = task.Predict(validation, device);
        var cases = scores.Select((s, i) => new ScoredCase(validation.Labels[i], s)).ToList();
        // A probability of exactly 0 or 1 (float rounding of a confident network) is no usable operating point.
        var threshold = Math.Clamp(BinaryMetrics.YoudenThreshold(cases), 1e-4, 1 - 1e-4);
        var confusion = BinaryMetrics.Confusion(cases, threshold);
        var auroc = BinaryMetrics.Auroc(cases);
        var ece = BinaryMetrics.ExpectedCalibrationError(cases);
        var brier = BinaryMetrics.Brier(cases);
        Directory.CreateDirectory(logDir);
        File.WriteAllBytes(Path.Combine(logDir, "validation-reliability.png"), ReliabilityPlot(BinaryMetrics.Reliability(cases), ece));
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validation (epoch {result.BestEpoch}, {cases.Count} images): AUROC {auroc:F4}; threshold {threshold:F4} (Youden): accuracy {confusion.Accuracy:F4}, sensitivity {confusion.Sensitivity:F4}, specificity {confusion.Specificity:F4}; ECE {ece:F4}, Brier {brier:F4}"));

        var manifest = ClassifierFolderWriter.Write(options.OutDir, task.Network.ToWeights(), new ClassifierFolderInfo
        {
            Version = options.Version,
            Input = options.Task.Input,
            Threshold = threshold,
            ThresholdSource = "Youden's J on the patient-level validation split (threshold maximising sensitivity + specificity)",
            TrainingJson = TrainingJson(options, split, task, result),
            MetricsJson = MetricsJson(cases.Count, result.BestEpoch, auroc, threshold, confusion, ece, brier),
        });
        split.Save(Path.Combine(options.OutDir, "split.json"));
        split.SaveTestLabels(Path.Combine(options.OutDir, "test.csv"));
        split.SaveValidationLabels(Path.Combine(options.OutDir, "validation.csv"));
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {options.OutDir}: model.onnx, model.json, split.json, test.csv and validation.csv (for hipponode evaluate --labels); {clock.Elapsed.TotalSeconds:F0} s in this process"));
        return manifest;
    }

    private static string TrainingJson(ChestRunOptions o, ChestSplit split, ChestClassificationTask task, TrainerResult result)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("method", "ResNet-like 2D CNN trained from scratch (no pretrained weights), weighted BCE, augmentation without flips; best validation-AUROC epoch exported");
            w.WriteString("framework", "TorchSharp 0.107.0 (libtorch 2.10) via HippoNode.Training's shared trainer; exported by HippoNode.Onnx");
            w.WriteString("dataset", "chest-xray-pneumonia training part (Kermany et al. 2018), split by patient");
            w.WriteNumber("splitSeed", split.Seed);
            w.WriteNumber("trainImages", split.Train.Count);
            w.WriteNumber("validationImages", split.Validation.Count);
            w.WriteNumber("testImagesExcluded", split.Test.Count);
            w.WriteNumber("positiveWeight", Math.Round(task.PositiveWeight, 4));
            w.WriteNumber("epochs", result.History.Count);
            w.WriteNumber("bestEpoch", result.BestEpoch);
            w.WriteNumber("trainingSeconds", Math.Round(result.TrainingSeconds, 1));
            w.WritePropertyName("trainer");
            using (var doc = JsonDocument.Parse(o.Trainer.ToJson())) doc.RootElement.WriteTo(w);
            w.WritePropertyName("task");
            o.Task.WriteJson(w);
            if (o.MaxImages is { } m) w.WriteNumber("maxImagesPerPart", m);
            if (o.Command is not null) w.WriteString("command", o.Command);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string MetricsJson(int images, int epoch, double auroc, double threshold, ConfusionMatrix c, double ece, double brier)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("validation");
            w.WriteString("description", "the patient-level validation split (chose the epoch and the threshold: optimistic; the test split is the independent figure)");
            w.WriteNumber("images", images);
            w.WriteNumber("epoch", epoch);
            w.WriteNumber("auroc", Math.Round(auroc, 4));
            w.WriteNumber("threshold", Math.Round(threshold, 4));
            w.WriteNumber("accuracy", Math.Round(c.Accuracy, 4));
            w.WriteNumber("sensitivity", Math.Round(c.Sensitivity, 4));
            w.WriteNumber("specificity", Math.Round(c.Specificity, 4));
            w.WriteNumber("ppv", Math.Round(c.PositivePredictiveValue, 4));
            w.WriteNumber("npv", Math.Round(c.NegativePredictiveValue, 4));
            w.WriteNumber("expectedCalibrationError", Math.Round(ece, 4));
            w.WriteNumber("brier", Math.Round(brier, 4));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>A reliability diagram: observed pneumonia rate against mean predicted probability per bin, with the diagonal.</summary>
    public static byte[] ReliabilityPlot(IReadOnlyList<ReliabilityBin> bins, double ece)
    {
        ArgumentNullException.ThrowIfNull(bins);
        const int size = 420, m = 50;
        using var surface = SKSurface.Create(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(TrainerLog.Typeface.Value, 13);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Gray, IsStroke = true, StrokeWidth = 1, IsAntialias = true };
        using var line = new SKPaint { Color = new SKColor(0xD6, 0x27, 0x28), IsStroke = true, StrokeWidth = 2, IsAntialias = true };
        using var dot = new SKPaint { Color = new SKColor(0xD6, 0x27, 0x28), IsAntialias = true };
        var plot = new SKRect(m, m, size - 20, size - m);
        canvas.DrawRect(plot, axis);
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Top, axis);
        float X(double v) => (float)(plot.Left + v * plot.Width);
        float Y(double v) => (float)(plot.Bottom - v * plot.Height);
        canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"validation reliability (ECE {ece:F3})"), size / 2f, 25, SKTextAlign.Center, font, text);
        canvas.DrawText("mean predicted probability", plot.MidX, size - 15, SKTextAlign.Center, font, text);
        canvas.DrawText("0", plot.Left, plot.Bottom + 15, SKTextAlign.Center, font, text);
        canvas.DrawText("1", plot.Right, plot.Bottom + 15, SKTextAlign.Center, font, text);
        canvas.DrawText("1", plot.Left - 8, plot.Top + 5, SKTextAlign.Right, font, text);
        canvas.DrawText("observed", plot.Left - 8, plot.MidY, SKTextAlign.Right, font, text);
        SKPoint? previous = null;
        foreach (var b in bins.Where(b => b.Count > 0))
        {
            var p = new SKPoint(X(b.MeanPredicted), Y(b.ObservedPositive));
            if (previous is { } q) canvas.DrawLine(q, p, line);
            canvas.DrawCircle(p, 2 + (float)Math.Min(6, Math.Sqrt(b.Count) / 3), dot);
            previous = p;
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
