using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Training;

namespace HippoNode.Training.Tests;

/// <summary>Small synthetic volumes and labels: a bright ellipsoid in noise, label 1 in its front half (y), 2 in its back half.</summary>
internal static class SyntheticData
{
    public static (Volume3D Image, Volume3D Label) Volumes(VolumeShape shape, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var image = Volume3D.Create(shape, Spacing3.One);
        var label = Volume3D.Create(shape, Spacing3.One);
        // The centre moves a little with the seed so cases differ.
        var (cx, cy, cz) = (shape.X * (0.4 + 0.2 * rng.NextDouble()), shape.Y / 2.0, shape.Z / 2.0);
        var (rx, ry, rz) = (shape.X / 4.0, shape.Y / 3.0, shape.Z / 4.0);
        for (var z = 0; z < shape.Z; z++)
        {
            for (var y = 0; y < shape.Y; y++)
            {
                for (var x = 0; x < shape.X; x++)
                {
                    var inside = Math.Pow((x - cx) / rx, 2) + Math.Pow((y - cy) / ry, 2) + Math.Pow((z - cz) / rz, 2) <= 1;
                    image[x, y, z] = (float)(100 + (inside ? 60 : 0) + 40 * rng.NextDouble());
                    label[x, y, z] = inside ? (y < cy ? 1 : 2) : 0;
                }
            }
        }
        return (image, label);
    }

    public static TrainingCase Case(string id, VolumeShape shape, ulong seed)
    {
        var (image, label) = Volumes(shape, seed);
        return TrainingCase.FromVolumes(id, image, label);
    }

    public static IReadOnlyList<TrainingCase> Cases(int count, ulong seed = 1) =>
        [.. Enumerable.Range(0, count).Select(i => Case($"case_{i:D3}", new VolumeShape(14 + i % 3, 16 + i % 2, 12), seed + (ulong)i))];

    /// <summary>Uniform values in [-1, 1).</summary>
    public static float[] Random(int n, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = (float)(2 * rng.NextDouble() - 1);
        return v;
    }
}
