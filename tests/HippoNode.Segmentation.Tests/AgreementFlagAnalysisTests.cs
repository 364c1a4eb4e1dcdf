using System.Globalization;
using System.Text.Json;
using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Segmentation.Tests;

/// <summary>The quality-flag analysis behind `hipponode qa-flag`: hand-made reports with known answers, and a real evaluate report.</summary>
public sealed class AgreementFlagAnalysisTests
{
    /// <summary>An evaluate-shaped report: (id, whole Dice, agreement) per case.</summary>
    private static string Report(params (string Id, double Dice, double Agreement)[] cases) =>
        JsonSerializer.Serialize(new
        {
            cases = cases.Select(c => new Dictionary<string, object>
            {
                ["id"] = c.Id,
                ["agreement"] = c.Agreement,
                ["ensemble"] = new Dictionary<string, object> { ["whole"] = new { dice = c.Dice }, ["anterior"] = new { dice = c.Dice - 0.1 } },
            }),
        });

    [Fact]
    public void FlagsBelowTheThreshold_RanksByDice_AndCountsTheWorstCaught()
    {
        var json = Report(("a", 0.91, 0.95), ("b", 0.50, 0.79), ("c", 0.70, 0.81), ("d", 0.88, 0.80), ("e", 0.60, 0.70));
        var r = AgreementFlagAnalysis.Run([("r.json", json)], threshold: 0.8, worst: 3);
        var s = Assert.Single(r.Reports);
        Assert.Null(r.Pooled);
        Assert.Equal(["b", "e", "c", "d", "a"], s.Cases.Select(c => c.Id));
        // The node's rule is strictly below: 0.80 is not flagged, 0.79 is.
        Assert.Equal(["b", "e"], s.Cases.Where(c => c.Flagged).Select(c => c.Id).Order());
        Assert.Equal(2, s.Flagged);
        Assert.Equal(["b", "e", "c"], s.Worst.Select(c => c.Id));
        Assert.Equal(2, s.WorstFlagged);
        // Flagging c too needs a threshold above 0.81, which also flags d (0.80): 4 of 5.
        Assert.Equal(0.81, s.AgreementToCatchWorst);
        Assert.Equal(4, s.FlaggedToCatchWorst);
    }

    [Fact]
    public void FailuresBelowADice_AndFalseAlarms()
    {
        var json = Report(("a", 0.91, 0.75), ("b", 0.50, 0.79), ("c", 0.65, 0.95), ("d", 0.88, 0.90));
        var s = AgreementFlagAnalysis.Run([("r.json", json)], failBelow: 0.7).Reports[0];
        Assert.Equal(["b", "c"], s.Failures.Select(c => c.Id));
        Assert.Equal(1, s.FailuresFlagged);     // b; c fails unflagged
        Assert.Equal(1, s.FlaggedNotFailures);  // a is flagged but fine
        var text = new StringWriter(CultureInfo.InvariantCulture);
        AgreementFlagAnalysis.Run([("r.json", json)], failBelow: 0.7).WriteText(text);
        Assert.Contains("missed failure: c  dice 0.6500  agreement 0.9500", text.ToString());
        Assert.Contains("false alarm: a  dice 0.9100  agreement 0.7500", text.ToString());
    }

    [Fact]
    public void Spearman_KnownValues()
    {
        Assert.Equal(1.0, AgreementFlagAnalysis.Spearman([1, 2, 3, 4], [10, 20, 30, 40])!.Value, 12);
        Assert.Equal(-1.0, AgreementFlagAnalysis.Spearman([1, 2, 3, 4], [4, 3, 2, 1])!.Value, 12);
        // Ties get mean ranks: x ranks 1, 2.5, 2.5, 4; y ranks 1, 2, 3, 4 -> 4.5 / sqrt(4.5 * 5).
        Assert.Equal(4.5 / Math.Sqrt(4.5 * 5), AgreementFlagAnalysis.Spearman([1, 2, 2, 3], [1, 2, 3, 4])!.Value, 12);
        Assert.Null(AgreementFlagAnalysis.Spearman([1, 1, 1], [1, 2, 3]));
        Assert.Null(AgreementFlagAnalysis.Spearman([1, 2], [1, 2]));
    }

