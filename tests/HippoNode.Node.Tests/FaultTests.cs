using System.Net;
using System.Text.Json;
using HippoNode.Dicom.Network;
using HippoNode.Node.Demo;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace HippoNode.Node.Tests;

/// <summary>
/// Destination and disk faults with real peers: a PACS that fails permanently ends in dead-letter (bounded, visible,
/// re-sendable), a transient failure is retried, a silent or absent PACS holds up nobody else, and below the disk
/// watermark the node answers A700 and keeps nothing.
/// </summary>
public sealed class FaultTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Storage => _dir.Sub("node");

    private string NewStudy(string name, out string studyUid)
    {
        var folder = _dir.Sub(name);
        studyUid = SyntheticStudy.Write(folder);
        return folder;
    }

    private static void AssertSent(int port, string folder)
    {
        var (code, output) = StoreScu.Send(port, folder);
        Assert.True(code == 0, "storescu failed: " + output);
    }

    private static void DeadLetterAfterTwo(Dictionary<string, string?> s) => s["HippoNode:Retry:DeadLetterAfter"] = "2";

    public static TheoryData<string> PermanentFaults => ["reject", "0122", "A900", "C000", "0124"];

    [ToolTheory("storescu")]
    [MemberData(nameof(PermanentFaults))]
    public async Task PermanentFailure_EndsInDeadLetter_AfterTheBound_VisibleEverywhere_ResendDelivers(string fault)
    {
        await using var pacs = await ScriptedPacs.StartAsync(_dir.Sub("pacs"));
        if (fault == "reject") pacs.RejectAssociations = true;
        else pacs.Answer = new DicomStatus(Convert.ToUInt16(fault, 16));
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), DeadLetterAfterTwo);

        AssertSent(node.DicomPort, NewStudy("s", out var study));
        var dead = await node.WaitForJobAsync(j => j.State == JobState.DeadLetter);
        Assert.Equal(study, dead.StudyInstanceUid);
        Assert.All(dead.Outputs, o => Assert.True(o.DeadLetter && o.PermanentFailures == 2 && !o.Sent, $"{o.PermanentFailures} {o.LastError}"));
        Assert.All(dead.Outputs, o => Assert.Contains(fault == "reject" ? "Calling AE Title Not Recognized" : fault, o.LastError, StringComparison.OrdinalIgnoreCase));
        // Bounded: two rounds, no retries inside a round for a permanent failure, and nothing after.
        var calls = pacs.Calls;
        Assert.Equal(fault == "reject" ? 0 : 3 * 2, calls);
        await Task.Delay(1500); // several of the test's back-off periods
        Assert.Equal(calls, pacs.Calls);
        Assert.Equal(JobState.DeadLetter, (await node.Db.GetJobAsync(dead.Id))!.State);

        using var http = new HttpClient { BaseAddress = new Uri(node.HttpUrl!) };
        using (var health = JsonDocument.Parse(await http.GetStringAsync("/health")))
        {
            Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
            Assert.Equal(3, health.RootElement.GetProperty("outboxDeadLetter").GetInt32());
            Assert.Equal(1, health.RootElement.GetProperty("jobs").GetProperty("deadletter").GetInt32());
        }
        using (var jobs = JsonDocument.Parse(await http.GetStringAsync("/jobs")))
        {
            var j = Assert.Single(jobs.RootElement.EnumerateArray());
            Assert.Equal("deadletter", j.GetProperty("state").GetString());
            Assert.All(j.GetProperty("outputs").EnumerateArray(), o => Assert.True(o.GetProperty("deadLetter").GetBoolean()));
        }
        using (var letters = JsonDocument.Parse(await http.GetStringAsync("/deadletter")))
        {
            Assert.Equal(3, letters.RootElement.GetArrayLength());
            Assert.All(letters.RootElement.EnumerateArray(), l => Assert.Equal(dead.Id, l.GetProperty("jobId").GetInt64()));
        }
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("hipponode_results_deadlettered_total 3", metrics);
        Assert.Contains("hipponode_outbox_deadletter 3", metrics);
        Assert.Contains("hipponode_jobs_finished_total{state=\"deadletter\"} 1", metrics);

        // The PACS is fixed; a browser page cannot trigger the re-send, a local tool can.
        pacs.RejectAssociations = false;
        pacs.Answer = DicomStatus.Success;
        using (var fromBrowser = new HttpRequestMessage(HttpMethod.Post, "/deadletter/resend"))
        {
            fromBrowser.Headers.Add("Origin", "http://evil.example");
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(fromBrowser)).StatusCode);
        }
        Assert.Equal(3, (await node.Db.DeadLettersAsync()).Count);
        using (var resent = JsonDocument.Parse(await (await http.PostAsync($"/deadletter/resend?job={dead.Id}", null)).Content.ReadAsStringAsync()))
            Assert.Equal(3, resent.RootElement.GetProperty("resentItems").GetInt32());
        var done = await node.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(done.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.Stored.Order());
    }

    [ToolFact("storescu")]
    public async Task TransientFailure_OutOfResources_IsRetriedBeyondTheBound_NeverDeadLettered()
    {
        await using var pacs = await ScriptedPacs.StartAsync(_dir.Sub("pacs"));
        pacs.Answer = DicomStatus.OutOfResources;
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), DeadLetterAfterTwo);
        AssertSent(node.DicomPort, NewStudy("s", out _));

        var waiting = await node.WaitForJobAsync(j => j.State == JobState.Sending && j.Outputs.All(o => o.Attempts >= 4));
        Assert.All(waiting.Outputs, o => Assert.False(o.DeadLetter));
        Assert.All(waiting.Outputs, o => Assert.Equal(0, o.PermanentFailures));
        Assert.Empty(await node.Db.DeadLettersAsync());

        pacs.Answer = DicomStatus.Success;
        var done = await node.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(done.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.Stored.Order());
    }

    [ToolFact("storescu")]
    public async Task DuplicateSopInstance_0111_CountsAsDelivered()
    {
        await using var pacs = await ScriptedPacs.StartAsync(_dir.Sub("pacs"));
        pacs.Answer = DicomStatus.DuplicateSopInstance;
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), DeadLetterAfterTwo);
        AssertSent(node.DicomPort, NewStudy("s", out _));
        var done = await node.WaitForJobAsync(j => j.State is JobState.Done or JobState.DeadLetter);
        Assert.Equal(JobState.Done, done.State);
        Assert.Equal(3, pacs.Calls);
    }

    [ToolFact("storescu")]
    public async Task SilentPacs_ThenAbsentPacs_NeverBlockReceivingOrAnalysisOfOtherStudies()
    {
        // A PACS that accepts the association and the C-STORE but never answers; the node waits up to a minute for it.
        var pacs = await ScriptedPacs.StartAsync(_dir.Sub("pacs"));
        pacs.Silent = true;
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), s => s["HippoNode:Retry:TimeoutSeconds"] = "60");
        try
        {
            AssertSent(node.DicomPort, NewStudy("a", out var a));
            await pacs.Holding.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // While the outbox hangs on A's first result, B is received and analysed.
            AssertSent(node.DicomPort, NewStudy("b", out var b));
            var analysedB = await node.WaitForJobAsync(j => j.StudyInstanceUid == b && j.State == JobState.Sending);
            Assert.Contains(analysedB.Stages, s => s.Stage == "outputs");
            Assert.True(pacs.InFlight > 0, "A's C-STORE is still unanswered");
            var jobA = (await node.Db.ListJobsAsync(studyInstanceUid: a)).Single();
            Assert.Equal(JobState.Sending, jobA.State);
            Assert.All(jobA.Outputs, o => Assert.False(o.Sent));
        }
        finally
        {
            await pacs.DisposeAsync(); // now the PACS is gone altogether (connections refused)
        }

        AssertSent(node.DicomPort, NewStudy("c", out var c));
        var analysedC = await node.WaitForJobAsync(j => j.StudyInstanceUid == c && j.State == JobState.Sending);
        Assert.Contains(analysedC.Stages, s => s.Stage == "outputs");
        Assert.Equal(3, (await node.Db.ListJobsAsync()).Count(j => j.State == JobState.Sending));
        Assert.Empty(await node.Db.DeadLettersAsync()); // absent is transient: the results wait
    }

    [ToolFact("storescu")]
    public async Task WatermarkAboveTheFreeSpace_StoreScuGetsA700_NothingKept_RestartedLower_StudyAnalysed()
    {
        var free = DriveFreeSpaceProbe.Instance.GetFreeBytes(_dir.Path) / (1024 * 1024);
        var study = NewStudy("s", out var uid);
        await using (var node = await TestNode.StartAsync(Storage, StoreScp.FreePort(), new CopyRunner(),
            s => s["HippoNode:Storage:MinFreeMegabytes"] = (free + 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            var (code, output) = StoreScu.Send(node.DicomPort, study, extra: ["-v"]);
            Assert.Contains("Received Store Response (Refused: OutOfResources)", output, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFiles(Storage, "*.dcm", SearchOption.AllDirectories));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(Storage, "incoming")));
            Assert.Equal(0L, await node.Db.QueryScalarAsync("SELECT COUNT(*) FROM instances"));

            using var http = new HttpClient { BaseAddress = new Uri(node.HttpUrl!) };
            using var health = JsonDocument.Parse(await http.GetStringAsync("/health"));
            Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
            Assert.False(health.RootElement.GetProperty("receiving").GetBoolean());
            Assert.Contains("hipponode_receiving_paused 1", await http.GetStringAsync("/metrics"));
            _ = code;
        }
        var log = string.Join("\n", Directory.EnumerateFiles(Path.Combine(Storage, "logs")).Select(ReadShared));
        // Structured: the figures are properties of the event, not only words in the message.
        Assert.Contains("\"EventId\":{\"Id\":1005", log);
        Assert.Contains("\"MinFreeMegabytes\":" + (free + 1_000_000), log);

        await using var lowered = await TestNode.StartAsync(Storage, StoreScp.FreePort(), new CopyRunner(), s => s["HippoNode:Storage:MinFreeMegabytes"] = "1");
        AssertSent(lowered.DicomPort, study);
        await lowered.WaitForJobAsync(j => j.StudyInstanceUid == uid && j.State == JobState.Sending);
    }

    [ToolFact("storescu")]
    public async Task FreeSpaceComesBack_WhileRunning_ReceivingResumes()
    {
        var probe = new SettableProbe { Free = 10L * 1024 * 1024 };
        await using var node = await TestNode.StartAsync(Storage, StoreScp.FreePort(), new CopyRunner(),
            s => s["HippoNode:Storage:MinFreeMegabytes"] = "100", services => services.AddSingleton<IFreeSpaceProbe>(probe));
        var study = NewStudy("s", out var uid);
        var (_, refused) = StoreScu.Send(node.DicomPort, study, extra: ["-v"]);
        Assert.Contains("Refused: OutOfResources", refused, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Storage, "*.dcm", SearchOption.AllDirectories));

        probe.Free = 1L << 40;
        AssertSent(node.DicomPort, study);
        var job = await node.WaitForJobAsync(j => j.StudyInstanceUid == uid && j.State == JobState.Sending);
        Assert.Equal(SyntheticStudy.Slices, job.Instances);
    }

    private static string ReadShared(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(fs).ReadToEnd();
    }
}

/// <summary>A theory that skips when a named peer tool is missing.</summary>
public sealed class ToolTheoryAttribute : TheoryAttribute
{
    public ToolTheoryAttribute(params string[] tools)
    {
        if (tools.FirstOrDefault(t => !TestData.HasTool(t)) is { } missing) Skip = $"{missing} not on PATH (.ci/run installs it)";
    }
}
