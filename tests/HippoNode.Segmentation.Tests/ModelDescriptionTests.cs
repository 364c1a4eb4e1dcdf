using System.Text.Json;
using HippoNode.Imaging;
using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Tests;

public sealed class ModelDescriptionTests
{
    [Fact]
    public void ProductionParametersAreNamedLikeAPyTorchStateDict()
    {
        var a = UNetArchitecture.Production;
        Assert.Equal(3, a.Depth);
        Assert.Equal(8, a.SizeMultiple);
        var p = a.Parameters().ToDictionary(x => x.Name, x => x.Shape.ToArray());
        Assert.Equal([16, 1, 3, 3, 3], p["encoders.0.convs.0.conv.weight"]);
        Assert.Equal([16], p["encoders.0.convs.0.conv.bias"]);
        Assert.Equal([16], p["encoders.0.convs.0.norm.weight"]);
        Assert.Equal([16], p["encoders.0.convs.0.norm.bias"]);
        Assert.Equal([128, 64, 3, 3, 3], p["encoders.3.convs.0.conv.weight"]);
        Assert.Equal([128, 64, 2, 2, 2], p["upsamplers.2.weight"]);
        Assert.Equal([64], p["upsamplers.2.bias"]);
        Assert.Equal([64, 128, 3, 3, 3], p["decoders.2.convs.0.conv.weight"]);
        Assert.Equal([16, 32, 3, 3, 3], p["decoders.0.convs.0.conv.weight"]);
        Assert.Equal([3, 16, 1, 1, 1], p["head.weight"]);
        Assert.Equal([3], p["head.bias"]);
        // 4 encoder blocks + 3 decoder blocks, 2 units each, 4 tensors per unit; 3 upsamplers x 2; head x 2.
        Assert.Equal(7 * 2 * 4 + 3 * 2 + 2, p.Count);
        Assert.Equal(1_402_003, a.ParameterCount());
        Assert.DoesNotContain(p.Keys, k => k.Contains("running", StringComparison.Ordinal));
    }

    [Fact]
    public void BatchNormAddsRunningStatisticsAndNearestDropsUpsamplers()
    {
        var a = new UNetArchitecture { Channels = [4, 8], Normalization = NormalizationLayer.BatchNorm, Upsampling = UpsamplingLayer.Nearest };
        var names = a.Parameters().Select(x => x.Name).ToList();
        Assert.Contains("encoders.1.convs.1.norm.running_var", names);
        Assert.DoesNotContain(names, n => n.StartsWith("upsamplers", StringComparison.Ordinal));
        // Nearest keeps the deeper level's 8 channels: the decoder reads 4 (skip) + 8.
        Assert.Equal([4, 12, 3, 3, 3], a.Parameters().Single(x => x.Name == "decoders.0.convs.0.conv.weight").Shape);
    }

    [Fact]
    public void ArchitectureJsonRoundTrips()
    {
        var a = new UNetArchitecture
        {
            Channels = [8, 16, 32], ConvolutionsPerBlock = 3, Normalization = NormalizationLayer.BatchNorm, NormEpsilon = 1e-3,
            Activation = ActivationLayer.Relu, Downsampling = DownsamplingLayer.StridedConv, Upsampling = UpsamplingLayer.Nearest,
        };
        using var doc = JsonDocument.Parse(a.ToJson());
        var b = UNetArchitecture.FromJson(doc.RootElement);
        Assert.Equal(a.ToJson(), b.ToJson());
        Assert.Contains("\"normalization\":\"batch_norm\"", a.ToJson());
        using var bad = JsonDocument.Parse("""{"normalization":"group_norm"}""");
        Assert.Throws<FormatException>(() => UNetArchitecture.FromJson(bad.RootElement));
    }

    [Fact]
    public void StateDictMustMatchExactly()
    {
        var a = new UNetArchitecture { Channels = [2] };
        var good = a.Parameters().Select(p => (p.Name, (IReadOnlyList<long>)[.. p.Shape.Select(x => (long)x)], new float[p.ElementCount])).ToList();
        var extra = good.Append(("encoders.0.convs.0.norm.num_batches_tracked", (IReadOnlyList<long>)[], new float[1])).ToList();
        Assert.NotNull(UNetWeights.FromStateDict(a, extra));

        var missing = good.Skip(1).ToList();
        var ex = Assert.Throws<ArgumentException>(() => UNetWeights.FromStateDict(a, missing));
        Assert.Contains("missing 'encoders.0.convs.0.conv.weight' [2, 1, 3, 3, 3]", ex.Message);

        var wrongShape = good.Select(e => e.Name == "head.bias" ? (e.Name, (IReadOnlyList<long>)[4L], new float[4]) : e).ToList();
        Assert.Contains("'head.bias' must have shape [3]", Assert.Throws<ArgumentException>(() => UNetWeights.FromStateDict(a, wrongShape)).Message);

        var unknown = good.Append(("decoder.typo", (IReadOnlyList<long>)[1L], new float[1])).ToList();
        Assert.Contains("unexpected 'decoder.typo'", Assert.Throws<ArgumentException>(() => UNetWeights.FromStateDict(a, unknown)).Message);
    }

