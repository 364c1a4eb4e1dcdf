using HippoNode.Classification;

namespace HippoNode.Classification.Tests;

/// <summary>The stress study's deliberate faults do what their names say.</summary>
public sealed class ImagePerturbationTests
{
    private static GrayscaleImage Ramp(int w = 6, int h = 4) =>
        new(w, h, [.. Enumerable.Range(0, w * h).Select(i => (float)i / (w * h))]);

    [Fact]
    public void Invert_MirrorsTheValues()
    {
        var a = Ramp();
        var b = ImagePerturbation.Apply(a, "invert");
        Assert.Equal(a.Pixels.Select(v => 1 - v), b.Pixels);
    }

    [Fact]
    public void FlipX_ReversesEachRow_AndTwiceIsTheOriginal()
    {
        var a = Ramp();
        var b = ImagePerturbation.Apply(a, "flip-x");
        Assert.Equal(a.Pixels[5], b.Pixels[0]);
        Assert.Equal(a.Pixels[6], b.Pixels[11]);
        Assert.Equal(a.Pixels, ImagePerturbation.Apply(b, "flip-x").Pixels);
    }

    [Fact]
    public void Rotate90_IsClockwise_SwapsTheSize_AndFourTimesIsTheOriginal()
    {
        var a = Ramp();
        var b = ImagePerturbation.Apply(a, "rotate-90");
        Assert.Equal((4, 6), (b.Width, b.Height));
        // Clockwise: the old bottom-left pixel is the new top-left, the old top-left the new top-right.
        Assert.Equal(a.Pixels[3 * 6 + 0], b.Pixels[0]);
        Assert.Equal(a.Pixels[0], b.Pixels[3]);
        var back = b;
        for (var i = 0; i < 3; i++) back = ImagePerturbation.Apply(back, "rotate-90");
        Assert.Equal((6, 4), (back.Width, back.Height));
        Assert.Equal(a.Pixels, back.Pixels);
    }

    [Fact]
    public void LowContrast_SqueezesIntoTheMiddleThird_CropLeftKeepsTheLeftHalf()
    {
        var a = Ramp();
        var low = ImagePerturbation.Apply(a, "low-contrast");
        Assert.All(low.Pixels, v => Assert.InRange(v, 1 / 3f, 2 / 3f));
        var crop = ImagePerturbation.Apply(a, "crop-left");
        Assert.Equal((3, 4), (crop.Width, crop.Height));
        Assert.Equal(a.Pixels[6..9], crop.Pixels[3..6]);
    }

    [Fact]
    public void Noise_IsSeeded_WithAStandardDeviationOfATenth()
    {
        var flat = new GrayscaleImage(200, 200, [.. Enumerable.Repeat(0.5f, 40_000)]);
        var a = ImagePerturbation.Apply(flat, "noise", 7);
        Assert.Equal(a.Pixels, ImagePerturbation.Apply(flat, "noise", 7).Pixels);
        Assert.NotEqual(a.Pixels, ImagePerturbation.Apply(flat, "noise", 8).Pixels);
        var mean = a.Pixels.Average();
        var sd = Math.Sqrt(a.Pixels.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 0.49, 0.51);
        Assert.InRange(sd, 0.095, 0.105);
    }

    [Fact]
    public void UnknownKind_IsRefusedWithTheKnownOnes() =>
        Assert.Contains("invert", Assert.Throws<ArgumentException>(() => ImagePerturbation.Apply(Ramp(), "blur")).Message);
}
