using System.Globalization;
using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>Builds the DICOM Segmentation (SEG, BINARY) of the findings' label map on the grid of the source series.</summary>
/// <remarks>
/// One frame per segment and source slice that holds at least one voxel of that segment, ordered by segment number and
/// then by slice position; frames are bit-packed, concatenated without padding between frames (PS3.5 §8.1.1); when the
/// packed frames would fill an odd number of bytes, empty frames on neighbouring slices are added (see
/// <see cref="PadToEvenByteCount"/>). A segment
/// without voxels is still described in the Segment Sequence (its measurements in the SR refer to it) but has no frame.
/// When no segment has any voxel, one empty frame of segment 1 on the first slice is written, because a multi-frame image
/// needs at least one frame; viewers show nothing for it.
/// </remarks>
public static class SegmentationWriter
{
    /// <summary>The Dimension Organization UID HippoNode uses (segment number, then image position).</summary>
    private const string DimensionOrganizationUid = "2.25.239512818457221104366453785633853006211";

    /// <summary>Builds the SEG data set; write it with Explicit VR Little Endian.</summary>
    public static DicomDataset Create(StudyFindings findings, ReportingOptions options)
    {
        var o = ResultObject.Create(findings, options, DicomUid.SegmentationStorage, "SEG",
            options.SegmentationSeriesNumber, options.SegmentationSeriesDescription);
        var ds = o.Dataset;
        var source = ResultObject.Source(findings);
        Validate(findings);

        // Frame of Reference
        if (source.GetItem(DicomTags.FrameOfReferenceUID) is DicomElement forUid) ds.Add(forUid);
        else throw new ArgumentException("The source has no Frame of Reference UID; a SEG cannot be placed.", nameof(findings));
        ds.AddOrUpdate(DicomTags.PositionReferenceIndicator, DicomVR.LO, source.GetString(DicomTags.PositionReferenceIndicator) ?? "");

        // Segmentation Series: a new series; Referenced Performed Procedure Step Sequence only when the source had one.
        // Segmentation Image
        ds.AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "DERIVED", "PRIMARY");
        ds.AddOrUpdate(DicomTags.ContentLabel, DicomVR.CS, "HIPPOCAMPUS");
        o.Text(ds, DicomTags.ContentDescription, DicomVR.LO, Truncate($"{findings.Algorithm.Name} {findings.Algorithm.Version}; not for diagnostic use", 64));
        o.Text(ds, DicomTags.ContentCreatorName, DicomVR.PN, options.ContentCreatorName);
        ds.AddOrUpdate(DicomTags.SegmentationType, DicomVR.CS, "BINARY");
        ds.AddOrUpdate(DicomTags.SegmentsOverlap, DicomVR.CS, "NO");
        ds.AddOrUpdate(DicomTags.SegmentSequence, findings.Segments.Select(s => SegmentItem(o, s, findings.Algorithm)).ToArray());

