using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Dicom;

namespace HippoNode.Node.Demo;

/// <summary>
/// The demo's chest study: one frontal DX For Presentation image (MONOCHROME1, 12 bits, VOI LUT Sequence), made from the
/// first PNEUMONIA image of ../shared/data/chest-xray-pneumonia when present (resampled to 1024 x 1024), otherwise from a
/// synthetic chest phantom; no real patient identity (PatientID "HN-SYNTHETIC-CXR"), fresh UIDs on every call.
/// </summary>
public static class ChestStudy
{
    /// <summary>The patient ID the demo chest study carries.</summary>
    public const string PatientId = "HN-SYNTHETIC-CXR";

    /// <summary>Writes the study into <paramref name="folder"/>; returns its Study Instance UID and where the image came from.</summary>
    public static (string StudyInstanceUid, string Source) Write(string folder, string? sharedData = null)
    {
        var (image, source) = SharedImage(sharedData) is { } shared ? shared : (RadiographFactory.ChestPhantom(512, 560), "synthetic chest phantom");
        var study = DicomUid.Generate();
        RadiographFactory.Write(new RadiographSpec
        {
            Image = image,
            Encoding = RadiographEncoding.DxVoiLutSequence,
            Monochrome1 = true,
            BitsStored = 12,
            ViewPosition = "AP",
            PixelSpacing = 0.3,
            StudyInstanceUid = study,
            PatientId = PatientId,
            PatientName = "SYNTHETIC^CHEST",
            StudyDescription = "XR CHEST AP (demo)",
            SeriesDescription = "Chest AP",
        }, Path.Combine(folder, "chest-ap.dcm"));
        return (study, source);
    }

    private static (GrayscaleImage, string)? SharedImage(string? sharedData)
    {
        if (sharedData is null) return null;
        var folder = Path.Combine(sharedData, "chest-xray-pneumonia", "train", "PNEUMONIA");
        if (!Directory.Exists(folder)) return null;
        var file = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).FirstOrDefault();
        if (file is null) return null;
        var img = GrayscaleImage.Load(file);
        return (new GrayscaleImage(1024, 1024, ImagePreprocessing.Resample(img.Pixels, img.Width, img.Height, 1024, 1024)), $"{file} (shared training set, as DX)");
    }
}
