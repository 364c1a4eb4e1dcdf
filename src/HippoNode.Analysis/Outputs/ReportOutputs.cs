using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Reporting;

namespace HippoNode.Analysis.Outputs;

/// <summary>One DICOM object to write: its file name in the output folder and its data set.</summary>
internal sealed record ReportObject(string FileName, DicomDataset Dataset)
{
    /// <summary>
    /// Saves <paramref name="objects"/> (Explicit VR Little Endian) after checking that each carries <paramref name="source"/>'s
    /// Study Instance UID, Patient ID and (where it has one) Frame of Reference UID, and that its new Series and SOP Instance
    /// UIDs lie under <see cref="AnalysisOptions.OutputUidRoot"/>: a writer bug must not file results under another patient.
    /// </summary>
    /// <exception cref="AnalysisException">An object fails a check (named).</exception>
    public static IReadOnlyList<string> SaveChecked(IEnumerable<ReportObject> objects, DicomDataset source, string outputDirectory)
    {
        var paths = new List<string>();
        foreach (var o in objects)
        {
            Same(o, DicomTags.StudyInstanceUID, source, required: true);
            Same(o, DicomTags.PatientID, source, required: true);
            Same(o, DicomTags.FrameOfReferenceUID, source, required: false);
            foreach (var tag in new[] { DicomTags.SeriesInstanceUID, DicomTags.SOPInstanceUID })
            {
                var uid = o.Dataset.GetString(tag) ?? "";
                if (!uid.StartsWith(AnalysisOptions.OutputUidRoot + ".", StringComparison.Ordinal))
                    throw new AnalysisException($"output {o.FileName}: {DicomDictionary.KeywordOf(tag)} '{uid}' is not under the UID root {AnalysisOptions.OutputUidRoot}");
            }
            var path = Path.Combine(outputDirectory, o.FileName);
            new DicomFile(o.Dataset, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            paths.Add(path);
        }
        return paths;
    }

    private static void Same(ReportObject o, DicomTag tag, DicomDataset source, bool required)
    {
        var expected = source.GetString(tag) ?? "";
        if (!o.Dataset.Contains(tag))
        {
            if (required) throw new AnalysisException($"output {o.FileName} has no {DicomDictionary.KeywordOf(tag)}");
            return;
        }
        if (!string.Equals(o.Dataset.GetString(tag) ?? "", expected, StringComparison.Ordinal))
            throw new AnalysisException($"output {o.FileName} has a {DicomDictionary.KeywordOf(tag)} that differs from the source series'");
    }
}

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
