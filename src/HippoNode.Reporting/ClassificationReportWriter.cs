using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>Builds the Comprehensive SR of a chest X-ray classification, a TID 1500 Measurement Report a viewer can list and draw.</summary>
/// <remarks>
/// Tree: Imaging Measurement Report (DCM 126000) with language, device observer, procedure reported (SCT 399208008
/// "Plain chest X-ray") and the Image Library holding the source radiograph; Imaging Measurements (DCM 126010) with one
/// TID 1501 Measurement Group: tracking identifier and UID, finding category and finding (SCT 233604007 "Pneumonia"),
/// finding site (SCT 39607008 "Lung structure"), algorithm name and version, the probability as a NUM (private
/// 99HIPPONODE concept, UCUM "1") inferred from the outline of the strongest heat-map region on the radiograph, or from
/// the image border when no region points towards pneumonia (SCOORD POLYLINE selected from the source image, so that
/// OHIF places and draws it), the threshold as a NUM, and the decision as
/// a coded qualitative evaluation: Pneumonia = SCT 52101004 "Present" or SCT 2667000 "Absent". Qualitative Evaluations
/// (UMLS C0034375) carries the not-for-diagnostic-use statement, and for an untrained model a second statement saying so.
/// </remarks>
public static class ClassificationReportWriter
{
    /// <summary>Heat at or above this (relative to the image's maximum) makes the region the SR outlines.</summary>
    public const double HotRegionLevel = 0.5;

    /// <summary>The outline is traced on a grid with at most this many cells along the longer side (the heat map is smooth; full resolution adds only points).</summary>
    public const int OutlineGrid = 128;

    /// <summary>Builds the SR data set; write it with Explicit VR Little Endian.</summary>
    /// <exception cref="ArgumentException">The findings are inconsistent or the source lacks an identity.</exception>
    public static DicomDataset Create(ClassificationFindings findings, ReportingOptions options)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(options);
        findings.Validate();
        var source = findings.Source;
        var o = ResultObject.Create(source, findings.ContentTime, options, DicomUid.ComprehensiveSRStorage, "SR", options.ReportSeriesNumber, options.ReportSeriesDescription);
        var ds = o.Dataset;
        var studyUid = source.GetString(DicomTags.StudyInstanceUID) ?? throw new ArgumentException("The source has no Study Instance UID.", nameof(findings));
        var sourceSeries = source.GetString(DicomTags.SeriesInstanceUID) ?? throw new ArgumentException("The source has no Series Instance UID.", nameof(findings));
        var image = ResultObject.Identity(source);

        var sr = MeasurementReportDocument.Start(o, studyUid, options, (sourceSeries, [image]));
        var root = MeasurementReportDocument.Context(sr, options, Codes.PlainChestXray, [image]);

