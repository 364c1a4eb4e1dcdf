using HippoNode.Classification;
using HippoNode.Onnx;
using Xunit.Abstractions;

namespace HippoNode.Classification.Tests;

/// <summary>The classifier folder as the trainer writes it and the node reads it.</summary>
public sealed class ModelFolderTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-classifier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ResNetArchitecture Small = new() { StemChannels = 8, StageChannels = [8, 16], BlocksPerStage = [1, 1] };

    /// <summary>A state_dict as a trainer would hand it over: every entry with its shape, plus BatchNorm step counters.</summary>
    private static List<(string Name, IReadOnlyList<long> Shape, float[] Values)> StateDict(ResNetArchitecture a, ulong seed)
    {
        var w = ClassifierWeights.CreateRandom(a, seed);
        var list = w.Tensors.Select(t => (t.Name, (IReadOnlyList<long>)[.. t.Shape.Select(d => (long)d)], (float[])t.Data.Clone())).ToList();
        list.Add(("bn1.num_batches_tracked", [], [1234f]));
        return list;
    }

    [Fact]
    public void StateDict_WritesAFolderTheNodeLoads_WithTheHeadWeightsForTheCam()
    {
        var folder = Path.Combine(_dir, "m");
        var manifest = ClassifierFolderWriter.Write(folder, Small, StateDict(Small, 5), new ClassifierFolderInfo
        {
            Name = "test", Version = "1.0.0", Threshold = 0.37, ThresholdSource = "Youden on validation", Input = new ClassifierInput { Width = 64, Height = 48 },
            TrainingJson = """{"epochs": 3}""", MetricsJson = """{"auroc": 0.5}""",
        });
        Assert.Equal(["model.json", "model.onnx"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        using var model = ClassifierModel.Load(folder);
        Assert.Equal(manifest.Sha256, model.Manifest.Sha256);
        Assert.Equal((0.37, "Youden on validation", 64, 48), (model.Manifest.Threshold, model.Manifest.ThresholdSource, model.Manifest.Input.Width, model.Manifest.Input.Height));
        Assert.False(model.Manifest.Untrained);
        Assert.Equal(3, model.Manifest.Training!.Value.GetProperty("epochs").GetInt32());

        var rng = new Random(1);
        var image = new GrayscaleImage(200, 150, [.. Enumerable.Range(0, 200 * 150).Select(_ => (float)rng.NextDouble())]);
        var r = model.Classify(image);
        output.WriteLine($"p = {r.Probability:F6}, logit {r.Logits[0]:F6}, CAM {r.Cam.Width}x{r.Cam.Height} mean {r.Cam.Mean:F6}, deviation {r.CamDeviation:E2}");
        Assert.Equal(1 / (1 + Math.Exp(-r.Logits[0])), r.Probability, 5);
        Assert.Equal((Small.FeatureSize(48, 64).Width, Small.FeatureSize(48, 64).Height), (r.Cam.Width, r.Cam.Height));
        Assert.True(r.CamDeviation < 1e-4, $"the CAM's mean differs from the logit by {r.CamDeviation}");
        Assert.Equal(r.Probability >= 0.37, r.Positive);
    }

    [Fact]
    public void TwoClassSoftmax_ReportsClassOne_AndTheCamExplainsTheLogitDifference()
    {
        var a = new ResNetArchitecture { Classes = 2, StemChannels = 4, StageChannels = [4, 8], BlocksPerStage = [1, 1] };
        var folder = Path.Combine(_dir, "softmax");
        ClassifierFolderWriter.Write(folder, ClassifierWeights.CreateRandom(a, 9), new ClassifierFolderInfo { Input = new ClassifierInput { Width = 32, Height = 32 } });
        using var model = ClassifierModel.Load(folder);
        var r = model.Classify(new GrayscaleImage(32, 32, [.. Enumerable.Range(0, 1024).Select(i => (i % 7) / 7f)]));
        var expected = Math.Exp(r.Logits[1]) / (Math.Exp(r.Logits[0]) + Math.Exp(r.Logits[1]));
        Assert.Equal(expected, r.Probability, 5);
        Assert.True(r.CamDeviation < 1e-4);
    }

    [Fact]
    public void WrongStateDict_ListsEveryProblemAtOnce()
    {
        var entries = StateDict(Small, 1);
        entries.RemoveAll(e => e.Name == "fc.bias");
        entries[0] = (entries[0].Name, [1, 2, 3, 4], entries[0].Values);
        entries.Add(("layer9.0.conv1.weight", [1], [0f]));
        var ex = Assert.Throws<ArgumentException>(() => ClassifierFolderWriter.Write(Path.Combine(_dir, "bad"), Small, entries));
        Assert.Contains("missing 'fc.bias' [1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected 'layer9.0.conv1.weight'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'conv1.weight' must have shape [8, 1, 7, 7]", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")));
    }

    [Fact]
    public void Untrained_IsSaidInTheManifestAndTheName()
    {
        var m = ClassifierFolderWriter.WriteUntrained(Path.Combine(_dir, "u"), architecture: Small);
        Assert.True(m.Untrained);
        Assert.True(ClassifierManifest.Load(Path.Combine(_dir, "u")).Untrained);
        Assert.Contains("UNTRAINED", m.Name, StringComparison.Ordinal);
        Assert.Contains("UNTRAINED", m.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ReplacedOnnxFile_OrBadManifest_IsRefusedWithTheReason()
    {
        var folder = Path.Combine(_dir, "x");
        ClassifierFolderWriter.Write(folder, ClassifierWeights.CreateRandom(Small, 2));
        File.AppendAllText(Path.Combine(folder, "model.onnx"), " ");
        Assert.Contains("SHA-256 differs", Assert.Throws<InvalidDataException>(() => ClassifierModel.Load(folder)).Message, StringComparison.Ordinal);

        var json = File.ReadAllText(Path.Combine(folder, "model.json")).Replace("\"threshold\": 0.5", "\"threshold\": 1.5", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(folder, "model.json"), json);
        var ex = Assert.Throws<FormatException>(() => ClassifierManifest.Load(folder));
        Assert.Contains("'threshold' must lie strictly between 0 and 1", ex.Message, StringComparison.Ordinal);
        Assert.True(ClassifierManifest.IsClassifierFolder(folder));
        Assert.False(ClassifierManifest.IsClassifierFolder(Path.Combine(TestData.RepoRoot, "models", "hippocampus")));
    }

    [Fact]
    public void Safetensors_RoundTripsTheWeights()
    {
        var w = ClassifierWeights.CreateRandom(Small, 3);
        var path = Path.Combine(_dir, "w.safetensors");
        w.SaveSafetensors(path);
        var back = ClassifierWeights.LoadSafetensors(Small, path);
        Assert.All(w.Tensors, t => Assert.Equal(t.Data, back[t.Name].Data));
    }
}
