namespace HippoNode.Dicom;

/// <summary>One attribute of the data dictionary: tag, keyword, VR(s), VM and whether it is retired.</summary>
/// <param name="Tag">The tag (for a range entry, its first tag).</param>
/// <param name="Keyword">The DCMTK keyword, e.g. "PatientName"; retired ones keep DCMTK's "RETIRED_" prefix.</param>
/// <param name="VR">The VR DCMTK decodes Implicit VR data with: one of <paramref name="AllowedVRs"/>, or None for items and delimiters.</param>
/// <param name="AllowedVRs">Every VR the standard allows for this attribute (US or SS, OB or OW, ...).</param>
/// <param name="VM">Value multiplicity as the standard writes it ("1", "1-n", "3-3n").</param>
/// <param name="IsRetired">True when the standard retired the attribute.</param>
public sealed record DicomDictionaryEntry(DicomTag Tag, string Keyword, DicomVR VR, DicomVR[] AllowedVRs, string VM, bool IsRetired);

/// <summary>A dictionary entry that repeats over a range of groups or elements, e.g. (6000-60FF,3000) Overlay Data.</summary>
/// <param name="GroupLow">First group of the range.</param>
/// <param name="GroupHigh">Last group of the range.</param>
/// <param name="GroupParity">0: every group; 1: odd groups only; 2: even groups only.</param>
/// <param name="ElementLow">First element of the range.</param>
/// <param name="ElementHigh">Last element of the range.</param>
/// <param name="ElementParity">0: every element; 1: odd elements only; 2: even elements only.</param>
/// <param name="Entry">The entry that every tag in the range shares.</param>
public sealed record DicomDictionaryRange(ushort GroupLow, ushort GroupHigh, byte GroupParity,
    ushort ElementLow, ushort ElementHigh, byte ElementParity, DicomDictionaryEntry Entry)
{
    /// <summary>True when <paramref name="tag"/> lies in this range.</summary>
    public bool Contains(DicomTag tag) =>
        tag.Group >= GroupLow && tag.Group <= GroupHigh && ParityOk(tag.Group, GroupParity) &&
        tag.Element >= ElementLow && tag.Element <= ElementHigh && ParityOk(tag.Element, ElementParity);

    private static bool ParityOk(ushort v, byte parity) => parity switch { 1 => (v & 1) == 1, 2 => (v & 1) == 0, _ => true };
}

/// <summary>The data dictionary generated from DCMTK's dicom.dic (see HippoNode.Dicom.DictionaryGenerator).</summary>
public static partial class DicomDictionary
{
    // Textual order matters: these run in this file's order, after nothing in the generated part.
    private static readonly DicomDictionaryEntry[] GeneratedEntries = CreateEntries();
    private static readonly DicomDictionaryRange[] GeneratedRanges = CreateRanges();
    private static readonly Dictionary<uint, DicomDictionaryEntry> ByTag = BuildByTag();
    private static readonly Dictionary<string, DicomDictionaryEntry> ByKeyword = BuildByKeyword();

    /// <summary>Every fixed-tag entry.</summary>
    public static IReadOnlyCollection<DicomDictionaryEntry> Entries => ByTag.Values;

    /// <summary>Every repeating-range entry.</summary>
    public static IReadOnlyList<DicomDictionaryRange> Ranges => GeneratedRanges;

    /// <summary>The entry for a tag, looking at fixed tags first and then at ranges; null when unknown.</summary>
    public static DicomDictionaryEntry? Find(DicomTag tag)
    {
        if (ByTag.TryGetValue(tag.Value, out var e)) return e;
        foreach (var r in GeneratedRanges)
        {
            if (r.Contains(tag)) return r.Entry;
        }
        return null;
    }

    /// <summary>The entry for a keyword such as "PatientName"; null when unknown.</summary>
    public static DicomDictionaryEntry? Find(string keyword) => ByKeyword.GetValueOrDefault(keyword);

    /// <summary>The VR to use for an element whose encoding does not say (Implicit VR): dictionary VR, LO for private creators, else UN.</summary>
    public static DicomVR ImplicitVR(DicomTag tag)
    {
        if (tag.IsGroupLength) return DicomVR.UL;
        if (tag.IsPrivateCreator) return DicomVR.LO;
        if (tag.IsPrivate) return DicomVR.UN;
        return Find(tag)?.VR ?? DicomVR.UN;
    }

    /// <summary>The keyword of a tag, or an empty string when the dictionary does not know it.</summary>
    public static string KeywordOf(DicomTag tag)
    {
        if (tag.IsPrivateCreator) return "PrivateCreator";
        if (tag.IsGroupLength && tag.Group != 0 && tag.Group != 2) return "GenericGroupLength";
        if (tag.IsPrivate) return "";
        return Find(tag)?.Keyword ?? "";
    }

    private static Dictionary<uint, DicomDictionaryEntry> BuildByTag()
    {
        var d = new Dictionary<uint, DicomDictionaryEntry>(GeneratedEntries.Length);
        foreach (var e in GeneratedEntries) d[e.Tag.Value] = e;
        return d;
    }

    private static Dictionary<string, DicomDictionaryEntry> BuildByKeyword()
    {
        var d = new Dictionary<string, DicomDictionaryEntry>(StringComparer.Ordinal);
        foreach (var e in GeneratedEntries) d.TryAdd(e.Keyword, e);
        foreach (var r in GeneratedRanges) d.TryAdd(r.Entry.Keyword, r.Entry);
        return d;
    }
}
