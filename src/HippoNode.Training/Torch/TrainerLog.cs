using System.Globalization;
using System.Text;
using System.Text.Json;
using SkiaSharp;

namespace HippoNode.Training.Torch;

/// <summary>One epoch of one fold: mean training loss, learning rate, wall time and the validation metrics (empty when not validated).</summary>
public sealed record TrainerEpoch(int Epoch, double TrainLoss, double LearningRate, double Seconds, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A fold's epoch log: <c>{stem}.csv</c> (a row per epoch) and <c>{stem}.png</c> (loss and metric curves), rewritten after every epoch.</summary>
public static class TrainerLog
{
    /// <summary>Writes <paramref name="stem"/>.csv and .png under <paramref name="dir"/>.</summary>
    public static void Write(string dir, string stem, string title, string lossName, IReadOnlyList<string> metricNames, IReadOnlyList<TrainerEpoch> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, stem);
        File.WriteAllText(path + ".csv", Csv(metricNames, history), new UTF8Encoding(false));
        File.WriteAllBytes(path + ".png", Plot(title, lossName, metricNames, history));
    }

    /// <summary>Writes the epochs as a JSON array; doubles as round-trip strings, so a resumed log equals an uninterrupted one.</summary>
    public static void WriteHistory(Utf8JsonWriter w, string name, IReadOnlyList<TrainerEpoch> history)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(history);
        w.WriteStartArray(name);
        foreach (var h in history)
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", h.Epoch);
            w.WriteString("trainLoss", Text(h.TrainLoss));
            w.WriteString("learningRate", Text(h.LearningRate));
            w.WriteString("seconds", Text(h.Seconds));
            w.WriteStartObject("metrics");
            foreach (var (k, v) in h.Metrics) w.WriteString(k, Text(v));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Reads an array written by <see cref="WriteHistory"/>.</summary>
    public static List<TrainerEpoch> ReadHistory(JsonElement array) =>
        [.. array.EnumerateArray().Select(h => new TrainerEpoch(
            h.GetProperty("epoch").GetInt32(), Number(h.GetProperty("trainLoss")), Number(h.GetProperty("learningRate")), Number(h.GetProperty("seconds")),
            h.GetProperty("metrics").EnumerateObject().ToDictionary(p => p.Name, p => Number(p.Value))))];

    /// <summary>A double as round-trip invariant text (JSON numbers cannot hold infinity or NaN).</summary>
    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The inverse of <see cref="Text"/>.</summary>
    public static double Number(JsonElement e) => double.Parse(e.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>The CSV text: epoch, train_loss, the metrics, learning_rate, seconds ("\n" line ends, invariant numbers, empty when not validated).</summary>
    public static string Csv(IReadOnlyList<string> metricNames, IReadOnlyList<TrainerEpoch> history)
    {
        ArgumentNullException.ThrowIfNull(metricNames);
        ArgumentNullException.ThrowIfNull(history);
        var sb = new StringBuilder("epoch,train_loss");
        foreach (var m in metricNames) sb.Append(",val_").Append(m);
        sb.Append(",learning_rate,seconds\n");
        foreach (var h in history)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"{h.Epoch},{h.TrainLoss:F6}"));
            foreach (var m in metricNames)
            {
                sb.Append(',');
                if (h.Metrics.TryGetValue(m, out var v)) sb.Append(v.ToString("F4", CultureInfo.InvariantCulture));
            }
            sb.Append(string.Create(CultureInfo.InvariantCulture, $",{h.LearningRate:E3},{h.Seconds:F2}\n"));
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

    /// <summary>A typeface that renders text on this machine (the first font file found, else Skia's default).</summary>
    internal static readonly Lazy<SKTypeface> Typeface = new(() =>
    {
        if (SKTypeface.Default.GlyphCount > 0) return SKTypeface.Default;
        foreach (var f in FontFiles)
        {
            if (File.Exists(f) && SKTypeface.FromFile(f) is { GlyphCount: > 0 } tf) return tf;
        }
        return SKTypeface.Default;
    });

    private static readonly SKColor[] Palette =
    [
        new(0xD6, 0x27, 0x28), new(0x1F, 0x77, 0xB4), new(0x2C, 0xA0, 0x2C), new(0x94, 0x67, 0xBD), new(0xFF, 0x7F, 0x0E), new(0x8C, 0x56, 0x4B),
    ];

    /// <summary>A PNG with two panels: training loss per epoch, and the validation metrics per epoch.</summary>
    public static byte[] Plot(string title, string lossName, IReadOnlyList<string> metricNames, IReadOnlyList<TrainerEpoch> history)
    {
        ArgumentNullException.ThrowIfNull(metricNames);
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
        var finiteLoss = loss.Where(double.IsFinite).DefaultIfEmpty(1).ToArray();
        Panel(canvas, font, text, new SKRect(60, 30, 430, 340), $"training loss ({lossName})", epochs,
            Math.Min(0, finiteLoss.Min()), finiteLoss.Max() * 1.05, [("loss", loss, SKColors.Black)]);
        var series = metricNames.Select((m, i) => (m, history.Select(h => h.Metrics.TryGetValue(m, out var v) ? v : double.NaN).ToArray(), Palette[i % Palette.Length])).ToList();
        // Metric axis: from a little below the lowest value (in steps of 0.05) to 1, so late epochs are not a flat line.
        var lowest = series.SelectMany(s => s.Item2).Where(double.IsFinite).DefaultIfEmpty(0).Min();
        var lo = Math.Clamp(Math.Floor((lowest - 0.02) * 20) / 20, 0, 0.95);
        Panel(canvas, font, text, new SKRect(510, 30, 880, 340), "validation", epochs, lo, 1, series);
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
                canvas.DrawLine(r.Right - 150, legendY - 4, r.Right - 130, legendY - 4, line);
                var last = values.LastOrDefault(double.IsFinite);
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{name} {last:F3}"), r.Right - 125, legendY, SKTextAlign.Left, font, text);
                legendY += 16;
            }
        }
    }
}
