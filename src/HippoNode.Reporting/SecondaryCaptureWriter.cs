using HippoNode.Dicom;
using SkiaSharp;

namespace HippoNode.Reporting;

/// <summary>Builds the Secondary Capture Image (SOP 1.2.840.10008.5.1.4.1.1.7) holding the rendered report page, RGB 8-bit.</summary>
public static class SecondaryCaptureWriter
{
    /// <summary>Builds the SC data set from <see cref="ReportPageRenderer.Render"/>; write it with Explicit VR Little Endian.</summary>
    public static DicomDataset Create(StudyFindings findings, ReportingOptions options)
    {
        using var page = ReportPageRenderer.Render(findings, options);
        return Create(findings, options, page);
    }

    /// <summary>Builds the SC data set around an already rendered page (any colour type; alpha is dropped).</summary>
    public static DicomDataset Create(StudyFindings findings, ReportingOptions options, SKBitmap page)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(options);
        return Create(ResultObject.Source(findings), findings.ContentTime, options, page, "Report page rendered by HippoNode. " + options.Disclaimer);
    }

    /// <summary>
    /// Builds an SC data set in <paramref name="source"/>'s study around a rendered page: series from <paramref name="options"/>
    /// (<see cref="ReportingOptions.CaptureSeriesNumber"/>, description), Derivation Description <paramref name="derivation"/>.
    /// </summary>
    public static DicomDataset Create(DicomDataset source, DateTimeOffset contentTime, ReportingOptions options, SKBitmap page, string derivation)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(options);
        var o = ResultObject.Create(source, contentTime, options, DicomUid.SecondaryCaptureImageStorage, "OT",
            options.CaptureSeriesNumber, options.CaptureSeriesDescription);
        var ds = o.Dataset;

        // General Series: Laterality is type 2C (a paired structure): the source's value, else empty (unknown).
        if (source.GetItem(DicomTags.Laterality) is DicomElement laterality) ds.Add(laterality);
        else ds.Add(new DicomElement(DicomTags.Laterality, DicomVR.CS, MemoryByteBuffer.Empty));

        // General Image, SC Equipment, SC Image
        ds.AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "DERIVED", "SECONDARY");
        ds.Add(new DicomElement(DicomTags.PatientOrientation, DicomVR.CS, MemoryByteBuffer.Empty));
        ds.AddOrUpdate(DicomTags.BurnedInAnnotation, DicomVR.CS, "YES"); // study date and accession number are on the page
        ds.AddOrUpdate(DicomTags.ConversionType, DicomVR.CS, "WSD");
        o.Text(ds, DicomTags.DerivationDescription, DicomVR.ST, derivation);

        // Image Pixel: interleaved RGB (PlanarConfiguration 0)
        ds.AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.US, (ushort)3);
        ds.AddOrUpdate(DicomTags.PhotometricInterpretation, DicomVR.CS, "RGB");
        ds.AddOrUpdate(DicomTags.PlanarConfiguration, DicomVR.US, (ushort)0);
        ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)page.Height);
        ds.AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)page.Width);
        ds.AddOrUpdate(DicomTags.BitsAllocated, DicomVR.US, (ushort)8);
        ds.AddOrUpdate(DicomTags.BitsStored, DicomVR.US, (ushort)8);
        ds.AddOrUpdate(DicomTags.HighBit, DicomVR.US, (ushort)7);
        ds.AddOrUpdate(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
        ds.AddOrUpdate(DicomTags.LossyImageCompression, DicomVR.CS, "00");
        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OB, Rgb(page));
        return ds;
    }

    /// <summary>The bitmap's pixels as interleaved 8-bit R, G, B, row by row (even length: 3·W·H is padded by the writer).</summary>
    internal static byte[] Rgb(SKBitmap page)
    {
        using var rgba = page.ColorType == SKColorType.Rgba8888 && page.AlphaType != SKAlphaType.Unpremul ? null : page.Copy(SKColorType.Rgba8888);
        var src = rgba ?? page;
        var bytes = src.GetPixelSpan();
        var n = src.Width * src.Height;
        var rgb = new byte[n * 3];
        for (var p = 0; p < n; p++)
        {
            rgb[p * 3] = bytes[p * 4];
            rgb[p * 3 + 1] = bytes[p * 4 + 1];
            rgb[p * 3 + 2] = bytes[p * 4 + 2];
        }
        return rgb;
    }
}
