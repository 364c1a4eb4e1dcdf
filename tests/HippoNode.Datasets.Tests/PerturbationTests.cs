using HippoNode.Imaging;

namespace HippoNode.Datasets.Tests;

/// <summary>The stress-set faults: each voxel goes where the fault says, labels follow geometric faults only, inputs stay untouched.</summary>
public sealed class PerturbationTests
{
    private static readonly VolumeShape Shape = new(8, 5, 9);

    /// <summary>Every voxel distinct, so a wrong index shows.</summary>
    private static Volume3D Image()
    {
        var v = Volume3D.Create(Shape, new Spacing3(1, 2, 3));
        for (var i = 0; i < v.Data.Length; i++) v.Data[i] = i * 1.5f + 7;
        return v;
    }

    private static Volume3D Label()
    {
        var v = Volume3D.Create(Shape, new Spacing3(1, 2, 3));
        for (var i = 0; i < v.Data.Length; i++) v.Data[i] = i % 3;
        return v;
    }

    private static (Volume3D Image, Volume3D Label, Volume3D OriginalImage, Volume3D OriginalLabel) Run(PerturbationKind kind, ulong seed = 1)
    {
        var image = Image();
        var label = Label();
        var (pi, pl) = Perturbation.Apply(kind, image, label, seed);
        Assert.Equal(Image().Data, image.Data);
        Assert.Equal(Label().Data, label.Data);
        Assert.Equal(pi.Shape, pl.Shape);
        Assert.True(pi.SameGrid(pl), "image and label must stay on one grid");
        return (pi, pl, image, label);
    }

    [Fact]
    public void SwapXz_ExchangesTheAxesOfImageAndLabel()
    {
        var (pi, pl, image, label) = Run(PerturbationKind.SwapXz);
        Assert.Equal(new VolumeShape(9, 5, 8), pi.Shape);
        Assert.Equal(new Spacing3(3, 2, 1), pi.Spacing);
        for (var z = 0; z < 8; z++)
            for (var y = 0; y < 5; y++)
                for (var x = 0; x < 9; x++)
                {
                    Assert.Equal(image[z, y, x], pi[x, y, z]);
                    Assert.Equal(label[z, y, x], pl[x, y, z]);
                }
    }

    [Fact]
    public void FlipY_ReversesTheAnteriorPosteriorAxisOfBoth()
    {
        var (pi, pl, image, label) = Run(PerturbationKind.FlipY);
        Assert.Equal(Shape, pi.Shape);
        for (var z = 0; z < Shape.Z; z++)
            for (var y = 0; y < Shape.Y; y++)
                for (var x = 0; x < Shape.X; x++)
                {
                    Assert.Equal(image[x, Shape.Y - 1 - y, z], pi[x, y, z]);
                    Assert.Equal(label[x, Shape.Y - 1 - y, z], pl[x, y, z]);
                }
    }

    [Fact]
    public void Invert_MirrorsIntensities_LabelUnchanged()
    {
        var (pi, pl, image, label) = Run(PerturbationKind.Invert);
        var (min, max) = image.Range();
        for (var i = 0; i < image.Data.Length; i++) Assert.Equal(min + max - image.Data[i], pi.Data[i]);
        Assert.Equal(label.Data, pl.Data);
    }

    [Fact]
    public void Noise_HasHalfTheImagesSpread_IsSeeded_LabelUnchanged()
    {
        var (pi, pl, image, label) = Run(PerturbationKind.Noise, seed: 42);
        Assert.Equal(label.Data, pl.Data);
        var diff = pi.Data.Select((v, i) => (double)v - image.Data[i]).ToArray();
        var mean = image.Data.Average(v => (double)v);
        var sd = Math.Sqrt(image.Data.Average(v => (v - mean) * (v - mean)));
        var noiseSd = Math.Sqrt(diff.Average(d => d * d));
        Assert.InRange(noiseSd / sd, 0.4, 0.6);
        Assert.InRange(Math.Abs(diff.Average()), 0, 0.15 * sd);
        Assert.Equal(pi.Data, Run(PerturbationKind.Noise, seed: 42).Image.Data);
        Assert.NotEqual(pi.Data, Run(PerturbationKind.Noise, seed: 43).Image.Data);
    }

    [Fact]
    public void ThickSlices_AverageBlocksOfFourSlices_LabelUnchanged()
    {
        var (pi, pl, image, label) = Run(PerturbationKind.ThickSlices);
        Assert.Equal(label.Data, pl.Data);
        // z = 0..3, 4..7 and the short last block 8..8.
        foreach (var (z0, z1) in new[] { (0, 4), (4, 8), (8, 9) })
            for (var y = 0; y < Shape.Y; y++)
                for (var x = 0; x < Shape.X; x++)
                {
                    var expected = Enumerable.Range(z0, z1 - z0).Average(z => image[x, y, z]);
                    for (var z = z0; z < z1; z++) Assert.Equal(expected, pi[x, y, z], 3);
                }
    }

    [Fact]
    public void CropX_CutsTheFirstQuarterOfBoth()
    {
        var (pi, pl, image, label) = Run(PerturbationKind.CropX);
        Assert.Equal(new VolumeShape(6, 5, 9), pi.Shape);
        for (var z = 0; z < Shape.Z; z++)
            for (var y = 0; y < Shape.Y; y++)
                for (var x = 0; x < 6; x++)
                {
                    Assert.Equal(image[x + 2, y, z], pi[x, y, z]);
                    Assert.Equal(label[x + 2, y, z], pl[x, y, z]);
                }
    }

    [Fact]
    public void NamesParseBackAndUnknownNamesListTheKnownOnes()
    {
        foreach (var kind in Enum.GetValues<PerturbationKind>()) Assert.Equal(kind, Perturbation.Parse(Perturbation.NameOf(kind)));
        Assert.Equal(Enum.GetValues<PerturbationKind>().Length, Perturbation.Names.Count);
        var ex = Assert.Throws<ArgumentException>(() => Perturbation.Parse("rotate"));
        Assert.Contains("swap-xz", ex.Message);
        Assert.Throws<ArgumentException>(() => Perturbation.Apply(PerturbationKind.Invert, Image(), Volume3D.Create(new VolumeShape(1, 1, 1), Spacing3.One), 1));
    }
}
