using System.Globalization;
using HippoNode.Dicom;
using SkiaSharp;

namespace HippoNode.Reporting;

/// <summary>
/// Renders the chest X-ray report page of the Secondary Capture: study header, the radiograph beside the radiograph with
/// the heat-map overlay and its legend, the probability, threshold and decision, the model name and version, and the
/// not-for-diagnostic-use statement (and, for an untrained model, a banner saying the result means nothing).
/// </summary>
/// <remarks>No patient name or ID is drawn: the page shows study date, description and accession number only.</remarks>
public static class ChestXrayPageRenderer
{
    /// <summary>Page width in pixels.</summary>
    public const int Width = 1024;

    /// <summary>Page height in pixels.</summary>
    public const int Height = 1280;

    private const float Panel = 468, PanelHeight = 600, Gap = 24, Left = 32, PanelTop = 346;

    private static readonly SKColor Grey = new(170, 170, 170);
    private static readonly SKColor Red = new(255, 90, 90);
    private static readonly SKColor Green = new(120, 220, 120);

    /// <summary>Renders the page as an opaque RGBA bitmap of <see cref="Width"/> x <see cref="Height"/>.</summary>
    /// <exception cref="ArgumentException">The findings' arrays do not match the image size.</exception>
    public static SKBitmap Render(ClassificationFindings findings, ReportingOptions options)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(options);
        findings.Validate();
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.Black);
        var page = new PageCanvas(canvas);
        var source = findings.Source;

        page.Text("HippoNode — chest X-ray classification", Left, 52, 30, SKColors.White, bold: true);
        page.Text("NOT FOR DIAGNOSTIC USE", Width - Left, 52, 22, Red, align: SKTextAlign.Right, bold: true);
        page.Line(Left, 70, Width - Left, 70, new SKColor(90, 90, 90));
        var y = 104f;
        foreach (var (label, value) in new[]
        {
            ("Study date", ReportPageRenderer.FormatDate(source.GetString(DicomTags.StudyDate))),
            ("Study", source.GetString(DicomTags.StudyDescription) ?? "—"),
            ("Accession", source.GetString(DicomTags.AccessionNumber) is { Length: > 0 } acc ? acc : "—"),
            ("Image analysed", ImageLine(findings)),
            ("Display", findings.DisplayPipeline is { Length: > 0 } d ? d : "—"),
            ("Analysed", findings.ContentTime.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture)),
        })
        {
            page.Text(label, Left, y, 18, Grey);
            page.TextFit(value, 220, y, Width - Left - 220, 18, SKColors.White);
            y += 28;
        }

        if (findings.Untrained)
        {
            page.Rect(Left, y - 6, Width - 2 * Left, 34, new SKColor(120, 0, 0));
            page.Text("UNTRAINED MODEL (random weights): the probability and the heat map mean nothing", Width / 2f, y + 18, 18, SKColors.White,
                align: SKTextAlign.Center, bold: true);
        }
        else if (findings.Uncertain && findings.ReviewBand is { } band)
        {
            page.Rect(Left, y - 6, Width - 2 * Left, 34, new SKColor(140, 90, 0));
            page.Text(string.Create(CultureInfo.InvariantCulture,
                $"UNCERTAIN: probability {findings.Probability:0.000} within the review band {band.Low:0.000}-{band.High:0.000}: review the image"),
                Width / 2f, y + 18, 18, SKColors.White, align: SKTextAlign.Center, bold: true);
        }
        y = PanelTop - 30;

        // The two panels: the radiograph, and the radiograph under the heat map, drawn at the same place and scale.
        var (dest, right) = ImageRects(findings);
        page.Text("Radiograph", Left + Panel / 2, y + 20, 18, new SKColor(200, 200, 200), align: SKTextAlign.Center);
        page.Text("Heat map (class activation map)", Left + Panel + Gap + Panel / 2, y + 20, 18, new SKColor(200, 200, 200), align: SKTextAlign.Center);
        page.Rect(Left, y + 30, Panel, PanelHeight, new SKColor(20, 20, 20));
        page.Rect(Left + Panel + Gap, y + 30, Panel, PanelHeight, new SKColor(20, 20, 20));
        using (var gray = GrayBitmap(findings))
        using (var image = SKImage.FromBitmap(gray))
        {
            var sampling = new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
            canvas.DrawImage(image, dest, sampling);
            canvas.DrawImage(image, right, sampling);
        }
        using (var overlay = HeatOverlay(findings, (int)Math.Round(right.Width), (int)Math.Round(right.Height)))
        using (var image = SKImage.FromBitmap(overlay))
        {
            canvas.DrawImage(image, right, new SKSamplingOptions(SKFilterMode.Linear));
        }
        y += 30 + PanelHeight + 26;

        // Legend under the heat map.
        var barLeft = Left + Panel + Gap + 40;
        var barWidth = Panel - 80;
        for (var i = 0; i < (int)barWidth; i++)
        {
            var (r, g, b) = HeatColour(i / (barWidth - 1));
            page.Rect(barLeft + i, y - 14, 1, 14, new SKColor(r, g, b));
        }
        page.Frame(barLeft, y - 14, barWidth, 14, Grey);
        page.Text("0", barLeft - 8, y - 1, 15, Grey, align: SKTextAlign.Right);
        page.Text("max", barLeft + barWidth + 8, y - 1, 15, Grey);
        page.Text($"relative {findings.PositiveLabel.ToLowerInvariant()} evidence (normalised per image)", barLeft + barWidth / 2, y + 20, 15, Grey, align: SKTextAlign.Center);
        if (findings.Heat.All(h => h <= 0))
            page.Text("(no region points towards " + findings.PositiveLabel.ToLowerInvariant() + ")", barLeft + barWidth / 2, y + 40, 15, Grey, align: SKTextAlign.Center);
        y += 62;

        // The result.
        var ic = CultureInfo.InvariantCulture;
        page.Text("Probability", Left, y, 24, SKColors.White, bold: true);
        page.Text($"{findings.Probability.ToString("0.000", ic)}  of {findings.PositiveLabel.ToLowerInvariant()}", 260, y, 24, SKColors.White, bold: true);
        y += 32;
        page.Text("Threshold", Left, y, 20, Grey);
        page.Text(findings.Threshold.ToString("0.000", ic) + (findings.ThresholdSource is { Length: > 0 } ts ? $"  ({ts})" : ""), 260, y, 18, SKColors.White);
        y += 32;
        page.Text("Decision", Left, y, 20, Grey);
        page.Text(findings.Positive
                ? $"{findings.PositiveLabel}: {findings.PositiveLabel.ToLowerInvariant()} suggested (probability ≥ threshold)"
                : $"{findings.NegativeLabel}: no {findings.PositiveLabel.ToLowerInvariant()} suggested (probability < threshold)",
            260, y, 20, findings.Positive ? Red : Green, bold: true);
        y += 44;
        var a = findings.Algorithm;
        page.Text($"Model: {a.Name} {a.Version} ({a.Family}){(findings.Untrained ? " — UNTRAINED" : "")}", Left, y, 18, findings.Untrained ? Red : SKColors.White);
        y += 28;
        page.Text($"Software: {options.ManufacturerModelName} {options.SoftwareVersions}", Left, y, 18, SKColors.White);

        page.Line(Left, Height - 70, Width - Left, Height - 70, new SKColor(90, 90, 90));
        page.TextFit(options.Disclaimer, Left, Height - 36, Width - 2 * Left, 17, Red);
        return bitmap;
    }

    /// <summary>Renders the page as PNG bytes.</summary>
    public static byte[] RenderPng(ClassificationFindings findings, ReportingOptions options)
    {
        using var bitmap = Render(findings, options);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>
    /// The heat-map colour of a relative evidence value in [0, 1]: blue, cyan, green, yellow, red (a "jet"-like ramp,
    /// readable over a gray radiograph). Also used for the legend.
    /// </summary>
    public static (byte R, byte G, byte B) HeatColour(double t)
    {
        ReadOnlySpan<(double At, double R, double G, double B)> stops = [(0, 0, 0, 255), (0.25, 0, 255, 255), (0.5, 0, 255, 0), (0.75, 255, 255, 0), (1, 255, 0, 0)];
        t = Math.Clamp(double.IsFinite(t) ? t : 0, 0, 1);
        for (var i = 1; i < stops.Length; i++)
        {
            if (t > stops[i].At) continue;
            var f = (t - stops[i - 1].At) / (stops[i].At - stops[i - 1].At);
            return ((byte)Math.Round(stops[i - 1].R + f * (stops[i].R - stops[i - 1].R)),
                    (byte)Math.Round(stops[i - 1].G + f * (stops[i].G - stops[i - 1].G)),
                    (byte)Math.Round(stops[i - 1].B + f * (stops[i].B - stops[i - 1].B)));
        }
        return (255, 0, 0);
    }

    /// <summary>How opaque the overlay is at relative evidence <paramref name="t"/>: 0.65·√t, so weak evidence fades out instead of ending in an edge; nothing below 0.01.</summary>
    public static double HeatAlpha(double t) => t < 0.01 || !double.IsFinite(t) ? 0 : 0.65 * Math.Sqrt(Math.Min(t, 1));

    private static string ImageLine(ClassificationFindings f)
    {
        var s = f.Source;
        var parts = new List<string>();
        if (s.GetString(DicomTags.ViewPosition) is { Length: > 0 } view) parts.Add(view);
        if (s.GetString(DicomTags.Modality) is { Length: > 0 } modality) parts.Add(modality);
        parts.Add($"{f.Columns}×{f.Rows} px");
        if (f.PixelSpacing is { } ps)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{ps.Column:0.###}×{ps.Row:0.###} mm ({ps.Source}): {f.Columns * ps.Column / 10:0.#}×{f.Rows * ps.Row / 10:0.#} cm"));
        return string.Join(", ", parts);
    }

    /// <summary>Where the image goes in the left and the right panel: as large as fits, physical aspect kept (pixel spacing when known).</summary>
    internal static (SKRect Left, SKRect Right) ImageRects(ClassificationFindings f)
    {
        var left = Fit(f, PanelTop);
        return (left, SKRect.Create(left.Left + Panel + Gap, left.Top, left.Width, left.Height));
    }

    private static SKRect Fit(ClassificationFindings f, float top)
    {
        var (sr, sc) = f.PixelSpacing is { } ps ? (ps.Row, ps.Column) : (1.0, 1.0);
        double w = f.Columns * sc, h = f.Rows * sr;
        var scale = Math.Min(Panel / w, PanelHeight / h);
        float dw = (float)(w * scale), dh = (float)(h * scale);
        return SKRect.Create(Left + (Panel - dw) / 2, top + (PanelHeight - dh) / 2, dw, dh);
    }

    private static SKBitmap GrayBitmap(ClassificationFindings f)
    {
        var bmp = new SKBitmap(new SKImageInfo(f.Columns, f.Rows, SKColorType.Gray8, SKAlphaType.Opaque));
        var span = bmp.GetPixelSpan();
        var bytes = new byte[span.Length];
        var stride = bmp.RowBytes;
        for (var r = 0; r < f.Rows; r++)
            for (var c = 0; c < f.Columns; c++)
                bytes[r * stride + c] = (byte)Math.Clamp(MathF.Round(f.Display[r * f.Columns + c] * 255f), 0, 255);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bmp.GetPixels(), bytes.Length);
        return bmp;
    }

    /// <summary>The heat map as a premultiplied RGBA bitmap of the panel size (the map is smooth: nearest sampling loses nothing).</summary>
    private static SKBitmap HeatOverlay(ClassificationFindings f, int width, int height)
    {
        width = Math.Max(1, width);
        height = Math.Max(1, height);
        var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var rgba = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            var sr = Math.Min(f.Rows - 1, (int)((y + 0.5) * f.Rows / height));
            for (var x = 0; x < width; x++)
            {
                var sc = Math.Min(f.Columns - 1, (int)((x + 0.5) * f.Columns / width));
                var t = f.Heat[sr * f.Columns + sc];
                var alpha = HeatAlpha(t);
                if (alpha <= 0) continue;
                var (r, g, b) = HeatColour(t);
                var o = (y * width + x) * 4;
                rgba[o] = (byte)Math.Round(r * alpha);
                rgba[o + 1] = (byte)Math.Round(g * alpha);
                rgba[o + 2] = (byte)Math.Round(b * alpha);
                rgba[o + 3] = (byte)Math.Round(255 * alpha);
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bmp.GetPixels(), rgba.Length);
        return bmp;
    }
}
