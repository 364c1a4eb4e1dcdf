using System.Globalization;
using System.Text;
using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>What SEG, SR and SC share: study identity copied from the source, new series and instance, equipment, SOP common.</summary>
/// <remarks>
/// New Series and SOP Instance UIDs come from <see cref="DicomUid.Generate"/>: "2.25." and a random (version 4) UUID as a
/// decimal integer (PS3.5 §B.2), so no registered root is needed and two nodes never collide.
/// Texts HippoNode writes are encoded with the Specific Character Set copied from the source (default repertoire when absent).
/// </remarks>
internal sealed class ResultObject
{
    private ResultObject(DicomDataset dataset) => Dataset = dataset;

    /// <summary>The data set being built.</summary>
    public DicomDataset Dataset { get; }

    /// <summary>The encoding of text values: the Specific Character Set copied from the source.</summary>
    public Encoding Encoding => Dataset.Encoding;

    /// <summary>The first source slice: patient and study attributes are the same on every slice.</summary>
    public static DicomDataset Source(StudyFindings findings) =>
        findings.SourceSlices.Count > 0 ? findings.SourceSlices[0] : throw new ArgumentException("The findings hold no source slice.", nameof(findings));

    /// <summary>A new instance of a new series in the source's study, with the modules every result object has.</summary>
    public static ResultObject Create(StudyFindings findings, ReportingOptions options, string sopClassUid, string modality, int seriesNumber, string seriesDescription)
    {
        ArgumentNullException.ThrowIfNull(findings);
        return Create(Source(findings), findings.ContentTime, options, sopClassUid, modality, seriesNumber, seriesDescription);
    }

    /// <summary>A new instance of a new series in <paramref name="source"/>'s study, created at <paramref name="now"/>.</summary>
    public static ResultObject Create(DicomDataset source, DateTimeOffset now, ReportingOptions options, string sopClassUid, string modality, int seriesNumber, string seriesDescription)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var ds = new DicomDataset();
        // First, so that every text added after it is encoded with the source's repertoire.
        if (source.GetItem(DicomTags.SpecificCharacterSet) is DicomElement charset) ds.Add(charset);
        var o = new ResultObject(ds);

