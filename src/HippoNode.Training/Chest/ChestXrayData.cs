using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HippoNode.Classification;
using HippoNode.Datasets;

namespace HippoNode.Training.Chest;

/// <summary>One radiograph of the training folder: its path relative to the folder (<c>NORMAL/x.jpeg</c>), label and patient.</summary>
public sealed record ChestImage(string File, bool Positive, string Patient);

/// <summary>The patient-level split of a chest X-ray folder (<c>NORMAL/</c>, <c>PNEUMONIA/</c>): test, validation and training images; no patient in two parts.</summary>
public sealed partial class ChestSplit
{
    /// <summary>The seed the split was drawn with.</summary>
    public required long Seed { get; init; }

    /// <summary>How patients were assigned.</summary>
    public string Method { get; init; } =
        "patients (from the file names) of each class sorted ordinally, shuffled by SplitMix64(seed); the first round(n * testFraction) " +
        "go to test, the next round(n * validationFraction) to validation, the rest to training; every image of a patient goes with it";

    /// <summary>Test images, never trained on nor used to choose anything.</summary>
    public required IReadOnlyList<string> Test { get; init; }

    /// <summary>Validation images: epoch metrics, the best epoch, the threshold, calibration.</summary>
    public required IReadOnlyList<string> Validation { get; init; }

    /// <summary>Training images.</summary>
    public required IReadOnlyList<string> Train { get; init; }

    [GeneratedRegex(@"^(person\d+)_(bacteria|virus)_\d+(?:_\d+)?\.(?:jpe?g|png)$", RegexOptions.IgnoreCase)]
    private static partial Regex PneumoniaName();

    [GeneratedRegex(@"^(?:NORMAL2-)?IM-(\d+)-\d+(?:-\d+)?\.(?:jpe?g|png)$", RegexOptions.IgnoreCase)]
    private static partial Regex NormalName();

    /// <summary>The patient a file name belongs to: <c>personNNN</c> for pneumonia images, <c>normal-NNNN</c> for normal ones (IM- and NORMAL2-IM- of one number are taken as one patient, the cautious reading).</summary>
    /// <exception cref="InvalidDataException">The name follows neither pattern.</exception>
    public static string PatientOf(string fileName, bool positive)
    {
        var name = Path.GetFileName(fileName);
        var m = positive ? PneumoniaName().Match(name) : NormalName().Match(name);
        if (!m.Success) throw new InvalidDataException($"{fileName}: the file name does not name a patient ({(positive ? "personNNN_bacteria|virus_MMM.jpeg" : "IM-NNNN-MMMM.jpeg or NORMAL2-IM-NNNN-MMMM.jpeg")})");
        return positive ? m.Groups[1].Value.ToLowerInvariant() : "normal-" + m.Groups[1].Value;
    }

    /// <summary>Every image of <paramref name="dir"/>'s NORMAL/ and PNEUMONIA/ folders (PNG and JPEG), with patients.</summary>
    /// <exception cref="DirectoryNotFoundException">A class folder is missing.</exception>
    public static IReadOnlyList<ChestImage> List(string dir)
    {
        var images = new List<ChestImage>();
        foreach (var (cls, positive) in new[] { ("NORMAL", false), ("PNEUMONIA", true) })
        {
            var folder = Path.Combine(dir, cls);
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder} does not exist (expected {dir}/NORMAL and {dir}/PNEUMONIA)");
            foreach (var f in Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
                images.Add(new ChestImage(cls + "/" + Path.GetFileName(f), positive, PatientOf(f, positive)));
        }
        if (images.Count == 0) throw new InvalidDataException($"{dir} holds no PNG or JPEG images under NORMAL/ and PNEUMONIA/");
        return images;
    }

