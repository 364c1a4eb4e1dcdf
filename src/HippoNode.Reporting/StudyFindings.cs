using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>A coded concept: code value, coding scheme designator and code meaning (PS3.3 Code Sequence Macro).</summary>
public sealed record CodedConcept(string Value, string Scheme, string Meaning);

/// <summary>An sRGB display colour.</summary>
public readonly record struct RgbColour(byte R, byte G, byte B);

/// <summary>One segment of the result: its number in the SEG, the label value in the label map, codes, colour and volume.</summary>
/// <param name="Number">The SEG Segment Number, 1-based and consecutive.</param>
/// <param name="LabelValue">The value of this segment's voxels in <see cref="StudyFindings.Labels"/>.</param>
/// <param name="Label">The human label, e.g. "anterior hippocampus".</param>
/// <param name="Category">Segmented Property Category, e.g. SCT 91723000 "Anatomical Structure".</param>
/// <param name="Type">Segmented Property Type, e.g. SCT 5976008 "Hippocampus".</param>
/// <param name="TypeModifier">An optional type modifier (e.g. anterior/posterior part), or null.</param>
/// <param name="Colour">The recommended display colour.</param>
/// <param name="VolumeMm3">The segment's volume in mm3.</param>
/// <param name="VoxelCount">The number of voxels in the segment.</param>
public sealed record SegmentFinding(
    int Number, int LabelValue, string Label, CodedConcept Category, CodedConcept Type, CodedConcept? TypeModifier,
    RgbColour Colour, double VolumeMm3, long VoxelCount);

/// <summary>The algorithm that produced the findings (the SEG's Segment Algorithm Identification and the SR's algorithm items).</summary>
public sealed record AlgorithmInfo(string Name, string Version, string Family, int MemberCount);

/// <summary>Dice between two ensemble members (whole structure).</summary>
public sealed record MemberAgreement(int MemberA, int MemberB, double Dice);

/// <summary>Quality figures: mean pairwise Dice between members (agreement), its threshold and flag, and the pairs.</summary>
public sealed record QualityFindings(double Agreement, double Threshold, bool Flagged, IReadOnlyList<MemberAgreement> Pairs);

/// <summary>One measured structure for the report: a name and its volume (whole = anterior + posterior, etc.).</summary>
public sealed record StructureMeasurement(string Name, double VolumeMm3);

/// <summary>Everything the SEG, SR and Secondary Capture writers need, on the grid of the source series.</summary>
/// <remarks>
/// Slice i of <see cref="SourceSlices"/>, <see cref="Labels"/> and <see cref="Pixels"/> is the same source image:
/// slices are in spatial order along the slice normal. Label and pixel arrays are row-major (index row·Columns + column),
/// exactly the source image's pixel layout. Source data sets carry the attributes of the source images (patient, study,
/// series, geometry); their pixel data may be absent.
/// </remarks>
public sealed class StudyFindings
{
    /// <summary>The source images' data sets, in spatial order.</summary>
    public required IReadOnlyList<DicomDataset> SourceSlices { get; init; }

    /// <summary>Rows of every source image.</summary>
    public required int Rows { get; init; }

    /// <summary>Columns of every source image.</summary>
    public required int Columns { get; init; }

    /// <summary>Label value per pixel, one array of Rows·Columns per source slice.</summary>
    public required IReadOnlyList<byte[]> Labels { get; init; }

    /// <summary>Rescaled pixel values per source slice (for rendering), Rows·Columns each.</summary>
    public required IReadOnlyList<float[]> Pixels { get; init; }

    /// <summary>Pixel spacing in mm: between rows, between columns.</summary>
    public required (double Row, double Column) PixelSpacing { get; init; }

    /// <summary>Distance between slice centres in mm (from the positions).</summary>
    public required double SliceSpacing { get; init; }

    /// <summary>The segments, in SEG segment-number order.</summary>
    public required IReadOnlyList<SegmentFinding> Segments { get; init; }

    /// <summary>The measured structures (every segment and their sums such as the whole hippocampus).</summary>
    public required IReadOnlyList<StructureMeasurement> Structures { get; init; }

    /// <summary>The ensemble's quality figures.</summary>
    public required QualityFindings Quality { get; init; }

    /// <summary>The algorithm.</summary>
    public required AlgorithmInfo Algorithm { get; init; }

    /// <summary>When the analysis ran (Content Date/Time of the outputs).</summary>
    public required DateTimeOffset ContentTime { get; init; }
}
