using System.Buffers.Binary;
using HippoNode.Dicom;

namespace HippoNode.Fuzzing;

/// <summary>
/// Seeded byte-level mutations aimed at DICOM structure: bit flips, interesting values, truncation, length fields
/// and VRs and tags at element headers, chunk duplication and removal, random runs. Positions lean toward element
/// headers and the first KiBs, where the structure is.
/// </summary>
public static class ByteMutator
{
    private static readonly byte[] Interesting8 = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x20, 0x5C];

    /// <summary>Lengths that break parsers: zero, one, odd, 16-bit limits, sign bits, undefined length.</summary>
    public static readonly uint[] Interesting32 =
        [0, 1, 2, 3, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF];

    /// <summary>One to three mutations of <paramref name="source"/>; returns the bytes and what was done.</summary>
    /// <param name="source">The seed bytes.</param>
    /// <param name="headers">Offsets of element headers in the seed (see <see cref="FindHeaders"/>).</param>
    /// <param name="bigEndian">Length fields are big-endian (Explicit VR Big Endian seeds).</param>
    /// <param name="rng">The input's random source.</param>
    public static (byte[] Bytes, string Mutations) Mutate(byte[] source, int[] headers, bool bigEndian, Random rng)
    {
        var data = new List<byte>(source);
        var applied = new List<string>();
        var n = 1 + rng.Next(3);
        for (var k = 0; k < n && data.Count > 0; k++)
        {
            var op = rng.Next(10);
            if (op is 3 or 4 or 8 && headers.Length == 0) op = 0;
            if (op == 7 && headers.Length == 0) op = 1;
            switch (op)
            {
                case 0: // bit flips
                {
                    var flips = 1 + rng.Next(8);
                    for (var f = 0; f < flips; f++)
                    {
                        var p = Position(headers, data.Count, rng);
                        data[p] ^= (byte)(1 << rng.Next(8));
                    }
                    applied.Add($"flip{flips}");
                    break;
                }
                case 1: // interesting byte values
                {
                    var p = Position(headers, data.Count, rng);
                    var v = Interesting8[rng.Next(Interesting8.Length)];
                    var run = 1 + rng.Next(4);
                    for (var j = 0; j < run && p + j < data.Count; j++) data[p + j] = v;
                    applied.Add($"set@{p}x{run}=0x{v:X2}");
                    break;
                }
                case 2: // truncation
                    Truncate(data, headers, rng, applied);
                    break;
                case 3:
                case 4: // length field corruption at an element header
                {
                    var h = headers[rng.Next(headers.Length)];
                    var value = rng.Next(3) == 0 ? (uint)rng.Next() : Interesting32[rng.Next(Interesting32.Length)];
                    // The header's length field: 16-bit at +6 (short explicit), 32-bit at +8 (long explicit) or +4 (implicit, items).
                    var at = rng.Next(3) switch { 0 => h + 6, 1 => h + 8, _ => h + 4 };
                    var wide = at != h + 6;
                    if (at + (wide ? 4 : 2) > data.Count)
                    {
                        Truncate(data, headers, rng, applied);
                        break;
                    }
                    Span<byte> tmp = stackalloc byte[4];
                    if (wide) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(tmp, value); else BinaryPrimitives.WriteUInt32LittleEndian(tmp, value); }
                    else { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(tmp, (ushort)value); else BinaryPrimitives.WriteUInt16LittleEndian(tmp, (ushort)value); }
                    for (var j = 0; j < (wide ? 4 : 2); j++) data[at + j] = tmp[j];
                    applied.Add($"len@{at}={(wide ? value : (ushort)value):X}");
                    break;
                }
                case 5: // chunk duplication
                {
                    var a = Position(headers, data.Count, rng);
                    var len = Math.Min(1 + rng.Next(64), data.Count - a);
                    var chunk = data.GetRange(a, len);
                    var b = Position(headers, data.Count, rng);
                    data.InsertRange(b, chunk);
                    applied.Add($"dup[{a}+{len}]@{b}");
                    break;
                }
                case 6: // chunk removal
                {
                    var a = Position(headers, data.Count, rng);
                    var len = Math.Min(1 + rng.Next(64), data.Count - a);
                    data.RemoveRange(a, len);
                    applied.Add($"cut[{a}+{len}]");
                    break;
                }
                case 7: // VR corruption at an element header
                {
                    var h = headers[rng.Next(headers.Length)];
                    if (h + 6 > data.Count)
                    {
                        Truncate(data, headers, rng, applied);
                        break;
                    }
                    string[] vrs = ["SQ", "UN", "OB", "OW", "UT", "US", "AT", "FD", "LO", "XX", "\0\0"];
                    var vr = vrs[rng.Next(vrs.Length)];
                    data[h + 4] = (byte)vr[0];
                    data[h + 5] = (byte)vr[1];
                    applied.Add($"vr@{h}={vr.Replace("\0", "00", StringComparison.Ordinal)}");
                    break;
                }
                case 8: // tag corruption: into an item / delimiter / private / pixel data / command tag
                {
                    var h = headers[rng.Next(headers.Length)];
                    if (h + 4 > data.Count)
                    {
                        Truncate(data, headers, rng, applied);
                        break;
                    }
                    (ushort G, ushort E)[] tags = [(0xFFFE, 0xE000), (0xFFFE, 0xE00D), (0xFFFE, 0xE0DD), (0x0029, 0x1010), (0x7FE0, 0x0010), (0x0008, 0x0005), (0x0002, 0x0010), (0x0000, 0x0000), (0x0000, 0x0100), (0x0000, 0x0800)];
                    var (g, e) = tags[rng.Next(tags.Length)];
                    data[h] = (byte)g; data[h + 1] = (byte)(g >> 8); data[h + 2] = (byte)e; data[h + 3] = (byte)(e >> 8);
                    applied.Add($"tag@{h}=({g:X4},{e:X4})");
                    break;
                }
                default: // random bytes overwrite
                {
                    var p = Position(headers, data.Count, rng);
                    var len = Math.Min(1 + rng.Next(16), data.Count - p);
                    for (var j = 0; j < len; j++) data[p + j] = (byte)rng.Next(256);
                    applied.Add($"rand@{p}+{len}");
                    break;
                }
            }
        }
        return ([.. data], string.Join(' ', applied));
    }

    private static void Truncate(List<byte> data, int[] headers, Random rng, List<string> applied)
    {
        var p = rng.Next(2) == 0 ? Position(headers, data.Count, rng) : rng.Next(data.Count);
        data.RemoveRange(p, data.Count - p);
        applied.Add($"truncate@{p}");
    }

    /// <summary>A position biased toward element headers and the first KiBs.</summary>
    private static int Position(int[] headers, int length, Random rng)
    {
        var r = rng.Next(10);
        int p;
        if (r < 5 && headers.Length > 0) p = headers[rng.Next(headers.Length)] + rng.Next(12);
        else if (r < 8) p = rng.Next(Math.Min(length, 4096));
        else p = rng.Next(length);
        return Math.Clamp(p, 0, length - 1);
    }

    /// <summary>Offsets that look like element headers: an explicit VR at +4, an item/delimiter tag, or a dictionary tag with a plausible 32-bit length.</summary>
    public static int[] FindHeaders(byte[] b)
    {
        var found = new List<int>();
        for (var i = 0; i + 8 <= b.Length; i += 2)
        {
            var vr = (DicomVR)((b[i + 4] << 8) | b[i + 5]);
            var groupLE = (ushort)(b[i] | (b[i + 1] << 8));
            var groupBE = (ushort)((b[i] << 8) | b[i + 1]);
            var elementLE = (ushort)(b[i + 2] | (b[i + 3] << 8));
            if (vr.IsKnown() && (groupLE is >= 0x0002 and <= 0x7FE0 || groupBE is >= 0x0002 and <= 0x7FE0)) found.Add(i);
            else if (groupLE == 0xFFFE && elementLE is 0xE000 or 0xE00D or 0xE0DD) found.Add(i);
            else if (groupLE is >= 0x0008 and <= 0x7FE0 && DicomDictionary.Find(new DicomTag(groupLE, elementLE)) is not null
                     && BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i + 4)) is var len && (len == 0xFFFFFFFF || len <= b.Length - i - 8)) found.Add(i);
            if (found.Count >= 4096) break;
        }
        return [.. found];
    }

    /// <summary>Element header offsets of an Implicit VR Little Endian data set with defined lengths (a DIMSE command set), walked exactly.</summary>
    public static int[] ImplicitHeaders(byte[] b)
    {
        var found = new List<int>();
        for (var i = 0; i + 8 <= b.Length;)
        {
            found.Add(i);
            var len = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i + 4));
            if (len > b.Length) break;
            i += 8 + (int)len;
        }
        return [.. found];
    }
}