    [Fact]
    public void SafetensorsRoundTrip()
    {
        using var tmp = new TempDir();
        var a = new UNetArchitecture { Channels = [2, 4], Normalization = NormalizationLayer.BatchNorm };
        var w = UNetWeights.CreateRandom(a, 5);
        var path = tmp["w.safetensors"];
        w.SaveSafetensors(path, new Dictionary<string, string> { ["fold"] = "0" });
        var back = UNetWeights.LoadSafetensors(a, path);
        foreach (var t in w.Tensors) Assert.Equal(t.Data, back[t.Name].Data);
        // The header is JSON after an 8-byte little-endian length, padded to 8 bytes.
        var bytes = File.ReadAllBytes(path);
        var n = (int)BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0, n % 8);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, n));
        Assert.Equal("F32", doc.RootElement.GetProperty("head.weight").GetProperty("dtype").GetString());
        Assert.Equal("0", doc.RootElement.GetProperty("__metadata__").GetProperty("fold").GetString());
    }

    [Fact]
    public void RandomWeightsAreSeeded()
    {
        var a = new UNetArchitecture { Channels = [2, 4] };
        Assert.Equal(UNetWeights.CreateRandom(a, 1)["head.weight"].Data, UNetWeights.CreateRandom(a, 1)["head.weight"].Data);
        Assert.NotEqual(UNetWeights.CreateRandom(a, 1)["head.weight"].Data, UNetWeights.CreateRandom(a, 2)["head.weight"].Data);
        Assert.All(new UNetWeights(a)["encoders.0.convs.0.norm.weight"].Data, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void ZScoreOverAllVoxels()
    {
        var z = Preprocessing.ZScore([1, 2, 3, 4]);
        var std = Math.Sqrt(1.25); // population: mean 2.5, deviations ±0.5, ±1.5
        Assert.Equal((float)(-1.5 / std), z[0], 6);
        Assert.Equal((float)(1.5 / std), z[3], 6);
        Assert.Equal(0.0, z.Average(x => (double)x), 6);
    }

    [Fact]
    public void ZScoreOverNonzeroVoxelsAndEdgeCases()
    {
        // Stats of {2, 4}: mean 3, std 1; zeros map to -3.
        Assert.Equal([-3f, -1f, 1f], Preprocessing.ZScore([0, 2, 4], IntensityRegion.Nonzero));
        Assert.Equal([0f, 0f, 0f], Preprocessing.ZScore([5, 5, 5]));
        Assert.Equal([0f, 0f], Preprocessing.ZScore([0, 0], IntensityRegion.Nonzero));
        var withNaN = Preprocessing.ZScore([float.NaN, 2]);
        Assert.Equal([-1f, 1f], withNaN);
    }

    [Fact]
    public void PaddingPlanForTheHippocampusCrops()
    {
        var plan = Preprocessing.PlanPadding(new VolumeShape(35, 50, 35), 8);
        Assert.Equal(new VolumeShape(40, 56, 40), plan.Padded);
        Assert.Equal((2, 3, 2), plan.Before);
        Assert.True(Preprocessing.PlanPadding(new VolumeShape(16, 8, 24), 8).IsIdentity);
    }

    [Fact]
    public void PadAndCropAreInverse()
    {
        var shape = new VolumeShape(3, 2, 5);
        var data = Enumerable.Range(1, 2 * 30).Select(i => (float)i).ToArray();
        var plan = Preprocessing.PlanPadding(shape, 4);
        var padded = Preprocessing.Pad(data, 2, plan, -1f);
        Assert.Equal(2 * 4 * 4 * 8, padded.Length);
        Assert.Equal(2 * (128 - 30), padded.Count(v => v == -1f));
        // Voxel (0,0,0) of channel 0 lands at (0, 1, 1): x pad 1 = 0 before, y pad 2 = 1 before, z pad 3 = 1 before.
        Assert.Equal(1f, padded[0 + 4 * (1 + 4 * 1)]);
        Assert.Equal(data, Preprocessing.Crop(padded, 2, plan));
    }
}
