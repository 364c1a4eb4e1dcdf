using SkiaSharp;

namespace HippoNode.Reporting;

/// <summary>The typeface every rendered page and chart uses.</summary>
/// <remarks>
/// SkiaSharp's NoDependencies native has no fontconfig: its default typeface has no glyphs on a bare Linux, so a font
/// file is loaded when the default cannot draw text. CI installs fonts-dejavu-core.
/// </remarks>
public static class ReportFonts
{
    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/System/Library/Fonts/Helvetica.ttc",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];

    private static readonly Lazy<(SKTypeface Typeface, string Source)> Font = new(Load);

    /// <summary>The typeface: the default when it has glyphs, else the first font file that has.</summary>
    public static SKTypeface Typeface => Font.Value.Typeface;

    /// <summary>Where <see cref="Typeface"/> came from: "default", a font file path, or "none" (text is then invisible).</summary>
    public static string Source => Font.Value.Source;

    private static (SKTypeface, string) Load()
    {
        if (HasGlyphs(SKTypeface.Default)) return (SKTypeface.Default, "default");
        foreach (var file in FontFiles)
        {
            if (!File.Exists(file)) continue;
            var tf = SKTypeface.FromFile(file);
            if (tf is not null && HasGlyphs(tf)) return (tf, file);
        }
        return (SKTypeface.Default, "none");
    }

    private static bool HasGlyphs(SKTypeface typeface)
    {
        using var font = new SKFont(typeface, 12);
        return font.ContainsGlyphs("Volume");
    }
}

/// <summary>Drawing helpers for report pages and charts: text in <see cref="ReportFonts.Typeface"/>, lines, filled rectangles.</summary>
internal sealed class PageCanvas(SKCanvas canvas)
{
    /// <summary>The canvas drawn on.</summary>
    public SKCanvas Canvas => canvas;

    public void Text(string text, float x, float y, float size, SKColor colour, SKTextAlign align = SKTextAlign.Left, bool bold = false)
    {
        using var font = new SKFont(ReportFonts.Typeface, size) { Embolden = bold };
        using var paint = new SKPaint { Color = colour, IsAntialias = true };
        canvas.DrawText(text, x, y, align, font, paint);
    }

    /// <summary>Draws <paramref name="text"/> at <paramref name="size"/>, or smaller when it would be wider than <paramref name="maxWidth"/>.</summary>
    public void TextFit(string text, float x, float y, float maxWidth, float size, SKColor colour)
    {
        using var font = new SKFont(ReportFonts.Typeface, size);
        var width = font.MeasureText(text);
        // Never below 10 px: past that, cut the text and say so rather than print what nobody can read.
        var fitted = width > maxWidth ? size * maxWidth / width : size;
        if (fitted < 10)
        {
            using var small = new SKFont(ReportFonts.Typeface, 10);
            while (text.Length > 1 && small.MeasureText(text + "…") > maxWidth) text = text[..^1];
            text += "…";
            fitted = 10;
        }
        Text(text, x, y, fitted, colour);
    }

    public void Line(float x0, float y0, float x1, float y1, SKColor colour, float width = 1)
    {
        using var paint = new SKPaint { Color = colour, StrokeWidth = width, IsAntialias = true };
        canvas.DrawLine(x0, y0, x1, y1, paint);
    }

    public void Rect(float x, float y, float w, float h, SKColor colour)
    {
        using var paint = new SKPaint { Color = colour };
        canvas.DrawRect(x, y, w, h, paint);
    }

    public void Frame(float x, float y, float w, float h, SKColor colour)
    {
        using var paint = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(x, y, w, h, paint);
    }
}
