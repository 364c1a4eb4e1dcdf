using HippoNode.Onnx;
using HippoNode.Training;

namespace HippoNode.Training.Tests;

public sealed class VoxelMlpTests
{
    /// <summary>Backprop against central differences of the loss, on a tiny network in float.</summary>
    [Fact]
    public void ForwardBackward_Gradient_MatchesFiniteDifferences()
    {
        var mlp = new VoxelMlp([5, 7, 6, 3]);
        mlp.Initialize(11);
        var rows = 9;
        var x = SyntheticData.Random(rows * 5, 12);
        byte[] labels = [0, 1, 2, 2, 1, 0, 0, 1, 2];
        float[] weights = [1, 2, 0.5f, 1, 1, 3, 1, 1, 0.25f];
        var ws = new VoxelMlp.Workspace(mlp, rows);

        double Loss()
        {
            x.CopyTo(ws.Input, 0);
            mlp.RefreshTransposed();
            Array.Clear(ws.Gradient);
            return mlp.ForwardBackward(ws, rows, labels, weights, 1f);
        }

        Loss();
        var analytic = (float[])ws.Gradient.Clone();
        const float h = 1e-3f;
        var checkedCount = 0;
        for (var p = 0; p < mlp.Parameters.Length; p++)
        {
            var saved = mlp.Parameters[p];
            mlp.Parameters[p] = saved + h;
            var plus = Loss();
            mlp.Parameters[p] = saved - h;
            var minus = Loss();
            mlp.Parameters[p] = saved;
            var numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[p]) <= 2e-3 + 2e-2 * Math.Abs(numeric),
                $"parameter {p}: backprop {analytic[p]:E4}, finite difference {numeric:E4}");
            checkedCount++;
        }
        Assert.Equal(5 * 7 + 7 + 7 * 6 + 6 + 6 * 3 + 3, checkedCount);
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-2);
    }

    [Fact]
    public void ToWeights_FromWeights_RoundTripsAndPredictsTheSame()
    {
        var bank = SyntheticData.FastOptions().Bank;
        var mlp = new VoxelMlp([bank.Count, 5, 3]);
        mlp.Initialize(3);
        mlp.FeatureMean[1] = 0.5f;
        mlp.FeatureScale[2] = 2f;
        var weights = mlp.ToWeights(bank);
        Assert.Equal(bank.Count * 5 + 5 + 5 * 3 + 3, weights.ParameterCount);
        Assert.True(weights.Layers[0].Relu);
        Assert.False(weights.Layers[1].Relu);
        var back = VoxelMlp.FromWeights(weights);
        Assert.Equal(mlp.Parameters, back.Parameters);
        Assert.Equal(mlp.FeatureMean, back.FeatureMean);
        var features = SyntheticData.Random(bank.Count * 50, 4);
        Assert.Equal(mlp.Predict(features, 50), back.Predict(features, 50));
    }

    [Fact]
    public void Predict_GivesProbabilitiesSummingToOne()
    {
        var mlp = new VoxelMlp([4, 6, 3]);
        mlp.Initialize(8);
        var p = mlp.Predict(SyntheticData.Random(4 * 2000, 9), 2000);
        for (var v = 0; v < 2000; v += 37) Assert.Equal(1.0, p[v] + p[2000 + v] + p[4000 + v], 5);
    }

    [Fact]
    public void Weights_RejectSizesThatDoNotChain()
    {
        var bank = new VoxelFeatureBank([VoxelFeature.Image()]);
        Assert.Throws<ArgumentException>(() => new VoxelClassifierWeights(bank, [0], [1],
            [new VoxelDenseLayer(2, 3, new float[6], new float[3], false)]));
        Assert.Throws<ArgumentException>(() => new VoxelClassifierWeights(bank, [0], [1],
            [new VoxelDenseLayer(1, 3, new float[3], new float[3], true)]));
    }
}