        // SOP Common
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, sopClassUid);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.AddOrUpdate(DicomTags.InstanceCreationDate, DicomVR.DA, Date(now));
        ds.AddOrUpdate(DicomTags.InstanceCreationTime, DicomVR.TM, Time(now));

        // Patient: copied as stored (bytes and character set unchanged); type 2 attributes present even when empty.
        o.CopyOrEmpty(source, DicomTags.PatientName, DicomVR.PN);
        o.CopyOrEmpty(source, DicomTags.PatientID, DicomVR.LO);
        o.CopyIfPresent(source, DicomTags.IssuerOfPatientID);
        o.CopyOrEmpty(source, DicomTags.PatientBirthDate, DicomVR.DA);
        o.CopyOrEmpty(source, DicomTags.PatientSex, DicomVR.CS);
        o.CopyIfPresent(source, DicomTags.PatientAge);
        o.CopyIfPresent(source, DicomTags.PatientSize);
        o.CopyIfPresent(source, DicomTags.PatientWeight);
        o.CopyIfPresent(source, DicomTags.PatientIdentityRemoved);
        o.CopyIfPresent(source, DicomTags.DeidentificationMethod);

        // General Study
        o.CopyIfPresent(source, DicomTags.StudyInstanceUID);
        if (!ds.Contains(DicomTags.StudyInstanceUID)) throw new ArgumentException("The source has no Study Instance UID.", nameof(source));
        o.CopyOrEmpty(source, DicomTags.StudyDate, DicomVR.DA);
        o.CopyOrEmpty(source, DicomTags.StudyTime, DicomVR.TM);
        o.CopyOrEmpty(source, DicomTags.ReferringPhysicianName, DicomVR.PN);
        o.CopyOrEmpty(source, DicomTags.StudyID, DicomVR.SH);
        o.CopyOrEmpty(source, DicomTags.AccessionNumber, DicomVR.SH);
        o.CopyIfPresent(source, DicomTags.StudyDescription);

        // General Series (or SR Document Series / Segmentation Series: the same attributes)
        ds.AddOrUpdate(DicomTags.Modality, DicomVR.CS, modality);
        ds.AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.AddOrUpdate(DicomTags.SeriesNumber, DicomVR.IS, seriesNumber.ToString(CultureInfo.InvariantCulture));
        o.Text(ds, DicomTags.SeriesDescription, DicomVR.LO, seriesDescription);
        ds.AddOrUpdate(DicomTags.SeriesDate, DicomVR.DA, Date(now));
        ds.AddOrUpdate(DicomTags.SeriesTime, DicomVR.TM, Time(now));

        // General Equipment
        o.Text(ds, DicomTags.Manufacturer, DicomVR.LO, options.Manufacturer);
        o.Text(ds, DicomTags.ManufacturerModelName, DicomVR.LO, options.ManufacturerModelName);
        o.Text(ds, DicomTags.SoftwareVersions, DicomVR.LO, options.SoftwareVersions);
        o.Text(ds, DicomTags.DeviceSerialNumber, DicomVR.LO, options.DeviceSerialNumber ?? "unspecified");
        if (options.InstitutionName is { Length: > 0 } inst) o.Text(ds, DicomTags.InstitutionName, DicomVR.LO, inst);

        // Content date and time (General Image / SR Document General / Segmentation)
        ds.AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, "1");
        ds.AddOrUpdate(DicomTags.ContentDate, DicomVR.DA, Date(now));
        ds.AddOrUpdate(DicomTags.ContentTime, DicomVR.TM, Time(now));
        return o;
    }

    /// <summary>DA of the findings' local time.</summary>
    public static string Date(DateTimeOffset t) => t.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>TM of the findings' local time.</summary>
    public static string Time(DateTimeOffset t) => t.ToString("HHmmss", CultureInfo.InvariantCulture);

    /// <summary>Sets a text element encoded with this object's character set (the toolkit's setter would use the item's own, unknown while detached).</summary>
    public DicomDataset Text(DicomDataset target, DicomTag tag, DicomVR vr, string value)
    {
        var enc = vr.UsesSpecificCharacterSet() ? Encoding : Encoding.ASCII;
        target.Add(new DicomElement(tag, vr, new MemoryByteBuffer(enc.GetBytes(value))));
        return target;
    }

    /// <summary>A Code Sequence Macro item (PS3.3 Table 8.8-1).</summary>
    public DicomDataset Code(CodedConcept c)
    {
        var item = new DicomDataset();
        Text(item, DicomTags.CodeValue, DicomVR.SH, c.Value);
        Text(item, DicomTags.CodingSchemeDesignator, DicomVR.SH, c.Scheme);
        Text(item, DicomTags.CodeMeaning, DicomVR.LO, c.Meaning);
        return item;
    }

    /// <summary>An item naming an instance: Referenced SOP Class and Instance UIDs.</summary>
    public static DicomDataset SopReference(string sopClassUid, string sopInstanceUid) =>
        new DicomDataset()
            .AddOrUpdate(DicomTags.ReferencedSOPClassUID, DicomVR.UI, sopClassUid)
            .AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, sopInstanceUid);

    /// <summary>A source slice's SOP Class and Instance UIDs.</summary>
    public static (string SopClass, string SopInstance) Identity(DicomDataset slice) =>
        (slice.GetString(DicomTags.SOPClassUID) ?? throw new ArgumentException("A source slice has no SOP Class UID."),
         slice.GetString(DicomTags.SOPInstanceUID) ?? throw new ArgumentException("A source slice has no SOP Instance UID."));

    private void CopyIfPresent(DicomDataset source, DicomTag tag)
    {
        if (source.GetItem(tag) is { } item) Dataset.Add(item is DicomSequence ? CloneSequence((DicomSequence)item) : item);
    }

    private void CopyOrEmpty(DicomDataset source, DicomTag tag, DicomVR vr)
    {
        if (source.GetItem(tag) is DicomElement e) Dataset.Add(e);
        else Dataset.Add(new DicomElement(tag, vr, MemoryByteBuffer.Empty));
    }

    private static DicomSequence CloneSequence(DicomSequence sq)
    {
        var copy = new DicomSequence(sq.Tag);
        foreach (var i in sq.Items) copy.Items.Add(i.Clone());
        return copy;
    }
}
