using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>
/// Compares what our reader made of a file with what dcmdump made of it: every element at every depth, by tag,
/// VR, value length, VM and value (strings byte-exact after trailing padding, numbers as the binary value, binary as
/// bytes). Sequences: item count, and for defined-length sequences and items the length, checked against the length
/// our writer computes for the same structure in the same transfer syntax.
/// </summary>
/// <remarks>
/// Normalisations, each a difference in presentation only, not in what was read:
/// <list type="bullet">
/// <item>DCMTK pseudo-VRs from its dictionary for Implicit VR data: <c>xs</c> is US or SS, <c>ox</c> OB or OW,
/// <c>lt</c> OW/US/SS, <c>up</c> UL. Our dictionary resolves each to one standard VR.</item>
/// <item>US vs SS for "US or SS" attributes of Implicit VR data: DCMTK picks SS from Pixel Representation for a few
/// attributes (Smallest/Largest Image Pixel Value ...); the bytes are the same and are compared as DCMTK reads them.</item>
/// <item>VM of an empty OB/OW/OF/OD/OL/OV/UN value: DCMTK says 1, we say 0 (no value).</item>
/// </list>
/// </remarks>
internal sealed class DumpComparer
{
    private readonly List<string> _differences = [];
    private readonly DicomWriter _lengths;
    private readonly bool _implicit;
    private readonly bool _compareSequenceLengths;
    private readonly DicomWriteOptions? _written;
    private const int MaxDifferences = 40;

    private DumpComparer(DicomTransferSyntax syntax, bool compareSequenceLengths, DicomWriteOptions? written = null)
    {
        _lengths = new DicomWriter(Stream.Null, syntax, written);
        _implicit = !syntax.IsExplicitVR;
        _compareSequenceLengths = compareSequenceLengths;
        _written = written;
    }

    /// <summary>Every difference between our reading of a file and dcmdump's, as readable lines; empty when they agree.</summary>
    /// <remarks>Set compareSequenceLengths false when the file we read is not the file dcmdump read byte for byte.</remarks>
    public static List<string> Compare(DicomFile ours, DumpFile dump, bool compareMeta = true, bool compareSequenceLengths = true)
    {
        var c = new DumpComparer(ours.TransferSyntax, compareSequenceLengths);
        if (compareMeta)
        {
            var metaComparer = new DumpComparer(DicomTransferSyntax.ExplicitVRLittleEndian, compareSequenceLengths);
            metaComparer.CompareLists("meta", dump.Meta, ours.FileMetaInformation);
            c._differences.AddRange(metaComparer._differences);
        }
        c.CompareLists("", dump.Dataset, ours.Dataset);
        return c._differences;
    }

    /// <summary>
    /// Compares dcmdump's reading of a file we wrote (in <paramref name="syntax"/> with <paramref name="options"/>) with the
    /// data set we wrote. Besides the rules of <see cref="Compare"/>: group lengths must be the ones our writer computes;
    /// sequences and items must be undefined-length (u/l) exactly when the options ask for it, else have the lengths our
    /// writer computes; odd values come back padded; in Implicit VR, DCMTK can only know the dictionary VR (?? for
    /// private and unknown tags), and the value is then compared as DCMTK reads it.
    /// </summary>
    public static List<string> CompareWritten(DicomDataset written, DumpFile dump, DicomTransferSyntax syntax, DicomWriteOptions options)
    {
        var c = new DumpComparer(syntax, compareSequenceLengths: true, written: options);
        c.CompareLists("", dump.Dataset, written);
        return c._differences;
    }

    private void Add(string path, string what)
    {
        if (_differences.Count < MaxDifferences) _differences.Add($"{path}: {what}");
        else if (_differences.Count == MaxDifferences) _differences.Add("... (more differences left out)");
    }

    private static string Child(string path, DicomTag tag) => path.Length == 0 ? tag.ToString() : $"{path}.{tag}";

    private void CompareLists(string path, List<DumpNode> dump, DicomDataset ours)
    {
        var mine = ours.ToList();
        int i = 0, j = 0;
        while (i < dump.Count || j < mine.Count)
        {
            if (j >= mine.Count || (i < dump.Count && dump[i].Tag < mine[j].Tag))
            {
                Add(Child(path, dump[i].Tag), $"dcmdump has it ({dump[i]}), we do not");
                i++;
            }
            else if (i >= dump.Count || mine[j].Tag < dump[i].Tag)
            {
                Add(Child(path, mine[j].Tag), $"we have it ({mine[j]}), dcmdump does not");
                j++;
            }
            else
            {
                CompareNode(Child(path, dump[i].Tag), dump[i], mine[j], ours);
                i++;
                j++;
            }
        }
    }

