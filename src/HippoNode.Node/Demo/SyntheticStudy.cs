using System.Globalization;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Node.Demo;

/// <summary>
/// A small synthetic MR study for the demo and the tests when ../shared/data is absent: one series "HippoCrop" of
/// 32 axial slices, 51 rows × 35 columns, 1 mm isotropic (the geometry of the TestVolumes HippoCrop series), MR Image
/// Storage in Explicit VR Little Endian, 16-bit signed. The volume is a smooth background with a bright curved
/// ellipsoid (about the size and place of a right hippocampus in the crop) and a deterministic texture; no real
/// patient: PatientName "SYNTHETIC^HIPPOCROP", PatientID "HN-SYNTHETIC-001". Fresh UIDs on every call.
/// </summary>
public static class SyntheticStudy
{
    /// <summary>Slices, rows, columns.</summary>
    public const int Slices = 32, Rows = 51, Columns = 35;

    /// <summary>The patient name the synthetic study carries (tests check it never reaches the logs).</summary>
    public const string PatientName = "SYNTHETIC^HIPPOCROP";

    /// <summary>The patient ID the synthetic study carries.</summary>
    public const string PatientId = "HN-SYNTHETIC-001";

    /// <summary>Writes the series into <paramref name="folder"/> (one file per slice) and returns its Study Instance UID.</summary>
    public static string Write(string folder, string? studyInstanceUid = null, string seriesDescription = "HippoCrop", string modality = "MR")
    {
        Directory.CreateDirectory(folder);
        var study = studyInstanceUid ?? DicomUid.Generate();
        var series = DicomUid.Generate();
        var frame = DicomUid.Generate();
        for (var z = 0; z < Slices; z++)
        {
            var ds = new DicomDataset();
            ds.AddOrUpdate(DicomTags.SpecificCharacterSet, "ISO_IR 100");
            ds.AddOrUpdate(DicomTags.ImageType, "DERIVED", "SECONDARY", "AXIAL");
            ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUid.MRImageStorage);
            ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomUid.Generate());
            ds.AddOrUpdate(DicomTags.StudyDate, "20250101");
            ds.AddOrUpdate(DicomTags.StudyTime, "120000");
            ds.AddOrUpdate(DicomTags.AccessionNumber, "SYN0001");
            ds.AddOrUpdate(DicomTags.Modality, modality);
            ds.AddOrUpdate(DicomTags.Manufacturer, "Synthetic");
            ds.AddOrUpdate(DicomTags.StudyDescription, "HippoNode synthetic demo");
            ds.AddOrUpdate(DicomTags.SeriesDescription, seriesDescription);
            ds.AddOrUpdate(DicomTags.PatientName, PatientName);
            ds.AddOrUpdate(DicomTags.PatientID, PatientId);
            ds.AddOrUpdate(DicomTags.PatientBirthDate, "19700101");
            ds.AddOrUpdate(DicomTags.PatientSex, "O");
            ds.AddOrUpdate(DicomTags.SliceThickness, "1");
            ds.AddOrUpdate(DicomTags.StudyInstanceUID, study);
            ds.AddOrUpdate(DicomTags.SeriesInstanceUID, series);
            ds.AddOrUpdate(DicomTags.StudyID, "1");
            ds.AddOrUpdate(DicomTags.SeriesNumber, "13");
            ds.AddOrUpdate(DicomTags.InstanceNumber, (z + 1).ToString(CultureInfo.InvariantCulture));
            ds.AddOrUpdate(DicomTags.ImagePositionPatient, "0", "0", z.ToString(CultureInfo.InvariantCulture));
            ds.AddOrUpdate(DicomTags.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
            ds.AddOrUpdate(DicomTags.FrameOfReferenceUID, frame);
            ds.AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.US, (ushort)1);
            ds.AddOrUpdate(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)Rows);
            ds.AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)Columns);
            ds.AddOrUpdate(DicomTags.PixelSpacing, "1", "1");
            ds.AddOrUpdate(DicomTags.BitsAllocated, DicomVR.US, (ushort)16);
            ds.AddOrUpdate(DicomTags.BitsStored, DicomVR.US, (ushort)16);
            ds.AddOrUpdate(DicomTags.HighBit, DicomVR.US, (ushort)15);
            ds.AddOrUpdate(DicomTags.PixelRepresentation, DicomVR.US, (ushort)1);
            ds.AddOrUpdate(DicomTags.WindowCenter, "400");
            ds.AddOrUpdate(DicomTags.WindowWidth, "900");
            ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, Slice(z));
            new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(Path.Combine(folder, $"{z + 1:D3}.dcm"));
        }
        return study;
    }

    /// <summary>One slice's pixels (little endian int16).</summary>
    private static byte[] Slice(int z)
    {
        var bytes = new byte[Rows * Columns * 2];
        for (var y = 0; y < Rows; y++)
        {
            for (var x = 0; x < Columns; x++)
            {
                // A curved ellipsoid: its centre line bends along y, like the hippocampal body and tail.
                var cx = 17 + 4 * Math.Sin(y / 12.0);
                double dx = (x - cx) / 6.0, dy = (y - 25) / 17.0, dz = (z - 15.5) / 7.0;
                var r = dx * dx + dy * dy + dz * dz;
                var background = 250 + 60 * Math.Cos(x / 7.0) * Math.Sin(y / 9.0) + 3 * z;
                var texture = ((x * 73856093) ^ (y * 19349663) ^ (z * 83492791)) & 31;
                var value = (short)(r <= 1 ? 700 - 150 * r + texture : background + texture);
                System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan((y * Columns + x) * 2), value);
            }
        }
        return bytes;
    }
}
