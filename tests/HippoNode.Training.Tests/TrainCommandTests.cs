using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;
using HippoNode.Training.Hippocampus;
using Xunit.Abstractions;

namespace HippoNode.Training.Tests;

public sealed class TrainCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hipponode-traincmd-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(new[] { "--split", "s.json", "--out", "o" }, "--data is required")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--epochs", "0" }, "epochs must be at least 1, got 0")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--folds", "1,1" }, "--folds repeats a fold")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--seed", "-3" }, "--seed '-3' is not a non-negative integer")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--bogus" }, "unknown argument '--bogus'")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out" }, "--out needs a value")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--patch", "30x48x32" }, "patch size 30x48x32 must be positive multiples of 8")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--device", "tpu" }, "device must be cpu or cuda, got 'tpu'")]
    public void Parse_BadArguments_SaySo(string[] args, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => UNetCommandLine.Parse(args));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Parse_FullCommand_FillsTheRunOptions()
    {
        var o = UNetCommandLine.Parse(["--data", "d", "--split", "s.json", "--out", "o", "--folds", "2, 0", "--epochs", "7", "--seed", "9", "--resume",
            "--log-dir", "L", "--threads", "2", "--patch", "16x24x16", "--batch", "3", "--channels", "8,16", "--lr", "0.001", "--max-cases", "4", "--no-augment"]);
        Assert.Equal([2, 0], o.Folds);
        Assert.Equal(7, o.Trainer.Epochs);
        Assert.Equal(9UL, o.Trainer.Seed);
        Assert.Equal(2, o.Trainer.Threads);
        Assert.Equal(0.001, o.Trainer.LearningRate);
        Assert.True(o.Resume);
        Assert.Equal("L", o.EffectiveLogDir);
        Assert.Equal((16, 24, 16), o.Task.PatchSize);
        Assert.Equal(3, o.Task.BatchSize);
        Assert.Equal([8, 16], o.Task.Architecture.Channels);
        Assert.Equal(0, o.Task.Augmentation.MirrorXProbability);
        Assert.Equal(4, o.MaxCases);
        Assert.Equal(Path.Combine("o", "training"), UNetCommandLine.Parse(["--data", "d", "--split", "s", "--out", "o"]).EffectiveLogDir);
    }

    private string TinyDataset(int count, Action<int, Volume3D, Volume3D>? spoil = null)
    {
        var data = Path.Combine(_dir, "data");
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = $"case_{i:D3}";
            ids.Add(id);
            var (image, label) = SyntheticData.Volumes(new VolumeShape(16, 18, 13), (ulong)i + 40);
            spoil?.Invoke(i, image, label);
            NiftiWriter.Write(image, Path.Combine(data, "imagesTr", id + ".nii.gz"));
            NiftiWriter.Write(label, Path.Combine(data, "labelsTr", id + ".nii.gz"), NiftiDataType.UInt8);
        }
        // The test case's files are missing on purpose: reading them would fail the run.
        new DatasetSplit
        {
            Dataset = "tiny", Seed = 1, TestFraction = 0.1, Test = ["case_missing"],
            Folds = [[.. ids.Take(count / 2)], [.. ids.Skip(count / 2)]],
        }.Save(Path.Combine(_dir, "split.json"));
        return data;
    }

    private (int Code, string Out, string Err) Train(params string[] extra)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var defaults = new Dictionary<string, string>
        {
            ["--data"] = Path.Combine(_dir, "data"), ["--split"] = Path.Combine(_dir, "split.json"), ["--out"] = Path.Combine(_dir, "model"), ["--threads"] = "1",
        };
        string[] args = [.. defaults.Where(d => !extra.Contains(d.Key)).SelectMany(d => (string[])[d.Key, d.Value]), .. extra];
        var rc = UNetCommandLine.Run(args, stdout, stderr);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return (rc, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The verb end to end on a tiny MSD-style folder: progress lines, curves, checkpoints, and a model folder that ONNX Runtime loads and runs.</summary>
    [Fact]
    public void Run_TinyDataset_WritesAModelFolderThatSegments()
    {
        TinyDataset(6);
        var (rc, stdout, stderr) = Train("--folds", "0,1", "--epochs", "2", "--channels", "4,8", "--patch", "8x8x8");
        Assert.True(rc == 0, stderr);
        Assert.Matches(@"fold 1 epoch 2/2  loss [0-9.]+  val dice_anterior [0-9.]+ dice_posterior [0-9.]+ dice_whole [0-9.]+  lr .* ETA ", stdout);
        var training = Path.Combine(_dir, "model", "training");
        Assert.True(File.Exists(Path.Combine(training, "fold0.csv")) && File.Exists(Path.Combine(training, "fold1.png")));
        Assert.True(Directory.Exists(Path.Combine(training, "checkpoints", "fold1", "epoch002")));

        var manifest = ModelManifest.Load(Path.Combine(_dir, "model"));
        Assert.Equal("hippocampus-unet3d", manifest.Name);
        Assert.Equal(["fold0.onnx", "fold1.onnx"], manifest.Members.Select(m => m.File));
        Assert.Equal(2, manifest.SizeMultiple);
        Assert.Contains("crossValidation", manifest.Metrics!.Value.GetRawText(), StringComparison.Ordinal);
        using var model = SegmentationModel.Load(Path.Combine(_dir, "model"));
        var (img, _) = SyntheticData.Volumes(new VolumeShape(17, 19, 12), 99);
        var result = model.Segment(img);
        Assert.Equal(img.VoxelCount, result.Labels.Length);

        // Resuming a finished run re-exports the same members without training.
        var before = File.ReadAllBytes(Path.Combine(_dir, "model", "fold1.onnx"));
        (rc, stdout, _) = Train("--folds", "0,1", "--epochs", "2", "--channels", "4,8", "--patch", "8x8x8", "--resume");
        Assert.Equal(0, rc);
        Assert.Contains("fold 1: already finished (2 epochs)", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 1/2", stdout, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(_dir, "model", "fold1.onnx")));
    }

    [Fact]
    public void Run_EmptyDataFolder_NamesTheMissingFile()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "data"));
        new DatasetSplit { Dataset = "x", Seed = 1, TestFraction = 0, Test = [], Folds = [["a"], ["b"]] }.Save(Path.Combine(_dir, "split.json"));
        var (rc, _, stderr) = Train("--epochs", "1");
        Assert.Equal(1, rc);
        Assert.StartsWith("hipponode train: ", stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("imagesTr", "a.nii.gz"), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_LabelValueOutsideTheClasses_NamesTheCase()
    {
        TinyDataset(4, (i, _, label) =>
        {
            if (i == 2) label[3, 3, 3] = 7;
        });
        var (rc, _, stderr) = Train("--epochs", "1", "--channels", "4,8", "--patch", "8x8x8");
        Assert.Equal(1, rc);
        Assert.Contains("case_002: label value 7", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ImageAndLabelOfOtherShapes_NamesTheCase()
    {
        TinyDataset(4);
        var (image, _) = SyntheticData.Volumes(new VolumeShape(10, 10, 10), 1);
        NiftiWriter.Write(image, Path.Combine(_dir, "data", "imagesTr", "case_001.nii.gz"));
        var (rc, _, stderr) = Train("--epochs", "1", "--channels", "4,8", "--patch", "8x8x8");
        Assert.Equal(1, rc);
        Assert.Contains("case_001: image 10x10x10 and label 16x18x13 do not lie on the same grid", stderr, StringComparison.Ordinal);
    }

    /// <summary>The README's smoke training on the real data: 2 epochs, 4 cases per fold, the production network.</summary>
    [SharedDataFact]
    public void Run_ReadmeSmokeTraining_OnTheSharedData_Finishes()
    {
        var (rc, stdout, stderr) = Train("--data", TestData.Shared("hippocampus"), "--split", Path.Combine(TestData.RepoRoot, "models", "hippocampus", "split.json"),
            "--folds", "0", "--epochs", "2", "--max-cases", "4");
        Assert.True(rc == 0, stderr);
        Assert.Contains("fold 0 epoch 2/2", stdout, StringComparison.Ordinal);
        using var model = SegmentationModel.Load(Path.Combine(_dir, "model"));
        Assert.Single(model.Manifest.Members);
    }
}
