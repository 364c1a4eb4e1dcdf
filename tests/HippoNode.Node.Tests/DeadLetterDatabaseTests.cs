using HippoNode.Analysis;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;
using Microsoft.Data.Sqlite;

namespace HippoNode.Node.Tests;

/// <summary>Dead-letter bookkeeping in the database, re-sending, and the version 1 to 2 schema migration of a real file.</summary>
public sealed class DeadLetterDatabaseTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<NodeDatabase> OpenAsync() => NodeDatabase.OpenAsync(_dir.Sub("node.db"));

    /// <summary>A study analysed into <paramref name="outputs"/> result objects, all pending in the outbox.</summary>
    private static async Task<(long Job, IReadOnlyList<OutboxItem> Items)> SendingJobAsync(NodeDatabase db, string study, int outputs)
    {
        await db.RecordArrivalAsync(new InstanceArrival(study + ".1", study, study + ".9", "1.2.840.10008.5.1.4.1.1.4", false, "/spool/x.dcm", 10, "ORTHANC"), "/spool");
        var id = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.Equal(id, (await db.ClaimNextJobAsync())!.Id);
        var result = new StudyAnalysisResult
        {
            Status = AnalysisStatus.Completed, StudyInstanceUid = study, Series = [], OutputFiles = [], ResultJson = "r.json",
            VolumesMm3 = new Dictionary<string, double>(), Stages = [],
        };
        await db.CompleteJobAsync(id, result, Enumerable.Range(1, outputs).Select(i => new ProducedObject($"{study}.100.{i}", "1.2.840.10008.5.1.4.1.1.7", $"/results/{i}.dcm")).ToList());
        return (id, (await db.GetJobAsync(id))!.Outputs);
    }

    [Fact]
    public async Task PermanentFailures_DeadLetterAtTheLimit_TransientOnesNever_JobEndsDeadLetter()
    {
        await using var db = await OpenAsync();
        var (job, items) = await SendingJobAsync(db, "1.2.3", 2);
        var later = DateTimeOffset.UtcNow.AddMinutes(1);

        // Transient failures, however many, never dead-letter.
        for (var i = 0; i < 10; i++) Assert.False((await db.MarkSendFailedAsync(items[0].Id, "connection refused", later, permanent: false, deadLetterAfter: 3)).DeadLettered);
        Assert.Null(await db.MarkSentAsync(items[1].Id, 0)); // the other one is delivered; the job is not over yet
        Assert.Equal(JobState.Sending, (await db.GetJobAsync(job))!.State);

        Assert.Equal(new SendFailureOutcome(false, null), await db.MarkSendFailedAsync(items[0].Id, "0122", later, permanent: true, deadLetterAfter: 3));
        Assert.Equal(new SendFailureOutcome(false, null), await db.MarkSendFailedAsync(items[0].Id, "0122", later, permanent: true, deadLetterAfter: 3));
        Assert.Equal(new SendFailureOutcome(true, job), await db.MarkSendFailedAsync(items[0].Id, "PACS answered 0122", later, permanent: true, deadLetterAfter: 3));

        var dead = (await db.GetJobAsync(job))!;
        Assert.Equal(JobState.DeadLetter, dead.State);
        Assert.Null(dead.FinishedAt);
        var item = dead.Outputs.Single(o => o.Id == items[0].Id);
        Assert.True(item.DeadLetter);
        Assert.Equal((13, 3, "PACS answered 0122"), (item.Attempts, item.PermanentFailures, item.LastError));
        Assert.NotNull(item.DeadLetteredAt);
        Assert.Empty(await db.DueOutboxAsync(DateTimeOffset.UtcNow.AddDays(1))); // no longer retried
        var counts = await db.CountsAsync();
        Assert.Equal((0, 1, 1), (counts.OutboxPending, counts.OutboxDeadLetter, counts.JobsByState[JobState.DeadLetter]));
        Assert.Equal(items[0].Id, Assert.Single(await db.DeadLettersAsync()).Id);

        // Re-sent: pending and due now, the count cleared, the job sending; delivered, the job is done.
        Assert.Equal((1, 1), await db.ResendDeadLettersAsync(job));
        Assert.Equal((0, 0), await db.ResendDeadLettersAsync(job));
        Assert.Equal(JobState.Sending, (await db.GetJobAsync(job))!.State);
        var due = Assert.Single(await db.DueOutboxAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.Equal(0, due.PermanentFailures);
        Assert.Equal(job, await db.MarkSentAsync(due.Id, 0));
        Assert.Equal(JobState.Done, (await db.GetJobAsync(job))!.State);
    }

    [Fact]
    public async Task LastPendingItemSent_WhileAnotherIsDead_JobEndsDeadLetterNotDone()
    {
        await using var db = await OpenAsync();
        var (job, items) = await SendingJobAsync(db, "1.2.4", 2);
        Assert.Equal(new SendFailureOutcome(true, null), await db.MarkSendFailedAsync(items[0].Id, "C000", DateTimeOffset.UtcNow, permanent: true, deadLetterAfter: 1));
        Assert.Equal(job, await db.MarkSentAsync(items[1].Id, 0));
        Assert.Equal(JobState.DeadLetter, (await db.GetJobAsync(job))!.State);
    }

    [Fact]
    public async Task ResendAll_CoversEveryJob()
    {
        await using var db = await OpenAsync();
        var a = await SendingJobAsync(db, "1.2.5", 1);
        var b = await SendingJobAsync(db, "1.2.6", 2);
        foreach (var i in a.Items.Concat(b.Items)) await db.MarkSendFailedAsync(i.Id, "rejected", DateTimeOffset.UtcNow, permanent: true, deadLetterAfter: 1);
        Assert.Equal(3, (await db.DeadLettersAsync()).Count);
        Assert.Equal((3, 2), await db.ResendDeadLettersAsync());
        Assert.Empty(await db.DeadLettersAsync());
        foreach (var j in new[] { a.Job, b.Job }) Assert.Equal(JobState.Sending, (await db.GetJobAsync(j))!.State);
    }

    [Fact]
    public async Task Version1File_IsMigrated_RowsKept_NewStatesAllowed_IdsGoOn()
    {
        var path = _dir.Sub("node.db");
        await using (var c = new SqliteConnection($"Data Source={path}"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = SchemaV1 + """
                PRAGMA user_version=1;
                INSERT INTO studies(study_uid, folder, first_received_ms, last_received_ms, instances) VALUES('1.2.9', '/spool/1.2.9', 1, 2, 1);
                INSERT INTO jobs(id, study_uid, state, instances, created_ms, finished_ms, attempts) VALUES(41, '1.2.9', 'done', 1, 3, 4, 1);
                INSERT INTO jobs(id, study_uid, state, instances, created_ms, attempts) VALUES(42, '1.2.9', 'sending', 1, 5, 1);
                INSERT INTO job_stages(job_id, seq, stage, duration_ms) VALUES(42, 1, 'receive', 7);
                INSERT INTO produced(sop_instance_uid, job_id, study_uid, sop_class_uid, created_ms) VALUES('1.2.9.100', 42, '1.2.9', '1.2.840.10008.5.1.4.1.1.7', 6);
                INSERT INTO outbox(job_id, sop_instance_uid, sop_class_uid, path, state, attempts, next_attempt_ms) VALUES(42, '1.2.9.100', '1.2.840.10008.5.1.4.1.1.7', '/r/1.dcm', 'pending', 4, 0);
                """;
            await cmd.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();

        await using var db = await OpenAsync();
        Assert.Equal((long)NodeDatabase.SchemaVersion, await db.QueryScalarAsync("PRAGMA user_version"));
        var job = (await db.GetJobAsync(42))!;
        Assert.Equal((JobState.Sending, 1, "receive"), (job.State, job.Outputs.Count, job.Stages.Single().Stage));
        Assert.Equal(4, job.Outputs[0].Attempts);
        Assert.Equal(JobState.Done, (await db.GetJobAsync(41))!.State);
        Assert.Equal(0L, await db.QueryScalarAsync("SELECT COUNT(*) FROM pragma_foreign_key_check"));
        Assert.True(await db.IsProducedAsync("1.2.9.100"));

        // The new states are accepted by the rebuilt tables...
        Assert.Equal(new SendFailureOutcome(true, 42), await db.MarkSendFailedAsync(job.Outputs[0].Id, "rejected", DateTimeOffset.UtcNow, permanent: true, deadLetterAfter: 1));
        Assert.Equal(JobState.DeadLetter, (await db.GetJobAsync(42))!.State);
        // ...and job IDs go on after the old ones.
        await db.RecordArrivalAsync(new InstanceArrival("1.3.1", "1.3", null, "1.2.840.10008.5.1.4.1.1.4", false, "/s/1.dcm", 1, "X"), "/s");
        Assert.True(Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1))) > 42);
    }

    /// <summary>The version 1 schema exactly as shipped before dead-letters (a frozen copy: the migration must keep reading it).</summary>
    private const string SchemaV1 = """
        CREATE TABLE IF NOT EXISTS studies(
          study_uid TEXT PRIMARY KEY,
          folder TEXT NOT NULL,
          first_received_ms INTEGER NOT NULL,
          batch_started_ms INTEGER,              -- first new instance since the last job was queued
          last_received_ms INTEGER NOT NULL,     -- last new instance not of ours
          instances INTEGER NOT NULL DEFAULT 0,  -- distinct instances not of ours
          own_instances INTEGER NOT NULL DEFAULT 0,
          pending INTEGER NOT NULL DEFAULT 0     -- 1: new instances since the last job; queued once quiet
        );
        CREATE INDEX IF NOT EXISTS studies_pending ON studies(pending, last_received_ms);
        CREATE TABLE IF NOT EXISTS instances(
          sop_instance_uid TEXT PRIMARY KEY,
          study_uid TEXT NOT NULL,
          series_uid TEXT,
          sop_class_uid TEXT NOT NULL,
          own INTEGER NOT NULL,
          path TEXT,                              -- null for our own objects: they are not kept
          bytes INTEGER NOT NULL,
          calling_ae TEXT NOT NULL,
          received_ms INTEGER NOT NULL,
          duplicates INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS instances_study ON instances(study_uid);
        CREATE TABLE IF NOT EXISTS jobs(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          study_uid TEXT NOT NULL,
          state TEXT NOT NULL CHECK(state IN ('queued','analysing','sending','done','skipped','failed')),
          instances INTEGER NOT NULL,
          created_ms INTEGER NOT NULL,
          started_ms INTEGER,
          analysed_ms INTEGER,
          finished_ms INTEGER,
          attempts INTEGER NOT NULL DEFAULT 0,
          error TEXT,
          skip_reason TEXT,
          result_json TEXT,
          volumes_json TEXT,
          agreement REAL,
          quality_flagged INTEGER,
          series_json TEXT
        );
        CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
        CREATE TABLE IF NOT EXISTS job_stages(
          job_id INTEGER NOT NULL REFERENCES jobs(id),
          seq INTEGER NOT NULL,
          stage TEXT NOT NULL,
          duration_ms REAL NOT NULL,
          PRIMARY KEY(job_id, seq)
        );
        CREATE TABLE IF NOT EXISTS produced(
          sop_instance_uid TEXT PRIMARY KEY,
          job_id INTEGER NOT NULL REFERENCES jobs(id),
          study_uid TEXT NOT NULL,
          sop_class_uid TEXT NOT NULL,
          created_ms INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS outbox(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          job_id INTEGER NOT NULL REFERENCES jobs(id),
          sop_instance_uid TEXT NOT NULL,
          sop_class_uid TEXT NOT NULL,
          path TEXT NOT NULL,
          state TEXT NOT NULL CHECK(state IN ('pending','sent')),
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          next_attempt_ms INTEGER NOT NULL,
          sent_ms INTEGER,
          status INTEGER
        );
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_ms);
        """;
}
