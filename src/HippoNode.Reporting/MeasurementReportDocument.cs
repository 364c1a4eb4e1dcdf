using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>What every TID 1500 Measurement Report HippoNode writes shares: the SR document modules, the root container and its context.</summary>
internal static class MeasurementReportDocument
{
    /// <summary>
    /// Adds to <paramref name="o"/> the SR Document Series and General modules (complete, unverified, the evidence: each
    /// series with its instances), declares the private coding scheme, and makes the root an Imaging Measurement Report
    /// container (TID 1500); returns the content item builder.
    /// </summary>
    public static SrBuilder Start(ResultObject o, string studyUid, ReportingOptions options,
        params (string SeriesUid, IReadOnlyList<(string SopClass, string SopInstance)> Instances)[] evidence)
    {
        var ds = o.Dataset;
        // SR Document Series: type 2 sequence, empty.
        ds.Add(new DicomSequence(DicomTags.ReferencedPerformedProcedureStepSequence));

        // SR Document General
        ds.AddOrUpdate(DicomTags.CompletionFlag, DicomVR.CS, "COMPLETE");     // every measurement the analysis makes is here
        ds.AddOrUpdate(DicomTags.VerificationFlag, DicomVR.CS, "UNVERIFIED"); // no person has attested it
        ds.Add(new DicomSequence(DicomTags.PerformedProcedureCodeSequence));  // type 2, empty
        ds.AddOrUpdate(DicomTags.CurrentRequestedProcedureEvidenceSequence, new DicomDataset()
            .AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, studyUid)
            .AddOrUpdate(DicomTags.ReferencedSeriesSequence, [.. evidence.Select(e => new DicomDataset()
                .AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, e.SeriesUid)
                .AddOrUpdate(DicomTags.ReferencedSOPSequence, [.. e.Instances.Select(i => ResultObject.SopReference(i.SopClass, i.SopInstance))]))]));

        // SOP Common: the private coding scheme is declared (PS3.3 C.12.1.1.2).
        var scheme = new DicomDataset().AddOrUpdate(DicomTags.CodingSchemeDesignator, DicomVR.SH, Codes.HippoNodeScheme);
        o.Text(scheme, DicomTags.CodingSchemeName, DicomVR.ST, "HippoNode local concepts");
        o.Text(scheme, DicomTags.CodingSchemeResponsibleOrganization, DicomVR.ST, options.Manufacturer);
        ds.AddOrUpdate(DicomTags.CodingSchemeIdentificationSequence, scheme);

        // SR Document Content: the root container and its template.
        ds.AddOrUpdate(DicomTags.ValueType, DicomVR.CS, "CONTAINER");
        ds.AddOrUpdate(DicomTags.ConceptNameCodeSequence, o.Code(Codes.ImagingMeasurementReport));
        ds.AddOrUpdate(DicomTags.ContinuityOfContent, DicomVR.CS, "SEPARATE");
        ds.AddOrUpdate(DicomTags.ContentTemplateSequence, new DicomDataset()
            .AddOrUpdate(DicomTags.MappingResource, DicomVR.CS, "DCMR")
            .AddOrUpdate(DicomTags.TemplateIdentifier, DicomVR.CS, "1500"));
        return new SrBuilder(o);
    }

    /// <summary>
    /// The root's first items: language (TID 1204), the device observer (TID 1002/1004), the procedure reported and the
    /// Image Library (TID 1600) of <paramref name="images"/>.
    /// </summary>
    public static List<DicomDataset> Context(SrBuilder sr, ReportingOptions options, CodedConcept procedure, IEnumerable<(string SopClass, string SopInstance)> images)
    {
        var root = new List<DicomDataset>
        {
            sr.Code("HAS CONCEPT MOD", Codes.LanguageOfContent, Codes.EnglishUs),
            sr.Code("HAS OBS CONTEXT", Codes.ObserverType, Codes.Device),
            sr.Uid("HAS OBS CONTEXT", Codes.DeviceObserverUid, options.DeviceObserverUid),
            sr.Text("HAS OBS CONTEXT", Codes.DeviceObserverName, options.DeviceObserverName),
            sr.Text("HAS OBS CONTEXT", Codes.DeviceObserverManufacturer, options.Manufacturer),
            sr.Text("HAS OBS CONTEXT", Codes.DeviceObserverModelName, options.ManufacturerModelName),
        };
        if (options.DeviceSerialNumber is { Length: > 0 } serial) root.Add(sr.Text("HAS OBS CONTEXT", Codes.DeviceObserverSerialNumber, serial));
        root.Add(sr.Code("HAS CONCEPT MOD", Codes.ProcedureReported, procedure));
        root.Add(sr.Container("CONTAINS", Codes.ImageLibrary,
            sr.Container("CONTAINS", Codes.ImageLibraryGroup, [.. images.Select(i => sr.Image("CONTAINS", null, i.SopClass, i.SopInstance, null))])));
        return root;
    }
}
