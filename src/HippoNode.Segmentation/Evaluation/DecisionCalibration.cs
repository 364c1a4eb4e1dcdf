using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Metrics;
using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>The out-of-fold Dice at one background weight.</summary>
/// <param name="BackgroundWeight">The weight of channel 0 (the structures' weights are 1).</param>
/// <param name="Dice">Mean Dice per structure over every out-of-fold case, in the manifest's structure order.</param>
/// <param name="Score">The mean of the label structures' Dice (the criterion; "whole" excluded as it is their union).</param>
public sealed record CalibrationPoint(double BackgroundWeight, IReadOnlyList<double> Dice, double Score);

/// <summary>
/// Chooses a segmentation model's decision weights on data no member trained on: each member segments the cases of the
/// fold it was validated on (out of fold), the argmax is taken with background weights from a grid, and the weight with
/// the best mean label Dice over all those cases is written into model.json. The test cases are never read. A model
/// trained with Dice loss and foreground oversampling over-segments; this undoes it without touching the networks.
/// </summary>
public sealed class DecisionCalibration
{
    /// <summary>The verb's usage text.</summary>
    public const string Usage =
        "usage: hipponode calibrate --images DIR --labels DIR --split split.json --model DIR [--write] [--json OUT] [--threads N] [--tta none|mirror-x]\n" +
        "  each member segments its own validation fold (out of fold; the split's test cases are never read); prints the mean\n" +
        "  Dice per structure for each background weight of the grid and the best; --write stores it in DIR/model.json";

    /// <summary>The background weights tried.</summary>
    public static IReadOnlyList<double> Grid { get; } = [1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 16];

    private DecisionCalibration(IReadOnlyList<string> structures, IReadOnlyList<CalibrationPoint> points, int cases)
    {
        Structures = structures;
        Points = points;
        Cases = cases;
    }

    /// <summary>The structures, in the order of each point's Dice.</summary>
    public IReadOnlyList<string> Structures { get; }

    /// <summary>One point per weight of <see cref="Grid"/>.</summary>
    public IReadOnlyList<CalibrationPoint> Points { get; }

    /// <summary>How many out-of-fold cases were segmented.</summary>
    public int Cases { get; }

    /// <summary>The point with the best score (the lowest weight on a tie).</summary>
    public CalibrationPoint Best => Points.OrderByDescending(p => p.Score).ThenBy(p => p.BackgroundWeight).First();

    /// <summary>The point of plain argmax (weight 1).</summary>
    public CalibrationPoint Plain => Points.First(p => p.BackgroundWeight == 1);

