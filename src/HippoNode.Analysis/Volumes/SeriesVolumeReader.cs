using System.Globalization;
using HippoNode.Analysis.Selection;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Imaging;

namespace HippoNode.Analysis.Volumes;

/// <summary>A single-frame DICOM series as a checked 3D grid: slices in spatial order, geometry from the positions, rescaled pixels.</summary>
/// <remarks>
/// The source grid's voxel (x, y, z) is (column, row, slice): x fastest, then y, then z, so each slice is one
/// row-major block exactly as the image stores it. Its voxel-to-LPS affine has columns RowDirection·ΔColumn,
/// ColumnDirection·ΔRow and <see cref="SliceStep"/>, origin the first slice's Image Position (Patient).
/// </remarks>
internal sealed class SourceSeries
{
    public required ScannedSeries Series { get; init; }

    /// <summary>The instances in spatial order (ascending along the normal RowDirection × ColumnDirection).</summary>
    public required IReadOnlyList<ScannedInstance> Slices { get; init; }

    public required int Rows { get; init; }

    public required int Columns { get; init; }

    /// <summary>Pixel Spacing: between rows (first value), between columns (second value), mm.</summary>
    public required (double Row, double Column) PixelSpacing { get; init; }

    /// <summary>Distance between neighbouring slice positions along the normal, mm.</summary>
    public required double SliceSpacing { get; init; }

    /// <summary>Image Orientation (Patient) first triplet: the direction of increasing column index (LPS).</summary>
    public required Vec3 RowDirection { get; init; }

    /// <summary>Image Orientation (Patient) second triplet: the direction of increasing row index (LPS).</summary>
    public required Vec3 ColumnDirection { get; init; }

    /// <summary>Image Position (Patient) of the first slice (LPS, mm).</summary>
    public required Vec3 Origin { get; init; }

    /// <summary>From one slice position to the next (LPS, mm).</summary>
    public required Vec3 SliceStep { get; init; }

    /// <summary>Rescaled pixel values per slice, Rows·Columns each, row-major.</summary>
    public required IReadOnlyList<float[]> Pixels { get; init; }

    public string? FrameOfReferenceUid => Slices[0].Header.GetString(DicomTags.FrameOfReferenceUID);

    public VolumeShape Shape => new(Columns, Rows, Slices.Count);

    public Spacing3 Spacing => new(PixelSpacing.Column, PixelSpacing.Row, SliceStep.Length);

    /// <summary>Source voxel (column, row, slice) to DICOM patient coordinates (LPS, mm).</summary>
    public AffineMatrix LpsAffine => Affine(flip: false);

    /// <summary>Source voxel (column, row, slice) to RAS (mm): LPS with x and y negated.</summary>
    public AffineMatrix RasAffine => Affine(flip: true);

    /// <summary>All slices as one array, column fastest, then row, then slice.</summary>
    public float[] Data()
    {
        var plane = Rows * Columns;
        var data = new float[plane * Slices.Count];
        for (var s = 0; s < Pixels.Count; s++) Pixels[s].CopyTo(data, s * plane);
        return data;
    }

    private AffineMatrix Affine(bool flip)
    {
        var c0 = PixelSpacing.Column * RowDirection;
        var c1 = PixelSpacing.Row * ColumnDirection;
        var c2 = SliceStep;
        var o = Origin;
        if (flip)
        {
            c0 = c0.FlipXY();
            c1 = c1.FlipXY();
            c2 = c2.FlipXY();
            o = o.FlipXY();
        }
        return AffineMatrix.FromRowMajor([c0.X, c1.X, c2.X, o.X, c0.Y, c1.Y, c2.Y, o.Y, c0.Z, c1.Z, c2.Z, o.Z]);
    }
}

/// <summary>Turns a scanned series into a <see cref="SourceSeries"/>, with checks that end in an <see cref="AnalysisException"/> naming the series and the fault.</summary>
internal static class SeriesVolumeReader
{
    /// <summary>Largest difference between two orientation cosines still counted as the same orientation.</summary>
    public const double OrientationTolerance = 1e-4;

    /// <summary>Positions closer than this along the normal (mm) are the same slice.</summary>
    public const double DuplicateTolerance = 0.01;

