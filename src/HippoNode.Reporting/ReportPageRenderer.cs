using System.Globalization;
using HippoNode.Dicom;
using SkiaSharp;

namespace HippoNode.Reporting;

/// <summary>Renders the report page of the Secondary Capture: study header, volume table, three orthogonal slices through
/// the segmentation's centroid with the coloured overlay, quality figures, algorithm and the not-for-diagnostic-use statement.</summary>
/// <remarks>No patient name or ID is drawn: the page shows study date, description and accession number only.</remarks>
public static class ReportPageRenderer
{
    /// <summary>Page width in pixels.</summary>
    public const int Width = 1024;

    /// <summary>Page height in pixels.</summary>
    public const int Height = 1280;

    /// <summary>Where the text typeface came from: "default" or the font file path; "none" when no font has glyphs (text is then invisible).</summary>
    public static string TypefaceSource => ReportFonts.Source;

    /// <summary>Renders the page as an opaque RGBA bitmap of <see cref="Width"/> x <see cref="Height"/>.</summary>
    public static SKBitmap Render(StudyFindings findings, ReportingOptions options)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(options);
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.Black);
        var page = new PageCanvas(canvas);
        var source = ResultObject.Source(findings);

        // Title and header
        page.Text("HippoNode — hippocampus volumetry", 32, 52, 30, SKColors.White, bold: true);
        page.Text("NOT FOR DIAGNOSTIC USE", Width - 32, 52, 22, new SKColor(255, 90, 90), align: SKTextAlign.Right, bold: true);
        page.Line(32, 70, Width - 32, 70, new SKColor(90, 90, 90));
        var y = 104f;
        foreach (var (label, value) in new[]
        {
            ("Study date", FormatDate(source.GetString(DicomTags.StudyDate))),
            ("Study", source.GetString(DicomTags.StudyDescription) ?? "—"),
            ("Accession", source.GetString(DicomTags.AccessionNumber) is { Length: > 0 } acc ? acc : "—"),
            ("Series analysed", $"{source.GetString(DicomTags.SeriesDescription) ?? "—"} ({findings.SourceSlices.Count} slices, {findings.Columns}×{findings.Rows})"),
            ("Analysed", findings.ContentTime.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture)),
        })
        {
            page.Text(label, 32, y, 18, new SKColor(170, 170, 170));
            page.Text(value, 220, y, 18, SKColors.White);
            y += 28;
        }

        // Volume table
        y += 14;
        page.Text("Structure", 32, y, 20, new SKColor(170, 170, 170), bold: true);
        page.Text("Volume (mm³)", 620, y, 20, new SKColor(170, 170, 170), align: SKTextAlign.Right, bold: true);
        page.Text("Volume (mL)", 860, y, 20, new SKColor(170, 170, 170), align: SKTextAlign.Right, bold: true);
        y += 10;
        page.Line(32, y, Width - 32, y, new SKColor(90, 90, 90));
        y += 30;
        foreach (var s in findings.Structures)
        {
            var colour = findings.Segments.FirstOrDefault(seg => seg.Label == s.Name)?.Colour;
            if (colour is { } c) page.Rect(32, y - 16, 16, 16, new SKColor(c.R, c.G, c.B));
            page.Text(s.Name, 58, y, 20, SKColors.White);
            page.Text(s.VolumeMm3.ToString("N0", CultureInfo.InvariantCulture), 620, y, 20, SKColors.White, align: SKTextAlign.Right);
            page.Text((s.VolumeMm3 / 1000.0).ToString("0.00", CultureInfo.InvariantCulture), 860, y, 20, SKColors.White, align: SKTextAlign.Right);
            y += 32;
        }

        // Orthogonal views through the centroid
        y += 10;
        var views = OrthogonalViews(findings);
        const float panel = 304, gap = 24;
        var left = (Width - 3 * panel - 2 * gap) / 2;
        for (var v = 0; v < views.Count; v++)
        {
            var x0 = left + v * (panel + gap);
            page.Text(views[v].Title, x0 + panel / 2, y + 20, 18, new SKColor(200, 200, 200), align: SKTextAlign.Center);
            page.Rect(x0, y + 30, panel, panel, new SKColor(20, 20, 20));
            using var image = views[v].Bitmap;
            var wMm = views[v].Bitmap.Width * views[v].SpacingU;
            var hMm = views[v].Bitmap.Height * views[v].SpacingV;
            var scale = (float)Math.Min(panel / wMm, panel / hMm);
            var dw = (float)(wMm * scale);
            var dh = (float)(hMm * scale);
            var dest = SKRect.Create(x0 + (panel - dw) / 2, y + 30 + (panel - dh) / 2, dw, dh);
            using var img = SKImage.FromBitmap(image);
            canvas.DrawImage(img, dest, new SKSamplingOptions(SKFilterMode.Nearest));
        }
        y += 30 + panel + 44;

        // Quality and algorithm
        var q = findings.Quality;
        page.Text("Quality", 32, y, 20, new SKColor(170, 170, 170), bold: true);
        y += 30;
        page.Text($"Ensemble agreement (mean pairwise Dice): {q.Agreement.ToString("0.000", CultureInfo.InvariantCulture)}   threshold {q.Threshold.ToString("0.000", CultureInfo.InvariantCulture)}", 32, y, 18, SKColors.White);
        y += 28;
        page.Text(q.Flagged ? "FLAGGED: members disagree; review the segmentation with care" : "Not flagged: members agree",
            32, y, 18, q.Flagged ? new SKColor(255, 90, 90) : new SKColor(120, 220, 120), bold: true);
        y += 40;
        var a = findings.Algorithm;
        page.Text("Algorithm", 32, y, 20, new SKColor(170, 170, 170), bold: true);
        y += 30;
        // Two lines: model and node software names are long enough to run off a 1024-pixel page together.
        page.Text($"Model: {a.Name} {a.Version} ({a.Family}, ensemble of {a.MemberCount})", 32, y, 18, SKColors.White);
        y += 28;
        page.Text($"Software: {options.ManufacturerModelName} {options.SoftwareVersions}", 32, y, 18, SKColors.White);

        // Footer
        page.Line(32, Height - 70, Width - 32, Height - 70, new SKColor(90, 90, 90));
        page.Text(options.Disclaimer, 32, Height - 36, 17, new SKColor(255, 90, 90));
        return bitmap;
    }

    /// <summary>Renders the page as PNG bytes.</summary>
    public static byte[] RenderPng(StudyFindings findings, ReportingOptions options)
    {
        using var bitmap = Render(findings, options);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>One orthogonal view: its title, its bitmap (one pixel per voxel) and the physical size of a pixel along u and v.</summary>
    internal sealed record View(string Title, SKBitmap Bitmap, double SpacingU, double SpacingV);

    /// <summary>Three slices through the centroid of the labelled voxels (the volume centre when none), one per grid axis.</summary>
    internal static List<View> OrthogonalViews(StudyFindings f)
    {
        int nc = f.Columns, nr = f.Rows, ns = f.SourceSlices.Count;
        var (ci, cj, ck) = Centroid(f);
        var (lo, hi) = Window(f);
        var colours = new Dictionary<byte, SKColor>();
        foreach (var s in f.Segments) colours[(byte)s.LabelValue] = new SKColor(s.Colour.R, s.Colour.G, s.Colour.B);
        var axes = GridAxes(ResultObject.Source(f));

        SKColor Voxel(int i, int j, int k)
        {
            var p = j * nc + i;
            var g = (byte)Math.Clamp((f.Pixels[k][p] - lo) / (hi - lo) * 255.0, 0, 255);
            if (colours.TryGetValue(f.Labels[k][p], out var c))
                return new SKColor((byte)((g + c.Red) / 2), (byte)((g + c.Green) / 2), (byte)((g + c.Blue) / 2));
            return new SKColor(g, g, g);
        }

        SKBitmap Plane(int w, int h, Func<int, int, SKColor> at)
        {
            var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
            for (var v = 0; v < h; v++)
                for (var u = 0; u < w; u++)
                    bmp.SetPixel(u, v, at(u, v));
            return bmp;
        }

        // The slice axis runs bottom to top in the two reformatted views, as radiologists expect for head-foot.
        return
        [
            new View($"{PlaneName(axes.K)} (slice {ck + 1}/{ns})", Plane(nc, nr, (u, v) => Voxel(u, v, ck)), f.PixelSpacing.Column, f.PixelSpacing.Row),
            new View($"{PlaneName(axes.J)} (row {cj + 1}/{nr})", Plane(nc, ns, (u, v) => Voxel(u, cj, ns - 1 - v)), f.PixelSpacing.Column, f.SliceSpacing),
            new View($"{PlaneName(axes.I)} (column {ci + 1}/{nc})", Plane(nr, ns, (u, v) => Voxel(ci, u, ns - 1 - v)), f.PixelSpacing.Row, f.SliceSpacing),
        ];
    }

    /// <summary>The centroid (column, row, slice) of all labelled voxels, rounded; the grid centre when there are none.</summary>
    internal static (int I, int J, int K) Centroid(StudyFindings f)
    {
        double si = 0, sj = 0, sk = 0;
        long n = 0;
        for (var k = 0; k < f.Labels.Count; k++)
        {
            var l = f.Labels[k];
            for (var p = 0; p < l.Length; p++)
            {
                if (l[p] == 0) continue;
                si += p % f.Columns;
                sj += p / f.Columns;
                sk += k;
                n++;
            }
        }
        return n == 0
            ? (f.Columns / 2, f.Rows / 2, f.Labels.Count / 2)
            : ((int)Math.Round(si / n), (int)Math.Round(sj / n), (int)Math.Round(sk / n));
    }

    private static (double Lo, double Hi) Window(StudyFindings f)
    {
        // 1st and 99th percentiles of a sample: robust to a few very bright voxels.
        var all = f.Pixels.SelectMany(p => p).Where((_, idx) => idx % 7 == 0).Where(float.IsFinite).ToArray();
        if (all.Length == 0) return (0, 1);
        Array.Sort(all);
        double lo = all[(int)(all.Length * 0.01)], hi = all[(int)Math.Min(all.Length - 1, all.Length * 0.99)];
        return hi > lo ? (lo, hi) : (lo, lo + 1);
    }

    /// <summary>Directions of the grid's column (I), row (J) and slice (K) axes in patient space.</summary>
    private static (double[] I, double[] J, double[] K) GridAxes(DicomDataset source)
    {
        var o = source.GetValues<double>(DicomTags.ImageOrientationPatient);
        if (o.Length != 6) return ([1, 0, 0], [0, 1, 0], [0, 0, 1]);
        double[] i = [o[0], o[1], o[2]], j = [o[3], o[4], o[5]];
        double[] k = [i[1] * j[2] - i[2] * j[1], i[2] * j[0] - i[0] * j[2], i[0] * j[1] - i[1] * j[0]];
        return (i, j, k);
    }

    /// <summary>The anatomical name of the plane perpendicular to a direction: its largest patient-space component decides.</summary>
    private static string PlaneName(double[] normal)
    {
        var ax = Array.IndexOf(normal, normal.MaxBy(Math.Abs));
        return ax switch { 0 => "Sagittal", 1 => "Coronal", _ => "Axial" };
    }

    internal static string FormatDate(string? da) =>
        da is { Length: 8 } ? $"{da[..4]}-{da[4..6]}-{da[6..]}" : (da is { Length: > 0 } ? da : "—");
}
