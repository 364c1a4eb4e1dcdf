using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HippoNode.Training;

/// <summary>The one inner loop of the MLP: acc[j] += Σ_k c[k] · M[k, j], k ascending, with a multiply then an add per term.</summary>
/// <remarks>
/// Every output element sees the same operations in the same order whether it is computed in a 256-bit lane or in the
/// scalar tail, so results do not depend on the SIMD width. Terms with c[k] = 0 are skipped (ReLU zeros), which leaves
/// every sum unchanged. The accumulators of a 32-wide block stay in registers across the k loop.
/// </remarks>
internal static class Kernels
{
    /// <param name="c">The coefficients; c[k] is read at <c>k * cStride</c>.</param>
    /// <param name="cStride">Distance between consecutive coefficients.</param>
    /// <param name="count">Number of terms k.</param>
    /// <param name="m">The matrix; row k starts at <c>k * mStride</c>.</param>
    /// <param name="mStride">Row stride of <paramref name="m"/>.</param>
    /// <param name="acc">The accumulators (row length), updated in place.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateRows(ReadOnlySpan<float> c, int cStride, int count, ReadOnlySpan<float> m, int mStride, Span<float> acc)
    {
        var n = acc.Length;
        if (count == 0 || n == 0) return;
        if ((long)(count - 1) * cStride >= c.Length || (long)(count - 1) * mStride + n > m.Length) throw new ArgumentException("coefficients or matrix too short");
        ref var cr = ref MemoryMarshal.GetReference(c);
        ref var mr = ref MemoryMarshal.GetReference(m);
        ref var ar = ref MemoryMarshal.GetReference(acc);
        var j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 32 <= n; j += 32)
            {
                var a0 = Vector256.LoadUnsafe(ref ar, (nuint)j);
                var a1 = Vector256.LoadUnsafe(ref ar, (nuint)(j + 8));
                var a2 = Vector256.LoadUnsafe(ref ar, (nuint)(j + 16));
                var a3 = Vector256.LoadUnsafe(ref ar, (nuint)(j + 24));
                for (var k = 0; k < count; k++)
                {
                    var ck = Unsafe.Add(ref cr, k * cStride);
                    if (ck == 0) continue;
                    var v = Vector256.Create(ck);
                    var row = (nuint)(k * mStride + j);
                    a0 += v * Vector256.LoadUnsafe(ref mr, row);
                    a1 += v * Vector256.LoadUnsafe(ref mr, row + 8);
                    a2 += v * Vector256.LoadUnsafe(ref mr, row + 16);
                    a3 += v * Vector256.LoadUnsafe(ref mr, row + 24);
                }
                a0.StoreUnsafe(ref ar, (nuint)j);
                a1.StoreUnsafe(ref ar, (nuint)(j + 8));
                a2.StoreUnsafe(ref ar, (nuint)(j + 16));
                a3.StoreUnsafe(ref ar, (nuint)(j + 24));
            }
            for (; j + 8 <= n; j += 8)
            {
                var a0 = Vector256.LoadUnsafe(ref ar, (nuint)j);
                for (var k = 0; k < count; k++)
                {
                    var ck = Unsafe.Add(ref cr, k * cStride);
                    if (ck == 0) continue;
                    a0 += Vector256.Create(ck) * Vector256.LoadUnsafe(ref mr, (nuint)(k * mStride + j));
                }
                a0.StoreUnsafe(ref ar, (nuint)j);
            }
        }
        for (; j < n; j++)
        {
            var s = Unsafe.Add(ref ar, j);
            for (var k = 0; k < count; k++)
            {
                var ck = Unsafe.Add(ref cr, k * cStride);
                if (ck == 0) continue;
                s += ck * Unsafe.Add(ref mr, k * mStride + j);
            }
            Unsafe.Add(ref ar, j) = s;
        }
    }
}
