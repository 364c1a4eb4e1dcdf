using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Onnx;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;
using HippoNode.Training;
using Xunit.Abstractions;

namespace HippoNode.Training.Tests;

/// <summary>The exported graph is right when ONNX Runtime, running it, agrees with the C# features and forward used in training.</summary>
public sealed class OnnxParityTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hipponode-parity-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A random MLP over the hippocampus bank with the standardisation of <paramref name="normalized"/>'s own features, so logits spread.</summary>
    private static VoxelMlp RandomMlp(float[] normalized, VolumeShape shape, ulong seed)
    {
        var bank = VoxelFeatureBank.Hippocampus;
        var mlp = new VoxelMlp([bank.Count, 24, 16, 3]);
        mlp.Initialize(seed);
        var f = FeatureExtractor.Compute(bank, normalized, shape);
        var v = (int)shape.VoxelCount;
        var rows = new float[v * bank.Count];
        for (var c = 0; c < bank.Count; c++)
        {
            for (var i = 0; i < v; i++) rows[i * bank.Count + c] = f[c * v + i];
        }
        VoxelClassifierTrainer.Standardization(rows, bank.Count, mlp.FeatureMean, mlp.FeatureScale);
        return mlp;
    }

    private double Compare(Volume3D image, ulong seed, string what)
    {
        var normalized = Preprocessing.ZScore(image.Data);
        var mlp = RandomMlp(normalized, image.Shape, seed);
        var onnx = VoxelClassifierOnnxExporter.Export(mlp.ToWeights(VoxelFeatureBank.Hippocampus));
        var ort = Ort.Run(onnx, normalized, image.Shape);
        var v = image.VoxelCount;
        var csharp = mlp.Predict(FeatureExtractor.Compute(VoxelFeatureBank.Hippocampus, normalized, image.Shape), v);
        Assert.Equal(csharp.Length, ort.Length);
        var max = 0.0;
        for (var i = 0; i < ort.Length; i++) max = Math.Max(max, Math.Abs(ort[i] - csharp[i]));
        var spread = ort.Max() - ort.Min();
        output.WriteLine($"{what} {image.Shape}: max |ORT - C#| = {max:E2}, probability spread {spread:F3}, {onnx.Length} bytes");
        Assert.True(spread > 0.2, "flat probabilities would prove little");
        for (var i = 0; i < v; i += 101) Assert.Equal(1.0, ort[i] + ort[v + i] + ort[2 * v + i], 5);
        return max;
    }

    [Theory]
    [InlineData(35, 50, 35)]
    [InlineData(17, 9, 26)]
    [InlineData(5, 6, 4)]
    public void OnnxRuntime_MatchesCSharpForward_OnSyntheticVolumes(int x, int y, int z)
    {
        var image = SyntheticData.Volumes(new VolumeShape(x, y, z), (ulong)(x + y + z)).Image;
        Assert.True(Compare(image, 21, "synthetic") <= Tolerance);
    }

    [SharedDataFact]
    public void OnnxRuntime_MatchesCSharpForward_OnARealCase()
    {
        var image = NiftiReader.Read(TestData.Shared("hippocampus", "imagesTr", "hippocampus_001.nii.gz")).Volume;
        Assert.True(Compare(image, 22, "hippocampus_001") <= Tolerance);
    }

    [Fact]
    public void FolderWriter_WritesAFolderThatSegmentationModelRuns_WithTheCSharpEnsembleProbabilities()
    {
        var image = SyntheticData.Volumes(new VolumeShape(21, 25, 18), 30).Image;
        var normalized = Preprocessing.ZScore(image.Data);
        var members = new[] { RandomMlp(normalized, image.Shape, 1), RandomMlp(normalized, image.Shape, 2) };
        var manifest = VoxelClassifierFolderWriter.Write(_dir,
            [.. members.Select((m, k) => new VoxelClassifierMember(m.ToWeights(VoxelFeatureBank.Hippocampus), k))],
            new ModelFolderInfo { Name = "voxel-test", Version = "0.0.1", Description = "test", TrainingJson = """{"note":"random"}""" });
        Assert.Equal(["fold0.onnx", "fold1.onnx"], manifest.Members.Select(m => m.File));
        Assert.Equal(1, manifest.SizeMultiple);
        Assert.Null(manifest.Architecture);

        using var model = SegmentationModel.Load(_dir);
        Assert.Equal("voxel-test", model.Manifest.Name);
        var result = model.Segment(image);
        var v = image.VoxelCount;
        var features = FeatureExtractor.Compute(VoxelFeatureBank.Hippocampus, normalized, image.Shape);
        var p0 = members[0].Predict(features, v);
        var p1 = members[1].Predict(features, v);
        var max = 0.0;
        for (var i = 0; i < p0.Length; i++) max = Math.Max(max, Math.Abs(result.Probabilities[i] - (p0[i] + (double)p1[i]) / 2));
        output.WriteLine($"ensemble of 2 through SegmentationModel: max |ORT - C#| = {max:E2}");
        Assert.True(max <= Tolerance);
    }
}