    private void CompareNode(string path, DumpNode d, DicomItem mine, DicomDataset parent)
    {
        switch (mine)
        {
            case DicomSequence sq:
                if (!d.IsSequence)
                {
                    Add(path, $"we read a sequence, dcmdump {d}");
                    return;
                }
                if (d.Children.Count != sq.Items.Count)
                {
                    Add(path, $"{sq.Items.Count} items, dcmdump {d.Children.Count}");
                    return;
                }
                var undefinedWritten = _lengths.HasUndefinedLength(sq);
                if (_written is not null && (d.Length is null) != undefinedWritten)
                    Add(path, $"sequence written with {(undefinedWritten ? "undefined" : "defined")} length, dcmdump reads {(d.Length is null ? "u/l" : "a defined length")}");
                if (_compareSequenceLengths && d.Length is { } sqLen && AllDefined(d))
                {
                    var mineLen = _lengths.ItemLength(sq) - (_implicit ? 8 : 12);
                    if (mineLen != sqLen) Add(path, $"sequence length {mineLen} by our writer, {sqLen} in the file");
                }
                for (var k = 0; k < sq.Items.Count; k++)
                {
                    var item = d.Children[k];
                    var itemPath = $"{path}[{k}]";
                    if (item.Tag != DicomTag.Item || item.VR != "na")
                    {
                        Add(itemPath, $"dcmdump shows {item} where an item belongs");
                        continue;
                    }
                    if (_written is not null && (item.Length is null) != undefinedWritten)
                        Add(itemPath, $"item written with {(undefinedWritten ? "undefined" : "defined")} length, dcmdump reads {(item.Length is null ? "u/l" : "a defined length")}");
                    if (_compareSequenceLengths && item.Length is { } itemLen && AllDefined(item))
                    {
                        var mineLen = _lengths.DatasetLength(sq.Items[k]);
                        if (mineLen != itemLen) Add(itemPath, $"item length {mineLen} by our writer, {itemLen} in the file");
                    }
                    CompareLists(itemPath, item.Children, sq.Items[k]);
                }
                return;

            case DicomFragmentSequence fs:
                if (!d.IsPixelSequence)
                {
                    Add(path, $"we read encapsulated fragments, dcmdump {d}");
                    return;
                }
                if (fs.VR.Code() != d.VR && !(d.VR == "ox" && fs.VR is DicomVR.OB or DicomVR.OW))
                    Add(path, $"VR {fs.VR.Code()}, dcmdump {d.VR}");
                if (d.Children.Count != fs.Fragments.Count + 1)
                {
                    Add(path, $"offset table + {fs.Fragments.Count} fragments, dcmdump {d.Children.Count} items");
                    return;
                }
                for (var k = 0; k < d.Children.Count; k++)
                {
                    var buf = k == 0 ? fs.OffsetTable : fs.Fragments[k - 1];
                    var f = d.Children[k];
                    var fpath = $"{path}[{(k == 0 ? "offset table" : "fragment " + k.ToString(CultureInfo.InvariantCulture))}]";
                    if (f.VR != "pi") Add(fpath, $"dcmdump shows {f} where a fragment belongs");
                    var fragment = buf.GetMemory().Span;
                    if (f.Length == buf.Length + 1 && (buf.Length & 1) == 1)
                    {
                        // An odd fragment: DCMTK pads it on load, our writer pads it on write.
                        var padded = new byte[buf.Length + 1];
                        fragment.CopyTo(padded);
                        CompareBytes(fpath, f.Value, padded);
                    }
                    else if (f.Length != buf.Length) Add(fpath, $"length {buf.Length}, dcmdump {f.Length}");
                    else CompareBytes(fpath, f.Value, fragment);
                }
                return;

            case DicomElement e:
                CompareElement(path, d, e, parent);
                return;
        }
    }

    private static bool AllDefined(DumpNode n) => n.Length is not null && n.Children.All(AllDefined);

