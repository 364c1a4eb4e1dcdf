using System.Text.Json;
using HippoNode.Datasets;

namespace HippoNode.Training.Hippocampus;

/// <summary>Augmentation settings for 3D patches (nnU-Net's recipe, scaled to small crops and short CPU runs).</summary>
public sealed class AugmentationOptions
{
    /// <summary>Share of patches centred on a random foreground voxel (the rest: a random voxel anywhere).</summary>
    public double ForegroundOversampling { get; init; } = 0.33;

    /// <summary>Probability of a random rotation about each axis.</summary>
    public double RotationProbability { get; init; } = 0.2;

    /// <summary>The largest rotation, degrees.</summary>
    public double MaxRotationDegrees { get; init; } = 15;

    /// <summary>Probability of a random isotropic scaling.</summary>
    public double ScaleProbability { get; init; } = 0.2;

    /// <summary>Scaling range (a factor above 1 zooms in).</summary>
    public (double Min, double Max) Scale { get; init; } = (0.85, 1.25);

    /// <summary>Probability of mirroring left-right (x). Other axes are never mirrored: anterior and posterior are defined along them.</summary>
    public double MirrorXProbability { get; init; } = 0.5;

    /// <summary>Probability of a multiplicative brightness change in [0.75, 1.25].</summary>
    public double BrightnessProbability { get; init; } = 0.15;

    /// <summary>Probability of a contrast change in [0.75, 1.25] about the patch mean.</summary>
    public double ContrastProbability { get; init; } = 0.15;

    /// <summary>Probability of a gamma change in [0.7, 1.5] on the patch's range.</summary>
    public double GammaProbability { get; init; } = 0.3;

    /// <summary>Probability of additive Gaussian noise with a standard deviation in [0, 0.1].</summary>
    public double NoiseProbability { get; init; } = 0.1;

    /// <summary>No augmentation at all (only the random location); for tests and ablations.</summary>
    public static AugmentationOptions None { get; } = new()
    {
        RotationProbability = 0, ScaleProbability = 0, MirrorXProbability = 0, BrightnessProbability = 0, ContrastProbability = 0, GammaProbability = 0, NoiseProbability = 0,
    };

    /// <summary>The settings as a JSON object.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteNumber("foregroundOversampling", ForegroundOversampling);
        w.WriteNumber("rotationProbability", RotationProbability);
        w.WriteNumber("maxRotationDegrees", MaxRotationDegrees);
        w.WriteNumber("scaleProbability", ScaleProbability);
        w.WriteNumber("scaleMin", Scale.Min);
        w.WriteNumber("scaleMax", Scale.Max);
        w.WriteNumber("mirrorXProbability", MirrorXProbability);
        w.WriteNumber("brightnessProbability", BrightnessProbability);
        w.WriteNumber("contrastProbability", ContrastProbability);
        w.WriteNumber("gammaProbability", GammaProbability);
        w.WriteNumber("noiseProbability", NoiseProbability);
        w.WriteEndObject();
    }
}

/// <summary>Cuts one augmented training patch out of a case: location (with foreground oversampling), rotation, scaling, left-right mirror, intensity changes.</summary>
/// <remarks>Every draw comes from the <see cref="SplitMix64"/> passed in, so a patch is a pure function of (case, seed).</remarks>
public sealed class PatchSampler
{
    private readonly AugmentationOptions _options;

    /// <summary>A sampler cutting patches of <paramref name="size"/> voxels (x, y, z).</summary>
    public PatchSampler((int X, int Y, int Z) size, AugmentationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (size.X < 1 || size.Y < 1 || size.Z < 1) throw new ArgumentException($"patch size must be positive, got {size}");
        Size = size;
        _options = options;
    }

    /// <summary>The patch size (x, y, z).</summary>
    public (int X, int Y, int Z) Size { get; }

    /// <summary>Writes one patch (image into <paramref name="image"/>, labels into <paramref name="labels"/>, both x fastest, patch-sized).</summary>
    public void Sample(PreparedCase c, SplitMix64 rng, Span<float> image, Span<long> labels)
    {
        ArgumentNullException.ThrowIfNull(c);
        var (px, py, pz) = Size;
        var n = px * py * pz;
        if (image.Length != n || labels.Length != n) throw new ArgumentException($"buffers must hold {n} voxels");
        var s = c.Shape;

        // Centre: a foreground voxel, or any voxel.
        double cx, cy, cz;
        if (c.Foreground.Length > 0 && rng.NextDouble() < _options.ForegroundOversampling)
        {
            var v = c.Foreground[(int)(rng.Next() % (ulong)c.Foreground.Length)];
            cx = v % s.X; cy = v / s.X % s.Y; cz = v / (s.X * s.Y);
        }
        else
        {
            cx = rng.Next() % (ulong)s.X; cy = rng.Next() % (ulong)s.Y; cz = rng.Next() % (ulong)s.Z;
        }

        // Spatial transform: output offset (voxels from the patch centre) -> source offset.
        var m = Identity();
        var transformed = false;
        for (var axis = 0; axis < 3; axis++)
        {
            if (rng.NextDouble() < _options.RotationProbability)
            {
                var angle = (rng.NextDouble() * 2 - 1) * _options.MaxRotationDegrees * Math.PI / 180;
                m = Multiply(m, Rotation(axis, angle));
                transformed = true;
            }
        }
        if (rng.NextDouble() < _options.ScaleProbability)
        {
            var f = _options.Scale.Min + rng.NextDouble() * (_options.Scale.Max - _options.Scale.Min);
            for (var i = 0; i < 9; i++) m[i] /= f; // zooming in by f reads source offsets 1/f as far
            transformed = true;
        }
        var mirror = rng.NextDouble() < _options.MirrorXProbability;

        var (ox, oy, oz) = ((px - 1) / 2.0, (py - 1) / 2.0, (pz - 1) / 2.0);
        var k = 0;
        for (var z = 0; z < pz; z++)
        {
            for (var y = 0; y < py; y++)
            {
                for (var x = 0; x < px; x++, k++)
                {
                    var dx = (mirror ? px - 1 - x : x) - ox;
                    var dy = y - oy;
                    var dz = z - oz;
                    if (!transformed)
                    {
                        // Integer copy: patch voxel = source voxel at a whole-voxel offset (centres are whole voxels and the offsets are half-integers only for even sizes).
                        var sx = (int)Math.Floor(cx + dx + 0.5);
                        var sy = (int)Math.Floor(cy + dy + 0.5);
                        var sz = (int)Math.Floor(cz + dz + 0.5);
                        if ((uint)sx < (uint)s.X && (uint)sy < (uint)s.Y && (uint)sz < (uint)s.Z)
                        {
                            var i = sx + s.X * (sy + s.Y * sz);
                            image[k] = c.Image[i];
                            labels[k] = c.Labels[i];
                        }
                        else
                        {
                            image[k] = 0;
                            labels[k] = 0;
                        }
                        continue;
                    }
                    var fx = cx + m[0] * dx + m[1] * dy + m[2] * dz;
                    var fy = cy + m[3] * dx + m[4] * dy + m[5] * dz;
                    var fz = cz + m[6] * dx + m[7] * dy + m[8] * dz;
                    image[k] = Trilinear(c, fx, fy, fz);
                    labels[k] = Nearest(c, fx, fy, fz);
                }
            }
        }
        Intensity(image, rng);
    }