        // Always a region a viewer can draw: OHIF 3.13 hydrates TID 1500 measurements only from SCOORDs and fails on a
        // group without one. With no hot region the probability is inferred from the whole image, and the outline says so.
        var probability = sr.Num("CONTAINS", Codes.PneumoniaProbability, findings.Probability, Codes.NoUnits);
        var outline = HotRegion(findings) ?? WholeImage(findings);
        probability.AddOrUpdate(DicomTags.ContentSequence, sr.Item("INFERRED FROM", "SCOORD", null)
            .AddOrUpdate(DicomTags.GraphicType, DicomVR.CS, "POLYLINE")
            .AddOrUpdate(DicomTags.GraphicData, DicomVR.FL, outline)
            .AddOrUpdate(DicomTags.ContentSequence, sr.Image("SELECTED FROM", null, image.SopClass, image.SopInstance, null)));
        var group = new List<DicomDataset>
        {
            sr.Text("HAS OBS CONTEXT", Codes.TrackingIdentifier, $"{findings.PositiveLabel.ToLowerInvariant()} classification"),
            sr.Uid("HAS OBS CONTEXT", Codes.TrackingUniqueIdentifier, DicomUid.Generate()),
            sr.Code("CONTAINS", Codes.FindingCategory, Codes.MorphologicallyAlteredStructure),
            sr.Code("CONTAINS", Codes.Finding, Codes.Pneumonia),
            sr.Code("HAS CONCEPT MOD", Codes.FindingSite, Codes.LungStructure),
        };
        group.AddRange(MeasurementReportWriter.AlgorithmItems(sr, findings.Algorithm));
        group.Add(probability);
        group.Add(sr.Num("CONTAINS", Codes.DecisionThreshold, findings.Threshold, Codes.NoUnits));
        group.Add(sr.Code("CONTAINS", Codes.Pneumonia, findings.Positive ? Codes.Present : Codes.Absent));
        if (findings.ReviewBand is { } band)
        {
            group.Add(sr.Num("CONTAINS", Codes.ReviewBandLow, band.Low, Codes.NoUnits));
            group.Add(sr.Num("CONTAINS", Codes.ReviewBandHigh, band.High, Codes.NoUnits));
            group.Add(sr.Code("CONTAINS", Codes.UncertainFlag, findings.Uncertain ? Codes.Yes : Codes.No));
        }
        if (findings.Untrained) group.Add(sr.Code("CONTAINS", Codes.UntrainedModel, Codes.Yes));

        root.Add(sr.Container("CONTAINS", Codes.ImagingMeasurements, sr.Container("CONTAINS", Codes.MeasurementGroup, [.. group])));
        var statements = new List<DicomDataset> { sr.Text("CONTAINS", Codes.UsageStatement, options.Disclaimer) };
        if (findings.Uncertain)
            statements.Add(sr.Text("CONTAINS", Codes.UsageStatement, "UNCERTAIN: the probability lies within the review band around the threshold; review the image."));
        if (findings.Untrained)
            statements.Add(sr.Text("CONTAINS", Codes.UsageStatement, "UNTRAINED MODEL: random weights; the probability and the decision mean nothing."));
        root.Add(sr.Container("CONTAINS", Codes.QualitativeEvaluations, [.. statements]));
        ds.AddOrUpdate(DicomTags.ContentSequence, [.. root]);
        return ds;
    }

    /// <summary>The image's border as a closed polyline (column\row pairs, pixel-edge coordinates).</summary>
    public static float[] WholeImage(ClassificationFindings findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        float w = findings.Columns, h = findings.Rows;
        return [0, 0, w, 0, w, h, 0, h, 0, 0];
    }

    /// <summary>
    /// The outline, in the source image's pixel coordinates (column\row pairs, closed), of the largest region whose heat is
    /// at least <see cref="HotRegionLevel"/>; null when no pixel reaches it.
    /// </summary>
    public static float[]? HotRegion(ClassificationFindings findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var scale = Math.Max(1.0, Math.Max(findings.Columns, findings.Rows) / (double)OutlineGrid);
        var columns = (int)Math.Ceiling(findings.Columns / scale);
        var rows = (int)Math.Ceiling(findings.Rows / scale);
        var mask = new byte[rows * columns];
        for (var r = 0; r < rows; r++)
        {
            var sr = Math.Min(findings.Rows - 1, (int)((r + 0.5) * findings.Rows / rows));
            for (var c = 0; c < columns; c++)
            {
                var sc = Math.Min(findings.Columns - 1, (int)((c + 0.5) * findings.Columns / columns));
                if (findings.Heat[sr * findings.Columns + sc] >= HotRegionLevel) mask[r * columns + c] = 1;
            }
        }
        if (SegmentOutline.Trace([mask], rows, columns, v => v == 1) is not { } outline) return null;
        var (sx, sy) = ((float)findings.Columns / columns, (float)findings.Rows / rows);
        var data = outline.GraphicData;
        var scaled = new float[data.Length];
        for (var i = 0; i < data.Length; i += 2)
        {
            scaled[i] = data[i] * sx;
            scaled[i + 1] = data[i + 1] * sy;
        }
        return scaled;
    }
}
