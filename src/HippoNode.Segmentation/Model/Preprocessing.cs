using HippoNode.Imaging;

namespace HippoNode.Segmentation.Model;

/// <summary>Which voxels the z-score statistics are taken over.</summary>
public enum IntensityRegion
{
    /// <summary>Every voxel of the volume (the MSD hippocampus crops are tissue throughout, so zeros are rare).</summary>
    All,

    /// <summary>Only voxels that are not exactly zero (for skull-stripped or zero-filled inputs); falls back to all voxels when every voxel is zero.</summary>
    Nonzero,
}

/// <summary>Zero padding of a volume to a size multiple, split evenly around it (the odd voxel after), and the matching crop.</summary>
/// <param name="Original">The size before padding.</param>
/// <param name="Padded">The size after padding: each axis the next multiple.</param>
/// <param name="Before">Voxels added before the data along x, y, z (the rest of each axis' padding goes after).</param>
public readonly record struct PadPlan(VolumeShape Original, VolumeShape Padded, (int X, int Y, int Z) Before)
{
    /// <summary>True when nothing needs padding.</summary>
    public bool IsIdentity => Original == Padded;
}

/// <summary>Input handling shared by inference, the reference forward in tests and (later) the trainer, so all three see the same numbers.</summary>
public static class Preprocessing
{
    /// <summary>The z-score normalisation: (v - mean) / std with population statistics over <paramref name="region"/>, in double precision.</summary>
    /// <remarks>
    /// Non-finite voxels count as 0 (a NaN would otherwise poison every statistic). When the standard deviation is below
    /// <paramref name="epsilon"/> (a constant volume) the result is v - mean, i.e. all zeros, rather than a division blow-up.
    /// </remarks>
    public static float[] ZScore(ReadOnlySpan<float> voxels, IntensityRegion region = IntensityRegion.All, double epsilon = 1e-8)
    {
        var (mean, std) = Statistics(voxels, region);
        var scale = std < epsilon ? 1.0 : 1.0 / std;
        var result = new float[voxels.Length];
        for (var i = 0; i < voxels.Length; i++)
        {
            var v = float.IsFinite(voxels[i]) ? voxels[i] : 0f;
            result[i] = (float)((v - mean) * scale);
        }
        return result;
    }

    /// <summary>The mean and population standard deviation that <see cref="ZScore"/> uses.</summary>
    public static (double Mean, double Std) Statistics(ReadOnlySpan<float> voxels, IntensityRegion region = IntensityRegion.All)
    {
        if (voxels.IsEmpty) throw new ArgumentException("no voxels", nameof(voxels));
        var nonzeroOnly = region == IntensityRegion.Nonzero && ContainsNonzero(voxels);
        double sum = 0, sumSq = 0;
        long n = 0;
        // Two passes (mean, then squared deviations) keep the variance exact for large offsets, unlike E[x²] - E[x]².
        foreach (var raw in voxels)
        {
            var v = float.IsFinite(raw) ? raw : 0f;
            if (nonzeroOnly && v == 0) continue;
            sum += v;
            n++;
        }
        var mean = sum / n;
        foreach (var raw in voxels)
        {
            var v = float.IsFinite(raw) ? raw : 0f;
            if (nonzeroOnly && v == 0) continue;
            sumSq += (v - mean) * (v - mean);
        }
        return (mean, Math.Sqrt(sumSq / n));
    }

    private static bool ContainsNonzero(ReadOnlySpan<float> voxels)
    {
        foreach (var v in voxels)
        {
            if (v != 0 && float.IsFinite(v)) return true;
        }
        return false;
    }

    /// <summary>The padding of <paramref name="shape"/> up to multiples of <paramref name="multiple"/>: floor(p/2) before, the rest after, per axis.</summary>
    public static PadPlan PlanPadding(VolumeShape shape, int multiple)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(multiple, 1);
        static int Up(int n, int m) => (n + m - 1) / m * m;
        var padded = new VolumeShape(Up(shape.X, multiple), Up(shape.Y, multiple), Up(shape.Z, multiple));
        return new PadPlan(shape, padded, ((padded.X - shape.X) / 2, (padded.Y - shape.Y) / 2, (padded.Z - shape.Z) / 2));
    }

    /// <summary>Pads <paramref name="channels"/> stacked volumes (channel-major, each x fastest) per <paramref name="plan"/> with <paramref name="value"/>.</summary>
    public static float[] Pad(ReadOnlySpan<float> data, int channels, PadPlan plan, float value = 0f)
    {
        var (o, p) = (plan.Original, plan.Padded);
        if (data.Length != channels * o.VoxelCount) throw new ArgumentException($"expected {channels} x {o} values, got {data.Length}", nameof(data));
        var result = new float[channels * p.VoxelCount];
        if (value != 0) Array.Fill(result, value);
        for (var c = 0; c < channels; c++)
        {
            for (var z = 0; z < o.Z; z++)
            {
                for (var y = 0; y < o.Y; y++)
                {
                    var src = (int)(c * o.VoxelCount) + o.X * (y + o.Y * z);
                    var dst = (int)(c * p.VoxelCount) + plan.Before.X + p.X * (y + plan.Before.Y + p.Y * (z + plan.Before.Z));
                    data.Slice(src, o.X).CopyTo(result.AsSpan(dst, o.X));
                }
            }
        }
        return result;
    }

    /// <summary>The inverse of <see cref="Pad"/>: cuts the original region out of <paramref name="channels"/> stacked padded volumes.</summary>
    public static float[] Crop(ReadOnlySpan<float> padded, int channels, PadPlan plan)
    {
        var (o, p) = (plan.Original, plan.Padded);
        if (padded.Length != channels * p.VoxelCount) throw new ArgumentException($"expected {channels} x {p} values, got {padded.Length}", nameof(padded));
        var result = new float[channels * o.VoxelCount];
        for (var c = 0; c < channels; c++)
        {
            for (var z = 0; z < o.Z; z++)
            {
                for (var y = 0; y < o.Y; y++)
                {
                    var dst = (int)(c * o.VoxelCount) + o.X * (y + o.Y * z);
                    var src = (int)(c * p.VoxelCount) + plan.Before.X + p.X * (y + plan.Before.Y + p.Y * (z + plan.Before.Z));
                    padded.Slice(src, o.X).CopyTo(result.AsSpan(dst, o.X));
                }
            }
        }
        return result;
    }
}
