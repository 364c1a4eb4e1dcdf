using HippoNode.Imaging;
using HippoNode.Training;

namespace HippoNode.Training.Tests;

public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hipponode-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void TrainFold_SameSeed_GivesBitIdenticalWeightsAndHistory()
    {
        var cases = SyntheticData.Cases(5);
        var a = new VoxelClassifierTrainer(SyntheticData.FastOptions()).TrainFold(0, cases.Take(4).ToList(), cases.Skip(4).ToList());
        var b = new VoxelClassifierTrainer(SyntheticData.FastOptions()).TrainFold(0, cases.Take(4).ToList(), cases.Skip(4).ToList());
        var c = new VoxelClassifierTrainer(SyntheticData.FastOptions(seed: 6)).TrainFold(0, cases.Take(4).ToList(), cases.Skip(4).ToList());
        Assert.Equal(a.Model.Parameters, b.Model.Parameters);
        Assert.Equal(a.History.Select(h => (h.TrainLoss, h.DiceWhole)), b.History.Select(h => (h.TrainLoss, h.DiceWhole)));
        Assert.NotEqual(a.Model.Parameters, c.Model.Parameters);
        // The task is easy: the loss falls and the held-out case is segmented.
        Assert.True(a.History[^1].TrainLoss < a.History[0].TrainLoss);
        Assert.True(a.History[^1].DiceWhole > 0.7, $"validation dice {a.History[^1].DiceWhole:F3}");
    }

    [Fact]
    public void TrainFold_ResumedFromACheckpoint_EqualsAnUninterruptedRun()
    {
        var cases = SyntheticData.Cases(4);
        var train = cases.Take(3).ToList();
        var val = cases.Skip(3).ToList();
        var options = SyntheticData.FastOptions(epochs: 4);
        var whole = new VoxelClassifierTrainer(options).TrainFold(1, train, val);

        var ck = Path.Combine(_dir, "checkpoints");
        var logs = Path.Combine(_dir, "logs");
        var first = new VoxelClassifierTrainer(options).TrainFold(1, train, val, new FoldRunSettings { CheckpointDir = ck, LogDir = logs, StopAfterEpoch = 2 });
        Assert.Equal(2, first.History.Count);
        Assert.True(File.Exists(Path.Combine(ck, "fold1", "epoch002.ckpt")));
        var resumed = new VoxelClassifierTrainer(options).TrainFold(1, train, val, new FoldRunSettings { CheckpointDir = ck, LogDir = logs, Resume = true });
        Assert.Equal(2, resumed.ResumedFromEpoch);
        Assert.Equal(whole.Model.Parameters, resumed.Model.Parameters);
        Assert.Equal(whole.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        var csv = File.ReadAllLines(Path.Combine(logs, "fold1.csv"));
        Assert.Equal(TrainingLog.Header, csv[0]);
        Assert.Equal(5, csv.Length);
        Assert.StartsWith("4,", csv[4], StringComparison.Ordinal);
        var png = File.ReadAllBytes(Path.Combine(logs, "fold1.png"));
        Assert.Equal(0x89, png[0]);
        Assert.Equal((byte)'P', png[1]);
    }

    [Fact]
    public void Resume_WithOtherOptions_IsRefused()
    {
        var cases = SyntheticData.Cases(3);
        var ck = Path.Combine(_dir, "ck");
        new VoxelClassifierTrainer(SyntheticData.FastOptions(epochs: 2)).TrainFold(0, cases.Take(2).ToList(), [], new FoldRunSettings { CheckpointDir = ck, StopAfterEpoch = 1 });
        var other = new VoxelClassifierTrainer(SyntheticData.FastOptions(epochs: 2, seed: 99));
        Assert.Throws<InvalidDataException>(() => other.TrainFold(0, cases.Take(2).ToList(), [], new FoldRunSettings { CheckpointDir = ck, Resume = true }));
    }

    [Fact]
    public void Sampler_TakesAllForegroundAndWeightsBackgroundByInverseRate()
    {
        var c = SyntheticData.Case("s", new VolumeShape(20, 22, 18), 4);
        var options = new TrainingOptions { NearRadius = 2, NearRate = 0.5, FarRate = 0.1 };
        var (idx, w) = VoxelSampler.Sample(c.Labels, c.Shape, options, 77);
        var fg = c.Labels.Count(l => l != 0);
        Assert.Equal(fg, idx.Count(i => c.Labels[i] != 0));
        Assert.All(idx.Where(i => c.Labels[i] != 0), i => Assert.Equal(1f, w[Array.IndexOf(idx, i)]));
        Assert.All(w, x => Assert.Contains(x, (float[])[1f, 2f, 10f]));
        // Weighted counts estimate the true background count.
        var bg = c.Labels.Length - fg;
        var estimate = idx.Select((i, k) => c.Labels[i] == 0 ? w[k] : 0).Sum();
        Assert.InRange(estimate, bg * 0.85, bg * 1.15);
        Assert.Equal(idx, VoxelSampler.Sample(c.Labels, c.Shape, options, 77).Indices);
        Assert.True(idx.SequenceEqual(idx.Order()));
    }

    [Fact]
    public void LearningRate_FollowsTheCosineFromPeakToFinalFraction()
    {
        var o = new TrainingOptions { LearningRate = 1e-3, FinalLearningRateFraction = 0.1 };
        Assert.Equal(1e-3, o.LearningRateAt(0, 101), 12);
        Assert.Equal(0.55e-3, o.LearningRateAt(50, 101), 12);
        Assert.Equal(1e-4, o.LearningRateAt(100, 101), 12);
    }
}
