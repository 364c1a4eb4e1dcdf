using System.Text;
using System.Text.Json;
using HippoNode.Imaging;

namespace HippoNode.Analysis.Tests;

/// <summary>
/// The quality flag's rule, end to end through the study analysis: a result is flagged exactly when the ensemble
/// agreement lies below the threshold, and the flag reaches result.json, the warnings and the SR.
/// </summary>
public sealed class QualityFlagTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    // SNOMED CT "Yes" / "No": the SR's LOW_AGREEMENT item carries one of them.
    private const string Yes = "373066001";
    private const string No = "373067005";

    private async Task<(StudyAnalysisResult Result, JsonElement Quality, string Sr)> Analyse(string study, double threshold)
    {
        using var tmp = new TempDir();
        using var analyzer = new StudyAnalyzer(new AnalysisOptions { ModelFolder = model.Folder, AgreementThreshold = threshold });
        var result = await analyzer.AnalyzeAsync(study, tmp.Path);
        Assert.Equal(AnalysisStatus.Completed, result.Status);
        using var json = JsonDocument.Parse(File.ReadAllText(result.ResultJson));
        var sr = Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(tmp.Path, "sr.dcm")));
        return (result, json.RootElement.GetProperty("quality").Clone(), sr);
    }

    [Fact]
    public async Task AgreementBelowTheThreshold_IsFlagged_AtTheThresholdItIsNot()
    {
        using var tmp = new TempDir();
        var volume = SeriesWriter.Phantom(new VolumeShape(20, 24, 18), Spacing3.One);
        SeriesWriter.Save(SeriesWriter.Build(volume, SeriesLayout.HippoCrop, seriesNumber: 5), Path.Combine(tmp.Path, "study", "crop"));
        var study = Path.Combine(tmp.Path, "study");

        var (first, _, _) = await Analyse(study, 0.8);
        var agreement = first.Agreement!.Value;
        Assert.InRange(agreement, 0, 1);

        // Equal to the threshold: not below it, so not flagged.
        var (atThreshold, quality, sr) = await Analyse(study, agreement);
        Assert.Equal(agreement, atThreshold.Agreement!.Value, 12);
        Assert.False(atThreshold.QualityFlagged);
        Assert.False(quality.GetProperty("flagged").GetBoolean());
        Assert.DoesNotContain(atThreshold.Warnings, w => w.Contains("below the threshold", StringComparison.Ordinal));
        Assert.Contains("LOW_AGREEMENT", sr, StringComparison.Ordinal);
        Assert.Contains(No, sr, StringComparison.Ordinal);
        Assert.DoesNotContain(Yes, sr, StringComparison.Ordinal);

        // The smallest threshold above it: flagged everywhere the result goes.
        var above = Math.BitIncrement(agreement);
        var (flagged, flaggedQuality, flaggedSr) = await Analyse(study, above);
        Assert.True(flagged.QualityFlagged);
        Assert.True(flaggedQuality.GetProperty("flagged").GetBoolean());
        Assert.Equal(above, flaggedQuality.GetProperty("threshold").GetDouble());
        Assert.Contains(flagged.Warnings, w => w.Contains("below the threshold", StringComparison.Ordinal));
        Assert.Contains(Yes, flaggedSr, StringComparison.Ordinal);
    }
}
