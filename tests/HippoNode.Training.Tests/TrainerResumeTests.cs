using System.Diagnostics;
using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Model;
using HippoNode.Training.Hippocampus;
using HippoNode.Training.Torch;
using static TorchSharp.torch;

namespace HippoNode.Training.Tests;

/// <summary>A run stopped after any complete epoch, or killed with SIGKILL at any moment, and resumed ends exactly where an uninterrupted run ends.</summary>
public sealed class TrainerResumeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hipponode-resume-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly UNetTaskOptions Tiny = new() { Architecture = new UNetArchitecture { Channels = [4, 8] }, PatchSize = (8, 8, 8), BatchSize = 2 };

    private static (TrainerResult Result, UNetWeights Weights) Run(string dir, int epochs, bool resume, CancellationToken token = default, TextWriter? progress = null)
    {
        TorchSetup.Initialize("cpu", 1);
        var cases = SyntheticData.Cases(5).Select(c => new PreparedCase(c)).ToList();
        using var task = new UNetSegmentationTask(cases[..4], cases[4..], Tiny, seed: 77);
        var trainer = new Trainer(new TrainerOptions { Epochs = epochs, Seed = 77, Threads = 1 }, CPU);
        var result = trainer.Train(task, new TrainerRunSettings
        {
            CheckpointDir = Path.Combine(dir, "ckpt"), LogDir = dir, LogStem = "fold0", Label = "fold 0", TaskFingerprint = task.Fingerprint(),
            Resume = resume, Progress = progress ?? TextWriter.Null,
        }, token);
        return (result, task.Network.ToWeights());
    }

    /// <summary>Cancels the run once the progress line of a given epoch is written (after that epoch's checkpoint).</summary>
    private sealed class StopAfter(string marker, CancellationTokenSource cts) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.Contains(marker, StringComparison.Ordinal) == true) cts.Cancel();
        }
    }

    [Fact]
    public void Resume_AfterAStopAtEpochTwo_EndsWithTheSameWeightsAndLog()
    {
        var (full, fullWeights) = Run(Path.Combine(_dir, "a"), 4, resume: false);

        var b = Path.Combine(_dir, "b");
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => Run(b, 4, resume: false, cts.Token, new StopAfter("epoch 2/4", cts)));
        Assert.Equal(2, Trainer.LatestCheckpoint(Path.Combine(b, "ckpt"))!.Value.Epoch);
        var (resumed, resumedWeights) = Run(b, 4, resume: true);

        Assert.Equal(2, resumed.ResumedFromEpoch);
        Assert.All(fullWeights.Tensors, t => Assert.Equal(t.Data, resumedWeights[t.Name].Data));
        Assert.Equal(full.History.Select(h => (h.Epoch, h.TrainLoss, h.LearningRate)), resumed.History.Select(h => (h.Epoch, h.TrainLoss, h.LearningRate)));
        Assert.Equal(full.History.Select(h => h.Metrics["dice_whole"]), resumed.History.Select(h => h.Metrics["dice_whole"]));
        Assert.Equal(full.BestEpoch, resumed.BestEpoch);
        Assert.True(File.Exists(Path.Combine(b, "fold0.csv")) && File.Exists(Path.Combine(b, "fold0.png")));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(b, "fold0.csv")).Length);
        Assert.True(Trainer.LatestCheckpoint(Path.Combine(b, "ckpt"))!.Value.Epoch == 4);
        // Only the newest two complete checkpoints are kept.
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(b, "ckpt"), "epoch*").Length);
    }

    [Fact]
    public void Resume_WithOtherSettings_IsRefusedAndSaysWhy()
    {
        var dir = Path.Combine(_dir, "c");
        Run(dir, 1, resume: false);
        TorchSetup.Initialize("cpu", 1);
        var cases = SyntheticData.Cases(5).Select(c => new PreparedCase(c)).ToList();
        using var task = new UNetSegmentationTask(cases[..4], cases[4..], Tiny, seed: 78);
        var trainer = new Trainer(new TrainerOptions { Epochs = 2, Seed = 78, Threads = 1 }, CPU);
        var ex = Assert.Throws<InvalidDataException>(() => trainer.Train(task, new TrainerRunSettings
        {
            CheckpointDir = Path.Combine(dir, "ckpt"), LogDir = dir, LogStem = "fold0", Label = "fold 0", TaskFingerprint = task.Fingerprint(), Resume = true,
        }));
        Assert.Contains("was written with other settings", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>The training executable, killed with SIGKILL at a random moment after its first checkpoint, resumes to the same member file.</summary>
    [Fact]
    public void Executable_KilledAtRandomMoments_ResumesToTheSameMember()
    {
        var data = Path.Combine(_dir, "data");
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var id = $"case_{i:D3}";
            ids.Add(id);
            var (image, label) = SyntheticData.Volumes(new VolumeShape(16, 18, 13), (ulong)i + 40);
            NiftiWriter.Write(image, Path.Combine(data, "imagesTr", id + ".nii.gz"));
            NiftiWriter.Write(label, Path.Combine(data, "labelsTr", id + ".nii.gz"), NiftiDataType.UInt8);
        }
        var split = new DatasetSplit { Dataset = "tiny", Seed = 1, TestFraction = 0, Test = [], Folds = [[ids[0], ids[1]], [ids[2], ids[3], ids[4], ids[5]]] };
        var splitPath = Path.Combine(_dir, "split.json");
        split.Save(splitPath);
        string[] Args(string outDir) => ["hippocampus", "--data", data, "--split", splitPath, "--out", outDir, "--folds", "0", "--epochs", "6",
            "--threads", "1", "--channels", "4,8", "--patch", "8x8x8", "--resume"];

        var reference = Path.Combine(_dir, "reference");
        Assert.Equal(0, StartTrainer(Args(reference)).WaitForExitOrKill(TimeSpan.FromMinutes(3)));

        var killed = Path.Combine(_dir, "killed");
        var rng = new Random(2026);
        for (var kill = 0; kill < 3; kill++)
        {
            using var p = StartTrainer(Args(killed));
            // Wait for some checkpoint, then a random moment more, then SIGKILL (possibly mid-write of the next one).
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!p.HasExited && Trainer.LatestCheckpoint(Path.Combine(killed, "training", "checkpoints", "fold0")) is null && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Thread.Sleep(rng.Next(0, 400));
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        using (var last = StartTrainer(Args(killed))) Assert.Equal(0, last.WaitForExitOrKill(TimeSpan.FromMinutes(3)));

        // The member's weights are identical to the bit; the log too, but for the wall times.
        static string Final(string dir) => Path.Combine(dir, "training", "checkpoints", "fold0", "final.safetensors");
        Assert.Equal(File.ReadAllBytes(Final(reference)), File.ReadAllBytes(Final(killed)));
        static IEnumerable<string> WithoutSeconds(string dir) => File.ReadAllLines(Path.Combine(dir, "training", "fold0.csv")).Select(l => l[..l.LastIndexOf(',')]);
        Assert.Equal(WithoutSeconds(reference), WithoutSeconds(killed));
        Assert.Equal(7, WithoutSeconds(killed).Count());
        Assert.True(File.Exists(Path.Combine(killed, "fold0.onnx")));
    }

    private static Process StartTrainer(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hipponode-train.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}

internal static class ProcessExtensions
{
    public static int WaitForExitOrKill(this Process p, TimeSpan timeout)
    {
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("the trainer did not finish in time");
        }
        return p.ExitCode;
    }
}
