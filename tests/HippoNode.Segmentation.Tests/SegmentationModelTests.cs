using HippoNode.Imaging;
using HippoNode.Onnx;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Metrics;
using HippoNode.Segmentation.Model;
using HippoNode.Testing.Reference;

namespace HippoNode.Segmentation.Tests;

public sealed class SegmentationModelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly VolumeShape Shape = new(11, 14, 9);
    private static readonly Spacing3 Spacing = new(1.2, 0.8, 1.5);

    [Fact]
    public void EnsembleIsTheMeanOfMembersAndMatchesTheReferenceForward()
    {
        using var tmp = new TempDir();
        Synthetic.ModelFolder(tmp.Path, members: 2, architecture: new UNetArchitecture { Channels = [4, 8, 8] });
        using var model = SegmentationModel.Load(tmp.Path);
        Assert.Equal(2, model.MemberCount);
        var (image, _) = Synthetic.Case(Shape, Spacing, 1);

        var result = model.Segment(image);
        var n = image.VoxelCount;
        Assert.Equal(n, result.Labels.Length);
        Assert.Equal(3 * n, result.Probabilities.Length);

        // The members' probabilities, straight from ORT, average to the ensemble's.
        var input = model.Normalize(image);
        var p0 = model.RunMember(0, input, Shape);
        var p1 = model.RunMember(1, input, Shape);
        for (var i = 0; i < p0.Length; i++) Assert.Equal((p0[i] + p1[i]) / 2, result.Probabilities[i], 6);

        // The reference forward on the volume read as a [z, y, x] array gives the same numbers: this pins the
        // axis convention (D = z, H = y, W = x) and the in-graph padding of a size that is no multiple.
        var weights0 = UNetWeights.CreateRandom(new UNetArchitecture { Channels = [4, 8, 8] }, 100);
        var reference = ReferenceUNet.Forward(weights0, input, Shape.Z, Shape.Y, Shape.X);
        Assert.True(reference.Zip(p0).Max(x => Math.Abs(x.First - x.Second)) <= 1e-4);

        // Labels are the argmax of the mean; member maps the argmax of each member.
        for (var i = 0; i < n; i++)
        {
            var best = 0;
            for (var c = 1; c < 3; c++)
            {
                if (result.Probabilities[c * n + i] > result.Probabilities[best * n + i]) best = c;
            }
            Assert.Equal(best, result.Labels[i]);
        }
        Assert.Equal(model.Argmax(p0, 3, n), result.MemberLabels[0]);

        // Volumes from the voxel spacing; agreement = Dice of the two members' foreground.
        var voxel = Spacing.X * Spacing.Y * Spacing.Z;
        Assert.Equal(result.Labels.Count(l => l == 1) * voxel, result.VolumeMm3("anterior"), 9);
        Assert.Equal(result.Labels.Count(l => l == 2) * voxel, result.VolumeMm3("posterior"), 9);
        Assert.Equal(result.Labels.Count(l => l != 0) * voxel, result.VolumeMm3("whole"), 9);
        Assert.Equal(OverlapMetrics.Dice(result.MemberLabels[0], result.MemberLabels[1], [1, 2]), result.Agreement, 12);
        Assert.Equal(2, result.MemberTimes.Count);

        var labelVolume = result.ToLabelVolume();
        Assert.True(labelVolume.SameGrid(image));
    }

    [Fact]
    public void MirrorXTta_AveragesTheMemberOnTheVolumeAndOnItsMirrorImage()
    {
        using var tmp = new TempDir();
        var arch = new UNetArchitecture { Channels = [4, 8, 8] };
        Synthetic.ModelFolder(tmp.Path, members: 1, architecture: arch);
        using var plain = SegmentationModel.Load(tmp.Path);
        using var tta = SegmentationModel.Load(tmp.Path, new InferenceOptions { MirrorX = true });
        var (image, _) = Synthetic.Case(Shape, Spacing, 3);
        var input = plain.Normalize(image);
        var direct = plain.RunMember(0, input, Shape);

        // The mirror image, run alone and mirrored back by hand.
        var mirroredInput = new float[input.Length];
        for (var row = 0; row < input.Length; row += Shape.X)
            for (var x = 0; x < Shape.X; x++) mirroredInput[row + x] = input[row + Shape.X - 1 - x];
        var mirrored = plain.RunMember(0, mirroredInput, Shape);
        var averaged = tta.RunMember(0, input, Shape);
        for (var row = 0; row < direct.Length; row += Shape.X)
        {
            for (var x = 0; x < Shape.X; x++)
                Assert.Equal((direct[row + x] + mirrored[row + Shape.X - 1 - x]) / 2, averaged[row + x], 5);
        }
        // A random network is not mirror-symmetric, so the average differs from the plain run.
        Assert.True(direct.Zip(averaged).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }

    [Fact]
    public void OneMemberAloneAgreesWithItself()
    {
        using var tmp = new TempDir();
        Synthetic.ModelFolder(tmp.Path, members: 2);
        using var model = SegmentationModel.Load(tmp.Path);
        var (image, _) = Synthetic.Case(Shape, Spacing, 2);
        var single = model.Segment(image, [1]);
        Assert.Equal(1.0, single.Agreement);
        Assert.Equal(single.MemberLabels[0], single.Labels);
    }

    [Fact]
    public void HostPaddingGivesTheSameResultAsGraphPadding()
    {
        using var graph = new TempDir();
        using var host = new TempDir();
        Synthetic.ModelFolder(graph.Path, members: 1, padInGraph: true);
        Synthetic.ModelFolder(host.Path, members: 1, padInGraph: false);
        using var g = SegmentationModel.Load(graph.Path);
        using var h = SegmentationModel.Load(host.Path);
        Assert.Equal(PaddingLocation.Host, h.Manifest.Padding);
        var (image, _) = Synthetic.Case(new VolumeShape(7, 5, 9), Spacing3.One, 3);
        var a = g.Segment(image).Probabilities;
        var b = h.Segment(image).Probabilities;
        Assert.True(a.Zip(b).Max(x => Math.Abs(x.First - x.Second)) <= 1e-5);
    }

    [Fact]
    public void ChangedMemberFileIsRefused()
    {
        using var tmp = new TempDir();
        Synthetic.ModelFolder(tmp.Path, members: 2);
        var other = UNetOnnxExporter.Export(UNetWeights.CreateRandom(Synthetic.TinyArchitecture, 999));
        File.WriteAllBytes(tmp["fold1.onnx"], other);
        Assert.Contains("SHA-256", Assert.Throws<InvalidDataException>(() => SegmentationModel.Load(tmp.Path)).Message);
        using var unchecked_ = SegmentationModel.Load(tmp.Path, new InferenceOptions { VerifyChecksums = false });
        File.Delete(tmp["fold0.onnx"]);
        Assert.Throws<FileNotFoundException>(() => SegmentationModel.Load(tmp.Path));
    }

    [Fact]
    public void MissingFolderOrManifest()
    {
        using var tmp = new TempDir();
        Assert.Throws<FileNotFoundException>(() => SegmentationModel.Load(tmp.Path));
    }

    [Fact]
    public void UnknownProviderIsRejectedAndCudaNeedsTheGpuBuild()
    {
        Assert.Throws<ArgumentException>(() => new InferenceOptions { ExecutionProvider = "tpu" }.Validate());
        using var tmp = new TempDir();
        Synthetic.ModelFolder(tmp.Path, members: 1);
        try
        {
            using var model = SegmentationModel.Load(tmp.Path, new InferenceOptions { ExecutionProvider = "cuda" });
            // Only reachable where a CUDA-enabled ONNX Runtime is installed: then it must also segment.
            var (image, _) = Synthetic.Case(Shape, Spacing, 1);
            Assert.Equal(image.VoxelCount, model.Segment(image).Labels.Length);
        }
        catch (InvalidOperationException ex)
        {
            output.WriteLine(ex.Message);
            Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", ex.Message);
        }
    }

    [Fact]
    public void EnvironmentSelectsTheProvider()
    {
        // Read-only check of the parser: the variables are not set in the test environment.
        var o = InferenceOptions.FromEnvironment();
        Assert.Contains(o.ExecutionProvider, InferenceOptions.KnownProviders);
    }
}
