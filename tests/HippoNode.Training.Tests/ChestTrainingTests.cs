using HippoNode.Classification;
using HippoNode.Onnx;
using HippoNode.Training.Chest;
using HippoNode.Training.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HippoNode.Training.Tests;

/// <summary>The chest X-ray trainer: the TorchSharp ResNet is the architecture the exporter describes, the split keeps patients apart, and the verb writes a folder the node loads.</summary>
public sealed class ChestTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-chest-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ResNetArchitecture Small = new() { StemChannels = 4, StageChannels = [4, 8], BlocksPerStage = [1, 1] };

    [Fact]
    public void StateDict_HasExactlyTheArchitecturesTensors()
    {
        foreach (var arch in new[] { ResNetArchitecture.Production, ResNetArchitecture.ResNet18, Small })
        {
            using var net = new TorchResNet(arch);
            var expected = arch.Parameters().ToDictionary(p => p.Name, p => p.Shape.Select(s => (long)s).ToArray());
            var actual = net.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value.shape);
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            Assert.All(expected, kv => Assert.Equal(kv.Value, actual[kv.Key]));
        }
    }

    [Fact]
    public void ExportedClassifier_MatchesTorchSharp_AfterTrainingSteps()
    {
        TorchSetup.Initialize("cpu", 2);
        manual_seed(5);
        using var net = new TorchResNet(ResNetArchitecture.Production);
        using var optimizer = optim.AdamW(net.parameters(), 1e-2);
        net.train();
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn([4, 1, 64, 64]);
            var y = tensor(new float[] { 1, 0, 1, 0 }, [4, 1]);
            nn.functional.binary_cross_entropy_with_logits(net.forward(x), y).backward();
            optimizer.step();
        }
        net.eval();
        var input = new float[2 * 64 * 72];
        var rng = new Random(3);
        for (var i = 0; i < input.Length; i++) input[i] = (float)(rng.NextDouble() * 4 - 2);
        float[] torchP, torchLogits;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var logits = net.forward(tensor(input, [2, 1, 64, 72]));
            torchLogits = logits.data<float>().ToArray();
            torchP = nn.functional.sigmoid(logits).data<float>().ToArray();
        }
        using var session = new InferenceSession(ResNetOnnxExporter.Export(net.ToWeights()));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("image", new DenseTensor<float>(input, [2, 1, 64, 72]))]);
        var ort = results.Single(r => r.Name == "probability").AsEnumerable<float>().ToArray();
        Assert.Equal(2, ort.Length);
        var diff = ort.Zip(torchP).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"max |ORT - TorchSharp| = {diff:E2} (probabilities {string.Join(", ", torchP)})");
        Assert.True(diff <= 1e-4, $"{diff:E2}");
        // The probabilities of a briefly trained net can saturate; the logits show the arithmetic itself.
        var ortLogits = results.Single(r => r.Name == "logits").AsEnumerable<float>().ToArray();
        var logitDiff = ortLogits.Zip(torchLogits).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        output.WriteLine($"max relative |ORT - TorchSharp| of the logits = {logitDiff:E2} (logits {string.Join(", ", torchLogits)})");
        Assert.True(logitDiff <= 1e-4, $"logits {logitDiff:E2}");
    }

    [Theory]
    [InlineData("person12_bacteria_48.jpeg", true, "person12")]
    [InlineData("person12_virus_3.jpeg", true, "person12")]
    [InlineData("IM-0115-0001.jpeg", false, "normal-0115")]
    [InlineData("NORMAL2-IM-0115-0002.jpeg", false, "normal-0115")]
    [InlineData("IM-0429-0001-0001.jpeg", false, "normal-0429")]
    [InlineData("NORMAL2-IM-1294-0001-0002.jpeg", false, "normal-1294")]
    [InlineData("person1_virus_7_2.jpeg", true, "person1")]
    public void PatientOf_ReadsThePatientFromTheFileName(string name, bool positive, string patient) =>
        Assert.Equal(patient, ChestSplit.PatientOf(name, positive));

    [Fact]
    public void PatientOf_AnUnknownName_IsAClearError() =>
        Assert.Contains("does not name a patient", Assert.Throws<InvalidDataException>(() => ChestSplit.PatientOf("scan.jpeg", true)).Message, StringComparison.Ordinal);

    private static IReadOnlyList<ChestImage> Images()
    {
        var list = new List<ChestImage>();
        for (var p = 0; p < 40; p++)
        {
            for (var k = 0; k < 1 + p % 3; k++)
            {
                list.Add(new ChestImage($"PNEUMONIA/person{p}_bacteria_{k}.jpeg", true, $"person{p}"));
                list.Add(new ChestImage($"NORMAL/IM-{p:D4}-{k:D4}.jpeg", false, $"normal-{p:D4}"));
            }
        }
        return list;
    }

    [Fact]
    public void Split_KeepsEveryPatientInOnePart_AndIsTheSameForTheSameSeed()
    {
        var images = Images();
        var split = ChestSplit.Create(images, seed: 7);
        var part = new Dictionary<string, string>();
        foreach (var (name, files) in new[] { ("test", split.Test), ("validation", split.Validation), ("train", split.Train) })
        {
            foreach (var f in files)
            {
                var patient = images.Single(i => i.File == f).Patient;
                Assert.True(!part.TryGetValue(patient, out var other) || other == name, $"{patient} is in {other} and {name}");
                part[patient] = name;
            }
        }
        Assert.Equal(images.Count, split.Test.Count + split.Validation.Count + split.Train.Count);
        // Split per class: both classes in every part, at about the requested share of patients (15 % of 40 = 6).
        foreach (var files in new[] { split.Test, split.Validation })
        {
            Assert.Equal(6, files.Where(f => f.StartsWith("PNEUMONIA/", StringComparison.Ordinal)).Select(f => images.Single(i => i.File == f).Patient).Distinct().Count());
            Assert.Equal(6, files.Where(f => f.StartsWith("NORMAL/", StringComparison.Ordinal)).Select(f => images.Single(i => i.File == f).Patient).Distinct().Count());
        }
        Assert.Equal(split.Test, ChestSplit.Create(images, seed: 7).Test);
        Assert.NotEqual(split.Test, ChestSplit.Create(images, seed: 8).Test);
        var path = Path.Combine(Path.GetTempPath(), $"chest-split-{Guid.NewGuid():N}.json");
        split.Save(path);
        var back = ChestSplit.Load(path);
        File.Delete(path);
        Assert.Equal(split.Train, back.Train);
    }

    /// <summary>Radiograph-like PNGs: a bright blob on the right lung field for pneumonia, none for normal.</summary>
    private string SyntheticFolder(int perClass)
    {
        var data = Path.Combine(_dir, "data");
        for (var i = 0; i < perClass; i++)
        {
            foreach (var positive in new[] { false, true })
            {
                var folder = Path.Combine(data, positive ? "PNEUMONIA" : "NORMAL");
                Directory.CreateDirectory(folder);
                using var bitmap = new SKBitmap(96, 96);
                var rng = new Random(i * 2 + (positive ? 1 : 0));
                for (var y = 0; y < 96; y++)
                {
                    for (var x = 0; x < 96; x++)
                    {
                        var v = 60 + rng.Next(40) + (positive && Math.Pow(x - 30, 2) + Math.Pow(y - 50, 2) < 200 ? 120 : 0);
                        bitmap.SetPixel(x, y, new SKColor((byte)v, (byte)v, (byte)v));
                    }
                }
                var name = positive ? $"person{i}_bacteria_{i}.png" : $"IM-{i:D4}-0001.png";
                using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(folder, name), png.ToArray());
            }
        }
        return data;
    }

    [Fact]
    public void Run_SyntheticRadiographs_WritesAFolderTheNodeLoads_AndResumeRepeatsIt()
    {
        var data = SyntheticFolder(24);
        var outDir = Path.Combine(_dir, "model");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = ["--data", data, "--out", outDir, "--epochs", "3", "--size", "32", "--batch", "8", "--threads", "1", "--lr", "0.005"];
        var rc = ChestCommandLine.Run(args, stdout, stderr);
        output.WriteLine(stdout.ToString());
        Assert.True(rc == 0, stderr.ToString());
        Assert.Matches(@"chest epoch 3/3  loss [0-9.]+  val auroc [0-9.]+ accuracy", stdout.ToString());
        Assert.Contains("threshold", stdout.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(outDir, "split.json")));
        var testCsv = File.ReadAllLines(Path.Combine(outDir, "test.csv"));
        Assert.All(testCsv, l => Assert.Matches(@"^(NORMAL/IM-\d{4}-0001\.png,NORMAL|PNEUMONIA/person\d+_bacteria_\d+\.png,PNEUMONIA)$", l));
        Assert.True(File.Exists(Path.Combine(outDir, "training", "chest.csv")));
        Assert.True(File.Exists(Path.Combine(outDir, "training", "validation-reliability.png")));

        using var model = ClassifierModel.Load(outDir);
        Assert.False(model.Manifest.Untrained);
        Assert.Contains("Youden", model.Manifest.ThresholdSource, StringComparison.Ordinal);
        var split = ChestSplit.Load(Path.Combine(outDir, "split.json"));
        Assert.Equal(split.Test.Count, testCsv.Length);
        Assert.Equal(split.Validation.Select(f => f + "," + f[..f.IndexOf('/', StringComparison.Ordinal)]), File.ReadAllLines(Path.Combine(outDir, "validation.csv")));
        var test = split.Test.Select(f => (Positive: f.StartsWith("PNEUMONIA/", StringComparison.Ordinal), P: model.Classify(GrayscaleImage.Load(Path.Combine(data, f))).Probability)).ToList();
        Assert.NotEmpty(test);
        output.WriteLine(string.Join(", ", test.Select(t => $"{(t.Positive ? "P" : "N")} {t.P:F3}")));

        var before = File.ReadAllBytes(Path.Combine(outDir, "model.onnx"));
        rc = ChestCommandLine.Run([.. args, "--resume"], stdout, stderr);
        Assert.Equal(0, rc);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "model.onnx")));
    }

    [Fact]
    public void Run_MissingClassFolder_SaysWhich()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "empty", "NORMAL"));
        var stderr = new StringWriter();
        Assert.Equal(1, ChestCommandLine.Run(["--data", Path.Combine(_dir, "empty"), "--out", Path.Combine(_dir, "o")], TextWriter.Null, stderr));
        Assert.Contains("PNEUMONIA does not exist", stderr.ToString(), StringComparison.Ordinal);
    }
}