    /// <summary>Runs every member on its own fold's cases; <paramref name="model"/>'s members must name their folds.</summary>
    /// <exception cref="InvalidDataException">A member without a fold, a fold outside the split, or a case that cannot be read.</exception>
    public static DecisionCalibration Run(SegmentationModel model, DatasetSplit split, string imagesDir, string labelsDir, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(split);
        var manifest = model.Manifest;
        var classes = manifest.Labels.Count;
        var labelValues = new bool[256];
        foreach (var l in manifest.Labels) labelValues[l.Value] = true;
        // Structures made of several labels (whole) are reported but do not decide.
        var decisive = manifest.Structures.Select((s, i) => (s, i)).Where(x => x.s.Labels.Count == 1).Select(x => x.i).ToList();
        if (decisive.Count == 0) decisive = [.. Enumerable.Range(0, manifest.Structures.Count)];
        var sums = new double[Grid.Count, manifest.Structures.Count];
        var cases = 0;
        var test = new HashSet<string>(split.Test, StringComparer.Ordinal);
        for (var m = 0; m < manifest.Members.Count; m++)
        {
            var fold = manifest.Members[m].Fold ?? throw new InvalidDataException($"member {manifest.Members[m].File} names no fold: out-of-fold calibration needs it");
            if (fold < 0 || fold >= split.Folds.Count) throw new InvalidDataException($"member {manifest.Members[m].File}: fold {fold} is not in the split (0..{split.Folds.Count - 1})");
            foreach (var id in split.Folds[fold])
            {
                if (test.Contains(id)) throw new InvalidDataException($"case {id} is both in fold {fold} and in the test list");
                var imagePath = Path.Combine(imagesDir, id + ".nii.gz");
                var labelPath = Path.Combine(labelsDir, id + ".nii.gz");
                var image = NiftiReader.Read(imagePath).Volume;
                var label = NiftiReader.Read(labelPath).Volume;
                if (!image.SameGrid(label)) throw new InvalidDataException($"{id}: image and label do not lie on the same grid");
                var truth = Evaluator.ToLabels(label, labelValues);
                var p = model.RunMember(m, model.Normalize(image), image.Shape);
                for (var g = 0; g < Grid.Count; g++)
                {
                    var weights = new double[classes];
                    Array.Fill(weights, 1.0);
                    weights[0] = Grid[g];
                    var predicted = model.Argmax(p, classes, image.VoxelCount, weights);
                    for (var s = 0; s < manifest.Structures.Count; s++)
                        sums[g, s] += OverlapMetrics.Dice(predicted, truth, manifest.Structures[s].Labels);
                }
                cases++;
            }
            progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"member {manifest.Members[m].File}: fold {fold}, {split.Folds[fold].Count} cases"));
        }
        if (cases == 0) throw new InvalidDataException("no out-of-fold case was segmented");
        var points = new List<CalibrationPoint>();
        for (var g = 0; g < Grid.Count; g++)
        {
            var dice = Enumerable.Range(0, manifest.Structures.Count).Select(s => sums[g, s] / cases).ToList();
            points.Add(new CalibrationPoint(Grid[g], dice, decisive.Average(i => dice[i])));
        }
        return new DecisionCalibration([.. manifest.Structures.Select(s => s.Name)], points, cases);
    }

    /// <summary>The table the verb prints.</summary>
    public void WriteText(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Cases} out-of-fold cases; mean Dice per background weight ({string.Join(" / ", Structures)}; score = mean of the single-label structures):"));
        foreach (var p in Points)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {p.BackgroundWeight,5:0.##}: {string.Join(" / ", p.Dice.Select(d => d.ToString("0.0000", CultureInfo.InvariantCulture)))}  score {p.Score:0.0000}{(p == Best ? "  <- best" : "")}"));
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best background weight {Best.BackgroundWeight:0.##}: score {Best.Score:0.0000} (plain argmax {Plain.Score:0.0000})"));
    }

    /// <summary>The record stored in model.json's "calibration".</summary>
    public JsonElement ToJsonElement(string splitPath, bool tta)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("method", "each member segments the cases of the fold it was validated on (out of fold); the background weight of the grid with the best mean Dice of the single-label structures is chosen; the test cases are never read");
            w.WriteString("split", Path.GetFileName(splitPath));
            w.WriteNumber("cases", Cases);
            w.WriteString("testTimeAugmentation", tta ? "mirror-x" : "none");
            w.WriteNumber("chosenBackgroundWeight", Best.BackgroundWeight);
            w.WriteStartArray("structures");
            foreach (var s in Structures) w.WriteStringValue(s);
            w.WriteEndArray();
            w.WriteStartArray("grid");
            foreach (var p in Points)
            {
                w.WriteStartObject();
                w.WriteNumber("backgroundWeight", p.BackgroundWeight);
                w.WriteStartArray("dice");
                foreach (var d in p.Dice) w.WriteNumberValue(Math.Round(d, 4));
                w.WriteEndArray();
                w.WriteNumber("score", Math.Round(p.Score, 4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(ms.ToArray());
        return doc.RootElement.Clone();
    }

    /// <summary>Runs the verb: 0 on success, 1 when the model, split or a case cannot be read; bad arguments throw <see cref="ArgumentException"/>.</summary>
    public static int RunCommand(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(args);
        var write = args.Contains("--write");
        var values = VerbOptions.Parse([.. args.Where(a => a != "--write")], ["--images", "--labels", "--split", "--model", "--json", "--threads", "--tta"], ["--images", "--labels", "--split", "--model"]);
        var tta = values.GetValueOrDefault("--tta", "none") switch
        {
            "none" => false,
            "mirror-x" => true,
            var other => throw new ArgumentException($"--tta '{other}' is not none or mirror-x"),
        };
        var folder = values["--model"];
        var options = new InferenceOptions
        {
            IntraOpThreads = values.TryGetValue("--threads", out var t) ? VerbOptions.Int(t, "--threads") : 0,
            MirrorX = tta,
            // The networks as they are: a weight already in model.json must not bias the calibration.
            DecisionWeights = null,
        };
        try
        {
            var split = DatasetSplit.Load(values["--split"]);
            DecisionCalibration calibration;
            using (var model = SegmentationModel.Load(folder, options))
            {
                output.WriteLine($"model {model.Manifest} from {folder}{(tta ? ", TTA mirror-x" : "")}");
                calibration = Run(model, split, values["--images"], values["--labels"], output);
            }
            calibration.WriteText(output);
            var record = calibration.ToJsonElement(values["--split"], tta);
            if (values.TryGetValue("--json", out var json))
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(json));
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
                File.WriteAllText(json, record.GetRawText() + "\n", new UTF8Encoding(false));
            }
            if (write)
            {
                var manifest = ModelManifest.Load(folder);
                var weights = new double[manifest.Labels.Count];
                Array.Fill(weights, 1.0);
                weights[0] = calibration.Best.BackgroundWeight;
                var updated = manifest.With(weights, record);
                updated.Save(folder);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote decisionWeights [{string.Join(", ", weights)}] to {Path.Combine(folder, ModelManifest.FileName)}"));
            }
            return 0;
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or NiftiFormatException or UnauthorizedAccessException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            error.WriteLine($"hipponode calibrate: {ex.Message}");
            return 1;
        }
    }
}
