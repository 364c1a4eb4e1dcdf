using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Training.Reports;
using SkiaSharp;

namespace HippoNode.Training.Tests;

public sealed class EvaluationFiguresTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-figures-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Case(string id, double dice)
    {
        var (image, label) = SyntheticData.Volumes(new VolumeShape(16, 18, 13), 5);
        foreach (var (kind, volume) in new[] { ("image", image), ("label", label), ("pred", label) })
            NiftiWriter.Write(volume, Path.Combine(_dir, $"{id}-{kind}.nii.gz"), kind == "image" ? NiftiDataType.Float32 : NiftiDataType.UInt8);
        string S(double d) => $$"""{"dice": {{d.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "volume_true_mm3": 1000, "volume_pred_mm3": 900}""";
        return "{\"id\": \"" + id + "\", \"image\": \"" + _dir + "/" + id + "-image.nii.gz\", \"label\": \"" + _dir + "/" + id + "-label.nii.gz\", " +
            "\"prediction\": \"" + _dir + "/" + id + "-pred.nii.gz\", \"agreement\": 0.95, " +
            "\"ensemble\": {\"anterior\": " + S(dice) + ", \"posterior\": " + S(dice) + ", \"whole\": " + S(dice) + "}}";
    }

    [Fact]
    public void Write_TableListsEveryCase_AndTheWorstGetAPictureInOrder()
    {
        var json = $$"""{"model": {"name": "m", "version": "1"}, "cases": [{{Case("a", 0.9)}}, {{Case("b", 0.7)}}, {{Case("c", 0.8)}}]}""";
        var eval = Path.Combine(_dir, "eval.json");
        File.WriteAllText(eval, json);
        var outDir = Path.Combine(_dir, "out");
        var written = EvaluationFigures.Write(eval, outDir, worst: 2);
        Assert.Equal([Path.Combine(outDir, "cases.md"), Path.Combine(outDir, "worst-1-b.png"), Path.Combine(outDir, "worst-2-c.png")], written);
        var table = File.ReadAllText(Path.Combine(outDir, "cases.md"));
        Assert.Contains("| a | 0.900 | 0.900 | 0.900 | 1000 | 900 | 0.950 |", table, StringComparison.Ordinal);
        Assert.Contains("| **mean** | 0.800 |", table, StringComparison.Ordinal);
        using var png = SKBitmap.Decode(Path.Combine(outDir, "worst-1-b.png"));
        Assert.True(png.Width >= 640 && png.Height > 200);
    }

    [Fact]
    public void Run_WithoutSavedPredictions_SaysToSaveThem()
    {
        var eval = Path.Combine(_dir, "eval.json");
        File.WriteAllText(eval, """{"model": {"name": "m", "version": "1"}, "cases": [{"id": "a", "image": "i", "label": "l", "agreement": 1, "ensemble": {"anterior": {"dice": 1, "volume_true_mm3": 1, "volume_pred_mm3": 1}, "posterior": {"dice": 1, "volume_true_mm3": 1, "volume_pred_mm3": 1}, "whole": {"dice": 1, "volume_true_mm3": 1, "volume_pred_mm3": 1}}}]}""");
        var err = new StringWriter();
        Assert.Equal(1, EvaluationFigures.Run(["--eval", eval, "--out", Path.Combine(_dir, "o")], TextWriter.Null, err));
        Assert.Contains("--save-labels", err.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, EvaluationFigures.Run(["--eval", eval], TextWriter.Null, TextWriter.Null));
    }
}
