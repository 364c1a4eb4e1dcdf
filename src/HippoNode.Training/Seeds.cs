using System.Text;
using HippoNode.Datasets;

namespace HippoNode.Training;

/// <summary>Seed derivation: every random stream of a run (sampling per case, initialisation per fold, order per epoch) gets its own seed from the run seed, so a stream never depends on how many draws another made.</summary>
internal static class Seeds
{
    /// <summary>A seed for the stream named by <paramref name="parts"/> under <paramref name="seed"/> (SplitMix64 mixing, order-sensitive).</summary>
    public static ulong Derive(ulong seed, params ReadOnlySpan<ulong> parts)
    {
        var s = seed;
        foreach (var p in parts) s = new SplitMix64(s ^ (p * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL)).Next();
        return new SplitMix64(s).Next();
    }

    /// <summary>FNV-1a 64 of the UTF-8 bytes: a hash of a case id that is the same in every process (string.GetHashCode is not).</summary>
    public static ulong Hash(string text)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            h ^= b;
            h *= 0x100000001B3UL;
        }
        return h;
    }

    /// <summary>A permutation of 0..n-1 (Fisher-Yates) drawn from the stream <paramref name="streamSeed"/>.</summary>
    public static int[] Permutation(int n, ulong streamSeed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new SplitMix64(streamSeed);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = (int)(rng.Next() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public static double NextDouble(this SplitMix64 rng) => (rng.Next() >> 11) * (1.0 / (1UL << 53));
}
