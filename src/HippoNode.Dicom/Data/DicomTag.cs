using System.Globalization;

namespace HippoNode.Dicom;

/// <summary>A DICOM attribute tag: group and element number (PS3.5 §7.1).</summary>
public readonly record struct DicomTag(ushort Group, ushort Element) : IComparable<DicomTag>
{
    /// <summary>Builds a tag from its 32-bit form (group in the high word).</summary>
    public DicomTag(uint value) : this((ushort)(value >> 16), (ushort)value) { }

    /// <summary>The tag as one 32-bit number, group in the high word; also its sort key.</summary>
    public uint Value => ((uint)Group << 16) | Element;

    /// <summary>True for tags in odd groups (private data elements, PS3.5 §7.8).</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 8;

    /// <summary>True for a private creator element (gggg,0010-00FF) in an odd group.</summary>
    public bool IsPrivateCreator => IsPrivate && Element >= 0x0010 && Element <= 0x00FF;

    /// <summary>True for group length elements (gggg,0000).</summary>
    public bool IsGroupLength => Element == 0;

    /// <summary>Item (FFFE,E000).</summary>
    public static readonly DicomTag Item = new(0xFFFE, 0xE000);

    /// <summary>Item Delimitation Item (FFFE,E00D).</summary>
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFE, 0xE00D);

    /// <summary>Sequence Delimitation Item (FFFE,E0DD).</summary>
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFE, 0xE0DD);

    /// <inheritdoc />
    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    /// <summary>Orders tags as they must appear in a data set.</summary>
    public static bool operator <(DicomTag a, DicomTag b) => a.Value < b.Value;

    /// <summary>Orders tags as they must appear in a data set.</summary>
    public static bool operator >(DicomTag a, DicomTag b) => a.Value > b.Value;

    /// <summary>Orders tags as they must appear in a data set.</summary>
    public static bool operator <=(DicomTag a, DicomTag b) => a.Value <= b.Value;

    /// <summary>Orders tags as they must appear in a data set.</summary>
    public static bool operator >=(DicomTag a, DicomTag b) => a.Value >= b.Value;

    /// <summary>The conventional form, "(gggg,eeee)" in upper-case hexadecimal.</summary>
    public override string ToString() => $"({Group:X4},{Element:X4})";

    /// <summary>Parses "(gggg,eeee)", "gggg,eeee" or "ggggeeee".</summary>
    public static DicomTag Parse(string text)
    {
        if (TryParse(text, out var tag)) return tag;
        throw new FormatException($"'{text}' is not a DICOM tag (expected (gggg,eeee)).");
    }

    /// <summary>Parses "(gggg,eeee)", "gggg,eeee" or "ggggeeee"; false when the text is not a tag.</summary>
    public static bool TryParse(string? text, out DicomTag tag)
    {
        tag = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().TrimStart('(').TrimEnd(')').Replace(",", "", StringComparison.Ordinal);
        if (s.Length != 8 || !uint.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)) return false;
        tag = new DicomTag(v);
        return true;
    }
}
