using System.Numerics;

namespace HippoNode.Dicom;

/// <summary>UIDs: the SOP classes and constants we use, a name lookup, and generation of new UIDs.</summary>
public static class DicomUid
{
    /// <summary>Our implementation class UID (under the UUID-derived 2.25 root, PS3.5 §B.2).</summary>
    public const string ImplementationClassUid = "2.25.171341358744526093264392432357766531850";

    /// <summary>Our implementation version name (at most 16 characters).</summary>
    public const string ImplementationVersionName = "HIPPONODE_010";

    /// <summary>The DICOM application context name (PS3.7 Annex A).</summary>
    public const string ApplicationContext = "1.2.840.10008.3.1.1.1";

#pragma warning disable CS1591 // the constant names are the standard's UID names
    public const string Verification = "1.2.840.10008.1.1";
    public const string CTImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    public const string EnhancedCTImageStorage = "1.2.840.10008.5.1.4.1.1.2.1";
    public const string MRImageStorage = "1.2.840.10008.5.1.4.1.1.4";
    public const string EnhancedMRImageStorage = "1.2.840.10008.5.1.4.1.1.4.1";
    public const string ComputedRadiographyImageStorage = "1.2.840.10008.5.1.4.1.1.1";
    public const string DigitalXRayImageStorageForPresentation = "1.2.840.10008.5.1.4.1.1.1.1";
    public const string DigitalXRayImageStorageForProcessing = "1.2.840.10008.5.1.4.1.1.1.1.1";
    public const string UltrasoundImageStorage = "1.2.840.10008.5.1.4.1.1.6.1";
    public const string UltrasoundMultiFrameImageStorage = "1.2.840.10008.5.1.4.1.1.3.1";
    public const string SecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7";
    public const string MultiFrameGrayscaleByteSecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7.2";
    public const string MultiFrameGrayscaleWordSecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7.3";
    public const string MultiFrameTrueColorSecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7.4";
    public const string NuclearMedicineImageStorage = "1.2.840.10008.5.1.4.1.1.20";
    public const string PositronEmissionTomographyImageStorage = "1.2.840.10008.5.1.4.1.1.128";
    public const string SegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";
    public const string ParametricMapStorage = "1.2.840.10008.5.1.4.1.1.30";
    public const string RawDataStorage = "1.2.840.10008.5.1.4.1.1.66";
    public const string BasicTextSRStorage = "1.2.840.10008.5.1.4.1.1.88.11";
    public const string EnhancedSRStorage = "1.2.840.10008.5.1.4.1.1.88.22";
    public const string ComprehensiveSRStorage = "1.2.840.10008.5.1.4.1.1.88.33";
    public const string Comprehensive3DSRStorage = "1.2.840.10008.5.1.4.1.1.88.34";
    public const string KeyObjectSelectionDocumentStorage = "1.2.840.10008.5.1.4.1.1.88.59";
    public const string GrayscaleSoftcopyPresentationStateStorage = "1.2.840.10008.5.1.4.1.1.11.1";
    public const string EncapsulatedPDFStorage = "1.2.840.10008.5.1.4.1.1.104.1";
    public const string RTImageStorage = "1.2.840.10008.5.1.4.1.1.481.1";
    public const string RTDoseStorage = "1.2.840.10008.5.1.4.1.1.481.2";
    public const string RTStructureSetStorage = "1.2.840.10008.5.1.4.1.1.481.3";
    public const string RTPlanStorage = "1.2.840.10008.5.1.4.1.1.481.5";
    public const string VLWholeSlideMicroscopyImageStorage = "1.2.840.10008.5.1.4.1.1.77.1.6";
    public const string TwelveLeadECGWaveformStorage = "1.2.840.10008.5.1.4.1.1.9.1.1";
    public const string MediaStorageDirectoryStorage = "1.2.840.10008.1.3.10";
#pragma warning restore CS1591

    /// <summary>The storage SOP classes that a C-STORE SCP of ours accepts by default.</summary>
    public static readonly IReadOnlyList<string> StorageSopClasses =
    [
        CTImageStorage, EnhancedCTImageStorage, MRImageStorage, EnhancedMRImageStorage, ComputedRadiographyImageStorage,
        DigitalXRayImageStorageForPresentation, DigitalXRayImageStorageForProcessing, UltrasoundImageStorage, UltrasoundMultiFrameImageStorage,
        SecondaryCaptureImageStorage, MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
        MultiFrameGrayscaleWordSecondaryCaptureImageStorage, MultiFrameTrueColorSecondaryCaptureImageStorage,
        NuclearMedicineImageStorage, PositronEmissionTomographyImageStorage, SegmentationStorage, ParametricMapStorage,
        RawDataStorage, BasicTextSRStorage, EnhancedSRStorage, ComprehensiveSRStorage, Comprehensive3DSRStorage,
        KeyObjectSelectionDocumentStorage, GrayscaleSoftcopyPresentationStateStorage, EncapsulatedPDFStorage,
        RTImageStorage, RTDoseStorage, RTStructureSetStorage, RTPlanStorage, VLWholeSlideMicroscopyImageStorage,
        TwelveLeadECGWaveformStorage,
    ];

    private static readonly Dictionary<string, string> Names = BuildNames();

    /// <summary>A readable name for a SOP class or transfer syntax UID; null when we do not know it.</summary>
    public static string? NameOf(string uid)
    {
        var clean = uid.Trim(' ', '\0');
        return Names.GetValueOrDefault(clean);
    }

    /// <summary>A new globally unique UID: "2.25." followed by a random UUID as a decimal integer (PS3.5 §B.2).</summary>
    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes, bigEndian: true, out _);
        return "2.25." + new BigInteger(bytes, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>True when the text is a syntactically valid UID (PS3.5 §9.1: digits and dots, no leading zeros, at most 64 chars).</summary>
    public static bool IsValid(string uid)
    {
        if (uid.Length is 0 or > 64) return false;
        foreach (var part in uid.Split('.'))
        {
            if (part.Length == 0 || (part.Length > 1 && part[0] == '0')) return false;
            foreach (var c in part) if (c is < '0' or > '9') return false;
        }
        return true;
    }

    private static Dictionary<string, string> BuildNames()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in typeof(DicomUid).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
        {
            if (f.IsLiteral && f.GetRawConstantValue() is string v && f.Name is not nameof(ImplementationClassUid) and not nameof(ImplementationVersionName))
                d.TryAdd(v, f.Name);
        }
        foreach (var ts in DicomTransferSyntax.Known) d.TryAdd(ts.Uid, ts.Name);
        return d;
    }
}
