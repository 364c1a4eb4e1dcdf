using System.Text;

namespace HippoNode.Dicom;

/// <summary>Maps Specific Character Set (0008,0005) to .NET encodings (PS3.3 C.12.1.1.2, PS3.5 §6.1).</summary>
/// <remarks>
/// Values are stored as the bytes that were read and only decoded on demand, so a repertoire we cannot
/// decode (ISO 2022 code extensions) is still written back byte for byte.
/// </remarks>
public static class DicomCharacterSet
{
    static DicomCharacterSet() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>ISO-8859-1; also used to decode the default repertoire so that stray 8-bit bytes survive.</summary>
    public static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>UTF-8 without BOM.</summary>
    public static readonly Encoding Utf8 = new UTF8Encoding(false);

    /// <summary>The encoding for a Specific Character Set value list; unknown or ISO 2022 sets fall back to Latin-1 (lossless for bytes).</summary>
    public static Encoding GetEncoding(IReadOnlyList<string>? specificCharacterSet)
    {
        if (specificCharacterSet is null || specificCharacterSet.Count == 0) return Latin1;
        // With code extensions (several values) the first names the default G0/G1 set; we decode with it.
        var term = specificCharacterSet[0].Trim();
        if (term.Length == 0 && specificCharacterSet.Count > 1) term = specificCharacterSet[1].Trim();
        return TryGetEncoding(term, out var enc) ? enc : Latin1;
    }

    /// <summary>The encoding for one defined term, e.g. "ISO_IR 192"; false when we have none for it.</summary>
    public static bool TryGetEncoding(string term, out Encoding encoding)
    {
        int? codePage = term switch
        {
            "" or "ISO_IR 6" or "ISO 2022 IR 6" => 28591, // ASCII; Latin-1 decodes it and keeps 8-bit bytes intact
            "ISO_IR 100" or "ISO 2022 IR 100" => 28591,
            "ISO_IR 101" or "ISO 2022 IR 101" => 28592,
            "ISO_IR 109" or "ISO 2022 IR 109" => 28593,
            "ISO_IR 110" or "ISO 2022 IR 110" => 28594,
            "ISO_IR 144" or "ISO 2022 IR 144" => 28595,
            "ISO_IR 127" or "ISO 2022 IR 127" => 28596,
            "ISO_IR 126" or "ISO 2022 IR 126" => 28597,
            "ISO_IR 138" or "ISO 2022 IR 138" => 28598,
            "ISO_IR 148" or "ISO 2022 IR 148" => 28599,
            "ISO_IR 203" or "ISO 2022 IR 203" => 28605,
            "ISO_IR 166" or "ISO 2022 IR 166" => 874,
            "ISO_IR 13" or "ISO 2022 IR 13" => 932,
            "ISO_IR 192" => 65001,
            "GB18030" => 54936,
            "GBK" => 936,
            _ => null,
        };
        if (codePage is null)
        {
            encoding = Latin1;
            return false;
        }
        encoding = codePage switch
        {
            28591 => Latin1,
            65001 => Utf8,
            _ => Encoding.GetEncoding(codePage.Value),
        };
        return true;
    }
}