    private void Intensity(Span<float> image, SplitMix64 rng)
    {
        if (rng.NextDouble() < _options.BrightnessProbability)
        {
            var f = (float)(0.75 + rng.NextDouble() * 0.5);
            for (var i = 0; i < image.Length; i++) image[i] *= f;
        }
        if (rng.NextDouble() < _options.ContrastProbability)
        {
            var f = (float)(0.75 + rng.NextDouble() * 0.5);
            double sum = 0;
            for (var i = 0; i < image.Length; i++) sum += image[i];
            var mean = (float)(sum / image.Length);
            for (var i = 0; i < image.Length; i++) image[i] = (image[i] - mean) * f + mean;
        }
        if (rng.NextDouble() < _options.GammaProbability)
        {
            var gamma = 0.7 + rng.NextDouble() * 0.8;
            float lo = float.MaxValue, hi = float.MinValue;
            foreach (var v in image)
            {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            var range = hi - lo;
            if (range > 1e-6f)
            {
                for (var i = 0; i < image.Length; i++) image[i] = lo + range * (float)Math.Pow((image[i] - lo) / range, gamma);
            }
        }
        if (rng.NextDouble() < _options.NoiseProbability)
        {
            var sigma = rng.NextDouble() * 0.1;
            for (var i = 0; i < image.Length; i++) image[i] += (float)(sigma * Gaussian(rng));
        }
    }

    private static double Gaussian(SplitMix64 rng)
    {
        // Box-Muller; 1 - u keeps the logarithm finite.
        var u = 1 - rng.NextDouble();
        var v = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    private static float Trilinear(PreparedCase c, double x, double y, double z)
    {
        var s = c.Shape;
        var x0 = (int)Math.Floor(x); var y0 = (int)Math.Floor(y); var z0 = (int)Math.Floor(z);
        double fx = x - x0, fy = y - y0, fz = z - z0;
        double sum = 0;
        for (var dz = 0; dz <= 1; dz++)
        {
            var zz = z0 + dz;
            if ((uint)zz >= (uint)s.Z) continue;
            var wz = dz == 0 ? 1 - fz : fz;
            for (var dy = 0; dy <= 1; dy++)
            {
                var yy = y0 + dy;
                if ((uint)yy >= (uint)s.Y) continue;
                var wy = dy == 0 ? 1 - fy : fy;
                for (var dx = 0; dx <= 1; dx++)
                {
                    var xx = x0 + dx;
                    if ((uint)xx >= (uint)s.X) continue;
                    var wx = dx == 0 ? 1 - fx : fx;
                    sum += wx * wy * wz * c.Image[xx + s.X * (yy + s.Y * zz)];
                }
            }
        }
        return (float)sum; // outside voxels count as 0, the z-scored mean
    }

    private static long Nearest(PreparedCase c, double x, double y, double z)
    {
        var s = c.Shape;
        var xi = (int)Math.Floor(x + 0.5); var yi = (int)Math.Floor(y + 0.5); var zi = (int)Math.Floor(z + 0.5);
        if ((uint)xi >= (uint)s.X || (uint)yi >= (uint)s.Y || (uint)zi >= (uint)s.Z) return 0;
        return c.Labels[xi + s.X * (yi + s.Y * zi)];
    }

    private static double[] Identity() => [1, 0, 0, 0, 1, 0, 0, 0, 1];

    private static double[] Rotation(int axis, double a)
    {
        double c = Math.Cos(a), s = Math.Sin(a);
        return axis switch
        {
            0 => [1, 0, 0, 0, c, -s, 0, s, c],
            1 => [c, 0, s, 0, 1, 0, -s, 0, c],
            _ => [c, -s, 0, s, c, 0, 0, 0, 1],
        };
    }

    private static double[] Multiply(double[] a, double[] b)
    {
        var r = new double[9];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
        }
        return r;
    }
}
