using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Training.Torch;
using SkiaSharp;

namespace HippoNode.Training.Reports;

/// <summary>Model-card material from an evaluation report (<c>hipponode evaluate --save-labels DIR --json OUT</c>): the per-case table and a picture of each worst case.</summary>
public static class EvaluationFigures
{
    /// <summary>The usage text of the <c>figures</c> verb.</summary>
    public const string Usage = "usage: hipponode train figures --eval EVAL.json --out DIR [--worst N]\n" +
        "  EVAL.json from `hipponode evaluate ... --save-labels DIR --json EVAL.json`; writes DIR/cases.md and DIR/worst-K-<case>.png";

    private sealed record Case(string Id, string Image, string Label, string? Prediction, double Anterior, double Posterior, double Whole,
        double TrueWhole, double PredictedWhole, double Agreement);

    /// <summary>Runs the verb: 0 on success, 1 when a file cannot be read, 2 for a bad command line.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? eval = null, outDir = null;
        var worst = 5;
        for (var i = 0; i < args.Count; i++)
        {
            if (i + 1 >= args.Count) { error.WriteLine($"hipponode train figures: {args[i]} needs a value\n{Usage}"); return 2; }
            switch (args[i])
            {
                case "--eval": eval = args[++i]; break;
                case "--out": outDir = args[++i]; break;
                case "--worst" when int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0: worst = n; i++; break;
                default: error.WriteLine($"hipponode train figures: bad argument '{args[i]}'\n{Usage}"); return 2;
            }
        }
        if (eval is null || outDir is null) { error.WriteLine($"hipponode train figures: --eval and --out are required\n{Usage}"); return 2; }
        try
        {
            var written = Write(eval, outDir, worst, cancellationToken);
            output.WriteLine($"wrote {string.Join(", ", written)}");
            return 0;
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidDataException or NiftiFormatException or UnauthorizedAccessException)
        {
            error.WriteLine($"hipponode train figures: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Writes cases.md and the worst cases' pictures; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string evalJson, string outDir, int worst, CancellationToken cancellationToken = default)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(evalJson));
        var root = doc.RootElement;
        static double Dice(JsonElement e, string s) => e.GetProperty(s).GetProperty("dice").GetDouble();
        var cases = root.GetProperty("cases").EnumerateArray().Select(c =>
        {
            var e = c.GetProperty("ensemble");
            return new Case(c.GetProperty("id").GetString()!, c.GetProperty("image").GetString()!, c.GetProperty("label").GetString()!,
                c.TryGetProperty("prediction", out var p) ? p.GetString() : null, Dice(e, "anterior"), Dice(e, "posterior"), Dice(e, "whole"),
                e.GetProperty("whole").GetProperty("volume_true_mm3").GetDouble(), e.GetProperty("whole").GetProperty("volume_pred_mm3").GetDouble(),
                c.GetProperty("agreement").GetDouble());
        }).ToList();
        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        var model = root.GetProperty("model");
        var title = $"{model.GetProperty("name").GetString()} {model.GetProperty("version").GetString()}";
        var table = Path.Combine(outDir, "cases.md");
        File.WriteAllText(table, Table(cases, title), new UTF8Encoding(false));
        written.Add(table);
        var ranked = cases.OrderBy(c => c.Whole).ThenBy(c => c.Id, StringComparer.Ordinal).Take(worst).ToList();
        for (var k = 0; k < ranked.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var c = ranked[k];
            if (c.Prediction is null) throw new InvalidDataException($"{evalJson}: case {c.Id} has no saved prediction (run evaluate with --save-labels DIR)");
            var png = Path.Combine(outDir, string.Create(CultureInfo.InvariantCulture, $"worst-{k + 1}-{c.Id}.png"));
            File.WriteAllBytes(png, Picture(c));
            written.Add(png);
        }
        return written;
    }

    private static string Table(IReadOnlyList<Case> cases, string title)
    {
        var sb = new StringBuilder();
        sb.Append("Per-case results of ").Append(title).Append(" (ensemble; Dice per structure, whole volumes in mm³, member agreement).\n\n");
        sb.Append("| case | Dice anterior | Dice posterior | Dice whole | true volume | predicted volume | agreement |\n|---|---|---|---|---|---|---|\n");
        foreach (var c in cases.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Id} | {c.Anterior:F3} | {c.Posterior:F3} | {c.Whole:F3} | {c.TrueWhole:F0} | {c.PredictedWhole:F0} | {c.Agreement:F3} |\n"));
        }
        static double Median(IEnumerable<double> v)
        {
            var a = v.Order().ToArray();
            return a.Length == 0 ? double.NaN : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
        }
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"| **mean** | {cases.Average(c => c.Anterior):F3} | {cases.Average(c => c.Posterior):F3} | {cases.Average(c => c.Whole):F3} | {cases.Average(c => c.TrueWhole):F0} | {cases.Average(c => c.PredictedWhole):F0} | {cases.Average(c => c.Agreement):F3} |\n"));
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"| **median** | {Median(cases.Select(c => c.Anterior)):F3} | {Median(cases.Select(c => c.Posterior)):F3} | {Median(cases.Select(c => c.Whole)):F3} | {Median(cases.Select(c => c.TrueWhole)):F0} | {Median(cases.Select(c => c.PredictedWhole)):F0} | {Median(cases.Select(c => c.Agreement)):F3} |\n"));
        return sb.ToString();
    }

    private static readonly SKColor Anterior = new(0xE6, 0x3B, 0x2E);
    private static readonly SKColor Posterior = new(0x2E, 0x86, 0xE6);

    /// <summary>Three rows (axial, coronal, sagittal through the slice with the most labelled voxels) of image | truth | prediction.</summary>
    private static byte[] Picture(Case c)
    {
        var image = NiftiReader.Read(c.Image).Volume;
        var truth = NiftiReader.Read(c.Label).Volume;
        var prediction = NiftiReader.Read(c.Prediction!).Volume;
        var s = image.Shape;
        const int zoom = 4, margin = 10, header = 56, label = 18;
        var views = new[] { (Name: "axial (z)", W: s.X, H: s.Y), (Name: "coronal (y)", W: s.X, H: s.Z), (Name: "sagittal (x)", W: s.Y, H: s.Z) };
        var cellW = views.Max(v => v.W) * zoom;
        var width = Math.Max(margin + 3 * (cellW + margin), 640);
        var height = header + views.Sum(v => v.H * zoom + label + margin);
        var (lo, hi) = Window(image.Data);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(TrainerLog.Typeface.Value, 13);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(string.Create(CultureInfo.InvariantCulture,
            $"{c.Id}: Dice anterior {c.Anterior:F3}, posterior {c.Posterior:F3}, whole {c.Whole:F3}"), margin, 18, SKTextAlign.Left, font, text);
        canvas.DrawText(string.Create(CultureInfo.InvariantCulture,
            $"whole volume {c.PredictedWhole:F0} predicted vs {c.TrueWhole:F0} mm³ reference; member agreement {c.Agreement:F3}"), margin, 34, SKTextAlign.Left, font, text);
        canvas.DrawText("image | reference | prediction   (red anterior, blue posterior)", margin, 50, SKTextAlign.Left, font, text);
        var y0 = header;
        for (var v = 0; v < 3; v++)
        {
            var slice = BestSlice(truth, prediction, v);
            var (w, h) = (views[v].W, views[v].H);
            for (var col = 0; col < 3; col++)
            {
                using var bitmap = new SKBitmap(w, h);
                for (var j = 0; j < h; j++)
                {
                    for (var i = 0; i < w; i++)
                    {
                        var (x, y, z) = v switch { 0 => (i, j, slice), 1 => (i, slice, j), _ => (slice, i, j) };
                        var g = (byte)Math.Clamp((image[x, y, z] - lo) / (hi - lo) * 255, 0, 255);
                        var color = new SKColor(g, g, g);
                        var l = col switch { 1 => truth[x, y, z], 2 => prediction[x, y, z], _ => 0f };
                        if (l != 0)
                        {
                            var o = l == 1 ? Anterior : Posterior;
                            color = new SKColor((byte)((g + 2 * o.Red) / 3), (byte)((g + 2 * o.Green) / 3), (byte)((g + 2 * o.Blue) / 3));
                        }
                        // Radiological habit: superior up, so rows run from the top of the volume down.
                        bitmap.SetPixel(i, h - 1 - j, color);
                    }
                }
                var left = margin + col * (cellW + margin);
                canvas.DrawBitmap(bitmap, new SKRect(left, y0 + label, left + w * zoom, y0 + label + h * zoom), new SKSamplingOptions(SKFilterMode.Nearest));
            }
            canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{views[v].Name} slice {slice}"), margin, y0 + 13, SKTextAlign.Left, font, text);
            y0 += h * zoom + label + margin;
        }
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static (float Lo, float Hi) Window(float[] data)
    {
        var sorted = data.Where(float.IsFinite).Order().ToArray();
        if (sorted.Length == 0) return (0, 1);
        var lo = sorted[(int)(0.01 * (sorted.Length - 1))];
        var hi = sorted[(int)(0.99 * (sorted.Length - 1))];
        return hi > lo ? (lo, hi) : (lo, lo + 1);
    }

    private static int BestSlice(Volume3D truth, Volume3D prediction, int view)
    {
        var s = truth.Shape;
        var n = view switch { 0 => s.Z, 1 => s.Y, _ => s.X };
        var counts = new int[n];
        for (var z = 0; z < s.Z; z++)
        {
            for (var y = 0; y < s.Y; y++)
            {
                for (var x = 0; x < s.X; x++)
                {
                    if (truth[x, y, z] != 0 || prediction[x, y, z] != 0) counts[view switch { 0 => z, 1 => y, _ => x }]++;
                }
            }
        }
        var best = 0;
        for (var i = 1; i < n; i++)
        {
            if (counts[i] > counts[best]) best = i;
        }
        return best;
    }
}
