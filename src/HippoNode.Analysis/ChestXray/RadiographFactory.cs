using System.Globalization;
using HippoNode.Classification;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Analysis.ChestXray;

/// <summary>How the display values are coded in a made radiograph.</summary>
public enum RadiographEncoding
{
    /// <summary>DX for presentation with a Window Center/Width (VOI LUT Function LINEAR).</summary>
    DxWindow,

    /// <summary>DX for presentation with a VOI LUT Sequence (a linear LUT of 16-bit entries).</summary>
    DxVoiLutSequence,

    /// <summary>DX for processing: no VOI at all (readers must choose a window themselves).</summary>
    DxForProcessing,

    /// <summary>CR with a Modality LUT Sequence (16-bit entries) and a window on the modality values.</summary>
    CrModalityLut,
}

/// <summary>What to make: the image, its coding and the identity of the study it belongs to.</summary>
public sealed class RadiographSpec
{
    /// <summary>The display image to code ([0, 1], bright bone).</summary>
    public required GrayscaleImage Image { get; init; }

    /// <summary>The coding of the display values.</summary>
    public RadiographEncoding Encoding { get; init; } = RadiographEncoding.DxWindow;

    /// <summary>MONOCHROME1 (high values dark) instead of MONOCHROME2.</summary>
    public bool Monochrome1 { get; init; }

    /// <summary>Bits Stored, 8 to 16 (Bits Allocated 8 up to 8 bits, else 16).</summary>
    public int BitsStored { get; init; } = 12;

    /// <summary>View Position (PA, AP, LL...).</summary>
    public string ViewPosition { get; init; } = "PA";

    /// <summary>Body Part Examined.</summary>
    public string BodyPart { get; init; } = "CHEST";

    /// <summary>Imager Pixel Spacing in mm (square pixels).</summary>
    public double PixelSpacing { get; init; } = 0.15;

    /// <summary>Study Instance UID (new when null).</summary>
    public string? StudyInstanceUid { get; init; }

    /// <summary>Series Instance UID (new when null).</summary>
    public string? SeriesInstanceUid { get; init; }

    /// <summary>Patient ID.</summary>
    public string PatientId { get; init; } = "HN-CXR-0001";

    /// <summary>Patient's Name.</summary>
    public string PatientName { get; init; } = "Synthetic^Chest";

    /// <summary>Study Description.</summary>
    public string StudyDescription { get; init; } = "XR CHEST";

    /// <summary>Series Description.</summary>
    public string SeriesDescription { get; init; } = "Chest";

    /// <summary>Series Number.</summary>
    public int SeriesNumber { get; init; } = 1;

    /// <summary>Accession Number.</summary>
    public string AccessionNumber { get; init; } = "";

    /// <summary>Study Date (yyyyMMdd).</summary>
    public string StudyDate { get; init; } = "20260101";
}

/// <summary>
/// Makes DX and CR objects from a display image (the demo's chest study, the test radiographs made from the shared
/// PNG/JPEG data set): stored values, modality LUT, VOI and photometric interpretation chosen so that reading the file
/// back through the PS3.3 grayscale pipeline gives the image again, up to the quantisation of the stored bits.
/// </summary>
public static class RadiographFactory
{
    /// <summary>The data set for <paramref name="spec"/> (write it with Explicit VR Little Endian).</summary>
    public static DicomDataset Create(RadiographSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.BitsStored is < 8 or > 16) throw new ArgumentException($"Bits Stored {spec.BitsStored} must be 8 to 16");
        var image = spec.Image;
        var bits = spec.BitsStored;
        var max = (1 << bits) - 1;
        var cr = spec.Encoding == RadiographEncoding.CrModalityLut;
        var ic = CultureInfo.InvariantCulture;

