using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>Builds the TID 1500 Measurement Report (Comprehensive SR) of the findings, referring to the SEG's segments.</summary>
/// <remarks>
/// Tree: Imaging Measurement Report (DCM 126000) with Language (TID 1204), a device observer (TID 1002/1004), Procedure
/// reported, the Image Library (TID 1600) of the source slices, Imaging Measurements (DCM 126010) holding one TID 1411
/// Volumetric ROI group per segment (Referenced Segment into the SEG, source series, volume in mm3, algorithm TID 4019)
/// and one TID 1501 group for the whole hippocampus with the ensemble agreement, its threshold and its flag (private
/// 99HIPPONODE concepts, UCUM "1"), each group ending with a Comment (DCM 121106) that names its structure, and
/// Qualitative Evaluations (UMLS C0034375) holding the not-for-diagnostic-use text.
/// Comprehensive SR (not Enhanced) because that is what dcmqi writes for TID 1500 and what dciodvfy and OHIF read.
/// </remarks>
public static class MeasurementReportWriter
{
    /// <summary>The name of the whole structure's measurement group (anterior and posterior together).</summary>
    private const string WholeLabel = "whole hippocampus";

    /// <summary>Builds the SR data set; <paramref name="segmentation"/> is the SEG from <see cref="SegmentationWriter.Create"/>.</summary>
    public static DicomDataset Create(StudyFindings findings, DicomDataset segmentation, ReportingOptions options)
    {
        ArgumentNullException.ThrowIfNull(segmentation);
        var o = ResultObject.Create(findings, options, DicomUid.ComprehensiveSRStorage, "SR",
            options.ReportSeriesNumber, options.ReportSeriesDescription);
        var ds = o.Dataset;
        var source = ResultObject.Source(findings);
        var sourceSeries = source.GetString(DicomTags.SeriesInstanceUID) ?? throw new ArgumentException("The source has no Series Instance UID.", nameof(findings));
        var segSopInstance = segmentation.GetString(DicomTags.SOPInstanceUID) ?? throw new ArgumentException("The SEG has no SOP Instance UID.", nameof(segmentation));
        var segSeries = segmentation.GetString(DicomTags.SeriesInstanceUID) ?? throw new ArgumentException("The SEG has no Series Instance UID.", nameof(segmentation));
        var studyUid = source.GetString(DicomTags.StudyInstanceUID)!;

        var sr = MeasurementReportDocument.Start(o, studyUid, options,
            (sourceSeries, findings.SourceSlices.Select(ResultObject.Identity).ToList()),
            (segSeries, [(DicomUid.SegmentationStorage, segSopInstance)]));

        var root = MeasurementReportDocument.Context(sr, options, Codes.MrBrain, findings.SourceSlices.Select(ResultObject.Identity));

        var measurements = new List<DicomDataset>(AlgorithmItems(sr, findings.Algorithm));
        var trackingRoot = DicomUid.Generate();
        foreach (var seg in findings.Segments)
        {
            var group = new List<DicomDataset>
            {
                sr.Text("HAS OBS CONTEXT", Codes.TrackingIdentifier, seg.Label),
                sr.Uid("HAS OBS CONTEXT", Codes.TrackingUniqueIdentifier, DicomUid.Generate()),
                sr.Code("CONTAINS", Codes.FindingCategory, seg.Category),
                sr.Code("CONTAINS", Codes.Finding, seg.Type),
                sr.Image("CONTAINS", Codes.ReferencedSegment, DicomUid.SegmentationStorage, segSopInstance, seg.Number),
                sr.Uid("CONTAINS", Codes.SourceSeriesForSegmentation, sourceSeries),
                sr.Code("HAS CONCEPT MOD", Codes.MeasurementMethod, Codes.SumOfSegmentedVoxelVolumes),
                FindingSite(sr, seg),
            };
            group.AddRange(AlgorithmItems(sr, findings.Algorithm));
            var value = (byte)seg.LabelValue;
            group.Add(WithOutline(sr, sr.Num("CONTAINS", Codes.Volume, seg.VolumeMm3, Codes.CubicMillimeter), findings, v => v == value));
            group.Add(NameForViewers(sr, seg.Label));
            measurements.Add(sr.Container("CONTAINS", Codes.MeasurementGroup, [.. group]));
        }

        // The whole structure and the quality figures: a TID 1501 group (no single segment to point at).
        var whole = findings.Segments.Sum(s => s.VolumeMm3);
        var wholeGroup = new List<DicomDataset>
        {
            sr.Text("HAS OBS CONTEXT", Codes.TrackingIdentifier, WholeLabel),
            sr.Uid("HAS OBS CONTEXT", Codes.TrackingUniqueIdentifier, trackingRoot),
            sr.Code("CONTAINS", Codes.FindingCategory, Codes.AnatomicalStructure),
            sr.Code("CONTAINS", Codes.Finding, Codes.Hippocampus),
            sr.Code("HAS CONCEPT MOD", Codes.MeasurementMethod, Codes.SumOfSegmentedVoxelVolumes),
            sr.Code("HAS CONCEPT MOD", Codes.FindingSite, Codes.Hippocampus),
        };
        wholeGroup.AddRange(AlgorithmItems(sr, findings.Algorithm));
        var labelValues = findings.Segments.Select(x => (byte)x.LabelValue).ToHashSet();
        wholeGroup.Add(WithOutline(sr, sr.Num("CONTAINS", Codes.Volume, whole, Codes.CubicMillimeter), findings, labelValues.Contains));
        wholeGroup.Add(sr.Num("CONTAINS", Codes.EnsembleAgreement, findings.Quality.Agreement, Codes.NoUnits));
        wholeGroup.Add(sr.Num("CONTAINS", Codes.AgreementThreshold, findings.Quality.Threshold, Codes.NoUnits));
        wholeGroup.Add(sr.Code("CONTAINS", Codes.LowAgreementFlag, findings.Quality.Flagged ? Codes.Yes : Codes.No));
        wholeGroup.Add(NameForViewers(sr, WholeLabel));
        measurements.Add(sr.Container("CONTAINS", Codes.MeasurementGroup, [.. wholeGroup]));

        root.Add(sr.Container("CONTAINS", Codes.ImagingMeasurements, [.. measurements]));
        root.Add(sr.Container("CONTAINS", Codes.QualitativeEvaluations,
            sr.Text("CONTAINS", Codes.UsageStatement, options.Disclaimer)));
        ds.AddOrUpdate(DicomTags.ContentSequence, [.. root]);
        return ds;
    }

