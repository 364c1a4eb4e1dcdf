using System.Globalization;
using System.Text.Json;
using HippoNode.Analysis;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.EndToEnd.Tests;

/// <summary>
/// The product as integration engineers run it: Orthanc (Debian package) with our configuration and Lua router, and
/// `hipponode serve` as a child process. Studies go into Orthanc with storescu; the results must come back into Orthanc.
/// </summary>
public sealed class NodeEndToEndTests
{
    private const int OrthancStableAge = 3;
    private const int NodeStableSeconds = 2;

    [StackFact("Orthanc", "dicomweb", "storescu", "model")]
    public async Task BothStudies_ResultsInOrthancWithin60s_AndSrVolumesEqualAnalyze()
    {
        var nodePort = StackNet.FreePort();
        await using var orthanc = await OrthancHost.StartAsync(nodePort, OrthancStableAge);
        await using var node = await NodeProcess.StartAsync(nodePort, orthanc.DicomPort);

        var studies = new[] { "Study1", "Study2" }.Select(s => Path.Combine(TestData.SharedData, "TestVolumes", s)).ToArray();
        foreach (var study in studies) StoreScu(orthanc.DicomPort, study);
        var sent = DateTime.UtcNow;

        foreach (var study in studies)
        {
            var uid = StudyUidOf(study);
            var orthancId = await orthanc.StudyIdAsync(uid);
            var results = await WaitForResultsAsync(orthanc, orthancId, sent + TimeSpan.FromSeconds(60));
            Assert.All(results.Values, ids => Assert.Single(ids));

            // The SR in the PACS says what `hipponode analyze` says of the same study.
            var sr = await DownloadAsync(orthanc, results["HippoNode SR"][0]);
            var srVolumes = MeasuredVolumes(sr).Order().ToArray();
            var outDir = StackNet.TempDir("analyze");
            try
            {
                using var analyzer = new StudyAnalyzer();
                var expected = await analyzer.AnalyzeAsync(study, outDir);
                Assert.Equal(AnalysisStatus.Completed, expected.Status);
                var analyzeVolumes = expected.VolumesMm3.Values.Order().ToArray();
                Assert.Equal(analyzeVolumes.Length, srVolumes.Length);
                for (var i = 0; i < srVolumes.Length; i++) Assert.Equal(analyzeVolumes[i], srVolumes[i], 0.01);
            }
            finally
            {
                StackNet.DeleteDir(outDir);
            }
        }

        // Our results came back into Orthanc and made the studies stable again: nothing is routed or analysed twice.
        await Task.Delay(TimeSpan.FromSeconds(OrthancStableAge + NodeStableSeconds + 2));
        var jobs = await node.JobsAsync();
        Assert.Equal(2, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("done", j.GetProperty("state").GetString()));
    }

    [StackFact("Orthanc", "dicomweb", "storescu", "model")]
    public async Task OrthancDownWhileResultsAreDue_TheyArriveAfterItIsBack()
    {
        var nodePort = StackNet.FreePort();
        var orthanc = await OrthancHost.StartAsync(nodePort, OrthancStableAge);
        try
        {
            await using var node = await NodeProcess.StartAsync(nodePort, orthanc.DicomPort);
            // Only the HippoCrop series: the router sends nothing else, and storescu into Orthanc is slow.
            var study = Path.Combine(TestData.SharedData, "TestVolumes", "Study1", "13_HCropVolume");
            var uid = StudyUidOf(study);
            StoreScu(orthanc.DicomPort, study);

            // Once the router has handed the study to the node, take the PACS away before the results are due.
            var job = await node.WaitForJobAsync(uid, j => true, TimeSpan.FromSeconds(40), "a job for the routed study");
            await orthanc.StopAsync();
            job = await node.WaitForJobAsync(uid, j => j.GetProperty("state").GetString() == "sending"
                && j.GetProperty("outputs").EnumerateArray().Any(o => o.GetProperty("attempts").GetInt32() > 0),
                TimeSpan.FromSeconds(60), "results due and a failed C-STORE attempt while Orthanc is down");
            Assert.All(job.GetProperty("outputs").EnumerateArray(), o => Assert.False(o.GetProperty("sent").GetBoolean()));

            await orthanc.RestartAsync();
            var results = await WaitForResultsAsync(orthanc, await orthanc.StudyIdAsync(uid), DateTime.UtcNow + TimeSpan.FromSeconds(90));
            Assert.All(results.Values, ids => Assert.Single(ids));
            await node.WaitForJobAsync(uid, j => j.GetProperty("state").GetString() == "done", TimeSpan.FromSeconds(30), "job done");
        }
        finally
        {
            await orthanc.DisposeAsync();
        }
    }

