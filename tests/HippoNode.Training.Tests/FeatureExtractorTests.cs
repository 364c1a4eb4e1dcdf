using HippoNode.Imaging;
using HippoNode.Onnx;
using HippoNode.Training;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace HippoNode.Training.Tests;

public sealed class FeatureExtractorTests(ITestOutputHelper output)
{
    [Fact]
    public void GaussianKernel_SumsAndMoments_AreThoseOfTheDerivatives()
    {
        foreach (var sigma in (double[])[1, 2, 4])
        {
            var g = VoxelFeature.GaussianKernel(sigma, 0);
            var d1 = VoxelFeature.GaussianKernel(sigma, 1);
            var d2 = VoxelFeature.GaussianKernel(sigma, 2);
            var r = g.Length / 2;
            Assert.Equal(2 * (int)Math.Ceiling(3 * sigma) + 1, g.Length);
            Assert.Equal(1.0, g.Sum(v => (double)v), 5);
            // Correlation with a ramp o gives the slope 1, with o² / 2 the curvature 1, with a constant 0.
            Assert.Equal(1.0, Enumerable.Range(-r, g.Length).Sum(o => o * (double)d1[o + r]), 5);
            Assert.Equal(1.0, Enumerable.Range(-r, g.Length).Sum(o => o * o / 2.0 * d2[o + r]), 5);
            Assert.Equal(0.0, Enumerable.Range(-r, g.Length).Sum(o => (double)d1[o + r]), 6);
            Assert.Equal(0.0, Enumerable.Range(-r, g.Length).Sum(o => (double)d2[o + r]), 5);
        }
    }

    [Fact]
    public void Compute_ShiftCoordinatesAndDerivative_MatchTheirDefinitions()
    {
        var shape = new VolumeShape(9, 7, 7);
        var v = (int)shape.VoxelCount;
        var ramp = new float[v];
        for (var i = 0; i < v; i++) ramp[i] = i % shape.X; // = x
        var bank = new VoxelFeatureBank(
        [
            VoxelFeature.Image(),
            VoxelFeature.Shifted(0, 2, 0, 0),
            VoxelFeature.Shifted(0, -1, 0, 0),
            VoxelFeature.Coordinate(0, CoordinateMode.Normalized),
            VoxelFeature.Coordinate(1, CoordinateMode.FromStart, 0.5f),
            VoxelFeature.Coordinate(2, CoordinateMode.FromEnd, 0.25f),
            VoxelFeature.Gaussian(1, 1, 0, 0),
            VoxelFeature.Gaussian(1, 0, 1, 0),
        ]);
        var f = FeatureExtractor.Compute(bank, ramp, shape);
        float At(int c, int x, int y, int z) => f[c * v + x + shape.X * (y + shape.Y * z)];
        Assert.Equal(5f, At(1, 3, 3, 2)); // x + 2
        Assert.Equal(0f, At(1, 7, 3, 2)); // outside
        Assert.Equal(2f, At(2, 3, 3, 2)); // x - 1
        Assert.Equal(0f, At(2, 0, 3, 2));
        Assert.Equal(0.5f / 9, At(3, 0, 0, 0));
        Assert.Equal(8.5f / 9, At(3, 8, 6, 6));
        Assert.Equal(3.5f * 0.5f, At(4, 1, 3, 0));
        Assert.Equal((7 - 1.5f) * 0.25f, At(5, 0, 0, 1));
        // d/dx of x is 1 away from the borders (zero padding bends it near them); d/dy of x is 0 away from y borders.
        Assert.Equal(1f, At(6, 4, 3, 3), 5);
        Assert.Equal(0f, At(7, 4, 3, 3), 5);
    }

    [Fact]
    public void Compute_MatchesTheExportedGraph_ForEveryFeatureOfTheHippocampusBank()
    {
        var bank = VoxelFeatureBank.Hippocampus;
        var shape = new VolumeShape(23, 31, 19);
        var image = SyntheticData.Volumes(shape, 3).Image;
        var normalized = HippoNode.Segmentation.Model.Preprocessing.ZScore(image.Data);
        var mlp = new VoxelMlp([bank.Count, 4, 3]);
        mlp.Initialize(1);
        var onnx = VoxelClassifierOnnxExporter.Export(mlp.ToWeights(bank), new VoxelClassifierExportOptions { ExposeFeatures = true });
        var graph = Ort.Run(onnx, normalized, shape, "features");
        var csharp = FeatureExtractor.Compute(bank, normalized, shape);
        Assert.Equal(csharp.Length, graph.Length);
        var v = (int)shape.VoxelCount;
        var worst = 0.0;
        for (var c = 0; c < bank.Count; c++)
        {
            var d = 0.0;
            for (var i = 0; i < v; i++) d = Math.Max(d, Math.Abs(csharp[c * v + i] - graph[c * v + i]));
            worst = Math.Max(worst, d);
            Assert.True(d <= 1e-5, $"feature {c} {bank.Features[c].Name}: max |C# - ONNX| = {d:E2}");
        }
        output.WriteLine($"{bank.Count} features on {shape}: max |C# - ONNX Runtime| = {worst:E2}");
    }

    [Fact]
    public void Bank_RejectsAShiftOfALaterFeature()
    {
        Assert.Throws<ArgumentException>(() => new VoxelFeatureBank([VoxelFeature.Shifted(1, 1, 0, 0), VoxelFeature.Image()]));
        Assert.Throws<ArgumentOutOfRangeException>(() => VoxelFeature.Gaussian(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => VoxelFeature.Coordinate(3, CoordinateMode.Normalized));
    }
}

/// <summary>Runs an in-memory ONNX model on one [1, 1, z, y, x] input and returns the named output.</summary>
internal static class Ort
{
    public static float[] Run(byte[] onnx, float[] input, VolumeShape shape, string outputName = "probabilities")
    {
        using var session = new InferenceSession(onnx);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 1, shape.Z, shape.Y, shape.X]);
        using var ro = new RunOptions();
        using var outputs = session.Run(ro, ["image"], [value], [outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
