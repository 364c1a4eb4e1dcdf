namespace HippoNode.Datasets;

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): a tiny, fully specified PRNG, so a seeded split is the same on every runtime and version.</summary>
/// <remarks>System.Random's seeded sequence is an implementation detail of .NET; a committed split must not depend on one.</remarks>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>), without modulo bias (rejection sampling).</summary>
    public int NextBelow(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        var b = (ulong)bound;
        // Values at or above the largest multiple of bound would favour small results; draw again.
        var limit = ulong.MaxValue - ulong.MaxValue % b;
        ulong x;
        do x = Next(); while (x >= limit);
        return (int)(x % b);
    }
}
