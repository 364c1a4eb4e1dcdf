using System.Net;
using System.Text.Json;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Demo;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;

namespace HippoNode.Node.Tests;

/// <summary>
/// The whole flow with real peers: DCMTK storescu sends a study into the node (in-process host on port 0), the job
/// runs, and the results are C-STOREd into a real storescp (the PACS stand-in, unique file per reception).
/// </summary>
public sealed class FlowTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Storage => _dir.Sub("node");

    private string NewStudy(string name = "study", string modality = "MR") => NewStudy(name, modality, out _);

    private string NewStudy(string name, string modality, out string studyUid)
    {
        var folder = _dir.Sub(name);
        studyUid = SyntheticStudy.Write(folder, modality: modality);
        return folder;
    }

    private static void AssertSent(int port, string folder)
    {
        var (code, output) = StoreScu.Send(port, folder);
        Assert.True(code == 0, "storescu failed: " + output);
    }

    [ToolFact("storescu", "storescp")]
    public async Task Study_IsAnalysedOnce_AndResultsArriveInThePacsOnce()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        var runner = new CopyRunner();
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, runner);

        AssertSent(node.DicomPort, NewStudy("s", "MR", out var studyUid));
        var job = await node.WaitForJobAsync(j => j.State == JobState.Done);

        Assert.Equal(studyUid, job.StudyInstanceUid);
        Assert.Equal(SyntheticStudy.Slices, job.Instances);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(3, job.Outputs.Count);
        Assert.True(job.VolumesMm3["whole"] > 1000, "the bright ellipsoid is measured");
        Assert.Equal(["receive", "stable-wait", "queue", "load", "volume", "outputs", "send"], job.Stages.Select(s => s.Stage));
        var received = pacs.ReceivedUids();
        Assert.Equal(job.Outputs.Select(o => o.SopInstanceUid).Order(), received.Order());
        foreach (var f in Directory.EnumerateFiles(pacs.Folder))
            Assert.Equal("HippoNode", DicomFile.Open(f).Dataset.GetString(DicomTags.Manufacturer));
        await Task.Delay(500); // a second quiet period: nothing else may be queued
        Assert.Single(await node.Db.ListJobsAsync());
        Assert.Equal(1, runner.Calls);
    }

    [ToolFact("storescu", "storescp")]
    public async Task PacsDown_ResultsWaitInTheOutbox_AndArriveOnceItListens()
    {
        var pacsPort = StoreScp.FreePort();
        await using var node = await TestNode.StartAsync(Storage, pacsPort, new CopyRunner());
        AssertSent(node.DicomPort, NewStudy());

        var waiting = await node.WaitForJobAsync(j => j.State == JobState.Sending && j.Outputs.All(o => o.Attempts >= 2));
        Assert.All(waiting.Outputs, o => Assert.False(o.Sent));
        Assert.NotNull(waiting.Outputs[0].LastError);

        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"), pacsPort);
        var done = await node.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(done.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.ReceivedUids().Order());
    }

    [ToolFact("storescu", "storescp")]
    public async Task PacsDown_ThenNodeRestarted_OutboxSendsAfterRestart()
    {
        var pacsPort = StoreScp.FreePort();
        await using (var node = await TestNode.StartAsync(Storage, pacsPort, new CopyRunner()))
        {
            AssertSent(node.DicomPort, NewStudy());
            await node.WaitForJobAsync(j => j.State == JobState.Sending && j.Outputs.All(o => o.Attempts >= 1));
        }
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"), pacsPort);
        var runner = new CopyRunner();
        await using var restarted = await TestNode.StartAsync(Storage, pacsPort, runner);
        var done = await restarted.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(0, runner.Calls);
        Assert.Equal(done.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.ReceivedUids().Order());
    }

    [ToolFact("storescu", "storescp")]
    public async Task NodeStoppedMidAnalysis_AfterRestartTheResultsArriveOnce()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        var holding = new CopyRunner { Hold = ct => Task.Delay(Timeout.Infinite, ct) };
        await using (var node = await TestNode.StartAsync(Storage, pacs.Port, holding))
        {
            AssertSent(node.DicomPort, NewStudy());
            await holding.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Empty(pacs.ReceivedUids());

        var runner = new CopyRunner();
        await using var restarted = await TestNode.StartAsync(Storage, pacs.Port, runner);
        var done = await restarted.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(1, runner.Calls);
        Assert.Equal(1, done.Attempts); // a clean stop does not count as an attempt
        Assert.Equal(done.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.ReceivedUids().Order());
    }

    [ToolFact("storescu", "storescp")]
    public async Task ProcessDiedMidAnalysis_JobLeftAnalysing_IsRunAgainAtStartup_HalfWrittenOutputsNeverSent()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        long id;
        await using (var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner { Hold = ct => Task.Delay(Timeout.Infinite, ct) }))
        {
            AssertSent(node.DicomPort, NewStudy());
            id = (await node.WaitForJobAsync(j => j.State == JobState.Analysing)).Id;
        }
        // What a SIGKILL during the analysis leaves: the job still 'analysing', a half-written output folder.
        await using (var db = await NodeDatabase.OpenAsync(Path.Combine(Storage, "node.db")))
            await db.ExecuteAsync($"UPDATE jobs SET state='analysing', attempts=1 WHERE id={id}");
        File.WriteAllText(Path.Combine(Storage, "results", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "stale.dcm"), "half");

        await using var restarted = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner());
        var done = await restarted.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(2, done.Attempts);
        Assert.False(File.Exists(Path.Combine(Storage, "results", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "stale.dcm")));
        Assert.Equal(3, pacs.ReceivedUids().Count);
    }

    [ToolFact("storescu", "storescp")]
    public async Task CrashBetweenStoreAndMark_ResendsTheSameUids_WhichThePacsStoresOncePerUid()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        IReadOnlyList<string> first;
        await using (var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner()))
        {
            AssertSent(node.DicomPort, NewStudy());
            first = (await node.WaitForJobAsync(j => j.State == JobState.Done)).Outputs.Select(o => o.SopInstanceUid).Order().ToList();
        }
        // What a kill after the PACS's response but before the mark leaves: stored there, still pending here.
        await using (var db = await NodeDatabase.OpenAsync(Path.Combine(Storage, "node.db")))
            await db.ExecuteAsync("UPDATE outbox SET state='pending', sent_ms=NULL; UPDATE jobs SET state='sending', finished_ms=NULL");

        var runner = new CopyRunner();
        await using var restarted = await TestNode.StartAsync(Storage, pacs.Port, runner);
        var done = await restarted.WaitForJobAsync(j => j.State == JobState.Done);
        Assert.Equal(0, runner.Calls);
        var received = pacs.ReceivedUids();
        Assert.Equal(6, received.Count); // sent twice...
        Assert.Equal(first, received.Distinct().Order()); // ...as the same three instances
    }

    [Fact]
    public async Task ASenderPausingLongerThanTheQuietTime_GivesOneJob_QueuedOnceItMovesOnOrReleases()
    {
        await using var pacs = await ScriptedPacs.StartAsync(_dir.Sub("pacs"));
        var runner = new CopyRunner();
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, runner);
        var a = Directory.GetFiles(NewStudy("a", "MR", out var studyA)).Order(StringComparer.Ordinal).ToList();
        var b = Directory.GetFiles(NewStudy("b", "MR", out var studyB)).Order(StringComparer.Ordinal).ToList();
        var scu = new Dicom.Network.DicomClientOptions { CallingAeTitle = "ORTHANC", CalledAeTitle = "HIPPONODE" };
        var proposals = Dicom.Network.DicomSender.ProposalsFor([(DicomUid.MRImageStorage, DicomTransferSyntax.ExplicitVRLittleEndian)]);
        async Task StoreAsync(Dicom.Network.DicomClientAssociation association, IEnumerable<string> files)
        {
            foreach (var f in files) Assert.True((await association.StoreAsync(f, CancellationToken.None)).Succeeded, f);
        }

        await using (var association = await Dicom.Network.DicomClientAssociation.ConnectAsync("127.0.0.1", node.DicomPort, scu, proposals, CancellationToken.None))
        {
            await StoreAsync(association, a.Take(7));
            await Task.Delay(1500); // the sender stalls for several quiet periods (0.4 s) with its association open
            Assert.Empty(await node.Db.ListJobsAsync());
            await StoreAsync(association, a.Skip(7));
            // The association moves on to another study: the first one is complete, and queued while the association stays open.
            await StoreAsync(association, b.Take(5));
            var jobA = await node.WaitForJobAsync(j => j.StudyInstanceUid == studyA && j.State == JobState.Done);
            Assert.Equal(SyntheticStudy.Slices, jobA.Instances);
            await Task.Delay(1000);
            Assert.DoesNotContain(await node.Db.ListJobsAsync(), j => j.StudyInstanceUid == studyB);
            await StoreAsync(association, b.Skip(5));
            await association.ReleaseAsync(CancellationToken.None);
        }
        var jobB = await node.WaitForJobAsync(j => j.StudyInstanceUid == studyB && j.State == JobState.Done);
        Assert.Equal(SyntheticStudy.Slices, jobB.Instances);
        await Task.Delay(1000);
        Assert.Equal(2, (await node.Db.ListJobsAsync()).Count);
        Assert.Equal(2, runner.Calls);
    }

    [ToolFact("storescu", "storescp")]
    public async Task OurObjectsRoutedBack_AreNotAnalysedAgain_NorIsAStudyOfOnlyOurs()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        var runner = new CopyRunner();
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, runner);
        AssertSent(node.DicomPort, NewStudy());
        await node.WaitForJobAsync(j => j.State == JobState.Done);

        // Orthanc routes what it stored, our results included, back to us; and the original images again.
        AssertSent(node.DicomPort, pacs.Folder);
        AssertSent(node.DicomPort, _dir.Sub("study"));
        // A study made only of objects carrying our Manufacturer (e.g. produced by another HippoNode).
        var foreign = _dir.Sub("ours-only");
        SyntheticStudy.Write(foreign);
        foreach (var f in Directory.EnumerateFiles(foreign))
        {
            var file = DicomFile.Open(f);
            file.Dataset.AddOrUpdate(DicomTags.Manufacturer, "HippoNode");
            new DicomFile(file.Dataset, DicomTransferSyntax.ExplicitVRLittleEndian).Save(f);
        }
        AssertSent(node.DicomPort, foreign);

        await Task.Delay(1500); // several quiet periods
        Assert.Single(await node.Db.ListJobsAsync());
        Assert.Equal(1, runner.Calls);
        Assert.Equal(3 + SyntheticStudy.Slices, Convert.ToInt32(await node.Db.QueryScalarAsync("SELECT COUNT(*) FROM instances WHERE own=1"), System.Globalization.CultureInfo.InvariantCulture));
        // Ours are not kept in the spool: the study folder holds the images only.
        Assert.Equal(SyntheticStudy.Slices, Directory.EnumerateFiles(Path.Combine(Storage, "studies")).Count() + Directory.EnumerateDirectories(Path.Combine(Storage, "studies")).Sum(d => Directory.EnumerateFiles(d).Count()));
    }

    [ToolFact("storescu", "storescp")]
    public async Task NoEligibleSeries_IsSkippedWithReason_BrokenStudyFails_AndTheNodeGoesOn()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        // A longer quiet time: the test damages a received file before the study is complete.
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), s => s["HippoNode:StableSeconds"] = "1.5");

        AssertSent(node.DicomPort, NewStudy("ct", "CT", out var ctStudy));
        var skipped = await node.WaitForJobAsync(j => j.StudyInstanceUid == ctStudy && j.State == JobState.Skipped);
        Assert.Contains("no eligible series", skipped.SkipReason);
        Assert.Contains("HippoCrop (CT, 32 instances)", skipped.SkipReason);

        AssertSent(node.DicomPort, NewStudy("broken", "MR", out var brokenStudy));
        // A file of that study damaged on disk after it was received (what a broken series looks like to the analysis).
        var victim = Directory.EnumerateFiles(Path.Combine(Storage, "studies", brokenStudy)).First();
        await File.WriteAllBytesAsync(victim, File.ReadAllBytes(victim)[..400]);
        var failed = await node.WaitForJobAsync(j => j.StudyInstanceUid == brokenStudy && j.State == JobState.Failed);
        Assert.Contains(Path.GetFileName(victim), failed.Error);

        AssertSent(node.DicomPort, NewStudy("good", "MR", out var goodStudy));
        await node.WaitForJobAsync(j => j.StudyInstanceUid == goodStudy && j.State == JobState.Done);
        Assert.Equal(3, pacs.ReceivedUids().Count);
    }

    [ToolFact("storescu", "storescp")]
    public async Task HttpEndpoint_OnLoopback_AnswersHealthJobsAndMetrics()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner());
        AssertSent(node.DicomPort, NewStudy());
        var job = await node.WaitForJobAsync(j => j.State == JobState.Done);

        var url = new Uri(node.HttpUrl!);
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(url.Host.Trim('[', ']'))), url.ToString());
        using var http = new HttpClient { BaseAddress = url };
        using (var health = JsonDocument.Parse(await http.GetStringAsync("/health")))
        {
            Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
            Assert.Equal(node.DicomPort, health.RootElement.GetProperty("dicomPort").GetInt32());
            Assert.Equal(1, health.RootElement.GetProperty("jobs").GetProperty("done").GetInt32());
        }
        using (var jobs = JsonDocument.Parse(await http.GetStringAsync("/jobs")))
        {
            var j = Assert.Single(jobs.RootElement.EnumerateArray());
            Assert.Equal("done", j.GetProperty("state").GetString());
            Assert.True(j.GetProperty("volumesMm3").GetProperty("whole").GetDouble() > 1000);
            Assert.False(j.GetProperty("qualityFlagged").GetBoolean());
            Assert.Contains(j.GetProperty("stages").EnumerateArray(), s => s.GetProperty("stage").GetString() == "send");
            Assert.Equal(3, j.GetProperty("outputs").EnumerateArray().Count(o => o.GetProperty("sent").GetBoolean()));
        }
        using (var one = JsonDocument.Parse(await http.GetStringAsync($"/jobs/{job.Id}")))
            Assert.Equal(job.StudyInstanceUid, one.RootElement.GetProperty("studyInstanceUid").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/jobs/999999")).StatusCode);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("hipponode_jobs_finished_total{state=\"done\"} 1", metrics);
        Assert.Contains("hipponode_instances_received_total{outcome=\"new\"} 32", metrics);
        Assert.Contains("hipponode_results_sent_total 3", metrics);
        Assert.Contains("hipponode_job_stage_seconds_count{stage=\"send\"} 1", metrics);
    }

    [ToolFact("storescu", "storescp")]
    public async Task Logs_NameUidsButNeverThePatient()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        string studyUid;
        await using (var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner()))
        {
            AssertSent(node.DicomPort, NewStudy("s", "MR", out studyUid));
            await node.WaitForJobAsync(j => j.State == JobState.Done);
        }
        var log = string.Join("\n", Directory.EnumerateFiles(Path.Combine(Storage, "logs")).Select(File.ReadAllText));
        Assert.Contains(studyUid, log);
        Assert.Contains("\"Level\":\"Information\"", log);
        Assert.DoesNotContain("SYNTHETIC", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(SyntheticStudy.PatientId, log);
    }
}