    private void CompareElement(string path, DumpNode d, DicomElement e, DicomDataset parent)
    {
        if (d.IsSequence || d.IsPixelSequence)
        {
            Add(path, $"we read an element ({e}), dcmdump {d}");
            return;
        }
        if (_written is not null && e.Tag.IsGroupLength)
        {
            // Our writer recomputes group lengths: the value must be the encoded length of the rest of the group.
            long expected = 0;
            foreach (var item in parent)
                if (item.Tag.Group == e.Tag.Group && !item.Tag.IsGroupLength) expected += _lengths.ItemLength(item);
            if (d.VR != "UL" || d.Value != expected.ToString(CultureInfo.InvariantCulture))
                Add(path, $"group length {d.VR} {d.Value}, our writer's {expected}");
            return;
        }
        var ourVR = e.VR.Code();
        var shownAs = e.VR; // the VR whose rules interpret the bytes
        if (d.VR != ourVR && _written is not null && _implicit && ImplicitReading(d.VR, e.Tag) is { } dictionaryVR)
        {
            // Implicit VR keeps no VR: DCMTK takes its dictionary's (?? when it has none), and so would any reader.
            shownAs = dictionaryVR;
        }
        else if (d.VR != ourVR)
        {
            switch (d.VR)
            {
                case "xs" when e.VR is DicomVR.US or DicomVR.SS:
                case "up" when e.VR is DicomVR.UL:
                case "ox" when e.VR is DicomVR.OB or DicomVR.OW:
                case "lt" when e.VR is DicomVR.OW or DicomVR.US or DicomVR.SS:
                case "??" when e.VR is DicomVR.UN: // DCMTK's "unknown VR" of Implicit VR data it has no dictionary entry for
                    break;
                case "SS" or "US" when _implicit && e.VR is DicomVR.US or DicomVR.SS && IsUsOrSs(e.Tag):
                    shownAs = d.VR == "SS" ? DicomVR.SS : DicomVR.US;
                    break;
                default:
                    Add(path, $"VR {ourVR}, dcmdump {d.VR}");
                    return;
            }
        }
        var bytes = e.Buffer.GetMemory().Span;
        if (d.Length == e.Length + 1 && (e.Length & 1) == 1 && (_written is not null || e.VR is DicomVR.OB or DicomVR.OW or DicomVR.UN))
        {
            // An odd-length value (not allowed, PS3.5 7.1.1): DCMTK pads OB/OW/UN on load; we keep what was read and
            // our writer pads every odd value. Compare with the pad byte added.
            var padded = new byte[e.Length + 1];
            bytes.CopyTo(padded);
            padded[^1] = e.VR.PaddingByte();
            CompareValue(path, d, shownAs, padded);
            return;
        }
        if (d.Length != e.Length)
        {
            Add(path, $"length {e.Length}, dcmdump {d.Length?.ToString(CultureInfo.InvariantCulture) ?? "u/l"}");
            return;
        }
        // VM as the VR dcmdump read it with (differs from ours only for Implicit VR output read with the dictionary's VR).
        var vm = shownAs == e.VR ? e.ValueMultiplicity : new DicomElement(e.Tag, shownAs, e.Buffer).ValueMultiplicity;
        var emptyBinary = e.Length == 0 && d.VM == 1 &&
            shownAs is DicomVR.OB or DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV or DicomVR.UN;
        if (vm != d.VM && !emptyBinary) Add(path, $"VM {vm}, dcmdump {d.VM}");
        if (e.Length == 0)
        {
            if (d.Value != "(no value available)") Add(path, $"empty value, dcmdump {d.Value}");
            return;
        }
        CompareValue(path, d, shownAs, bytes);
    }

    /// <summary>The VR a reader of Implicit VR data gives the tag, when dcmdump's VR is that one; null otherwise.</summary>
    private static DicomVR? ImplicitReading(string dumpVR, DicomTag tag)
    {
        var dictionary = DicomDictionary.ImplicitVR(tag);
        if (dumpVR == dictionary.Code() || PseudoMatches(dumpVR, dictionary.Code())) return dictionary;
        if (dumpVR == "??" && dictionary == DicomVR.UN) return DicomVR.UN;
        if (dumpVR is "US" or "SS" && IsUsOrSs(tag)) return dumpVR == "SS" ? DicomVR.SS : DicomVR.US;
        return null;
    }