    /// <summary>Draws the split of <paramref name="images"/> by patient, per class (so both parts keep the class balance).</summary>
    public static ChestSplit Create(IReadOnlyList<ChestImage> images, long seed, double testFraction = 0.15, double validationFraction = 0.15)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (!(testFraction >= 0 && validationFraction >= 0 && testFraction + validationFraction < 1)) throw new ArgumentException("fractions must be non-negative and leave images for training");
        var test = new List<string>();
        var validation = new List<string>();
        var train = new List<string>();
        var rng = new SplitMix64(unchecked((ulong)seed));
        foreach (var positive in new[] { false, true })
        {
            var byPatient = images.Where(i => i.Positive == positive).GroupBy(i => i.Patient).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            for (var i = byPatient.Count - 1; i > 0; i--)
            {
                var j = (int)(rng.Next() % (ulong)(i + 1));
                (byPatient[i], byPatient[j]) = (byPatient[j], byPatient[i]);
            }
            var nTest = (int)Math.Round(byPatient.Count * testFraction);
            var nValidation = (int)Math.Round(byPatient.Count * validationFraction);
            for (var i = 0; i < byPatient.Count; i++)
            {
                var target = i < nTest ? test : i < nTest + nValidation ? validation : train;
                target.AddRange(byPatient[i].Select(x => x.File));
            }
        }
        return new ChestSplit { Seed = seed, Test = [.. test.Order(StringComparer.Ordinal)], Validation = [.. validation.Order(StringComparer.Ordinal)], Train = [.. train.Order(StringComparer.Ordinal)] };
    }

    /// <summary>Writes the split as JSON.</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("dataset", "chest-xray-pneumonia (Kermany et al. 2018, training part, 224x224 JPEG)");
        w.WriteNumber("seed", Seed);
        w.WriteString("method", Method);
        foreach (var (name, list) in new[] { ("test", Test), ("validation", Validation), ("train", Train) })
        {
            w.WriteStartArray(name);
            foreach (var f in list) w.WriteStringValue(f);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>Writes the test images as "path,label" lines (paths relative to the data folder): <c>hipponode evaluate --labels</c>'s input.</summary>
    public void SaveTestLabels(string path) => SaveLabels(Test, path);

    /// <summary>Writes the validation images (which chose the epoch, the threshold and the review margin) the same way.</summary>
    public void SaveValidationLabels(string path) => SaveLabels(Validation, path);

    private static void SaveLabels(IEnumerable<string> files, string path)
    {
        var lines = files.Select(f => f + "," + f[..f.IndexOf('/', StringComparison.Ordinal)]);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    /// <summary>Reads a split written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not such a split.</exception>
    public static ChestSplit Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            static IReadOnlyList<string> L(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetString()!)];
            return new ChestSplit { Seed = r.GetProperty("seed").GetInt64(), Test = L(r.GetProperty("test")), Validation = L(r.GetProperty("validation")), Train = L(r.GetProperty("train")) };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a chest X-ray split ({ex.Message})", ex);
        }
    }
}

/// <summary>Radiographs decoded once and resampled to the network's size, as the node does (<see cref="ImagePreprocessing.ToNetworkInput"/>).</summary>
public sealed class ChestSamples
{
    /// <summary>Loads <paramref name="files"/> (relative to <paramref name="dir"/>) in parallel.</summary>
    public ChestSamples(string dir, IReadOnlyList<string> files, ClassifierInput input)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(input);
        Files = files;
        Width = input.Width;
        Height = input.Height;
        Pixels = new float[files.Count][];
        Labels = new bool[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            var path = Path.Combine(dir, files[i]);
            Pixels[i] = ImagePreprocessing.ToNetworkInput(GrayscaleImage.Load(path), input);
            Labels[i] = files[i].StartsWith("PNEUMONIA/", StringComparison.Ordinal);
        });
    }

    /// <summary>The files, relative to the data folder.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Network input width.</summary>
    public int Width { get; }

    /// <summary>Network input height.</summary>
    public int Height { get; }

    /// <summary>Each image as the network's normalised input, row-major.</summary>
    public float[][] Pixels { get; }

    /// <summary>True for pneumonia.</summary>
    public bool[] Labels { get; }

    /// <summary>The number of images.</summary>
    public int Count => Files.Count;

    /// <summary>The share of positive images.</summary>
    public double PositiveFraction => Labels.Count(l => l) / (double)Math.Max(1, Count);

    /// <summary>A one-line description.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Count} images ({Labels.Count(l => l)} pneumonia, {Labels.Count(l => !l)} normal)");
}
