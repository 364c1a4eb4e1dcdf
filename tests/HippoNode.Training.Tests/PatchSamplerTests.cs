using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Training.Hippocampus;

namespace HippoNode.Training.Tests;

public sealed class PatchSamplerTests
{
    private static PreparedCase Case() => new(SyntheticData.Case("c", new VolumeShape(20, 24, 16), 11));

    [Fact]
    public void Sample_WithoutAugmentation_IsAnExactCopyOfASourceRegion()
    {
        var c = Case();
        var sampler = new PatchSampler((8, 8, 8), AugmentationOptions.None);
        var image = new float[512];
        var labels = new long[512];
        for (ulong seed = 0; seed < 20; seed++)
        {
            sampler.Sample(c, new SplitMix64(seed), image, labels);
            // Find the patch's first voxel in the source: every patch voxel must then match at the same offset (zeros outside).
            var found = false;
            for (var oz = -8; oz < 16 && !found; oz++)
            for (var oy = -8; oy < 24 && !found; oy++)
            for (var ox = -8; ox < 20 && !found; ox++)
            {
                found = Matches(c, image, labels, ox, oy, oz);
            }
            Assert.True(found, $"seed {seed}: the patch is not a copy of any region");
        }
    }

    private static bool Matches(PreparedCase c, float[] image, long[] labels, int ox, int oy, int oz)
    {
        var s = c.Shape;
        var k = 0;
        for (var z = 0; z < 8; z++)
        for (var y = 0; y < 8; y++)
        for (var x = 0; x < 8; x++, k++)
        {
            var (sx, sy, sz) = (x + ox, y + oy, z + oz);
            var inside = (uint)sx < (uint)s.X && (uint)sy < (uint)s.Y && (uint)sz < (uint)s.Z;
            var i = inside ? sx + s.X * (sy + s.Y * sz) : -1;
            if (image[k] != (inside ? c.Image[i] : 0f) || labels[k] != (inside ? c.Labels[i] : 0)) return false;
        }
        return true;
    }

    [Fact]
    public void Sample_SameSeed_SamePatch_OtherSeed_OtherPatch()
    {
        var c = Case();
        var sampler = new PatchSampler((8, 16, 8), new AugmentationOptions());
        var (a, la, b, lb) = (new float[1024], new long[1024], new float[1024], new long[1024]);
        sampler.Sample(c, new SplitMix64(42), a, la);
        sampler.Sample(c, new SplitMix64(42), b, lb);
        Assert.Equal(a, b);
        Assert.Equal(la, lb);
        sampler.Sample(c, new SplitMix64(43), b, lb);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Sample_AlwaysForeground_CentresOnTheStructure_AndKeepsLabelsInRange()
    {
        var c = Case();
        var sampler = new PatchSampler((8, 8, 8), new AugmentationOptions { ForegroundOversampling = 1, RotationProbability = 1, ScaleProbability = 1 });
        var image = new float[512];
        var labels = new long[512];
        for (ulong seed = 0; seed < 20; seed++)
        {
            sampler.Sample(c, new SplitMix64(seed), image, labels);
            Assert.All(labels, l => Assert.InRange(l, 0, 2));
            // The centre voxel lies within a voxel of a labelled one even after rotation and scaling about the centre.
            Assert.Contains(labels, l => l != 0);
            Assert.All(image, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void Sample_MirrorOnly_FlipsX()
    {
        var c = Case();
        var plain = new PatchSampler((8, 8, 8), AugmentationOptions.None);
        var mirrored = new PatchSampler((8, 8, 8), new AugmentationOptions
        {
            RotationProbability = 0, ScaleProbability = 0, MirrorXProbability = 1, BrightnessProbability = 0, ContrastProbability = 0, GammaProbability = 0, NoiseProbability = 0,
        });
        var (a, la, b, lb) = (new float[512], new long[512], new float[512], new long[512]);
        plain.Sample(c, new SplitMix64(9), a, la);
        mirrored.Sample(c, new SplitMix64(9), b, lb);
        for (var z = 0; z < 8; z++)
        for (var y = 0; y < 8; y++)
        for (var x = 0; x < 8; x++)
        {
            Assert.Equal(a[x + 8 * (y + 8 * z)], b[7 - x + 8 * (y + 8 * z)]);
            Assert.Equal(la[x + 8 * (y + 8 * z)], lb[7 - x + 8 * (y + 8 * z)]);
        }
    }
}
