using HippoNode.Analysis;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;

namespace HippoNode.Node.Tests;

/// <summary>The spool / stability / queue / outbox state machine against a real SQLite file; a reopen is a restart.</summary>
public sealed class DatabaseTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<NodeDatabase> OpenAsync() => NodeDatabase.OpenAsync(_dir.Sub("node.db"));

    private static InstanceArrival Arrival(string sop, string study = "1.2.3", bool own = false) =>
        new(sop, study, "1.2.3.4", "1.2.840.10008.5.1.4.1.1.4", own, own ? null : "/spool/" + sop + ".dcm", 100, "ORTHANC");

    private static StudyAnalysisResult Completed(string study) => new()
    {
        Status = AnalysisStatus.Completed, StudyInstanceUid = study, Series = [], OutputFiles = [], ResultJson = "r.json",
        VolumesMm3 = new Dictionary<string, double> { ["whole"] = 3000 }, Stages = [new StageTiming("inference", TimeSpan.FromMilliseconds(20))],
    };

    [Fact]
    public async Task NewInstances_QueueOneJobOnlyAfterTheQuietTime()
    {
        await using var db = await OpenAsync();
        var t0 = DateTimeOffset.UtcNow;
        Assert.Equal(ArrivalOutcome.New, await db.RecordArrivalAsync(Arrival("1.1"), "/spool"));
        Assert.Equal(ArrivalOutcome.New, await db.RecordArrivalAsync(Arrival("1.2"), "/spool"));

        Assert.Empty(await db.QueueStableStudiesAsync(t0 - TimeSpan.FromSeconds(10)));
        var ids = await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1));
        var id = Assert.Single(ids);
        Assert.Empty(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1)));

        var job = await db.GetJobAsync(id);
        Assert.Equal(JobState.Queued, job!.State);
        Assert.Equal(2, job.Instances);
        Assert.Equal(["receive", "stable-wait"], job.Stages.Select(s => s.Stage));
    }

    [Fact]
    public async Task DuplicateOrOwnInstances_DoNotRequeue_NewOnesDo()
    {
        await using var db = await OpenAsync();
        await db.RecordArrivalAsync(Arrival("1.1"), "/spool");
        Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));

        Assert.Equal(ArrivalOutcome.Duplicate, await db.RecordArrivalAsync(Arrival("1.1"), "/spool"));
        Assert.Equal(ArrivalOutcome.Own, await db.RecordArrivalAsync(Arrival("9.9", own: true), "/spool"));
        Assert.Empty(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));

        // A new image of the study (a series sent later) once its job has started is a change: the study is analysed again.
        Assert.NotNull(await db.ClaimNextJobAsync());
        Assert.Equal(ArrivalOutcome.New, await db.RecordArrivalAsync(Arrival("1.2"), "/spool"));
        Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    [Fact]
    public async Task StudyOfOnlyOurObjects_IsNeverQueued_AndProducedUidsCountAsOurs()
    {
        await using var db = await OpenAsync();
        await db.RecordArrivalAsync(Arrival("1.1", "5.5"), "/spool");
        var id = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
        await db.ClaimNextJobAsync();
        await db.CompleteJobAsync(id, Completed("5.5"), [new ProducedObject("7.7.7", "1.2.840.10008.5.1.4.1.1.66.4", "/r/seg.dcm")]);

        Assert.True(await db.IsProducedAsync("7.7.7"));
        // Comes back without the Manufacturer mark (a PACS that rewrote it): still ours, by its UID.
        Assert.Equal(ArrivalOutcome.Own, await db.RecordArrivalAsync(Arrival("7.7.7", "5.5"), "/spool"));
        Assert.Equal(ArrivalOutcome.Own, await db.RecordArrivalAsync(Arrival("8.8", "6.6", own: true), "/spool"));
        Assert.Empty(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    [Fact]
    public async Task JobFoundAnalysingAtStartup_IsQueuedAgain_UntilMaxAttempts()
    {
        long id;
        await using (var db = await OpenAsync())
        {
            await db.RecordArrivalAsync(Arrival("1.1"), "/spool");
            id = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
            Assert.Equal(id, (await db.ClaimNextJobAsync())!.Id);
            // the process dies here
        }
        for (var attempt = 2; attempt <= 3; attempt++)
        {
            await using var db = await OpenAsync();
            Assert.Equal((1, 0), await db.RecoverInterruptedJobsAsync(maxAttempts: 3));
            var job = await db.ClaimNextJobAsync();
            Assert.Equal(attempt, job!.Attempts);
        }
        await using (var db = await OpenAsync())
        {
            Assert.Equal((0, 1), await db.RecoverInterruptedJobsAsync(maxAttempts: 3));
            var job = await db.GetJobAsync(id);
            Assert.Equal(JobState.Failed, job!.State);
            Assert.Contains("interrupted 3 times", job.Error);
            Assert.Null(await db.ClaimNextJobAsync());
        }
    }

    [Fact]
    public async Task Outbox_SurvivesRestart_AndTheJobIsDoneOnlyWhenEveryItemIsMarkedSent()
    {
        long id;
        await using (var db = await OpenAsync())
        {
            await db.RecordArrivalAsync(Arrival("1.1"), "/spool");
            id = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
            await db.ClaimNextJobAsync();
            await db.CompleteJobAsync(id, Completed("1.2.3"),
                [new ProducedObject("7.1", "1.2.840.10008.5.1.4.1.1.66.4", "/r/seg.dcm"), new ProducedObject("7.2", "1.2.840.10008.5.1.4.1.1.88.34", "/r/sr.dcm")]);
            var due = await db.DueOutboxAsync(DateTimeOffset.UtcNow);
            Assert.Equal(2, due.Count);
            Assert.Null(await db.MarkSentAsync(due[0].Id, 0));
            await db.MarkSendFailedAsync(due[1].Id, "connection refused", DateTimeOffset.UtcNow.AddMinutes(5));
        }
        await using (var db = await OpenAsync())
        {
            var job = await db.GetJobAsync(id);
            Assert.Equal(JobState.Sending, job!.State);
            Assert.Empty(await db.DueOutboxAsync(DateTimeOffset.UtcNow));
            var item = Assert.Single(await db.DueOutboxAsync(DateTimeOffset.UtcNow.AddMinutes(6)));
            Assert.Equal(("7.2", 1, "connection refused"), (item.SopInstanceUid, item.Attempts, item.LastError));
            Assert.Equal(id, await db.MarkSentAsync(item.Id, 0));
            // marking twice (a resend after a crash) changes nothing
            Assert.Null(await db.MarkSentAsync(item.Id, 0));
            job = await db.GetJobAsync(id);
            Assert.Equal(JobState.Done, job!.State);
            Assert.All(job.Outputs, o => Assert.True(o.Sent));
            Assert.Equal(["receive", "stable-wait", "queue", "inference", "send"], job.Stages.Select(s => s.Stage));
            Assert.Equal(3000, job.VolumesMm3["whole"]);
        }
    }

    [Fact]
    public async Task Version1Database_IsUpgradedInPlace_KeepsItsJobs_AndThenRecordsModules()
    {
        var path = _dir.Sub("old.db");
        await using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = NodeDatabase.Schema + """
                PRAGMA user_version=1;
                INSERT INTO jobs(study_uid, state, instances, created_ms) VALUES('1.2.3', 'done', 5, 0);
                """;
            await cmd.ExecuteNonQueryAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        await using var db = await NodeDatabase.OpenAsync(path);
        Assert.Equal((long)NodeDatabase.SchemaVersion, await db.QueryScalarAsync("PRAGMA user_version"));
        var old = Assert.Single(await db.ListJobsAsync());
        Assert.Equal(("1.2.3", JobState.Done), (old.StudyInstanceUid, old.State));
        Assert.Empty(old.Modules);

        await db.RecordArrivalAsync(Arrival("9.1", "9.9"), "/spool");
        var id = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1)));
        await db.ClaimNextJobAsync();
        await db.CompleteJobAsync(id, new StudyAnalysisResult
        {
            Status = AnalysisStatus.Completed, StudyInstanceUid = "9.9", Series = [], OutputFiles = [], ResultJson = "r.json",
            VolumesMm3 = new Dictionary<string, double>(), Stages = [],
            Modules =
            [
                new ModuleOutcome("hippocampus", ModuleStatus.Completed, null, "volumes", "h/result.json", [], [], new Dictionary<string, double> { ["whole mm3"] = 3000 }),
                new ModuleOutcome("chest-xray", ModuleStatus.Failed, "no model", null, null, [], [], new Dictionary<string, double>()),
            ],
        }, []);
        var job = await db.GetJobAsync(id);
        Assert.Equal(["hippocampus:completed", "chest-xray:failed"], job!.Modules.Select(m => $"{m.Module}:{m.Status}"));
        Assert.Equal(3000, job.Modules[0].Measurements["whole mm3"]);
        Assert.Equal("chest-xray: no model", job.Error);
    }
}