        // Stored value per pixel: MONOCHROME1 stores high values where the display is dark.
        var stored = new int[image.Pixels.Length];
        for (var i = 0; i < stored.Length; i++)
        {
            var d = Math.Clamp(image.Pixels[i], 0f, 1f);
            stored[i] = (int)Math.Round((spec.Monochrome1 ? 1 - d : d) * max);
        }

        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100")
            .AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY")
            .AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, cr ? DicomUid.ComputedRadiographyImageStorage
                : spec.Encoding == RadiographEncoding.DxForProcessing ? DicomUid.DigitalXRayImageStorageForProcessing : DicomUid.DigitalXRayImageStorageForPresentation)
            .AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.StudyDate, DicomVR.DA, spec.StudyDate)
            .AddOrUpdate(DicomTags.ContentDate, DicomVR.DA, spec.StudyDate)
            .AddOrUpdate(DicomTags.StudyTime, DicomVR.TM, "090000")
            .AddOrUpdate(DicomTags.ContentTime, DicomVR.TM, "090000")
            .AddOrUpdate(DicomTags.AccessionNumber, DicomVR.SH, spec.AccessionNumber)
            .AddOrUpdate(DicomTags.Modality, DicomVR.CS, cr ? "CR" : "DX")
            .AddOrUpdate(DicomTags.Manufacturer, DicomVR.LO, "HippoNode test radiograph factory")
            .AddOrUpdate(DicomTags.ReferringPhysicianName, DicomVR.PN, "")
            .AddOrUpdate(DicomTags.StudyDescription, DicomVR.LO, spec.StudyDescription)
            .AddOrUpdate(DicomTags.SeriesDescription, DicomVR.LO, spec.SeriesDescription)
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, spec.PatientName)
            .AddOrUpdate(DicomTags.PatientID, DicomVR.LO, spec.PatientId)
            .AddOrUpdate(DicomTags.PatientBirthDate, DicomVR.DA, "")
            .AddOrUpdate(DicomTags.PatientSex, DicomVR.CS, "")
            .AddOrUpdate(DicomTags.BodyPartExamined, DicomVR.CS, spec.BodyPart)
            .AddOrUpdate(DicomTags.ViewPosition, DicomVR.CS, spec.ViewPosition)
            .AddOrUpdate(DicomTags.PositionerType, DicomVR.CS, "")
            .AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, spec.StudyInstanceUid ?? DicomUid.Generate())
            .AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, spec.SeriesInstanceUid ?? DicomUid.Generate())
            .AddOrUpdate(DicomTags.StudyID, DicomVR.SH, "1")
            .AddOrUpdate(DicomTags.SeriesNumber, DicomVR.IS, spec.SeriesNumber.ToString(ic))
            .AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, "1")
            .AddOrUpdate(DicomTags.PatientOrientation, DicomVR.CS, "R", "F")
            .AddOrUpdate(DicomTags.ImageLaterality, DicomVR.CS, "U")
            .AddOrUpdate(DicomTags.BurnedInAnnotation, DicomVR.CS, "NO")
            .AddOrUpdate(DicomTags.LossyImageCompression, DicomVR.CS, "00")
            .AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.US, (ushort)1)
            .AddOrUpdate(DicomTags.PhotometricInterpretation, DicomVR.CS, spec.Monochrome1 ? "MONOCHROME1" : "MONOCHROME2")
            .AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)image.Height)
            .AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)image.Width)
            .AddOrUpdate(DicomTags.BitsAllocated, DicomVR.US, (ushort)(bits <= 8 ? 8 : 16))
            .AddOrUpdate(DicomTags.BitsStored, DicomVR.US, (ushort)bits)
            .AddOrUpdate(DicomTags.HighBit, DicomVR.US, (ushort)(bits - 1))
            .AddOrUpdate(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
        var spacing = FormatSpacing(spec.PixelSpacing);
        if (cr)
        {
            ds.AddOrUpdate(DicomTags.PixelSpacing, DicomVR.DS, spacing, spacing);
        }
        else
        {
            // DX Series, DX Anatomy Imaged, DX Image, DX Detector, Acquisition Context.
            ds.AddOrUpdate(DicomTags.PresentationIntentType, DicomVR.CS, spec.Encoding == RadiographEncoding.DxForProcessing ? "FOR PROCESSING" : "FOR PRESENTATION")
                .AddOrUpdate(DicomTags.ImagerPixelSpacing, DicomVR.DS, spacing, spacing)
                .AddOrUpdate(DicomTags.DetectorType, DicomVR.CS, "DIRECT")
                .AddOrUpdate(DicomTags.PixelIntensityRelationship, DicomVR.CS, "LIN")
                .AddOrUpdate(DicomTags.PixelIntensityRelationshipSign, DicomVR.SS, (short)(spec.Monochrome1 ? -1 : 1))
                .AddOrUpdate(DicomTags.RescaleIntercept, DicomVR.DS, "0")
                .AddOrUpdate(DicomTags.RescaleSlope, DicomVR.DS, "1")
                .AddOrUpdate(DicomTags.RescaleType, DicomVR.LO, "US")
                .AddOrUpdate(DicomTags.PresentationLUTShape, DicomVR.CS, spec.Monochrome1 ? "INVERSE" : "IDENTITY")
                .AddOrUpdate(DicomTags.AcquisitionContextSequence, Array.Empty<DicomDataset>())
                .AddOrUpdate(DicomTags.AnatomicRegionSequence, new DicomDataset()
                    .AddOrUpdate(DicomTags.CodeValue, DicomVR.SH, "51185008")
                    .AddOrUpdate(DicomTags.CodingSchemeDesignator, DicomVR.SH, "SCT")
                    .AddOrUpdate(DicomTags.CodeMeaning, DicomVR.LO, "Chest"));
        }

        // VOI (and the CR's modality LUT): chosen so that the pipeline maps the stored values back to v / max.
        switch (spec.Encoding)
        {
            case RadiographEncoding.DxWindow:
                // LINEAR: y = (x - (c - 0.5)) / (w - 1) + 0.5 with c = (max + 1) / 2 and w = max + 1 gives y = x / max.
                ds.AddOrUpdate(DicomTags.WindowCenter, DicomVR.DS, ((max + 1) / 2.0).ToString(ic))
                    .AddOrUpdate(DicomTags.WindowWidth, DicomVR.DS, (max + 1).ToString(ic))
                    .AddOrUpdate(DicomTags.VOILUTFunction, DicomVR.CS, "LINEAR");
                break;
            case RadiographEncoding.DxVoiLutSequence:
                ds.AddOrUpdate(DicomTags.VOILUTSequence, VoiLut(max));
                break;
            case RadiographEncoding.CrModalityLut:
                // Modality values = 100 + stored x 65435 / max (a LUT, not a rescale; 16-bit entries that use their range,
                // as dciodvfy demands), then a window over [100, 65535] that maps them back to stored / max.
                var lut = new ushort[max + 1];
                for (var i = 0; i <= max; i++) lut[i] = (ushort)Math.Round(100 + i * 65435.0 / max);
                ds.AddOrUpdate(DicomTags.ModalityLUTSequence, new DicomDataset()
                        .AddOrUpdate(DicomTags.LUTDescriptor, DicomVR.US, (ushort)(max + 1 == 65536 ? 0 : max + 1), (ushort)0, (ushort)16)
                        .AddOrUpdate(DicomTags.ModalityLUTType, DicomVR.LO, "US")
                        .AddOrUpdate(DicomTags.LUTData, DicomVR.OW, lut))
                    .AddOrUpdate(DicomTags.WindowCenter, DicomVR.DS, "32818")
                    .AddOrUpdate(DicomTags.WindowWidth, DicomVR.DS, "65436");
                break;
        }

        var bytes = bits <= 8 ? new byte[stored.Length + (stored.Length & 1)] : new byte[stored.Length * 2];
        for (var i = 0; i < stored.Length; i++)
        {
            if (bits <= 8) bytes[i] = (byte)stored[i];
            else System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)stored[i]);
        }
        ds.AddOrUpdate(DicomTags.PixelData, bits <= 8 ? DicomVR.OB : DicomVR.OW, bytes);
        return ds;
    }

    /// <summary>Writes <paramref name="spec"/>'s object to <paramref name="path"/> (Explicit VR Little Endian); returns the data set.</summary>
    public static DicomDataset Write(RadiographSpec spec, string path)
    {
        var ds = Create(spec);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        return ds;
    }

    /// <summary>
    /// The VOI LUT the <see cref="RadiographEncoding.DxVoiLutSequence"/> objects carry: max + 1 entries of 16 bits,
    /// entry x = 65535 · x / max (so the display is x / max again), as a vendor's For Presentation LUT would be shaped.
    /// </summary>
    private static DicomDataset VoiLut(int max)
    {
        var data = new ushort[max + 1];
        for (var x = 0; x <= max; x++) data[x] = (ushort)Math.Round(65535.0 * x / max);
        return new DicomDataset()
            .AddOrUpdate(DicomTags.LUTDescriptor, DicomVR.US, (ushort)(max + 1 == 65536 ? 0 : max + 1), (ushort)0, (ushort)16)
            .AddOrUpdate(DicomTags.LUTExplanation, DicomVR.LO, "HippoNode test tone curve (linear)")
            .AddOrUpdate(DicomTags.LUTData, DicomVR.OW, data);
    }

    /// <summary>
    /// A synthetic chest for demos and tests when no real radiograph is at hand: a bright body with two dark lung fields, a
    /// spine and a faint texture, different in every row and column; <paramref name="shift"/> moves the lungs sideways
    /// (a second, different image).
    /// </summary>
    public static GrayscaleImage ChestPhantom(int width, int height, double shift = 0)
    {
        var p = new float[width * height];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                double u = (x + 0.5) / width - 0.5, v = (y + 0.5) / height - 0.5;
                var value = u * u / 0.2 + v * v / 0.23 < 1 ? 0.75 : 0.08;
                double Lung(double cx) => Math.Pow((u - cx) / 0.16, 2) + Math.Pow((v + 0.02) / 0.3, 2);
                if (Lung(-0.19 + shift) < 1 || Lung(0.19 + shift) < 1) value = 0.22 + 0.1 * Math.Sin(12 * v);
                if (Math.Abs(u) < 0.035) value = 0.9;
                p[y * width + x] = (float)Math.Clamp(value + 0.05 * u + 0.03 * v, 0, 1);
            }
        return new GrayscaleImage(width, height, p);
    }

    private static string FormatSpacing(double mm) => mm.ToString("0.######", CultureInfo.InvariantCulture);
}
