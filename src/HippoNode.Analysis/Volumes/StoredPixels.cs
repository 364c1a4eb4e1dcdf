using System.Buffers.Binary;
using HippoNode.Analysis.Selection;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Analysis.Volumes;

/// <summary>The stored pixel values of one uncompressed, single-sample, single-frame image, before any LUT (PS3.5 §8, PS3.3 C.7.6.3).</summary>
/// <remarks>
/// Values come back as floats: exact for every stored value of up to 24 bits (all 8-16 bit images); Bits Stored and
/// High Bit select the bits, Pixel Representation 1 sign-extends them. Faults end in an <see cref="AnalysisException"/>
/// that names the series, the instance and the problem.
/// </remarks>
internal static class StoredPixels
{
    /// <summary>Reads <paramref name="instance"/> completely and decodes its pixels; returns its data set and Rows·Columns values, row-major.</summary>
    public static (DicomDataset Dataset, float[] Values) Read(string label, ScannedInstance instance, int rows, int columns, bool allowMonochrome1)
    {
        DicomFile file;
        try
        {
            file = DicomFile.Open(instance.Path);
        }
        catch (Exception ex) when (ex is DicomException or IOException)
        {
            throw SeriesVolumeReader.Fault(label, $"{SeriesVolumeReader.Name(instance)} cannot be read ({ex.Message})", ex);
        }
        if (file.TransferSyntax.IsEncapsulated)
            throw SeriesVolumeReader.Fault(label, $"{SeriesVolumeReader.Name(instance)} is compressed ({file.TransferSyntax}); only uncompressed transfer syntaxes are supported");
        var ds = file.Dataset;
        var name = SeriesVolumeReader.Name(instance);
        var samples = ds.TryGetValue<int>(DicomTags.SamplesPerPixel, out var spp) ? spp : 1;
        if (samples != 1) throw SeriesVolumeReader.Fault(label, $"{name} has {samples} samples per pixel; only single-sample (grayscale) images are supported");
        var photometric = ds.GetString(DicomTags.PhotometricInterpretation) ?? "MONOCHROME2";
        if (photometric != "MONOCHROME2" && !(allowMonochrome1 && photometric == "MONOCHROME1"))
            throw SeriesVolumeReader.Fault(label, $"{name} has Photometric Interpretation {photometric}; only {(allowMonochrome1 ? "MONOCHROME1 and MONOCHROME2 are" : "MONOCHROME2 is")} supported");
        var bitsAllocated = SeriesVolumeReader.RequiredInt(label, instance, DicomTags.BitsAllocated, ds);
        if (bitsAllocated is not (8 or 16 or 32)) throw SeriesVolumeReader.Fault(label, $"{name} has Bits Allocated {bitsAllocated}; 8, 16 or 32 are supported");
        var bitsStored = ds.TryGetValue<int>(DicomTags.BitsStored, out var bs) ? bs : bitsAllocated;
        var highBit = ds.TryGetValue<int>(DicomTags.HighBit, out var hb) ? hb : bitsStored - 1;
        if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated)
            throw SeriesVolumeReader.Fault(label, $"{name} has inconsistent Bits Stored {bitsStored} / High Bit {highBit} for Bits Allocated {bitsAllocated}");
        var signed = ds.TryGetValue<int>(DicomTags.PixelRepresentation, out var pr) && pr == 1;
        var item = ds.GetItem(DicomTags.PixelData);
        if (item is not DicomElement pixelData)
            throw SeriesVolumeReader.Fault(label, item is null ? $"{name} has no Pixel Data" : $"{name} has encapsulated (compressed) Pixel Data");
        var count = rows * columns;
        var needed = (long)count * (bitsAllocated / 8);
        if (pixelData.Length < needed)
            throw SeriesVolumeReader.Fault(label, $"{name} has {pixelData.Length} bytes of Pixel Data; {columns}x{rows} pixels of {bitsAllocated} bits need {needed}");

        var bytes = pixelData.Buffer.GetMemory().Span;
        var shift = highBit + 1 - bitsStored;
        var mask = bitsStored == 64 ? ulong.MaxValue : (1UL << bitsStored) - 1;
        var signBit = 1UL << (bitsStored - 1);
        var result = new float[count];
        for (var i = 0; i < count; i++)
        {
            ulong raw = bitsAllocated switch
            {
                8 => bytes[i],
                16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * 4)..]),
            };
            var v = (raw >> shift) & mask;
            result[i] = signed && (v & signBit) != 0 ? (long)v - (long)(mask + 1) : (long)v;
        }
        return (ds, result);
    }
}
