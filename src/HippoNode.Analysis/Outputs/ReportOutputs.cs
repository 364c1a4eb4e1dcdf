using HippoNode.Dicom;
using HippoNode.Reporting;

namespace HippoNode.Analysis.Outputs;

/// <summary>One DICOM object to write: its file name in the output folder and its data set.</summary>
internal sealed record ReportObject(string FileName, DicomDataset Dataset);

/// <summary>What the writers are told besides the findings.</summary>
/// <param name="UidRoot">The root every new UID (series, instance) goes under; see <see cref="AnalysisOptions.UidRoot"/>.</param>
internal sealed record ReportSettings(string UidRoot);

/// <summary>
/// THE SEAM to the report writers of HippoNode.Reporting (SEG, TID 1500 SR, Secondary Capture): the only place the analysis
/// calls them. The analysis itself never builds SEG, SR or SC objects; it saves what comes back here as seg.dcm, sr.dcm
/// and sc.dcm, after checking that each carries the source's study, patient and frame of reference.
/// </summary>
internal static class ReportOutputs
{
    /// <summary>True once <see cref="Create"/> calls the real writers; false in a build without them (no DICOM outputs).</summary>
    public static bool WritersAvailable => false;

    /// <summary>The SEG, SR and SC for <paramref name="findings"/>, in that order (the SR references the SEG).</summary>
    public static IReadOnlyList<ReportObject> Create(StudyFindings findings, ReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(settings);
        // Wired at merge with the writers (HippoNode.Reporting), expected shape:
        //   var options = new ReportingOptions { UidRoot = settings.UidRoot };
        //   var seg = SegmentationWriter.Create(findings, options);
        //   var sr = MeasurementReportWriter.Create(findings, seg, options);
        //   var sc = SecondaryCaptureWriter.Create(findings, options);
        //   return [new("seg.dcm", seg), new("sr.dcm", sr), new("sc.dcm", sc)];
        // and WritersAvailable => true.
        return [];
    }
}
