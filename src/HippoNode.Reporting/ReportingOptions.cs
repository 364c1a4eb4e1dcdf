using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>How the result objects name their maker and their series; every object carries these values.</summary>
/// <remarks>
/// The node recognises its own objects by <see cref="Manufacturer"/> (see <see cref="IsOwnObject"/>) so that a SEG, SR
/// or report page sent back to the PACS and routed to the node again is never analysed: keep the default.
/// </remarks>
public sealed record ReportingOptions
{
    /// <summary>The Manufacturer (0008,0070) every HippoNode object carries.</summary>
    public const string HippoNodeManufacturer = "HippoNode";

    /// <summary>Manufacturer (0008,0070).</summary>
    public string Manufacturer { get; init; } = HippoNodeManufacturer;

    /// <summary>Manufacturer's Model Name (0008,1090).</summary>
    public string ManufacturerModelName { get; init; } = "HippoNode hippocampus volumetry";

    /// <summary>Software Versions (0018,1020).</summary>
    public string SoftwareVersions { get; init; } =
        typeof(ReportingOptions).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>Device Serial Number (0018,1000); the SEG needs one (Enhanced General Equipment, type 1), so "unspecified" stands in when null.</summary>
    public string? DeviceSerialNumber { get; init; }

    /// <summary>Institution Name (0008,0080), or null to leave it out.</summary>
    public string? InstitutionName { get; init; }

    /// <summary>Series Number of the SEG series.</summary>
    public int SegmentationSeriesNumber { get; init; } = 9901;

    /// <summary>Series Description of the SEG series.</summary>
    public string SegmentationSeriesDescription { get; init; } = "HippoNode SEG";

    /// <summary>Series Number of the SR series.</summary>
    public int ReportSeriesNumber { get; init; } = 9902;

    /// <summary>Series Description of the SR series.</summary>
    public string ReportSeriesDescription { get; init; } = "HippoNode SR";

    /// <summary>Series Number of the Secondary Capture series.</summary>
    public int CaptureSeriesNumber { get; init; } = 9903;

    /// <summary>Series Description of the Secondary Capture series.</summary>
    public string CaptureSeriesDescription { get; init; } = "HippoNode Report";

    /// <summary>Content Creator's Name (0070,0084) of the SEG, a PN value.</summary>
    public string ContentCreatorName { get; init; } = "HippoNode^Automated";

    /// <summary>The SR's Device Observer UID (DCM 121012): identifies this software as the observer.</summary>
    public string DeviceObserverUid { get; init; } = DicomUid.ImplementationClassUid;

    /// <summary>The SR's Device Observer Name (DCM 121013).</summary>
    public string DeviceObserverName { get; init; } = "HippoNode";

    /// <summary>The statement every object carries that the result is not for diagnostic use.</summary>
    public string Disclaimer { get; init; } =
        "Not for diagnostic use. Research software: automated hippocampus volumetry, not a medical device.";

    /// <summary>The chest X-ray module's objects: their own series numbers and descriptions (still "HippoNode ..." so routers recognise them) and disclaimer.</summary>
    public static ReportingOptions ChestXray { get; } = new()
    {
        ManufacturerModelName = "HippoNode chest X-ray classification",
        ReportSeriesNumber = 9912,
        ReportSeriesDescription = "HippoNode CXR SR",
        CaptureSeriesNumber = 9913,
        CaptureSeriesDescription = "HippoNode CXR Report",
        Disclaimer = "Not for diagnostic use. Research software: automated pneumonia classification of chest radiographs, not a medical device.",
    };

    /// <summary>True when a data set was made by HippoNode (its Manufacturer is <see cref="HippoNodeManufacturer"/>).</summary>
    public static bool IsOwnObject(DicomDataset dataset) =>
        string.Equals(dataset.GetString(DicomTags.Manufacturer), HippoNodeManufacturer, StringComparison.Ordinal);
}
