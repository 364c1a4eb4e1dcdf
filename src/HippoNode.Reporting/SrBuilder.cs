using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>Content items (PS3.3 C.17.3): relationship, value type, concept name and the value of each type.</summary>
internal sealed class SrBuilder(ResultObject o)
{
    public DicomDataset Item(string relationship, string valueType, CodedConcept? name)
    {
        var item = new DicomDataset()
            .AddOrUpdate(DicomTags.RelationshipType, DicomVR.CS, relationship)
            .AddOrUpdate(DicomTags.ValueType, DicomVR.CS, valueType);
        if (name is not null) item.AddOrUpdate(DicomTags.ConceptNameCodeSequence, o.Code(name));
        return item;
    }

    public DicomDataset Container(string relationship, CodedConcept name, params DicomDataset[] children)
    {
        var item = Item(relationship, "CONTAINER", name).AddOrUpdate(DicomTags.ContinuityOfContent, DicomVR.CS, "SEPARATE");
        if (children.Length > 0) item.AddOrUpdate(DicomTags.ContentSequence, children);
        return item;
    }

    public DicomDataset Code(string relationship, CodedConcept name, CodedConcept value) =>
        Item(relationship, "CODE", name).AddOrUpdate(DicomTags.ConceptCodeSequence, o.Code(value));

    public DicomDataset Text(string relationship, CodedConcept name, string value) =>
        o.Text(Item(relationship, "TEXT", name), DicomTags.TextValue, DicomVR.UT, value);

    public DicomDataset Uid(string relationship, CodedConcept name, string uid) =>
        Item(relationship, "UIDREF", name).AddOrUpdate(DicomTags.UID, DicomVR.UI, uid);

    public DicomDataset Num(string relationship, CodedConcept name, double value, CodedConcept units)
    {
        var measured = new DicomDataset()
            .AddOrUpdate(DicomTags.MeasurementUnitsCodeSequence, o.Code(units))
            .AddOrUpdate(DicomTags.NumericValue, DicomVR.DS, value);
        // DS holds 16 characters: the exact double goes along when the text cannot carry it (PS3.3 C.18.1).
        if (!double.TryParse(measured.GetString(DicomTags.NumericValue), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var back) || back != value)
            measured.AddOrUpdate(DicomTags.FloatingPointValue, DicomVR.FD, value);
        return Item(relationship, "NUM", name).AddOrUpdate(DicomTags.MeasuredValueSequence, measured);
    }

    public DicomDataset Image(string relationship, CodedConcept? name, string sopClass, string sopInstance, int? segmentNumber)
    {
        var reference = ResultObject.SopReference(sopClass, sopInstance);
        if (segmentNumber is { } n) reference.AddOrUpdate(DicomTags.ReferencedSegmentNumber, DicomVR.US, (ushort)n);
        return Item(relationship, "IMAGE", name).AddOrUpdate(DicomTags.ReferencedSOPSequence, reference);
    }
}
