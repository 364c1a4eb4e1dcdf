using HippoNode.Dicom;
using HippoNode.Reporting;

namespace HippoNode.Analysis.Outputs;

/// <summary>One DICOM object to write: its file name in the output folder and its data set.</summary>
internal sealed record ReportObject(string FileName, DicomDataset Dataset);

/// <summary>
/// The seam to the report writers of HippoNode.Reporting (SEG, TID 1500 SR, Secondary Capture): the only place the analysis
/// calls them. The analysis never builds SEG, SR or SC itself; it saves what comes back here as seg.dcm, sr.dcm and sc.dcm,
/// after checking that each carries the source's study, patient and frame of reference and UIDs under
/// <see cref="AnalysisOptions.OutputUidRoot"/>.
/// </summary>
internal static class ReportOutputs
{
    /// <summary>True when <see cref="Create"/> calls the real writers (false would mean a build without them: result.json only).</summary>
    public static bool WritersAvailable => true;

    /// <summary>The SEG, SR and SC for <paramref name="findings"/>, in that order (the SR references the SEG).</summary>
    /// <exception cref="ArgumentException">The writers refuse the findings (e.g. a source without Frame of Reference UID).</exception>
    public static IReadOnlyList<ReportObject> Create(StudyFindings findings, ReportingOptions options)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(options);
        var seg = SegmentationWriter.Create(findings, options);
        var sr = MeasurementReportWriter.Create(findings, seg, options);
        var sc = SecondaryCaptureWriter.Create(findings, options);
        return [new("seg.dcm", seg), new("sr.dcm", sr), new("sc.dcm", sc)];
    }
}
