using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Onnx;
using HippoNode.Segmentation.Model;
using HippoNode.Training.Hippocampus;
using HippoNode.Training.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HippoNode.Training.Tests;

/// <summary>A TorchSharp-trained U-Net, exported by our own ONNX exporter, gives what TorchSharp gives (softmax probabilities, ≤ 1e-4).</summary>
public sealed class UNetOnnxParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    /// <summary>The production network after a few training steps (so the norm scales and shifts are no longer 1 and 0).</summary>
    private static TorchUNet TrainedBriefly(IReadOnlyList<PreparedCase> cases)
    {
        TorchSetup.Initialize("cpu", 2);
        var task = new UNetSegmentationTask(cases, [], new UNetTaskOptions { PatchSize = (24, 24, 16) }, seed: 3);
        using var optimizer = optim.AdamW(task.Model.parameters(), 5e-3);
        task.Model.train();
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            task.Loss(1, step % task.StepsPerEpoch(1), CPU).backward();
            optimizer.step();
        }
        task.Model.eval();
        return task.Network;
    }

    private double MaxDifference(TorchUNet net, VolumeShape shape, float[] normalized)
    {
        // TorchSharp: pad as the graph does, softmax, crop back.
        var plan = Preprocessing.PlanPadding(shape, net.Architecture.SizeMultiple);
        var p = plan.Padded;
        float[] torchProbabilities;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var x = tensor(Preprocessing.Pad(normalized, 1, plan), [1, 1, p.Z, p.Y, p.X]);
            var probs = nn.functional.softmax(net.forward(x), 1).contiguous();
            torchProbabilities = Preprocessing.Crop(probs.data<float>().ToArray(), 3, plan);
        }
        // ONNX Runtime on our exported file, fed the unpadded volume.
        var onnx = UNetOnnxExporter.Export(net.ToWeights());
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor<float>(normalized, [1, 1, shape.Z, shape.Y, shape.X]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("image", input)]);
        var ort = results.First().AsEnumerable<float>().ToArray();
        Assert.Equal(torchProbabilities.Length, ort.Length);
        var max = 0.0;
        for (var i = 0; i < ort.Length; i++) max = Math.Max(max, Math.Abs(ort[i] - torchProbabilities[i]));
        return max;
    }

    [SharedDataFact]
    public void ExportedMember_MatchesTorchSharp_OnRealCrops()
    {
        var images = Directory.GetFiles(TestData.Shared("hippocampus", "imagesTr"), "*.nii.gz").Order(StringComparer.Ordinal).Take(3).ToList();
        var cases = images.Select(f =>
        {
            var id = Path.GetFileName(f)[..^".nii.gz".Length];
            var labelPath = TestData.Shared("hippocampus", "labelsTr", id + ".nii.gz");
            var image = NiftiReader.Read(f).Volume;
            var label = File.Exists(labelPath) ? NiftiReader.Read(labelPath).Volume : Volume3D.Create(image.Shape, image.Spacing, image.Affine);
            return new PreparedCase(TrainingCase.FromVolumes(id, image, label));
        }).ToList();
        using var net = TrainedBriefly(cases);
        foreach (var c in cases)
        {
            var diff = MaxDifference(net, c.Shape, c.Image);
            output.WriteLine($"{c.Id} {c.Shape}: max |ORT - TorchSharp| = {diff:E2}");
            Assert.True(diff <= Tolerance, $"{c.Id}: {diff:E2} > {Tolerance:E0}");
        }
    }

    [Fact]
    public void ExportedMember_MatchesTorchSharp_OnASyntheticVolumeOfOddSize()
    {
        var cases = SyntheticData.Cases(2).Select(c => new PreparedCase(c)).ToList();
        using var net = TrainedBriefly(cases);
        var (image, _) = SyntheticData.Volumes(new VolumeShape(19, 13, 11), 5);
        var diff = MaxDifference(net, image.Shape, Preprocessing.ZScore(image.Data));
        output.WriteLine($"max |ORT - TorchSharp| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"{diff:E2} > {Tolerance:E0}");
    }
}
