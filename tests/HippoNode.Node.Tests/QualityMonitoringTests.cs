using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HippoNode.Node.Demo;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;

namespace HippoNode.Node.Tests;

/// <summary>
/// Post-deployment monitoring (validation plan): every analysed study's agreement and quality flag are visible in
/// /jobs and summed up in /metrics, so a drift of the agreement over time can be watched.
/// </summary>
public sealed partial class QualityMonitoringTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex(@"^(?<name>[a-z_]+(\{[^}]*\})?) (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    private static Dictionary<string, double> Samples(string metrics) =>
        Sample().Matches(metrics).ToDictionary(m => m.Groups["name"].Value, m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [ToolFact("storescu", "storescp")]
    public async Task AgreementAndFlag_OfEveryStudy_AreInJobsAndMetrics()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        var runner = new CopyRunner { Agreement = 0.95 };
        await using var node = await TestNode.StartAsync(_dir.Sub("node"), pacs.Port, runner);

        var (code, output) = StoreScu.Send(node.DicomPort, Study("good", out var goodStudy));
        Assert.True(code == 0, output);
        await node.WaitForJobAsync(j => j.StudyInstanceUid == goodStudy && j.State == JobState.Done);
        runner.Agreement = 0.6;
        (code, output) = StoreScu.Send(node.DicomPort, Study("doubtful", out var doubtfulStudy));
        Assert.True(code == 0, output);
        await node.WaitForJobAsync(j => j.StudyInstanceUid == doubtfulStudy && j.State == JobState.Done);

        using var http = new HttpClient { BaseAddress = new Uri(node.HttpUrl!) };
        foreach (var (study, agreement, flagged) in new[] { (goodStudy, 0.95, false), (doubtfulStudy, 0.6, true) })
        {
            using var jobs = JsonDocument.Parse(await http.GetStringAsync($"/jobs?study={study}"));
            var job = Assert.Single(jobs.RootElement.EnumerateArray());
            Assert.Equal(agreement, job.GetProperty("agreement").GetDouble(), 12);
            Assert.Equal(flagged, job.GetProperty("qualityFlagged").GetBoolean());
        }

        var samples = Samples(await http.GetStringAsync("/metrics"));
        Assert.Equal(2, samples["hipponode_result_agreement_count"]);
        Assert.Equal(1.55, samples["hipponode_result_agreement_sum"], 9);
        Assert.Equal(0, samples["hipponode_result_agreement_bucket{le=\"0.5\"}"]);
        Assert.Equal(1, samples["hipponode_result_agreement_bucket{le=\"0.8\"}"]);
        Assert.Equal(2, samples["hipponode_result_agreement_bucket{le=\"0.95\"}"]);
        Assert.Equal(1, samples["hipponode_results_quality_flagged_total"]);
    }

    private string Study(string name, out string studyUid)
    {
        var folder = _dir.Sub(name);
        studyUid = SyntheticStudy.Write(folder, modality: "MR");
        return folder;
    }
}