    /// <summary>Relative tolerance on each gap between slices (with <see cref="DuplicateTolerance"/> as the absolute floor).</summary>
    public const double SpacingTolerance = 0.01;

    /// <summary>Reads geometry from the headers, checks it, and reads and rescales the pixels of every slice.</summary>
    public static SourceSeries Read(ScannedSeries series, CancellationToken cancellationToken)
    {
        var label = series.Label;
        var instances = series.Instances;
        if (instances.Count < 2) throw Fault(label, $"has {instances.Count} slice; at least 2 are needed to derive the slice spacing from the positions");

        var first = instances[0];
        var iop = Required(label, first, DicomTags.ImageOrientationPatient, 6);
        var spacing = Required(label, first, DicomTags.PixelSpacing, 2);
        var rows = RequiredInt(label, first, DicomTags.Rows);
        var columns = RequiredInt(label, first, DicomTags.Columns);
        foreach (var inst in instances)
        {
            var o = Required(label, inst, DicomTags.ImageOrientationPatient, 6);
            if (o.Zip(iop).Any(p => Math.Abs(p.First - p.Second) > OrientationTolerance))
                throw Fault(label, $"has mixed orientation: {Name(inst)} has Image Orientation (Patient) {Join(o)}, {Name(first)} has {Join(iop)}");
            var (r, c) = (RequiredInt(label, inst, DicomTags.Rows), RequiredInt(label, inst, DicomTags.Columns));
            if (r != rows || c != columns)
                throw Fault(label, $"has mixed image size: {Name(inst)} is {c}x{r} (columns x rows), {Name(first)} is {columns}x{rows}");
            var ps = Required(label, inst, DicomTags.PixelSpacing, 2);
            if (Math.Abs(ps[0] - spacing[0]) > 1e-4 || Math.Abs(ps[1] - spacing[1]) > 1e-4)
                throw Fault(label, $"has mixed pixel spacing: {Name(inst)} has {Join(ps)}, {Name(first)} has {Join(spacing)}");
        }
        if (!(spacing[0] > 0 && spacing[1] > 0)) throw Fault(label, $"has Pixel Spacing {Join(spacing)}; both values must be positive");

        var rowDir = new Vec3(iop[0], iop[1], iop[2]);
        var colDir = new Vec3(iop[3], iop[4], iop[5]);
        if (Math.Abs(rowDir.Length - 1) > 1e-3 || Math.Abs(colDir.Length - 1) > 1e-3 || Math.Abs(rowDir.Dot(colDir)) > 1e-3)
            throw Fault(label, $"has Image Orientation (Patient) {Join(iop)}, which is not two orthogonal unit vectors");
        rowDir = rowDir.Normalized();
        colDir = colDir.Normalized();
        var normal = rowDir.Cross(colDir).Normalized();

        var placed = instances
            .Select(i => (Instance: i, Position: ToVec(Required(label, i, DicomTags.ImagePositionPatient, 3))))
            .Select(p => (p.Instance, p.Position, Distance: p.Position.Dot(normal)))
            .OrderBy(p => p.Distance)
            .ThenBy(p => p.Instance.Path, StringComparer.Ordinal)
            .ToList();

        var gaps = new double[placed.Count - 1];
        for (var i = 0; i < gaps.Length; i++)
        {
            gaps[i] = placed[i + 1].Distance - placed[i].Distance;
            if (gaps[i] <= DuplicateTolerance)
                throw Fault(label, $"has duplicate slices: {Name(placed[i].Instance)} and {Name(placed[i + 1].Instance)} lie at the same position {Mm(placed[i].Distance)} mm along the normal");
        }
        var nominal = Median(gaps);
        var tolerance = Math.Max(DuplicateTolerance, SpacingTolerance * nominal);
        for (var i = 0; i < gaps.Length; i++)
        {
            if (Math.Abs(gaps[i] - nominal) <= tolerance) continue;
            var ratio = gaps[i] / nominal;
            var k = (int)Math.Round(ratio);
            var between = $"between {Name(placed[i].Instance)} at {Mm(placed[i].Distance)} mm and {Name(placed[i + 1].Instance)} at {Mm(placed[i + 1].Distance)} mm";
            if (k >= 2 && Math.Abs(gaps[i] - k * nominal) <= k * tolerance)
                throw Fault(label, $"has missing slices: a gap of {Mm(gaps[i])} mm {between}, where the spacing is {Mm(nominal)} mm ({k - 1} slice(s) missing)");
            throw Fault(label, $"has uneven slice spacing: a gap of {Mm(gaps[i])} mm {between}, where the spacing elsewhere is {Mm(nominal)} mm");
        }

        var origin = placed[0].Position;
        var step = (1.0 / (placed.Count - 1)) * (placed[^1].Position - origin);
        for (var i = 1; i < placed.Count - 1; i++)
        {
            var expected = origin + (double)i * step;
            if ((placed[i].Position - expected).Length > tolerance)
                throw Fault(label, $"has slice positions that do not lie on one line: {Name(placed[i].Instance)} is at {placed[i].Position}, {Mm((placed[i].Position - expected).Length)} mm from where the others put it ({expected})");
        }

        var pixels = new float[placed.Count][];
        for (var i = 0; i < placed.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            pixels[i] = ReadPixels(label, placed[i].Instance, rows, columns);
        }

        return new SourceSeries
        {
            Series = series,
            Slices = [.. placed.Select(p => p.Instance)],
            Rows = rows,
            Columns = columns,
            PixelSpacing = (spacing[0], spacing[1]),
            SliceSpacing = nominal,
            RowDirection = rowDir,
            ColumnDirection = colDir,
            Origin = origin,
            SliceStep = step,
            Pixels = pixels,
        };
    }

