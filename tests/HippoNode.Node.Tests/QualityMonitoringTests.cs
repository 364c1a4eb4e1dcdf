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
        // A quiet time long enough that a loaded machine does not split a study into two jobs; the checks below hold either way.
        await using var node = await TestNode.StartAsync(_dir.Sub("node"), pacs.Port, runner, s => s["HippoNode:StableSeconds"] = "2");

        var (code, output) = StoreScu.Send(node.DicomPort, Study("good", out var goodStudy));
        Assert.True(code == 0, output);
        await node.WaitForJobAsync(j => j.StudyInstanceUid == goodStudy && j.State == JobState.Done);
        runner.Agreement = 0.6;
        (code, output) = StoreScu.Send(node.DicomPort, Study("doubtful", out var doubtfulStudy));
        Assert.True(code == 0, output);
        await node.WaitForJobAsync(j => j.StudyInstanceUid == doubtfulStudy && j.State == JobState.Done);
        // A study split into two jobs on a slow machine finishes its second job too before the counts are read.
        for (var i = 0; i < 300 && (await node.Db.ListJobsAsync()).Any(j => j.State != JobState.Done); i++) await Task.Delay(100);
        Assert.All(await node.Db.ListJobsAsync(), j => Assert.Equal(JobState.Done, j.State));

        using var http = new HttpClient { BaseAddress = new Uri(node.HttpUrl!) };
        var counts = new Dictionary<string, int>();
        foreach (var (study, agreement, flagged) in new[] { (goodStudy, 0.95, false), (doubtfulStudy, 0.6, true) })
        {
            using var list = JsonDocument.Parse(await http.GetStringAsync($"/jobs?study={study}"));
            var studyJobs = list.RootElement.EnumerateArray().ToList();
            Assert.NotEmpty(studyJobs);
            Assert.All(studyJobs, job =>
            {
                Assert.Equal(agreement, job.GetProperty("agreement").GetDouble(), 12);
                Assert.Equal(flagged, job.GetProperty("qualityFlagged").GetBoolean());
            });
            counts[study] = studyJobs.Count;
        }

        var (good, doubtful) = (counts[goodStudy], counts[doubtfulStudy]);
        var samples = Samples(await http.GetStringAsync("/metrics"));
        Assert.Equal(good + doubtful, samples["hipponode_result_agreement_count"]);
        Assert.Equal(0.95 * good + 0.6 * doubtful, samples["hipponode_result_agreement_sum"], 9);
        Assert.Equal(0, samples["hipponode_result_agreement_bucket{le=\"0.5\"}"]);
        Assert.Equal(doubtful, samples["hipponode_result_agreement_bucket{le=\"0.8\"}"]);
        Assert.Equal(good + doubtful, samples["hipponode_result_agreement_bucket{le=\"0.95\"}"]);
        Assert.Equal(doubtful, samples["hipponode_results_quality_flagged_total"]);
    }

    private string Study(string name, out string studyUid)
    {
        var folder = _dir.Sub(name);
        studyUid = SyntheticStudy.Write(folder, modality: "MR");
        return folder;
    }
}
