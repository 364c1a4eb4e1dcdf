using System.Globalization;
using System.Text;
using SkiaSharp;

namespace HippoNode.Training;

/// <summary>A fold's epoch log: fold{k}.csv (one row per epoch) and fold{k}.png (loss and validation Dice curves), both rewritten after every epoch.</summary>
public static class TrainingLog
{
    /// <summary>The CSV header.</summary>
    public const string Header = "epoch,train_loss,val_dice_anterior,val_dice_posterior,val_dice_whole,learning_rate,seconds";

    /// <summary>Writes fold{<paramref name="fold"/>}.csv and .png under <paramref name="dir"/>.</summary>
    public static void Write(string dir, int fold, IReadOnlyList<EpochRecord> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        Directory.CreateDirectory(dir);
        var stem = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"fold{fold}"));
        File.WriteAllText(stem + ".csv", Csv(history), new UTF8Encoding(false));
        File.WriteAllBytes(stem + ".png", Plot(history, string.Create(CultureInfo.InvariantCulture, $"fold {fold}")));
    }

    /// <summary>The CSV text ("\n" line ends, invariant numbers).</summary>
    public static string Csv(IReadOnlyList<EpochRecord> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var h in history)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{h.Epoch},{h.TrainLoss:F6},{h.DiceAnterior:F4},{h.DicePosterior:F4},{h.DiceWhole:F4},{h.LearningRate:E3},{h.Seconds:F2}")).Append('\n');
        }
        return sb.ToString();
    }

    // The bundled native Skia has no font manager on Linux: without a font file, text would silently not render.
    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/System/Library/Fonts/Helvetica.ttc",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];

    private static readonly Lazy<SKTypeface> Typeface = new(() =>
    {
        if (SKTypeface.Default.GlyphCount > 0) return SKTypeface.Default;
        foreach (var f in FontFiles)
        {
            if (File.Exists(f) && SKTypeface.FromFile(f) is { GlyphCount: > 0 } tf) return tf;
        }
        return SKTypeface.Default;
    });

    /// <summary>A PNG with two panels: training loss per epoch, and validation Dice (anterior, posterior, whole) per epoch.</summary>
    public static byte[] Plot(IReadOnlyList<EpochRecord> history, string title)
    {
        ArgumentNullException.ThrowIfNull(history);
        const int width = 900, height = 380;
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(Typeface.Value, 13);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, width / 2f, 18, SKTextAlign.Center, font, text);
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        var loss = history.Select(h => h.TrainLoss).ToArray();
        var lossMax = loss.Length == 0 ? 1 : loss.Where(double.IsFinite).DefaultIfEmpty(1).Max() * 1.05;
        var lossMin = loss.Length == 0 ? 0 : Math.Min(0, loss.Where(double.IsFinite).DefaultIfEmpty(0).Min());
        Panel(canvas, font, text, new SKRect(60, 30, 430, 340), "training loss (weighted CE)", epochs, lossMin, lossMax,
            [("loss", loss, SKColors.Black)]);
        // Dice axis: from a little below the lowest value (in steps of 0.05) to 1, so late epochs are not a flat line.
        var diceMin = history.SelectMany(h => (double[])[h.DiceAnterior, h.DicePosterior, h.DiceWhole]).Where(double.IsFinite).DefaultIfEmpty(0).Min();
        var diceLo = Math.Clamp(Math.Floor((diceMin - 0.02) * 20) / 20, 0, 0.95);
        Panel(canvas, font, text, new SKRect(510, 30, 880, 340), "validation Dice", epochs, diceLo, 1,
            [("anterior", history.Select(h => h.DiceAnterior).ToArray(), new SKColor(0xD6, 0x27, 0x28)),
             ("posterior", history.Select(h => h.DicePosterior).ToArray(), new SKColor(0x1F, 0x77, 0xB4)),
             ("whole", history.Select(h => h.DiceWhole).ToArray(), new SKColor(0x2C, 0xA0, 0x2C))]);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static void Panel(SKCanvas canvas, SKFont font, SKPaint text, SKRect r, string title, double[] xs, double yMin, double yMax,
        IReadOnlyList<(string Name, double[] Values, SKColor Color)> series)
    {
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsStroke = true, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(0xE0, 0xE0, 0xE0), StrokeWidth = 1, IsStroke = true };
        canvas.DrawRect(r, axis);
        canvas.DrawText(title, r.MidX, r.Top + 14, SKTextAlign.Center, font, text);
        var xMax = Math.Max(1, xs.Length == 0 ? 1 : xs.Max());
        if (yMax <= yMin) yMax = yMin + 1;
        float X(double v) => (float)(r.Left + (v - 1) / Math.Max(1, xMax - 1) * r.Width);
        float Y(double v) => (float)(r.Bottom - (v - yMin) / (yMax - yMin) * (r.Height - 20));
        for (var k = 0; k <= 4; k++)
        {
            var v = yMin + (yMax - yMin) * k / 4;
            canvas.DrawLine(r.Left, Y(v), r.Right, Y(v), grid);
            canvas.DrawText(v.ToString("0.###", CultureInfo.InvariantCulture), r.Left - 4, Y(v) + 4, SKTextAlign.Right, font, text);
        }
        canvas.DrawText("epoch", r.MidX, r.Bottom + 30, SKTextAlign.Center, font, text);
        canvas.DrawText("1", r.Left, r.Bottom + 15, SKTextAlign.Center, font, text);
        canvas.DrawText(xMax.ToString("0", CultureInfo.InvariantCulture), r.Right, r.Bottom + 15, SKTextAlign.Center, font, text);
        var legendY = r.Top + 32;
        foreach (var (name, values, color) in series)
        {
            using var line = new SKPaint { Color = color, StrokeWidth = 2, IsStroke = true, IsAntialias = true };
            using var dot = new SKPaint { Color = color, IsAntialias = true };
            SKPoint? previous = null;
            for (var i = 0; i < values.Length && i < xs.Length; i++)
            {
                if (!double.IsFinite(values[i])) continue;
                var p = new SKPoint(X(xs[i]), Y(values[i]));
                if (previous is { } q) canvas.DrawLine(q, p, line);
                canvas.DrawCircle(p, 2.5f, dot);
                previous = p;
            }
            if (series.Count > 1)
            {
                canvas.DrawLine(r.Right - 135, legendY - 4, r.Right - 115, legendY - 4, line);
                var last = values.LastOrDefault(double.IsFinite);
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{name} {last:F3}"), r.Right - 110, legendY, SKTextAlign.Left, font, text);
                legendY += 16;
            }
        }
    }
}
