using HippoNode.Imaging;
using HippoNode.Onnx;

namespace HippoNode.Training;

/// <summary>The C# computation of a <see cref="VoxelFeatureBank"/>: the same arithmetic as the exported ONNX graph (see <see cref="VoxelClassifierOnnxExporter"/>), up to float summation order.</summary>
public static class FeatureExtractor
{
    /// <summary>All features of a z-scored volume, channel-major: channel c of voxel v at [c · V + v] (voxels x fastest).</summary>
    /// <param name="bank">The features.</param>
    /// <param name="normalized">The z-scored voxels (<c>Preprocessing.ZScore</c>), x fastest.</param>
    /// <param name="shape">The grid.</param>
    public static float[] Compute(VoxelFeatureBank bank, ReadOnlySpan<float> normalized, VolumeShape shape)
    {
        ArgumentNullException.ThrowIfNull(bank);
        var v = checked((int)shape.VoxelCount);
        if (normalized.Length != v) throw new ArgumentException($"shape {shape} needs {v} voxels, got {normalized.Length}", nameof(normalized));
        var result = new float[bank.Count * (long)v];
        var filtered = new Dictionary<(bool, double, int, int, int), float[]>();
        float[]? squared = null;
        var image = normalized.ToArray();

        float[] Filter(bool sq, VoxelFeature f)
        {
            var key = f.Kind == VoxelFeatureKind.Gaussian ? (sq, f.Sigma, f.Order.X, f.Order.Y, f.Order.Z) : (sq, f.Sigma, 0, 0, 0);
            if (filtered.TryGetValue(key, out var done)) return done;
            float[] input;
            if (sq)
            {
                if (squared is null)
                {
                    squared = new float[v];
                    for (var i = 0; i < v; i++) squared[i] = image[i] * image[i];
                }
                input = squared;
            }
            else input = image;
            var output = new float[v];
            Separable(input, shape, f.Kernel(0), f.Kernel(1), f.Kernel(2), output);
            filtered[key] = output;
            return output;
        }

        for (var c = 0; c < bank.Count; c++)
        {
            var f = bank.Features[c];
            var dst = result.AsSpan(c * v, v);
            switch (f.Kind)
            {
                case VoxelFeatureKind.Image:
                    image.CopyTo(dst);
                    break;
                case VoxelFeatureKind.Gaussian:
                    Filter(false, f).CopyTo(dst);
                    break;
                case VoxelFeatureKind.LocalVariance:
                    {
                        var m = Filter(false, f);
                        var s = Filter(true, f);
                        for (var i = 0; i < v; i++) dst[i] = s[i] - m[i] * m[i];
                        break;
                    }
                case VoxelFeatureKind.Shifted:
                    Shift(result.AsSpan(f.Source * v, v), shape, f.Offset, dst);
                    break;
                default:
                    Coordinate(shape, f, dst);
                    break;
            }
        }
        return result;
    }

    /// <summary>Separable cross-correlation with zero padding: along x with <paramref name="kx"/>, then y, then z (each kernel odd-length, centred).</summary>
    public static void Separable(ReadOnlySpan<float> input, VolumeShape shape, ReadOnlySpan<float> kx, ReadOnlySpan<float> ky, ReadOnlySpan<float> kz, Span<float> output)
    {
        var v = (int)shape.VoxelCount;
        var a = new float[v];
        var b = new float[v];
        Pass(input, a, shape, kx, 1, shape.X);
        Pass(a, b, shape, ky, shape.X, shape.Y);
        Pass(b, output, shape, kz, shape.X * shape.Y, shape.Z);
    }

    /// <summary>One 1D correlation along an axis with stride <paramref name="stride"/> and length <paramref name="n"/>: out[i] = Σ_t k[t] · in[i + t - r], terms outside skipped (zeros).</summary>
    private static void Pass(ReadOnlySpan<float> input, Span<float> output, VolumeShape shape, ReadOnlySpan<float> k, int stride, int n)
    {
        var r = k.Length / 2;
        var v = (int)shape.VoxelCount;
        for (var idx = 0; idx < v; idx++)
        {
            var pos = idx / stride % n;
            var lo = Math.Max(0, r - pos);
            var hi = Math.Min(k.Length, n - pos + r);
            var baseIdx = idx + (lo - r) * stride;
            var sum = 0f;
            for (var t = lo; t < hi; t++, baseIdx += stride) sum += k[t] * input[baseIdx];
            output[idx] = sum;
        }
    }

    private static void Shift(ReadOnlySpan<float> source, VolumeShape s, (int X, int Y, int Z) o, Span<float> dst)
    {
        for (var z = 0; z < s.Z; z++)
        {
            for (var y = 0; y < s.Y; y++)
            {
                for (var x = 0; x < s.X; x++)
                {
                    int sx = x + o.X, sy = y + o.Y, sz = z + o.Z;
                    var inside = (uint)sx < (uint)s.X && (uint)sy < (uint)s.Y && (uint)sz < (uint)s.Z;
                    dst[x + s.X * (y + s.Y * z)] = inside ? source[sx + s.X * (sy + s.Y * sz)] : 0f;
                }
            }
        }
    }

    private static void Coordinate(VolumeShape s, VoxelFeature f, Span<float> dst)
    {
        var n = s[f.Axis];
        var values = new float[n];
        var nf = (float)n;
        for (var i = 0; i < n; i++)
        {
            var r = 0.5f + i;
            values[i] = f.Mode switch
            {
                CoordinateMode.Normalized => r / nf,
                CoordinateMode.FromStart => r * f.Scale,
                _ => (nf - r) * f.Scale,
            };
        }
        var idx = 0;
        for (var z = 0; z < s.Z; z++)
        {
            for (var y = 0; y < s.Y; y++)
            {
                for (var x = 0; x < s.X; x++) dst[idx++] = values[f.Axis switch { 0 => x, 1 => y, _ => z }];
            }
        }
    }
}