    /// <summary>True when a DCMTK pseudo-VR (xs, ox, lt, up) covers the standard VR.</summary>
    private static bool PseudoMatches(string pseudo, string vr) => pseudo switch
    {
        "xs" => vr is "US" or "SS",
        "ox" => vr is "OB" or "OW",
        "lt" => vr is "OW" or "US" or "SS",
        "up" => vr is "UL",
        _ => false,
    };

    private static bool IsUsOrSs(DicomTag tag)
    {
        var entry = DicomDictionary.Find(tag);
        return entry is not null && entry.AllowedVRs.Contains(DicomVR.US) && entry.AllowedVRs.Contains(DicomVR.SS);
    }

    private void CompareValue(string path, DumpNode d, DicomVR vr, ReadOnlySpan<byte> bytes)
    {
        if (vr.IsString())
        {
            // Trailing padding is not part of the value: DCMTK drops the VR's padding byte (NUL for UI, space for
            // the others) and prints "(no value available)" when nothing is left.
            var trimmed = bytes;
            var pad = vr.PaddingByte();
            while (trimmed.Length > 0 && trimmed[^1] == pad) trimmed = trimmed[..^1];
            if (trimmed.Length == 0 && d.Value == "(no value available)") return;
            byte[] printed;
            try
            {
                printed = DcmtkDump.UnquoteString(d.Value);
            }
            catch (FormatException ex)
            {
                Add(path, ex.Message);
                return;
            }
            if (!trimmed.SequenceEqual(printed))
                Add(path, $"value [{Show(trimmed)}], dcmdump [{Show(printed)}]");
            return;
        }
        switch (vr)
        {
            case DicomVR.OB or DicomVR.UN:
                CompareBytes(path, d.Value, bytes);
                return;
            case DicomVR.OW:
                CompareWords(path, d.Value, bytes);
                return;
            case DicomVR.AT:
            {
                var parts = d.Value.Split('\\');
                var n = bytes.Length / 4;
                if (parts.Length != n)
                {
                    Add(path, $"{n} tags, dcmdump {parts.Length}");
                    return;
                }
                for (var k = 0; k < n; k++)
                {
                    var t = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(4 * k)..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[(4 * k + 2)..]));
                    if (!string.Equals(t.ToString(), parts[k], StringComparison.OrdinalIgnoreCase))
                    {
                        Add(path, $"tag {k} is {t}, dcmdump {parts[k]}");
                        return;
                    }
                }
                return;
            }
        }
        var size = vr.ValueSize();
        var values = d.Value.Split('\\');
        var count = bytes.Length / size;
        if (values.Length != count)
        {
            Add(path, $"{count} values, dcmdump {values.Length} ({Shorten(d.Value)})");
            return;
        }
        for (var k = 0; k < count; k++)
        {
            var s = bytes.Slice(k * size, size);
            var text = values[k];
            var ok = vr switch
            {
                DicomVR.US => ushort.TryParse(text, CultureInfo.InvariantCulture, out var v) && v == BinaryPrimitives.ReadUInt16LittleEndian(s),
                DicomVR.SS => short.TryParse(text, CultureInfo.InvariantCulture, out var v) && v == BinaryPrimitives.ReadInt16LittleEndian(s),
                DicomVR.UL or DicomVR.OL => uint.TryParse(text, CultureInfo.InvariantCulture, out var v) && v == BinaryPrimitives.ReadUInt32LittleEndian(s),
                DicomVR.SL => int.TryParse(text, CultureInfo.InvariantCulture, out var v) && v == BinaryPrimitives.ReadInt32LittleEndian(s),
                DicomVR.SV => long.TryParse(text, CultureInfo.InvariantCulture, out var v) && v == BinaryPrimitives.ReadInt64LittleEndian(s),
                DicomVR.UV or DicomVR.OV => ulong.TryParse(text, CultureInfo.InvariantCulture, out var v) && v == BinaryPrimitives.ReadUInt64LittleEndian(s),
                DicomVR.FL or DicomVR.OF => SameFloat(text, BinaryPrimitives.ReadSingleLittleEndian(s)),
                DicomVR.FD or DicomVR.OD => SameDouble(text, BinaryPrimitives.ReadDoubleLittleEndian(s)),
                _ => false,
            };
            if (!ok)
            {
                Add(path, $"value {k} differs: dcmdump '{text}', our bytes {Convert.ToHexString(s)} as {vr.Code()}");
                return;
            }
        }
    }

    // dcmdump prints 9 significant digits for FL and 17 for FD, enough to identify the binary value, but DCMTK's own
    // formatter (OFStandard::ftoa) is not correctly rounded: 0.026228787661969974 for 0.02622878766196998, and at the
    // extremes 1.0000000000000007e+300 for 1e300 or 1.7976931348623167e+308 (beyond double.MaxValue) for the maximum.
    // So a printed FL must parse back to our float (within 2 ULP), and a printed FD must match our double to 4e-15
    // relative, mantissa and exponent compared separately so that a printed value beyond the double range still compares.
    private static bool SameFloat(string text, float v)
    {
        if (float.IsNaN(v)) return text.Contains("nan", StringComparison.OrdinalIgnoreCase);
        if (float.IsInfinity(v)) return ParseSpecial(text) == v;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var p)) return false;
        if (p == v) return true;
        if (Math.Sign(p) != Math.Sign(v)) return false;
        return Math.Abs((long)BitConverter.SingleToInt32Bits(p) - BitConverter.SingleToInt32Bits(v)) <= 2;
    }

    private static bool SameDouble(string text, double v)
    {
        if (double.IsNaN(v)) return text.Contains("nan", StringComparison.OrdinalIgnoreCase);
        if (double.IsInfinity(v)) return ParseSpecial(text) == v;
        var e = text.IndexOfAny(['e', 'E']);
        var exponent = 0;
        if (e >= 0 && !int.TryParse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent)) return false;
        if (!double.TryParse(e >= 0 ? text.AsSpan(0, e) : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var mantissa)) return false;
        var scaled = v / Math.Pow(10, exponent / 2) / Math.Pow(10, exponent - exponent / 2);
        return mantissa == scaled || Math.Abs(mantissa - scaled) <= 4e-15 * Math.Abs(mantissa);
    }

    private static double ParseSpecial(string text) => text.Trim().ToLowerInvariant() switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.NaN,
    };

    private void CompareBytes(string path, string printed, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            if (printed != "(no value available)") Add(path, $"empty, dcmdump {Shorten(printed)}");
            return;
        }
        var s = printed.AsSpan();
        var k = 0;
        for (var pos = 0; pos < s.Length; k++)
        {
            if (k >= bytes.Length)
            {
                Add(path, $"dcmdump prints more than our {bytes.Length} bytes");
                return;
            }
            if (pos + 2 > s.Length || !byte.TryParse(s.Slice(pos, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b) || b != bytes[k])
            {
                Add(path, $"byte {k}: ours {bytes[k]:x2}, dcmdump '{s.Slice(pos, Math.Min(2, s.Length - pos)).ToString()}'");
                return;
            }
            pos += 2;
            if (pos < s.Length && s[pos++] != '\\')
            {
                Add(path, $"unexpected separator in dcmdump's hex at byte {k}");
                return;
            }
        }
        if (k != bytes.Length) Add(path, $"dcmdump prints {k} of our {bytes.Length} bytes");
    }

    private void CompareWords(string path, string printed, ReadOnlySpan<byte> bytes)
    {
        var s = printed.AsSpan();
        var n = bytes.Length / 2;
        var k = 0;
        for (var pos = 0; pos < s.Length; k++)
        {
            if (k >= n)
            {
                Add(path, $"dcmdump prints more than our {n} words");
                return;
            }
            var w = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * k)..]);
            if (pos + 4 > s.Length || !ushort.TryParse(s.Slice(pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var p) || p != w)
            {
                Add(path, $"word {k}: ours {w:x4}, dcmdump '{s.Slice(pos, Math.Min(4, s.Length - pos)).ToString()}'");
                return;
            }
            pos += 4;
            if (pos < s.Length && s[pos++] != '\\')
            {
                Add(path, $"unexpected separator in dcmdump's hex at word {k}");
                return;
            }
        }
        if (k != n) Add(path, $"dcmdump prints {k} of our {n} words");
    }

    private static string Show(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder();
        foreach (var c in b[..Math.Min(b.Length, 80)]) sb.Append(c is >= 0x20 and < 0x7F ? (char)c : $"\\x{c:x2}");
        if (b.Length > 80) sb.Append("...");
        return sb.ToString();
    }

    private static string Shorten(string s) => s.Length > 80 ? s[..80] + "..." : s;
}
