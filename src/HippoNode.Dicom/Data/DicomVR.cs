namespace HippoNode.Dicom;

/// <summary>The value representations of PS3.5 §6.2; each member's value is its two ASCII characters.</summary>
public enum DicomVR : ushort
{
    /// <summary>No VR: items and delimiters (FFFE,xxxx).</summary>
    None = 0,
#pragma warning disable CS1591 // the two-letter codes are the standard's own names
    AE = ('A' << 8) | 'E', AS = ('A' << 8) | 'S', AT = ('A' << 8) | 'T', CS = ('C' << 8) | 'S',
    DA = ('D' << 8) | 'A', DS = ('D' << 8) | 'S', DT = ('D' << 8) | 'T', FD = ('F' << 8) | 'D',
    FL = ('F' << 8) | 'L', IS = ('I' << 8) | 'S', LO = ('L' << 8) | 'O', LT = ('L' << 8) | 'T',
    OB = ('O' << 8) | 'B', OD = ('O' << 8) | 'D', OF = ('O' << 8) | 'F', OL = ('O' << 8) | 'L',
    OV = ('O' << 8) | 'V', OW = ('O' << 8) | 'W', PN = ('P' << 8) | 'N', SH = ('S' << 8) | 'H',
    SL = ('S' << 8) | 'L', SQ = ('S' << 8) | 'Q', SS = ('S' << 8) | 'S', ST = ('S' << 8) | 'T',
    SV = ('S' << 8) | 'V', TM = ('T' << 8) | 'M', UC = ('U' << 8) | 'C', UI = ('U' << 8) | 'I',
    UL = ('U' << 8) | 'L', UN = ('U' << 8) | 'N', UR = ('U' << 8) | 'R', US = ('U' << 8) | 'S',
    UT = ('U' << 8) | 'T', UV = ('U' << 8) | 'V',
#pragma warning restore CS1591
}

/// <summary>What PS3.5 says about each VR: length field size, padding, value width, text or binary.</summary>
public static class DicomVRInfo
{
    /// <summary>True for a VR defined by PS3.5 (not <see cref="DicomVR.None"/>, not two arbitrary bytes).</summary>
    public static bool IsKnown(this DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.AT or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT or
        DicomVR.FD or DicomVR.FL or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.OB or DicomVR.OD or
        DicomVR.OF or DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.PN or DicomVR.SH or DicomVR.SL or
        DicomVR.SQ or DicomVR.SS or DicomVR.ST or DicomVR.SV or DicomVR.TM or DicomVR.UC or DicomVR.UI or
        DicomVR.UL or DicomVR.UN or DicomVR.UR or DicomVR.US or DicomVR.UT or DicomVR.UV => true,
        _ => false,
    };

    /// <summary>The two-letter code ("PN"), or "??" style hex for unknown values.</summary>
    public static string Code(this DicomVR vr) =>
        vr == DicomVR.None ? "na" : string.Create(2, (ushort)vr, static (s, v) => { s[0] = (char)(v >> 8); s[1] = (char)(v & 0xFF); });

    /// <summary>Parses a two-letter code; false when it is not a known VR.</summary>
    public static bool TryParse(ReadOnlySpan<char> code, out DicomVR vr)
    {
        vr = DicomVR.None;
        if (code.Length != 2) return false;
        var candidate = (DicomVR)((code[0] << 8) | code[1]);
        if (!candidate.IsKnown()) return false;
        vr = candidate;
        return true;
    }

    /// <summary>Explicit VR encodings of these VRs have 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2).</summary>
    public static bool HasLongLength(this DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL
        or DicomVR.OV or DicomVR.OW or DicomVR.SQ or DicomVR.UC or DicomVR.UN or DicomVR.UR or DicomVR.UT
        or DicomVR.SV or DicomVR.UV;

    /// <summary>True for character string VRs.</summary>
    public static bool IsString(this DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA
        or DicomVR.DS or DicomVR.DT or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH
        or DicomVR.ST or DicomVR.TM or DicomVR.UC or DicomVR.UI or DicomVR.UR or DicomVR.UT;

    /// <summary>True for string VRs whose values may use the Specific Character Set (others are default repertoire).</summary>
    public static bool UsesSpecificCharacterSet(this DicomVR vr) => vr is DicomVR.LO or DicomVR.LT or DicomVR.PN
        or DicomVR.SH or DicomVR.ST or DicomVR.UC or DicomVR.UT;

    /// <summary>True for string VRs that never carry backslash multiplicity (LT, ST, UT, UR).</summary>
    public static bool IsSingleValuedText(this DicomVR vr) => vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;

    /// <summary>Byte size of one value for binary VRs (for byte swapping and VM); 1 for byte and text VRs.</summary>
    public static int ValueSize(this DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW or DicomVR.AT => 2, // AT swaps as two 16-bit words
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.OV or DicomVR.SV or DicomVR.UV => 8,
        _ => 1,
    };

    /// <summary>The byte that pads an odd-length value to even length: NUL for UI and byte VRs, space for text.</summary>
    public static byte PaddingByte(this DicomVR vr) => vr.IsString() && vr != DicomVR.UI ? (byte)' ' : (byte)0;
}
