using HippoNode.Datasets;
using HippoNode.Imaging;

namespace HippoNode.Training;

/// <summary>Which voxels of a training volume become samples, and their loss weights.</summary>
/// <remarks>
/// Every foreground voxel is taken (weight 1); background voxels within <see cref="TrainingOptions.NearRadius"/>
/// (Chebyshev distance) of the foreground with probability <see cref="TrainingOptions.NearRate"/>, the rest with
/// <see cref="TrainingOptions.FarRate"/>; a background sample weighs 1 / its probability, so the weighted loss is an
/// unbiased estimate of the loss over all voxels (the classifier learns the true posterior, not a rebalanced one).
/// </remarks>
public static class VoxelSampler
{
    /// <summary>The sampled voxel indices (ascending) and their weights for one volume.</summary>
    public static (int[] Indices, float[] Weights) Sample(ReadOnlySpan<byte> labels, VolumeShape shape, TrainingOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        var v = (int)shape.VoxelCount;
        if (labels.Length != v) throw new ArgumentException($"shape {shape} needs {v} labels, got {labels.Length}", nameof(labels));
        var near = Dilate(labels, shape, options.NearRadius);
        var rng = new SplitMix64(seed);
        var indices = new List<int>();
        var weights = new List<float>();
        var nearWeight = (float)(1 / options.NearRate);
        var farWeight = (float)(1 / options.FarRate);
        for (var i = 0; i < v; i++)
        {
            if (labels[i] != 0)
            {
                indices.Add(i);
                weights.Add(1f);
                continue;
            }
            // One draw per background voxel whatever its region, so the stream stays aligned with the voxel index.
            var u = rng.NextDouble();
            if (near[i] ? u < options.NearRate : u < options.FarRate)
            {
                indices.Add(i);
                weights.Add(near[i] ? nearWeight : farWeight);
            }
        }
        return ([.. indices], [.. weights]);
    }

    /// <summary>The foreground dilated by a (2r + 1)³ box: true where a foreground voxel lies within Chebyshev distance <paramref name="radius"/>.</summary>
    internal static bool[] Dilate(ReadOnlySpan<byte> labels, VolumeShape s, int radius)
    {
        var v = (int)s.VoxelCount;
        var a = new bool[v];
        for (var i = 0; i < v; i++) a[i] = labels[i] != 0;
        if (radius <= 0) return a;
        var b = new bool[v];
        Pass(a, b, s, 1, s.X, radius);
        Pass(b, a, s, s.X, s.Y, radius);
        Pass(a, b, s, s.X * s.Y, s.Z, radius);
        return b;
    }

    private static void Pass(bool[] input, bool[] output, VolumeShape s, int stride, int n, int r)
    {
        var v = (int)s.VoxelCount;
        for (var idx = 0; idx < v; idx++)
        {
            var pos = idx / stride % n;
            var any = false;
            for (var o = Math.Max(-r, -pos); o <= Math.Min(r, n - 1 - pos) && !any; o++) any = input[idx + o * stride];
            output[idx] = any;
        }
    }
}
