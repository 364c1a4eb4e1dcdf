using System.Globalization;

namespace HippoNode.Dicom.DictionaryGenerator;

/// <summary>
/// One line of DCMTK's dicom.dic: tag or tag range, VR, keyword, VM and version.
/// Parity: 0 any, 1 odd, 2 even (the codes of HippoNode.Dicom.DicomDictionaryRange).
/// </summary>
internal sealed record DicLine(
    int LineNumber,
    ushort GroupLow, ushort GroupHigh, byte GroupParity,
    ushort ElementLow, ushort ElementHigh, byte ElementParity,
    string DicVR, string Keyword, string VM, string Version)
{
    /// <summary>True when either tag part is a range, e.g. (6000-60FF,3000).</summary>
    public bool IsRange => GroupLow != GroupHigh || ElementLow != ElementHigh;

    /// <summary>True for DICOM/retired lines (DCMTK also prefixes such keywords with RETIRED_).</summary>
    public bool IsRetired => Version.Contains("retired", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for the PRIVATE generic entries (private group length, private creator), handled by code.</summary>
    public bool IsPrivateGeneric => Version.Equals("PRIVATE", StringComparison.OrdinalIgnoreCase);

    /// <summary>The tag text as dicom.dic writes it, for messages and doc comments.</summary>
    public string TagText => $"({Part(GroupLow, GroupHigh, GroupParity)},{Part(ElementLow, ElementHigh, ElementParity)})";

    private static string Part(ushort lo, ushort hi, byte parity) => lo == hi
        ? lo.ToString("X4", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{lo:X4}-{(parity switch { 1 => "o", 2 => "e", _ => "u" })}-{hi:X4}");

    /// <summary>
    /// DCMTK's DcmDictEntry::subset: this range lies inside <paramref name="other"/> (parity is not compared).
    /// </summary>
    public bool IsSubsetOf(DicLine other) =>
        GroupLow >= other.GroupLow && GroupHigh <= other.GroupHigh &&
        ElementLow >= other.ElementLow && ElementHigh <= other.ElementHigh;

    /// <summary>DCMTK's DcmDictEntry::setEQ: same bounds and same parity restrictions.</summary>
    public bool SameRangeAs(DicLine other) =>
        GroupLow == other.GroupLow && GroupHigh == other.GroupHigh && GroupParity == other.GroupParity &&
        ElementLow == other.ElementLow && ElementHigh == other.ElementHigh && ElementParity == other.ElementParity;
}

/// <summary>Reads DCMTK's data dictionary text format (dcmdata/libsrc/dcdict.cc, DcmDataDictionary::loadDictionary).</summary>
internal static class DicFile
{
    /// <summary>Parses every entry line; comment ('#') and blank lines are skipped, malformed lines throw.</summary>
    public static List<DicLine> Parse(string path)
    {
        var result = new List<DicLine>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#') continue;
            result.Add(ParseLine(line, lineNumber, path));
        }
        return result;
    }

    /// <summary>Parses one non-comment line: "(gggg,eeee) VR Keyword VM [Version]", tab separated.</summary>
    public static DicLine ParseLine(string line, int lineNumber, string source)
    {
        // DCMTK splits on tabs and ignores empty fields (several tabs in a row are allowed in practice).
        var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length < 4 || fields.Length > 5)
            throw Error(source, lineNumber, $"expected 4 or 5 tab-separated fields, found {fields.Length}");

        var tag = fields[0];
        if (tag.Length < 2 || tag[0] != '(' || tag[^1] != ')')
            throw Error(source, lineNumber, $"tag '{tag}' is not in parentheses");
        if (tag.Contains('"', StringComparison.Ordinal))
            throw Error(source, lineNumber, $"private-creator tags ('{tag}') are not supported by this generator");
        var parts = tag[1..^1].Split(',');
        if (parts.Length != 2)
            throw Error(source, lineNumber, $"tag '{tag}' does not have exactly one comma");

        if (!TryParsePart(parts[0], out var gl, out var gh, out var gp) || !TryParsePart(parts[1], out var el, out var eh, out var ep))
            throw Error(source, lineNumber, $"cannot parse tag '{tag}'");
        if (gl > gh || el > eh)
            throw Error(source, lineNumber, $"tag range '{tag}' runs backwards");

        return new DicLine(lineNumber, gl, gh, gp, el, eh, ep,
            DicVR: fields[1], Keyword: fields[2], VM: fields[3], Version: fields.Length > 4 ? fields[4] : "");
    }

    /// <summary>
    /// One half of a tag: "gggg", "gggg-gggg", "gggg-o-gggg", "gggg-e-gggg" or "gggg-u-gggg".
    /// </summary>
    /// <remarks>
    /// A plain "-" range means EVEN values only. This follows DCMTK exactly: parseTagPart in dcdict.cc sets
    /// <c>r = DcmDictRange_Even; /* by default */</c> for the "%x-%x" form, for the group part and the element
    /// part alike, and dicom.dic's own header says "By default the repeating notation only represents even
    /// numbers". So (6000-60FF,3000) covers groups 6000, 6002, ..., 60FE (never the odd, private 6001), and
    /// (0020,3100-31FF) covers the even elements 3100, 3102, ..., 31FE.
    /// </remarks>
    internal static bool TryParsePart(string s, out ushort low, out ushort high, out byte parity)
    {
        low = high = 0;
        parity = 0;
        var pieces = s.Trim().Split('-');
        switch (pieces.Length)
        {
            case 1:
                if (!Hex(pieces[0], out low)) return false;
                high = low;
                return true;
            case 2:
                parity = 2; // DcmDictRange_Even by default, see remarks
                return Hex(pieces[0], out low) && Hex(pieces[1], out high);
            case 3:
                switch (pieces[1].ToUpperInvariant())
                {
                    case "O": parity = 1; break;
                    case "E": parity = 2; break;
                    case "U": parity = 0; break;
                    default: return false;
                }
                return Hex(pieces[0], out low) && Hex(pieces[2], out high);
            default:
                return false;
        }
    }

    private static bool Hex(string s, out ushort value) =>
        ushort.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);

    private static FormatException Error(string source, int line, string message) =>
        new($"{source}:{line}: {message}");
}