        // Image Pixel (binary)
        ds.AddOrUpdate(DicomTags.SamplesPerPixel, DicomVR.US, (ushort)1);
        ds.AddOrUpdate(DicomTags.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)findings.Rows);
        ds.AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)findings.Columns);
        ds.AddOrUpdate(DicomTags.BitsAllocated, DicomVR.US, (ushort)1);
        ds.AddOrUpdate(DicomTags.BitsStored, DicomVR.US, (ushort)1);
        ds.AddOrUpdate(DicomTags.HighBit, DicomVR.US, (ushort)0);
        ds.AddOrUpdate(DicomTags.PixelRepresentation, DicomVR.US, (ushort)0);
        ds.AddOrUpdate(DicomTags.LossyImageCompression, DicomVR.CS, "00");

        // Multi-frame Dimension
        ds.AddOrUpdate(DicomTags.DimensionOrganizationSequence,
            new DicomDataset().AddOrUpdate(DicomTags.DimensionOrganizationUID, DicomVR.UI, DimensionOrganizationUid));
        ds.AddOrUpdate(DicomTags.DimensionOrganizationType, DicomVR.CS, "3D");
        ds.AddOrUpdate(DicomTags.DimensionIndexSequence,
            DimensionIndex(o, DicomTags.ReferencedSegmentNumber, DicomTags.SegmentIdentificationSequence, "ReferencedSegmentNumber"),
            DimensionIndex(o, DicomTags.ImagePositionPatient, DicomTags.PlanePositionSequence, "ImagePositionPatient"));

        // Frames
        var frames = Frames(findings);
        ds.AddOrUpdate(DicomTags.NumberOfFrames, DicomVR.IS, frames.Count.ToString(CultureInfo.InvariantCulture));
        ds.AddOrUpdate(DicomTags.SharedFunctionalGroupsSequence, SharedGroups(findings, source));
        ds.AddOrUpdate(DicomTags.PerFrameFunctionalGroupsSequence, frames.Select(f => PerFrame(o, findings, f)).ToArray());
        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OB, PackFrames(findings, frames));

        // Common Instance Reference: the source series and every instance of it (OHIF needs this to place the SEG).
        var seriesUid = source.GetString(DicomTags.SeriesInstanceUID) ?? throw new ArgumentException("The source has no Series Instance UID.", nameof(findings));
        ds.AddOrUpdate(DicomTags.ReferencedSeriesSequence, new DicomDataset()
            .AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, seriesUid)
            .AddOrUpdate(DicomTags.ReferencedInstanceSequence, findings.SourceSlices.Select(s =>
            {
                var (c, i) = ResultObject.Identity(s);
                return ResultObject.SopReference(c, i);
            }).ToArray()));
        return ds;
    }

    /// <summary>One frame: which segment, on which source slice.</summary>
    internal readonly record struct Frame(SegmentFinding Segment, int Slice);

    /// <summary>The frames in file order (segment number, then slice); one placeholder frame when every segment is empty.</summary>
    internal static List<Frame> Frames(StudyFindings findings)
    {
        var frames = new List<Frame>();
        foreach (var seg in findings.Segments.OrderBy(s => s.Number))
        {
            var value = (byte)seg.LabelValue;
            for (var k = 0; k < findings.Labels.Count; k++)
            {
                if (findings.Labels[k].AsSpan().Contains(value)) frames.Add(new Frame(seg, k));
            }
        }
        if (frames.Count == 0 && findings.Segments.Count > 0) frames.Add(new Frame(findings.Segments.OrderBy(s => s.Number).First(), 0));
        PadToEvenByteCount(findings, frames);
        return frames;
    }

    /// <summary>
    /// Adds empty frames (a segment on a neighbouring slice that does not hold it) until the bit-packed frames fill an
    /// even number of bytes, so the Pixel Data needs no pad byte.
    /// </summary>
    /// <remarks>
    /// Why: when Rows·Columns is not a multiple of 8, OHIF 3.13 (dcmjs) decodes a BINARY SEG only if the Pixel Data length
    /// equals ceil(total bits / 8) exactly, and rejects the even-length padding PS3.5 requires; Orthanc 1.10's DICOMweb
    /// cannot serve such frames one by one either. Choosing the frame count so that no padding is needed satisfies both
    /// the standard and the viewer. An extra frame is all zero and names its source image like any other.
    /// </remarks>
    internal static void PadToEvenByteCount(StudyFindings findings, List<Frame> frames)
    {
        var perFrame = (long)findings.Rows * findings.Columns;
        var used = frames.Select(f => (f.Segment.Number, f.Slice)).ToHashSet();
        var segments = frames.Select(f => f.Segment).DistinctBy(s => s.Number).OrderBy(s => s.Number).ToList();
        while ((perFrame * frames.Count + 7) / 8 % 2 == 1)
        {
            var added = false;
            foreach (var seg in segments)
            {
                var slices = frames.Where(f => f.Segment.Number == seg.Number).Select(f => f.Slice).ToList();
                var (first, last) = (slices.Min(), slices.Max());
                var candidate = Enumerable.Range(0, findings.Labels.Count)
                    .Where(k => !used.Contains((seg.Number, k)))
                    .OrderBy(k => k > last ? k - last : first - k)
                    .Select(k => (int?)k)
                    .FirstOrDefault();
                if (candidate is not { } k2) continue;
                frames.Add(new Frame(seg, k2));
                used.Add((seg.Number, k2));
                added = true;
                break;
            }
            if (!added) return; // every (segment, slice) pair is a frame already: the pad byte stays
        }
        frames.Sort((a, b) => a.Segment.Number != b.Segment.Number ? a.Segment.Number.CompareTo(b.Segment.Number) : a.Slice.CompareTo(b.Slice));
    }

    /// <summary>Bit-packs the frames: bit n of the whole value is pixel n of the concatenated frames, least significant bit first.</summary>
    internal static byte[] PackFrames(StudyFindings findings, IReadOnlyList<Frame> frames)
    {
        var perFrame = (long)findings.Rows * findings.Columns;
        var totalBits = perFrame * frames.Count;
        var bytes = new byte[((totalBits + 7) / 8 + 1) & ~1L]; // even length (PS3.5 §7.1.1)
        long bit = 0;
        foreach (var f in frames)
        {
            var labels = findings.Labels[f.Slice];
            var value = (byte)f.Segment.LabelValue;
            for (var p = 0; p < perFrame; p++, bit++)
            {
                if (labels[p] == value) bytes[bit >> 3] |= (byte)(1 << (int)(bit & 7));
            }
        }
        return bytes;
    }

    /// <summary>Unpacks frame <paramref name="frame"/> of bit-packed pixel data into 0/1 bytes (for tests and checks).</summary>
    public static byte[] UnpackFrame(ReadOnlySpan<byte> pixelData, int rows, int columns, int frame)
    {
        var n = rows * columns;
        var result = new byte[n];
        var start = (long)frame * n;
        for (var p = 0; p < n; p++)
        {
            var bit = start + p;
            result[p] = (byte)((pixelData[(int)(bit >> 3)] >> (int)(bit & 7)) & 1);
        }
        return result;
    }

    private static DicomDataset SegmentItem(ResultObject o, SegmentFinding s, AlgorithmInfo algorithm)
    {
        var item = new DicomDataset();
        item.AddOrUpdate(DicomTags.SegmentNumber, DicomVR.US, (ushort)s.Number);
        o.Text(item, DicomTags.SegmentLabel, DicomVR.LO, s.Label);
        item.AddOrUpdate(DicomTags.SegmentedPropertyCategoryCodeSequence, o.Code(s.Category));
        var type = o.Code(s.Type);
        if (s.TypeModifier is { } modifier) type.AddOrUpdate(DicomTags.SegmentedPropertyTypeModifierCodeSequence, o.Code(modifier));
        item.AddOrUpdate(DicomTags.SegmentedPropertyTypeCodeSequence, type);
        item.AddOrUpdate(DicomTags.SegmentAlgorithmType, DicomVR.CS, "AUTOMATIC");
        o.Text(item, DicomTags.SegmentAlgorithmName, DicomVR.LO, algorithm.Name);
        var algo = new DicomDataset();
        algo.AddOrUpdate(DicomTags.AlgorithmFamilyCodeSequence, o.Code(Codes.ArtificialIntelligence));
        o.Text(algo, DicomTags.AlgorithmName, DicomVR.LO, algorithm.Name);
        o.Text(algo, DicomTags.AlgorithmVersion, DicomVR.LO, algorithm.Version);
        item.AddOrUpdate(DicomTags.SegmentationAlgorithmIdentificationSequence, algo);
        item.AddOrUpdate(DicomTags.RecommendedDisplayCIELabValue, DicomVR.US, CieLab.ToDicom(s.Colour));
        return item;
    }

    private static DicomDataset DimensionIndex(ResultObject o, DicomTag pointer, DicomTag group, string label)
    {
        var item = new DicomDataset()
            .AddOrUpdate(DicomTags.DimensionOrganizationUID, DicomVR.UI, DimensionOrganizationUid)
            .AddOrUpdate(DicomTags.DimensionIndexPointer, pointer)
            .AddOrUpdate(DicomTags.FunctionalGroupPointer, group);
        return o.Text(item, DicomTags.DimensionDescriptionLabel, DicomVR.LO, label);
    }

    private static DicomDataset SharedGroups(StudyFindings findings, DicomDataset source)
    {
        var orientation = source.GetItem(DicomTags.ImageOrientationPatient) as DicomElement
            ?? throw new ArgumentException("The source has no Image Orientation (Patient).", nameof(findings));
        var measures = new DicomDataset()
            .AddOrUpdate(DicomTags.PixelSpacing, DicomVR.DS, findings.PixelSpacing.Row, findings.PixelSpacing.Column)
            .AddOrUpdate(DicomTags.SpacingBetweenSlices, DicomVR.DS, findings.SliceSpacing);
        // Slice thickness as the source states it; the spacing stands in when the source has none.
        if (source.GetItem(DicomTags.SliceThickness) is DicomElement { Length: > 0 } thickness) measures.Add(thickness);
        else measures.AddOrUpdate(DicomTags.SliceThickness, DicomVR.DS, findings.SliceSpacing);
        return new DicomDataset()
            .AddOrUpdate(DicomTags.PlaneOrientationSequence, new DicomDataset().Add(orientation))
            .AddOrUpdate(DicomTags.PixelMeasuresSequence, measures);
    }

    private static DicomDataset PerFrame(ResultObject o, StudyFindings findings, Frame f)
    {
        var slice = findings.SourceSlices[f.Slice];
        var (sopClass, sopInstance) = ResultObject.Identity(slice);
        var sourceImage = ResultObject.SopReference(sopClass, sopInstance)
            .AddOrUpdate(DicomTags.PurposeOfReferenceCodeSequence, o.Code(Codes.SourceImageForImageProcessing));
        var derivation = new DicomDataset()
            .AddOrUpdate(DicomTags.SourceImageSequence, sourceImage)
            .AddOrUpdate(DicomTags.DerivationCodeSequence, o.Code(Codes.Segmentation));
        var position = slice.GetItem(DicomTags.ImagePositionPatient) as DicomElement
            ?? throw new ArgumentException($"Source slice {f.Slice} has no Image Position (Patient).", nameof(findings));
        return new DicomDataset()
            .AddOrUpdate(DicomTags.DerivationImageSequence, derivation)
            .AddOrUpdate(DicomTags.FrameContentSequence, new DicomDataset()
                .AddOrUpdate(DicomTags.DimensionIndexValues, DicomVR.UL, (uint)f.Segment.Number, (uint)(f.Slice + 1)))
            .AddOrUpdate(DicomTags.PlanePositionSequence, new DicomDataset().Add(position))
            .AddOrUpdate(DicomTags.SegmentIdentificationSequence, new DicomDataset()
                .AddOrUpdate(DicomTags.ReferencedSegmentNumber, DicomVR.US, (ushort)f.Segment.Number));
    }

    private static void Validate(StudyFindings f)
    {
        var n = f.Rows * f.Columns;
        if (f.Rows <= 0 || f.Columns <= 0 || f.Rows > ushort.MaxValue || f.Columns > ushort.MaxValue)
            throw new ArgumentException($"Grid {f.Rows}x{f.Columns} is not a valid image size.", nameof(f));
        if (f.Labels.Count != f.SourceSlices.Count) throw new ArgumentException($"{f.Labels.Count} label slices for {f.SourceSlices.Count} source slices.", nameof(f));
        if (f.Labels.Any(l => l.Length != n)) throw new ArgumentException($"A label slice is not {f.Rows}x{f.Columns}.", nameof(f));
        for (var i = 0; i < f.Segments.Count; i++)
        {
            if (f.Segments[i].Number != i + 1) throw new ArgumentException("Segment numbers must be 1, 2, ... in order.", nameof(f));
            if (f.Segments[i].LabelValue is < 1 or > 255) throw new ArgumentException($"Segment {i + 1} has label value {f.Segments[i].LabelValue}.", nameof(f));
        }
        if (f.Segments.Count == 0) throw new ArgumentException("A SEG needs at least one segment.", nameof(f));
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
