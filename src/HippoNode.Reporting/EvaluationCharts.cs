using System.Globalization;
using SkiaSharp;

namespace HippoNode.Reporting;

/// <summary>Charts of a binary classifier's evaluation as PNG: ROC curve, confusion matrix, reliability diagram.</summary>
public static class EvaluationCharts
{
    private const int Size = 640, Margin = 70;
    private static readonly SKColor Axis = new(200, 200, 200);
    private static readonly SKColor Faint = new(80, 80, 80);
    private static readonly SKColor Curve = new(80, 170, 255);
    private static readonly SKColor Mark = new(255, 90, 90);

    /// <summary>The ROC curve (false positive rate, true positive rate), the chance diagonal, the AUC and the operating point.</summary>
    public static byte[] RocPng(IReadOnlyList<(double Fpr, double Tpr)> curve, double auc, (double Fpr, double Tpr)? operatingPoint, string title)
    {
        ArgumentNullException.ThrowIfNull(curve);
        return Png(page =>
        {
            Frame(page, title, "false positive rate (1 - specificity)", "true positive rate (sensitivity)");
            page.Line(X(0), Y(0), X(1), Y(1), Faint);
            for (var i = 1; i < curve.Count; i++) page.Line(X(curve[i - 1].Fpr), Y(curve[i - 1].Tpr), X(curve[i].Fpr), Y(curve[i].Tpr), Curve, 2.5f);
            if (operatingPoint is { } p)
            {
                page.Rect(X(p.Fpr) - 5, Y(p.Tpr) - 5, 10, 10, Mark);
                page.Text(string.Create(CultureInfo.InvariantCulture, $"threshold: sens {p.Tpr:0.000}, spec {1 - p.Fpr:0.000}"), X(0.35), Y(0.12), 16, Mark);
            }
            page.Text(string.Create(CultureInfo.InvariantCulture, $"AUC {auc:0.0000}"), X(0.35), Y(0.05), 18, Curve, bold: true);
        });
    }

    /// <summary>The 2x2 confusion matrix with counts and row percentages (rows: true class; columns: predicted).</summary>
    public static byte[] ConfusionPng(int truePositives, int falsePositives, int trueNegatives, int falseNegatives, string negativeLabel, string positiveLabel, string title)
    {
        return Png(page =>
        {
            page.Text(title, Size / 2f, 36, 20, SKColors.White, SKTextAlign.Center, bold: true);
            var cell = (Size - 2 * Margin - 40) / 2f;
            var (left, top) = (Margin + 60f, 110f);
            int[,] counts = { { trueNegatives, falsePositives }, { falseNegatives, truePositives } };
            string[] names = [negativeLabel, positiveLabel];
            for (var r = 0; r < 2; r++)
            {
                var rowTotal = counts[r, 0] + counts[r, 1];
                for (var c = 0; c < 2; c++)
                {
                    var share = rowTotal == 0 ? 0 : counts[r, c] / (double)rowTotal;
                    var shade = (byte)(40 + 160 * share);
                    page.Rect(left + c * cell, top + r * cell, cell - 4, cell - 4, r == c ? new SKColor(0, shade, 60) : new SKColor(shade, 30, 30));
                    page.Text(counts[r, c].ToString(CultureInfo.InvariantCulture), left + c * cell + cell / 2, top + r * cell + cell / 2, 34, SKColors.White, SKTextAlign.Center, bold: true);
                    page.Text(string.Create(CultureInfo.InvariantCulture, $"{share:P1} of true {names[r]}"), left + c * cell + cell / 2, top + r * cell + cell / 2 + 30, 15, SKColors.White, SKTextAlign.Center);
                }
                page.Text(names[r], left - 10, top + r * cell + cell / 2, 16, Axis, SKTextAlign.Right);
            }
            for (var c = 0; c < 2; c++) page.Text(names[c], left + c * cell + cell / 2, top - 12, 16, Axis, SKTextAlign.Center);
            page.Text("predicted", left + cell, top - 40, 16, Axis, SKTextAlign.Center);
            page.Text("true", left - 10, top - 12, 16, Axis, SKTextAlign.Right);
        });
    }

    /// <summary>The reliability diagram: observed positive fraction per predicted-probability bin against the diagonal of perfect calibration.</summary>
    public static byte[] ReliabilityPng(IReadOnlyList<(double MeanPredicted, double Observed, int Count)> bins, double expectedCalibrationError, string title)
    {
        ArgumentNullException.ThrowIfNull(bins);
        return Png(page =>
        {
            Frame(page, title, "mean predicted probability", "observed positive fraction");
            page.Line(X(0), Y(0), X(1), Y(1), Faint);
            var used = bins.Where(b => b.Count > 0 && double.IsFinite(b.MeanPredicted)).ToList();
            for (var i = 1; i < used.Count; i++) page.Line(X(used[i - 1].MeanPredicted), Y(used[i - 1].Observed), X(used[i].MeanPredicted), Y(used[i].Observed), Curve, 2.5f);
            foreach (var b in used)
            {
                page.Rect(X(b.MeanPredicted) - 4, Y(b.Observed) - 4, 8, 8, Curve);
                page.Text(b.Count.ToString(CultureInfo.InvariantCulture), X(b.MeanPredicted) + 6, Y(b.Observed) - 6, 12, Axis);
            }
            page.Text(string.Create(CultureInfo.InvariantCulture, $"ECE {expectedCalibrationError:0.0000}"), X(0.6), Y(0.05), 18, Curve, bold: true);
        });
    }

    private static float X(double v) => (float)(Margin + v * (Size - 2 * Margin));

    private static float Y(double v) => (float)(Size - Margin - v * (Size - 2 * Margin));

    private static void Frame(PageCanvas page, string title, string xLabel, string yLabel)
    {
        page.Text(title, Size / 2f, 36, 20, SKColors.White, SKTextAlign.Center, bold: true);
        for (var t = 0; t <= 10; t += 2)
        {
            var v = t / 10.0;
            page.Line(X(v), Y(0), X(v), Y(1), Faint);
            page.Line(X(0), Y(v), X(1), Y(v), Faint);
            page.Text(v.ToString("0.0", CultureInfo.InvariantCulture), X(v), Y(0) + 22, 14, Axis, SKTextAlign.Center);
            page.Text(v.ToString("0.0", CultureInfo.InvariantCulture), X(0) - 8, Y(v) + 5, 14, Axis, SKTextAlign.Right);
        }
        page.Line(X(0), Y(0), X(1), Y(0), Axis);
        page.Line(X(0), Y(0), X(0), Y(1), Axis);
        page.Text(xLabel, Size / 2f, Size - 18, 16, Axis, SKTextAlign.Center);
        page.Canvas.Save();
        page.Canvas.RotateDegrees(-90, 22, Size / 2f);
        page.Text(yLabel, 22, Size / 2f, 16, Axis, SKTextAlign.Center);
        page.Canvas.Restore();
    }

    private static byte[] Png(Action<PageCanvas> draw)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(16, 16, 16));
            draw(new PageCanvas(canvas));
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
