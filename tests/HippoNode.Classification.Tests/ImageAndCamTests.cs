using HippoNode.Classification;

namespace HippoNode.Classification.Tests;

/// <summary>Preprocessing and class activation maps, checked against what they must do by definition.</summary>
public sealed class ImageAndCamTests
{
    [Fact]
    public void Resample_KeepsAFlatImageFlat_AndAveragesWhenShrinking()
    {
        var flat = Enumerable.Repeat(0.3f, 37 * 23).ToArray();
        Assert.All(ImagePreprocessing.Resample(flat, 37, 23, 8, 11), v => Assert.Equal(0.3f, v, 5));
        Assert.All(ImagePreprocessing.Resample(flat, 37, 23, 100, 90), v => Assert.Equal(0.3f, v, 5));

        // A 1-pixel checkerboard shrunk 8x averages to one half everywhere (nearest sampling would give 0 or 1).
        var board = new float[64 * 64];
        for (var i = 0; i < board.Length; i++) board[i] = (i % 64 + i / 64) % 2;
        Assert.All(ImagePreprocessing.Resample(board, 64, 64, 8, 8), v => Assert.InRange(v, 0.45f, 0.55f));

        // Shrinking by exactly 2 on a ramp keeps the ramp's order and mean.
        var ramp = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var half = ImagePreprocessing.Resample(ramp, 16, 1, 8, 1);
        Assert.Equal(ramp.Average(), half.Average(), 1);
        Assert.True(half.Zip(half.Skip(1)).All(p => p.First < p.Second));
    }

    [Fact]
    public void ToNetworkInput_ResamplesThenNormalises()
    {
        var image = new GrayscaleImage(40, 20, Enumerable.Repeat(0.75f, 800).ToArray());
        var x = ImagePreprocessing.ToNetworkInput(image, new ClassifierInput { Width = 16, Height = 12, Mean = 0.5, Std = 0.25 });
        Assert.Equal(16 * 12, x.Length);
        Assert.All(x, v => Assert.Equal(1f, v, 5));
    }

    [Fact]
    public void Cam_IsBiasPlusWeightedFeatures_AndItsMeanIsTheLogit()
    {
        // Two channels on a 2x3 grid.
        float[] features = [1, 2, 3, 4, 5, 6, /* channel 1 */ 0, 0, 1, 1, 0, 0];
        var cam = ClassActivationMap.Compute(features, 2, 2, 3, [0.5f, -2f], 0.25f);
        Assert.Equal((3, 2), (cam.Width, cam.Height));
        Assert.Equal([0.75f, 1.25f, -0.25f, 0.25f, 2.75f, 3.25f], cam.Values);
        // logit of the head on the global average: 0.25 + 0.5 * mean(ch0) - 2 * mean(ch1)
        Assert.Equal(0.25 + 0.5 * 3.5 - 2 * (2.0 / 6), cam.Mean, 6);
    }

    [Fact]
    public void Cam_UpsamplesWithCellCentresAligned_AndHoldsTheEdges()
    {
        var cam = ClassActivationMap.Compute([0, 1, 2, 3], 1, 1, 4, [1f], 0);
        var up = cam.Upsample(8, 1);
        // Output x samples the grid at (x + 0.5) / 2 - 0.5: -0.25 (held at 0), 0.25, 0.75, ... 3.25 (held at 3).
        Assert.Equal([0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3f], up);
        Assert.All(cam.Upsample(4, 3), v => Assert.InRange(v, 0, 3));
    }

    [Fact]
    public void RelativePositive_ShowsOnlyPositiveEvidence()
    {
        Assert.Equal([0f, 0.5f, 1f], ClassActivationMap.RelativePositive([-3f, 1f, 2f]));
        Assert.Equal([0f, 0f], ClassActivationMap.RelativePositive([-3f, -1f]));
    }
}
