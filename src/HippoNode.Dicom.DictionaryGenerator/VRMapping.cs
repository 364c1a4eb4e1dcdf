namespace HippoNode.Dicom.DictionaryGenerator;

/// <summary>How a dicom.dic VR column becomes HippoNode's (implicit-VR decoding VR, allowed VRs).</summary>
internal static class VRMapping
{
    /// <summary>The 34 VRs of PS3.5 §6.2, as DicomVR members are named.</summary>
    public static readonly IReadOnlySet<string> StandardVRs = new HashSet<string>(StringComparer.Ordinal)
    {
        "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL",
        "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US",
        "UT", "UV",
    };

    /// <summary>
    /// Maps a dicom.dic VR to the VR used to decode Implicit VR data plus the VRs the standard allows.
    /// "None" stands for DicomVR.None. Returns false for a VR this generator does not know.
    /// </summary>
    /// <remarks>
    /// The pseudo-VRs follow what DCMTK 3.6.7 does when it reads Implicit VR Little Endian (checked with
    /// dcmconv +ti and dcmdump on the pydicom test corpus):
    /// xs: decoded as US (an LUT Descriptor "4096\63488\16" stays unsigned); DCMTK re-types top-level
    ///     xs elements such as SmallestImagePixelValue to SS from Pixel Representation = 1, which is
    ///     data-set context, not dictionary knowledge.
    /// ox: OverlayData, WaveformData, ... read as OW.
    /// px: PixelData read as OW.
    /// lt: LUTData read as 16-bit words (OW), although the standard allows US, SS or OW.
    /// up: directory offsets read as UL (4-byte unsigned).
    /// na: items and delimiters have no VR.
    /// </remarks>
    public static bool TryMap(string dicVR, out string vr, out string[] allowed)
    {
        if (Pseudo.TryGetValue(dicVR, out var p))
        {
            (vr, allowed) = (p.VR, [.. p.Allowed]);
            return true;
        }
        if (StandardVRs.Contains(dicVR))
        {
            vr = dicVR;
            allowed = [dicVR];
            return true;
        }
        vr = "";
        allowed = [];
        return false;
    }

    /// <summary>DCMTK's lower-case pseudo-VRs: implicit-VR decoding VR and the VRs the standard allows (see <see cref="TryMap"/>).</summary>
    public static readonly IReadOnlyDictionary<string, (string VR, string[] Allowed)> Pseudo =
        new Dictionary<string, (string VR, string[] Allowed)>(StringComparer.Ordinal)
        {
            ["xs"] = ("US", ["US", "SS"]),
            ["ox"] = ("OW", ["OB", "OW"]),
            ["px"] = ("OW", ["OB", "OW"]),
            ["lt"] = ("OW", ["US", "SS", "OW"]),
            ["up"] = ("UL", ["UL"]),
            ["na"] = ("None", []),
        };
}
