using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;
using HippoNode.Training;

namespace HippoNode.Training.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hipponode-traincmd-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(new[] { "--split", "s.json", "--out", "o" }, "--data is required")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--epochs", "0" }, "--epochs must be at least 1")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--folds", "1,1" }, "--folds repeats a fold")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--seed", "-3" }, "--seed '-3' is not a non-negative integer")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out", "o", "--bogus" }, "unknown argument '--bogus'")]
    [InlineData(new[] { "--data", "d", "--split", "s.json", "--out" }, "--out needs a value")]
    public void Parse_BadArguments_SaySo(string[] args, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => TrainingCommandLine.Parse(args));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Parse_FullCommand_FillsTheRunOptions()
    {
        var c = TrainingCommandLine.Parse(["--data", "d", "--split", "s.json", "--out", "o", "--folds", "2, 0", "--epochs", "7", "--seed", "9", "--resume", "--log-dir", "L"]);
        Assert.Equal([2, 0], c.Run.Folds);
        Assert.Equal(7, c.Run.Training.Epochs);
        Assert.Equal(9UL, c.Run.Training.Seed);
        Assert.True(c.Run.Resume);
        Assert.Equal("L", c.Run.EffectiveLogDir);
        Assert.Equal(Path.Combine("o", "training"), TrainingCommandLine.Parse(["--data", "d", "--split", "s", "--out", "o"]).Run.EffectiveLogDir);
    }

    /// <summary>The verb end to end on a tiny MSD-style folder: the model folder it writes loads and segments, and test cases are never read.</summary>
    [Fact]
    public void Execute_TinyDataset_WritesAModelFolderThatSegments()
    {
        var data = Path.Combine(_dir, "data");
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var id = $"case_{i:D3}";
            ids.Add(id);
            var (image, label) = SyntheticData.Volumes(new VolumeShape(16, 18, 13), (ulong)i + 40);
            NiftiWriter.Write(image, Path.Combine(data, "imagesTr", id + ".nii.gz"));
            NiftiWriter.Write(label, Path.Combine(data, "labelsTr", id + ".nii.gz"), NiftiDataType.UInt8);
        }
        // The test case's files are missing on purpose: reading them would fail the run.
        var split = new DatasetSplit
        {
            Dataset = "tiny",
            Seed = 1,
            TestFraction = 0.1,
            Test = ["case_missing"],
            Folds = [[ids[0], ids[1]], [ids[2], ids[3]], [ids[4], ids[5], ids[6]]],
        };
        var splitPath = Path.Combine(_dir, "split.json");
        split.Save(splitPath);
        var outDir = Path.Combine(_dir, "model");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = TrainingCommandLine.Parse(["--data", data, "--split", splitPath, "--out", outDir, "--folds", "0,2", "--epochs", "10"]).Execute(stdout, stderr);
        Assert.True(rc == 0, stderr.ToString());
        Assert.Contains("fold 2 epoch 10/10", stdout.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(outDir, "training", "fold0.csv")));
        Assert.True(File.Exists(Path.Combine(outDir, "training", "checkpoints", "fold2", "epoch010.ckpt")));

        var manifest = ModelManifest.Load(outDir);
        Assert.Equal("hippocampus-voxel-mlp", manifest.Name);
        Assert.Equal(["fold0.onnx", "fold2.onnx"], manifest.Members.Select(m => m.File));
        Assert.Equal(1, manifest.SizeMultiple);
        Assert.Contains("crossValidation", manifest.Metrics!.Value.GetRawText(), StringComparison.Ordinal);
        using var model = SegmentationModel.Load(outDir);
        var (img, lab) = SyntheticData.Volumes(new VolumeShape(17, 19, 12), 99);
        var result = model.Segment(img);
        var truth = lab.Data.Select(v => (byte)v).ToArray();
        var dice = HippoNode.Segmentation.Metrics.OverlapMetrics.Dice(result.Labels, truth, [1, 2]);
        Assert.True(dice > 0.6, $"whole dice {dice:F3} on a synthetic case");

        // Resuming a finished run only re-exports: same weights, same member files.
        var before = File.ReadAllBytes(Path.Combine(outDir, "fold2.onnx"));
        rc = TrainingCommandLine.Parse(["--data", data, "--split", splitPath, "--out", outDir, "--folds", "0,2", "--epochs", "10", "--resume"]).Execute(stdout, stderr);
        Assert.Equal(0, rc);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "fold2.onnx")));
    }

    [Fact]
    public void Execute_MissingData_ExitsOneWithAMessage()
    {
        var splitPath = Path.Combine(_dir, "split.json");
        new DatasetSplit { Dataset = "x", Seed = 1, TestFraction = 0, Test = [], Folds = [["a"], ["b"]] }.Save(splitPath);
        var stderr = new StringWriter();
        var rc = TrainingCommandLine.Parse(["--data", Path.Combine(_dir, "nowhere"), "--split", splitPath, "--out", Path.Combine(_dir, "o")]).Execute(TextWriter.Null, stderr);
        Assert.Equal(1, rc);
        Assert.StartsWith("hipponode train: ", stderr.ToString(), StringComparison.Ordinal);
    }
}