    [Fact]
    public void SeveralReportsArePooled_AndTheStructureIsSelectable()
    {
        var r = AgreementFlagAnalysis.Run(
            [("test.json", Report(("a", 0.9, 0.95), ("b", 0.85, 0.93))), ("stress.json", Report(("a", 0.2, 0.5), ("b", 0.8, 0.96)))],
            worst: 2, structure: "anterior");
        Assert.Equal(2, r.Reports.Count);
        var pooled = Assert.IsType<FlagSetSummary>(r.Pooled);
        Assert.Equal(4, pooled.Cases.Count);
        Assert.Equal(("stress.json", "a"), (pooled.Worst[0].Report, pooled.Worst[0].Id));
        Assert.Equal(0.2 - 0.1, pooled.Worst[0].Dice, 12);
        Assert.Equal(1, pooled.WorstFlagged);
        using var doc = JsonDocument.Parse(r.ToJson());
        Assert.Equal(4, doc.RootElement.GetProperty("pooled").GetProperty("cases").GetInt32());
        Assert.Equal("anterior", doc.RootElement.GetProperty("structure").GetString());
        var text = new StringWriter(CultureInfo.InvariantCulture);
        r.WriteText(text);
        Assert.Contains("stress.json:a", text.ToString());
        Assert.Contains("worst 2 by Dice, flagged: 1 of 2", text.ToString());
    }

    [Fact]
    public void BadReportsNameTheReport()
    {
        Assert.Contains("x.json: not JSON", Assert.Throws<FormatException>(() => AgreementFlagAnalysis.Run([("x.json", "{")])).Message);
        Assert.Contains("no 'cases' array", Assert.Throws<FormatException>(() => AgreementFlagAnalysis.Run([("x.json", "{}")])).Message);
        Assert.Contains("case a has no agreement",
            Assert.Throws<FormatException>(() => AgreementFlagAnalysis.Run([("x.json", """{"cases":[{"id":"a","ensemble":{"whole":{"dice":1}}}]}""")])).Message);
        Assert.Contains("no ensemble Dice for structure 'tail'",
            Assert.Throws<FormatException>(() => AgreementFlagAnalysis.Run([("x.json", Report(("a", 1, 1)))], structure: "tail")).Message);
        Assert.Throws<ArgumentException>(() => AgreementFlagAnalysis.Run([("x.json", Report(("a", 1, 1)))], threshold: 1.5));
        Assert.Throws<ArgumentException>(() => AgreementFlagAnalysis.Run([]));
    }

    [Fact]
    public void ReadsWhatTheEvaluateVerbWrites()
    {
        using var tmp = new TempDir();
        var ids = Synthetic.Dataset(tmp["data"], 3);
        Synthetic.ModelFolder(tmp["model"], members: 2);
        var json = tmp["report.json"];
        var code = EvaluationCommandLine.Run(
            ["--images", tmp["data/imagesTr"], "--labels", tmp["data/labelsTr"], "--model", tmp["model"], "--json", json], new StringWriter(), new StringWriter());
        Assert.Equal(0, code);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var written = doc.RootElement.GetProperty("cases").EnumerateArray()
            .ToDictionary(c => c.GetProperty("id").GetString()!, c => (Dice: c.GetProperty("ensemble").GetProperty("whole").GetProperty("dice").GetDouble(), Agreement: c.GetProperty("agreement").GetDouble()));
        // A threshold between the cases' agreements splits them exactly as the report's numbers say.
        var threshold = written.Values.Select(v => v.Agreement).Average();
        var s = AgreementFlagAnalysis.RunFiles([json], threshold).Reports[0];
        Assert.Equal(ids.Order(), s.Cases.Select(c => c.Id).Order());
        foreach (var c in s.Cases)
        {
            Assert.Equal(written[c.Id].Dice, c.Dice);
            Assert.Equal(written[c.Id].Agreement, c.Agreement);
            Assert.Equal(written[c.Id].Agreement < threshold, c.Flagged);
        }
    }
}