    /// <summary>
    /// Adds to a volume NUM the region it is inferred from that a viewer can draw (TID 300 "INFERRED FROM", TID 320): the
    /// structure's outline as a SCOORD POLYLINE on its largest source slice, SELECTED FROM that image. The full region
    /// stays the Referenced Segment in the SEG. Nothing is added for a structure without voxels.
    /// </summary>
    private static DicomDataset WithOutline(SrBuilder sr, DicomDataset num, StudyFindings findings, Func<byte, bool> inside)
    {
        if (SegmentOutline.Trace(findings.Labels, findings.Rows, findings.Columns, inside) is not { } outline) return num;
        var (sopClass, sopInstance) = ResultObject.Identity(findings.SourceSlices[outline.Slice]);
        var scoord = sr.Item("INFERRED FROM", "SCOORD", null)
            .AddOrUpdate(DicomTags.GraphicType, DicomVR.CS, "POLYLINE")
            .AddOrUpdate(DicomTags.GraphicData, DicomVR.FL, outline.GraphicData)
            .AddOrUpdate(DicomTags.ContentSequence, sr.Image("SELECTED FROM", null, sopClass, sopInstance, null));
        return num.AddOrUpdate(DicomTags.ContentSequence, scoord);
    }

    /// <summary>
    /// The structure's name as a TEXT Comment (DCM 121106) at the end of its measurement group: TID 1411 and 1501 are
    /// extensible, and this is the item OHIF (cornerstone3D's SR adapter, which writes a measurement's label the same
    /// way) shows as the first line of the measurement's label, above "Volume: ... mm3". Neither the Tracking
    /// Identifier nor the coded Finding Site is shown by OHIF 3.13.
    /// </summary>
    private static DicomDataset NameForViewers(SrBuilder sr, string name) => sr.Text("CONTAINS", Codes.Comment, name);

    internal static DicomDataset[] AlgorithmItems(SrBuilder sr, AlgorithmInfo a) =>
    [
        sr.Text("HAS CONCEPT MOD", Codes.AlgorithmName, a.Name),
        sr.Text("HAS CONCEPT MOD", Codes.AlgorithmVersion, a.Version),
    ];

    private static DicomDataset FindingSite(SrBuilder sr, SegmentFinding seg)
    {
        var site = sr.Code("HAS CONCEPT MOD", Codes.FindingSite, seg.Type);
        if (seg.TypeModifier is { } modifier)
            site.AddOrUpdate(DicomTags.ContentSequence, sr.Code("HAS CONCEPT MOD", Codes.TopographicalModifier, modifier));
        return site;
    }
}