    [StackFact("Orthanc", "dicomweb", "storescu", "model")]
    public async Task NodeKilledMidAnalysis_ResultsArriveOnceAfterRestart()
    {
        var nodePort = StackNet.FreePort();
        await using var orthanc = await OrthancHost.StartAsync(nodePort, OrthancStableAge);
        var storage = StackNet.TempDir("node");
        try
        {
            var study = Path.Combine(TestData.SharedData, "TestVolumes", "Study2", "14_HCropVolume");
            var uid = StudyUidOf(study);
            var node = await NodeProcess.StartAsync(nodePort, orthanc.DicomPort, storage);
            try
            {
                StoreScu(orthanc.DicomPort, study);
                await node.WaitForJobAsync(uid, j => j.GetProperty("state").GetString() == "analysing", TimeSpan.FromSeconds(60),
                    "the job in its analysing state", pollMilliseconds: 5);
                node.Kill(); // SIGKILL: no shutdown code runs
            }
            finally
            {
                await node.DisposeAsync();
            }

            await using var restarted = await NodeProcess.StartAsync(nodePort, orthanc.DicomPort, storage);
            var results = await WaitForResultsAsync(orthanc, await orthanc.StudyIdAsync(uid), DateTime.UtcNow + TimeSpan.FromSeconds(60));
            var job = await restarted.WaitForJobAsync(uid, j => j.GetProperty("state").GetString() == "done", TimeSpan.FromSeconds(30), "job done after restart");
            Assert.True(job.GetProperty("attempts").GetInt32() >= 2, "the interrupted analysis ran again");

            // Once: no second set of results, also after the results made the study stable again.
            await Task.Delay(TimeSpan.FromSeconds(OrthancStableAge + NodeStableSeconds + 2));
            results = await ResultSeriesAsync(orthanc, await orthanc.StudyIdAsync(uid));
            Assert.Equal(3, results.Count);
            Assert.All(results.Values, ids => Assert.Single(ids));
            Assert.Single(await restarted.JobsAsync());
        }
        finally
        {
            StackNet.DeleteDir(storage);
        }
    }

    internal static void StoreScu(int port, string folder)
    {
        var (code, stdout, stderr) = TestData.Run("storescu", ["-aec", "ORTHANC", "-aet", "SCANNER", "+sd", "+r", "127.0.0.1",
            port.ToString(CultureInfo.InvariantCulture), folder], TimeSpan.FromMinutes(3));
        Assert.True(code == 0, $"storescu {folder} failed: {stdout}{stderr}");
    }

    internal static string StudyUidOf(string folder)
    {
        var file = Directory.EnumerateFiles(folder, "*.dcm", SearchOption.AllDirectories).First();
        return DicomFile.Open(file).Dataset.GetString(DicomTags.StudyInstanceUID)!;
    }

    /// <summary>Our result series in an Orthanc study, by series description, with their instance ids.</summary>
    internal static async Task<Dictionary<string, List<string>>> ResultSeriesAsync(OrthancHost orthanc, string studyId)
    {
        var found = new Dictionary<string, List<string>>();
        foreach (var series in (await orthanc.GetJsonAsync($"/studies/{studyId}/series")).EnumerateArray())
        {
            var description = series.GetProperty("MainDicomTags").TryGetProperty("SeriesDescription", out var d) ? d.GetString() : null;
            if (description is "HippoNode SEG" or "HippoNode SR" or "HippoNode Report")
                found[description] = [.. series.GetProperty("Instances").EnumerateArray().Select(i => i.GetString()!)];
        }
        return found;
    }

    /// <summary>Waits until the study holds our SEG, SR and SC series; fails at <paramref name="deadline"/>.</summary>
    internal static async Task<Dictionary<string, List<string>>> WaitForResultsAsync(OrthancHost orthanc, string studyId, DateTime deadline)
    {
        while (true)
        {
            var found = await ResultSeriesAsync(orthanc, studyId);
            if (found.Count == 3) return found;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Orthanc study {studyId} holds only [{string.Join(", ", found.Keys)}] of our SEG, SR and SC at the deadline");
            await Task.Delay(250);
        }
    }

