using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>Small MR instances made in the test (no shared data needed), with a patient whose values the tests look for in logs.</summary>
public static class TestInstances
{
    /// <summary>The patient's name in every instance.</summary>
    public const string PatientName = "PHIDOE^JANE^MARIE";

    /// <summary>The patient ID.</summary>
    public const string PatientId = "PHI-ID-4711";

    /// <summary>The birth date.</summary>
    public const string BirthDate = "19450317";

    /// <summary>
    /// Writes <paramref name="count"/> instances of one study into <paramref name="folder"/>; the UIDs may be given
    /// (hostile ones included: they go into the file meta and the data set as they are). Returns the paths.
    /// </summary>
    public static IReadOnlyList<string> Write(string folder, int count = 1, string? studyUid = null, Func<int, string>? sopInstanceUid = null, int pixels = 16)
    {
        Directory.CreateDirectory(folder);
        var study = studyUid ?? DicomUid.Generate();
        var series = DicomUid.Generate();
        var paths = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var ds = new DicomDataset();
            ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUid.MRImageStorage);
            ds.AddOrUpdate(DicomTags.SOPInstanceUID, sopInstanceUid?.Invoke(i) ?? DicomUid.Generate());
            ds.AddOrUpdate(DicomTags.Modality, "MR");
            ds.AddOrUpdate(DicomTags.PatientName, PatientName);
            ds.AddOrUpdate(DicomTags.PatientID, PatientId);
            ds.AddOrUpdate(DicomTags.PatientBirthDate, BirthDate);
            ds.AddOrUpdate(DicomTags.StudyInstanceUID, study);
            ds.AddOrUpdate(DicomTags.SeriesInstanceUID, series);
            ds.AddOrUpdate(DicomTags.InstanceNumber, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            ds.AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.US, (ushort)1);
            ds.AddOrUpdate(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)pixels);
            ds.AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)pixels);
            ds.AddOrUpdate(DicomTags.BitsAllocated, DicomVR.US, (ushort)16);
            ds.AddOrUpdate(DicomTags.BitsStored, DicomVR.US, (ushort)16);
            ds.AddOrUpdate(DicomTags.HighBit, DicomVR.US, (ushort)15);
            ds.AddOrUpdate(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
            var data = new byte[pixels * pixels * 2];
            new Random(i).NextBytes(data);
            ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, data);
            var path = Path.Combine(folder, $"{i + 1:D4}.dcm");
            new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            paths.Add(path);
        }
        return paths;
    }
}