    /// <summary>Decodes one uncompressed, single-sample MONOCHROME2 image and applies its Rescale Slope and Intercept.</summary>
    internal static float[] ReadPixels(string label, ScannedInstance instance, int rows, int columns)
    {
        var (ds, values) = StoredPixels.Read(label, instance, rows, columns, allowMonochrome1: false);
        var slope = ds.TryGetValue<double>(DicomTags.RescaleSlope, out var sl) ? sl : 1.0;
        var intercept = ds.TryGetValue<double>(DicomTags.RescaleIntercept, out var ic) ? ic : 0.0;
        if (!double.IsFinite(slope) || slope == 0 || !double.IsFinite(intercept))
            throw Fault(label, $"{Name(instance)} has Rescale Slope {slope} / Intercept {intercept}; the slope must be finite and non-zero");
        for (var i = 0; i < values.Length; i++)
        {
            var stored = values[i];
            values[i] = (float)(stored * slope + intercept);
            if (!float.IsFinite(values[i]))
                throw Fault(label, string.Create(CultureInfo.InvariantCulture, $"{Name(instance)} has Rescale Slope {slope} / Intercept {intercept}, which take stored value {stored} outside the range of 32-bit floats"));
        }
        return values;
    }

    private static double[] Required(string label, ScannedInstance inst, DicomTag tag, int count)
    {
        double[] v;
        try
        {
            v = inst.Header.GetValues<double>(tag);
        }
        catch (DicomException)
        {
            v = []; // sent with a VR that holds no numbers: no valid value, refused below like a missing one
        }
        if (v.Length < count || v.Take(count).Any(x => !double.IsFinite(x)))
            throw Fault(label, $"{Name(inst)} has no valid {DicomDictionary.KeywordOf(tag)} ({count} numbers needed, found {v.Length})");
        return v.Length == count ? v : v[..count];
    }

    internal static int RequiredInt(string label, ScannedInstance inst, DicomTag tag, DicomDataset? ds = null) =>
        (ds ?? inst.Header).TryGetValue<int>(tag, out var v) && v > 0 ? v : throw Fault(label, $"{Name(inst)} has no valid {DicomDictionary.KeywordOf(tag)}");

    private static Vec3 ToVec(double[] v) => new(v[0], v[1], v[2]);

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    internal static string Name(ScannedInstance inst) => $"instance {Path.GetFileName(inst.Path)}";

    private static string Join(double[] v) => string.Join('\\', v.Select(x => x.ToString("0.######", CultureInfo.InvariantCulture)));

    private static string Mm(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    internal static AnalysisException Fault(string seriesLabel, string what, Exception? inner = null) => new($"{seriesLabel} {what}", inner);
}