    internal static async Task<DicomDataset> DownloadAsync(OrthancHost orthanc, string instanceId)
    {
        var bytes = await orthanc.Http.GetByteArrayAsync($"/instances/{instanceId}/file");
        using var ms = new MemoryStream(bytes);
        return DicomFile.Read(ms).Dataset;
    }

    /// <summary>Every NUM content item in mm3 anywhere in the SR tree.</summary>
    internal static List<double> MeasuredVolumes(DicomDataset sr)
    {
        var values = new List<double>();
        void Walk(DicomDataset item)
        {
            if (item.GetString(DicomTags.ValueType) == "NUM" && item.GetSequence(DicomTags.MeasuredValueSequence) is { Items.Count: > 0 } mv)
            {
                var m = mv.Items[0];
                var unit = m.GetSequence(DicomTags.MeasurementUnitsCodeSequence)?.Items[0].GetString(DicomTags.CodeValue);
                if (unit == "mm3") values.Add(double.Parse(m.GetString(DicomTags.NumericValue)!, CultureInfo.InvariantCulture));
            }
            if (item.GetSequence(DicomTags.ContentSequence) is { } children)
                foreach (var child in children.Items) Walk(child);
        }
        Walk(sr);
        return values;
    }
}

/// <summary>`hipponode serve` as a child process (the built hipponode.dll beside the tests), on loopback.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string? _ownedStorage;

    private NodeProcess(ChildProcess process, HttpClient http, string? ownedStorage)
    {
        _process = process;
        Http = http;
        _ownedStorage = ownedStorage;
    }

    /// <summary>A client of the node's loopback endpoint.</summary>
    public HttpClient Http { get; }

    /// <summary>Every output line.</summary>
    public IReadOnlyCollection<string> Lines => _process.Lines;

    /// <summary>Starts the node on <paramref name="port"/>, sending results to Orthanc on <paramref name="pacsPort"/>; waits for /health.</summary>
    public static async Task<NodeProcess> StartAsync(int port, int pacsPort, string? storage = null, IReadOnlyList<string>? extraArgs = null)
    {
        var owned = storage is null ? StackNet.TempDir("node") : null;
        storage ??= owned!;
        var httpPort = StackNet.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "hipponode.dll");
        var process = ChildProcess.Start("dotnet", [dll, "serve",
            "--port", port.ToString(CultureInfo.InvariantCulture), "--aet", "HIPPONODE", "--storage", storage,
            "--pacs-aet", "ORTHANC", "--pacs-host", "127.0.0.1", "--pacs-port", pacsPort.ToString(CultureInfo.InvariantCulture),
            "--http", $"http://127.0.0.1:{httpPort}", "--stable-seconds", "2",
            "--HippoNode:Retry:FirstDelaySeconds=1", "--HippoNode:Retry:MaxDelaySeconds=2", .. extraArgs ?? []]);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        var node = new NodeProcess(process, http, owned);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var rsp = await http.GetAsync("/health");
                if (rsp.IsSuccessStatusCode && StackNet.Listening(port)) return node;
            }
            catch (HttpRequestException)
            {
                // not up yet
            }
            if (process.HasExited || DateTime.UtcNow > until)
            {
                var tail = string.Join('\n', process.Lines.TakeLast(30));
                await node.DisposeAsync();
                Assert.Fail($"hipponode serve did not come up:\n{tail}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The node's jobs (GET /jobs).</summary>
    public async Task<List<JsonElement>> JobsAsync()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/jobs"));
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Polls /jobs until the study's job matches.</summary>
    public async Task<JsonElement> WaitForJobAsync(string studyUid, Func<JsonElement, bool> match, TimeSpan timeout, string what, int pollMilliseconds = 200)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = (await JobsAsync()).FirstOrDefault(j => j.GetProperty("studyInstanceUid").GetString() == studyUid);
            if (job.ValueKind == JsonValueKind.Object && match(job)) return job;
            if (_process.HasExited || DateTime.UtcNow > until)
                Assert.Fail($"{what}: not seen within {timeout.TotalSeconds:0} s; last job: {(job.ValueKind == JsonValueKind.Object ? job.ToString() : "none")}\n"
                    + string.Join('\n', _process.Lines.TakeLast(20)));
            await Task.Delay(pollMilliseconds);
        }
    }

    /// <summary>SIGKILL.</summary>
    public void Kill() => _process.Kill();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
        if (_ownedStorage is not null) StackNet.DeleteDir(_ownedStorage);
    }
}
