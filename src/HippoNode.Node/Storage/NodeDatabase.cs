using System.Data.Common;
using System.Text.Json;
using HippoNode.Analysis;
using Microsoft.Data.Sqlite;

namespace HippoNode.Node.Storage;

/// <summary>
/// The node's durable state in one SQLite file (WAL): received instances, studies waiting for their quiet time,
/// the job queue with stages, the UIDs we produced, and the outbox. Every state change is one transaction, so a
/// process killed at any point finds a consistent picture at restart. Writes are serialised in-process; readers
/// run beside them (WAL).
/// </summary>
public sealed class NodeDatabase : IAsyncDisposable
{
    /// <summary>The schema version in PRAGMA user_version (2: dead-letter states, retention marks; 3: jobs record each module's outcome).</summary>
    public const int SchemaVersion = 3;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private NodeDatabase(string path, TimeProvider time)
    {
        Path = path;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens (creating when missing) the database file and brings its schema up to date (version 1 files are migrated in one transaction).</summary>
    public static async Task<NodeDatabase> OpenAsync(string path, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var db = new NodeDatabase(path, time ?? TimeProvider.System);
        await using var c = await db.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, null, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        var version = Convert.ToInt32(await ScalarAsync(c, null, "PRAGMA user_version;", cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SchemaVersion) throw new InvalidOperationException($"{path} has schema version {version}; this build knows {SchemaVersion}");
        if (version < SchemaVersion)
        {
            // Rebuilding a table that others reference needs foreign keys off (SQLite's documented procedure); never inside a transaction.
            await ExecAsync(c, null, "PRAGMA foreign_keys=OFF;", cancellationToken).ConfigureAwait(false);
            await using (var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                // 1 -> 3 rebuilds jobs and outbox (new states, dead-letter and module columns); 2 -> 3 adds the modules a job ran.
                var migration = version switch { 0 => Schema, 1 => MigrateV1ToV2, _ => "ALTER TABLE jobs ADD COLUMN modules_json TEXT;" };
                await ExecAsync(c, tx, migration, cancellationToken).ConfigureAwait(false);
                await ExecAsync(c, tx, $"PRAGMA user_version={SchemaVersion};", cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            await ExecAsync(c, null, "PRAGMA foreign_keys=ON;", cancellationToken).ConfigureAwait(false);
        }
        return db;
    }

    private static string JobsTable(string name) => $"""
        CREATE TABLE IF NOT EXISTS {name}(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          study_uid TEXT NOT NULL,
          state TEXT NOT NULL CHECK(state IN ('queued','analysing','sending','done','skipped','failed','deadletter')),
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
          series_json TEXT,
          modules_json TEXT,                     -- the modules the job ran and how each ended
          purged_ms INTEGER                      -- retention deleted its study files and results
        );
        """;

    private static string OutboxTable(string name) => $"""
        CREATE TABLE IF NOT EXISTS {name}(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          job_id INTEGER NOT NULL REFERENCES jobs(id),
          sop_instance_uid TEXT NOT NULL,
          sop_class_uid TEXT NOT NULL,
          path TEXT NOT NULL,
          state TEXT NOT NULL CHECK(state IN ('pending','sent','dead')),
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          next_attempt_ms INTEGER NOT NULL,
          sent_ms INTEGER,
          status INTEGER,
          permanent_failures INTEGER NOT NULL DEFAULT 0, -- rounds that ended in a failure a retry cannot fix
          dead_ms INTEGER                 -- when it was dead-lettered
        );
        """;

    /// <summary>The schema (version 3), for a new database.</summary>
    public static readonly string Schema = $"""
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
        {JobsTable("jobs")}
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
        {OutboxTable("outbox")}
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_ms);
        """;

    /// <summary>Version 1 to 2: jobs and outbox rebuilt with the new states and columns (create, copy, drop, rename).</summary>
    private static readonly string MigrateV1ToV2 = $"""
        {JobsTable("jobs_v2")}
        INSERT INTO jobs_v2(id, study_uid, state, instances, created_ms, started_ms, analysed_ms, finished_ms, attempts, error, skip_reason,
                            result_json, volumes_json, agreement, quality_flagged, series_json)
          SELECT id, study_uid, state, instances, created_ms, started_ms, analysed_ms, finished_ms, attempts, error, skip_reason,
                 result_json, volumes_json, agreement, quality_flagged, series_json FROM jobs;
        DROP TABLE jobs;
        ALTER TABLE jobs_v2 RENAME TO jobs;
        CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
        {OutboxTable("outbox_v2")}
        INSERT INTO outbox_v2(id, job_id, sop_instance_uid, sop_class_uid, path, state, attempts, last_error, next_attempt_ms, sent_ms, status)
          SELECT id, job_id, sop_instance_uid, sop_class_uid, path, state, attempts, last_error, next_attempt_ms, sent_ms, status FROM outbox;
        DROP TABLE outbox;
        ALTER TABLE outbox_v2 RENAME TO outbox;
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_ms);
        """;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private async Task<SqliteConnection> ConnectAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        // NORMAL in WAL mode: a committed transaction survives the process being killed; only an OS crash or
        // power loss can lose the last commits (and the spooled files are not fsynced either).
        await ExecAsync(c, null, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;", ct).ConfigureAwait(false);
        return c;
    }

    private static async Task<int> ExecAsync(SqliteConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(c, tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(c, tx, sql, args);
        var v = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return v is DBNull ? null : v;
    }

    private static SqliteCommand Command(SqliteConnection c, DbTransaction? tx, string sql, (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = (SqliteTransaction?)tx;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction (serialised with every other writer).</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await using var c = await ConnectAsync(ct).ConfigureAwait(false);
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            var result = await work(c, tx).ConfigureAwait(false);
            // The commit must not be abandoned half-way by a cancelled token: what the work did is one unit.
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>True when we produced an instance with this UID.</summary>
    public async Task<bool> IsProducedAsync(string sopInstanceUid, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync(c, null, "SELECT 1 FROM produced WHERE sop_instance_uid=$u", cancellationToken, ("$u", sopInstanceUid)).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// Records a received instance. A new instance not of ours marks its study pending (its quiet time starts again);
    /// a duplicate or one of our own objects is recorded and triggers nothing.
    /// </summary>
    public Task<ArrivalOutcome> RecordArrivalAsync(InstanceArrival a, string studyFolder, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            var now = Now;
            var known = await ScalarAsync(c, tx, "SELECT own FROM instances WHERE sop_instance_uid=$u", cancellationToken, ("$u", a.SopInstanceUid)).ConfigureAwait(false);
            var own = a.Own || await ScalarAsync(c, tx, "SELECT 1 FROM produced WHERE sop_instance_uid=$u", cancellationToken, ("$u", a.SopInstanceUid)).ConfigureAwait(false) is not null;
            await ExecAsync(c, tx, """
                INSERT INTO studies(study_uid, folder, first_received_ms, last_received_ms) VALUES($s, $f, $now, $now)
                ON CONFLICT(study_uid) DO NOTHING
                """, cancellationToken, ("$s", a.StudyInstanceUid), ("$f", studyFolder), ("$now", now)).ConfigureAwait(false);
            if (known is not null)
            {
                await ExecAsync(c, tx, "UPDATE instances SET duplicates=duplicates+1 WHERE sop_instance_uid=$u", cancellationToken, ("$u", a.SopInstanceUid)).ConfigureAwait(false);
                return own || Convert.ToInt64(known, System.Globalization.CultureInfo.InvariantCulture) != 0 ? ArrivalOutcome.Own : ArrivalOutcome.Duplicate;
            }
            await ExecAsync(c, tx, """
                INSERT INTO instances(sop_instance_uid, study_uid, series_uid, sop_class_uid, own, path, bytes, calling_ae, received_ms)
                VALUES($u, $s, $se, $cl, $own, $p, $b, $ae, $now)
                """, cancellationToken, ("$u", a.SopInstanceUid), ("$s", a.StudyInstanceUid), ("$se", a.SeriesInstanceUid), ("$cl", a.SopClassUid),
                ("$own", own ? 1 : 0), ("$p", own ? null : a.Path), ("$b", a.Bytes), ("$ae", a.CallingAeTitle), ("$now", now)).ConfigureAwait(false);
            if (own)
            {
                await ExecAsync(c, tx, "UPDATE studies SET own_instances=own_instances+1 WHERE study_uid=$s", cancellationToken, ("$s", a.StudyInstanceUid)).ConfigureAwait(false);
                return ArrivalOutcome.Own;
            }
            await ExecAsync(c, tx, """
                UPDATE studies SET instances=instances+1, last_received_ms=$now, pending=1,
                  batch_started_ms=CASE WHEN pending=0 OR batch_started_ms IS NULL THEN $now ELSE batch_started_ms END
                WHERE study_uid=$s
                """, cancellationToken, ("$s", a.StudyInstanceUid), ("$now", now)).ConfigureAwait(false);
            return ArrivalOutcome.New;
        }, cancellationToken);

    /// <summary>Paths of every spooled instance on record (startup reconciliation finds files missing here).</summary>
    public async Task<IReadOnlySet<string>> KnownPathsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(c, null, "SELECT path FROM instances WHERE path IS NOT NULL", []);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) set.Add(r.GetString(0));
        return set;
    }

    /// <summary>
    /// Queues a job for every pending study whose last new instance arrived at or before <paramref name="cutoff"/>;
    /// returns the new job IDs. A study whose job is still queued (not started) gets no second job: the waiting one
    /// takes the late instances.
    /// </summary>
    public Task<IReadOnlyList<long>> QueueStableStudiesAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        QueueStableStudiesAsync(cutoff, held: null, cancellationToken);

    /// <summary>As <see cref="QueueStableStudiesAsync(DateTimeOffset, CancellationToken)"/>, leaving pending the <paramref name="held"/> studies (a sender still delivers them).</summary>
    public Task<IReadOnlyList<long>> QueueStableStudiesAsync(DateTimeOffset cutoff, IReadOnlySet<string>? held, CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<long>>(async (c, tx) =>
        {
            var now = Now;
            var studies = new List<(string Uid, long Batch, long Last, int Instances)>();
            await using (var cmd = Command(c, tx, "SELECT study_uid, batch_started_ms, last_received_ms, instances FROM studies WHERE pending=1 AND last_received_ms<=$cut ORDER BY last_received_ms",
                [("$cut", cutoff.ToUnixTimeMilliseconds())]))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    studies.Add((r.GetString(0), r.IsDBNull(1) ? r.GetInt64(2) : r.GetInt64(1), r.GetInt64(2), r.GetInt32(3)));
            }
            var ids = new List<long>();
            foreach (var s in studies)
            {
                if (held is not null && held.Contains(s.Uid)) continue;
                // Instances that arrive while the study's job still waits in the queue belong to that job: it reads the
                // study folder when it starts, so a second job would analyse the same study twice (found by the soak).
                if (await ScalarAsync(c, tx, "SELECT id FROM jobs WHERE study_uid=$s AND state='queued' ORDER BY id DESC LIMIT 1", cancellationToken, ("$s", s.Uid)).ConfigureAwait(false) is { } waiting)
                {
                    await ExecAsync(c, tx, "UPDATE jobs SET instances=$n WHERE id=$j", cancellationToken, ("$n", s.Instances), ("$j", waiting)).ConfigureAwait(false);
                    await ExecAsync(c, tx, "UPDATE studies SET pending=0, batch_started_ms=NULL WHERE study_uid=$s", cancellationToken, ("$s", s.Uid)).ConfigureAwait(false);
                    continue;
                }
                var id = (long)(await ScalarAsync(c, tx, "INSERT INTO jobs(study_uid, state, instances, created_ms) VALUES($s, 'queued', $n, $now) RETURNING id",
                    cancellationToken, ("$s", s.Uid), ("$n", s.Instances), ("$now", now)).ConfigureAwait(false))!;
                await AddStagesAsync(c, tx, id, [new JobStage("receive", s.Last - s.Batch), new JobStage("stable-wait", now - s.Last)], cancellationToken).ConfigureAwait(false);
                await ExecAsync(c, tx, "UPDATE studies SET pending=0, batch_started_ms=NULL WHERE study_uid=$s", cancellationToken, ("$s", s.Uid)).ConfigureAwait(false);
                ids.Add(id);
            }
            return ids;
        }, cancellationToken);

    private static async Task AddStagesAsync(SqliteConnection c, DbTransaction tx, long jobId, IEnumerable<JobStage> stages, CancellationToken ct)
    {
        var seq = Convert.ToInt32(await ScalarAsync(c, tx, "SELECT COALESCE(MAX(seq), 0) FROM job_stages WHERE job_id=$j", ct, ("$j", jobId)).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture);
        foreach (var s in stages)
        {
            await ExecAsync(c, tx, "INSERT INTO job_stages(job_id, seq, stage, duration_ms) VALUES($j, $q, $s, $d)", ct,
                ("$j", jobId), ("$q", ++seq), ("$s", s.Stage), ("$d", Math.Max(0, s.Milliseconds))).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// At startup: jobs left 'analysing' (the process died during the analysis) go back to the queue, unless they
    /// were started <paramref name="maxAttempts"/> times already (then they fail: the study itself seems to kill us).
    /// </summary>
    public Task<(int Requeued, int Failed)> RecoverInterruptedJobsAsync(int maxAttempts, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            var failed = await ExecAsync(c, tx, """
                UPDATE jobs SET state='failed', finished_ms=$now, error='interrupted ' || attempts || ' times while analysing (the process stopped each time); not retried'
                WHERE state='analysing' AND attempts>=$max
                """, cancellationToken, ("$now", Now), ("$max", maxAttempts)).ConfigureAwait(false);
            var requeued = await ExecAsync(c, tx, "UPDATE jobs SET state='queued' WHERE state='analysing'", cancellationToken).ConfigureAwait(false);
            return (requeued, failed);
        }, cancellationToken);

    /// <summary>Takes the oldest queued job: marks it analysing and counts the attempt (in one transaction); null when none.</summary>
    public async Task<JobRecord?> ClaimNextJobAsync(CancellationToken cancellationToken = default)
    {
        var id = await WriteAsync(async (c, tx) =>
        {
            var v = await ScalarAsync(c, tx, """
                UPDATE jobs SET state='analysing', started_ms=$now, attempts=attempts+1
                WHERE id=(SELECT id FROM jobs WHERE state='queued' ORDER BY id LIMIT 1) RETURNING id
                """, cancellationToken, ("$now", Now)).ConfigureAwait(false);
            if (v is not null)
            {
                var jobId = (long)v;
                var created = (long)(await ScalarAsync(c, tx, "SELECT created_ms FROM jobs WHERE id=$j", cancellationToken, ("$j", jobId)).ConfigureAwait(false))!;
                var hasQueueStage = await ScalarAsync(c, tx, "SELECT 1 FROM job_stages WHERE job_id=$j AND stage='queue'", cancellationToken, ("$j", jobId)).ConfigureAwait(false) is not null;
                if (!hasQueueStage) await AddStagesAsync(c, tx, jobId, [new JobStage("queue", Now - created)], cancellationToken).ConfigureAwait(false);
            }
            return (long?)v;
        }, cancellationToken).ConfigureAwait(false);
        return id is null ? null : await GetJobAsync(id.Value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts an analysing job back in the queue (a clean stop interrupted it; the attempt is not counted).</summary>
    public Task RequeueAsync(long jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) => await ExecAsync(c, tx, "UPDATE jobs SET state='queued', attempts=MAX(0, attempts-1) WHERE id=$j AND state='analysing'",
            cancellationToken, ("$j", jobId)).ConfigureAwait(false), cancellationToken);

    /// <summary>
    /// Records a completed analysis in one transaction: results, stages, our produced UIDs and the outbox items; the
    /// job goes to 'sending' (or 'done' when there is nothing to send).
    /// </summary>
    public Task CompleteJobAsync(long jobId, StudyAnalysisResult result, IReadOnlyList<ProducedObject> outputs, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            var now = Now;
            await ExecAsync(c, tx, """
                UPDATE jobs SET state=$state, analysed_ms=$now, finished_ms=CASE WHEN $state='done' THEN $now ELSE NULL END,
                  result_json=$rj, volumes_json=$v, agreement=$a, quality_flagged=$q, series_json=$se, modules_json=$m,
                  error=$e
                WHERE id=$j
                """, cancellationToken, ("$state", outputs.Count == 0 ? "done" : "sending"), ("$now", now), ("$rj", result.ResultJson),
                ("$v", JsonSerializer.Serialize(result.VolumesMm3, Json)), ("$a", result.Agreement), ("$q", result.QualityFlagged ? 1 : 0),
                ("$se", JsonSerializer.Serialize(result.Series, Json)), ("$m", ModulesJson(result)), ("$e", ModuleErrors(result)), ("$j", jobId)).ConfigureAwait(false);
            await AddStagesAsync(c, tx, jobId, result.Stages.Select(s => new JobStage(s.Stage, s.Duration.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
            var study = (string)(await ScalarAsync(c, tx, "SELECT study_uid FROM jobs WHERE id=$j", cancellationToken, ("$j", jobId)).ConfigureAwait(false))!;
            foreach (var o in outputs)
            {
                await ExecAsync(c, tx, "INSERT OR IGNORE INTO produced(sop_instance_uid, job_id, study_uid, sop_class_uid, created_ms) VALUES($u, $j, $s, $cl, $now)",
                    cancellationToken, ("$u", o.SopInstanceUid), ("$j", jobId), ("$s", study), ("$cl", o.SopClassUid), ("$now", now)).ConfigureAwait(false);
                await ExecAsync(c, tx, "INSERT INTO outbox(job_id, sop_instance_uid, sop_class_uid, path, state, next_attempt_ms) VALUES($j, $u, $cl, $p, 'pending', $now)",
                    cancellationToken, ("$j", jobId), ("$u", o.SopInstanceUid), ("$cl", o.SopClassUid), ("$p", o.Path), ("$now", now)).ConfigureAwait(false);
            }
            return 0;
        }, cancellationToken);

    /// <summary>Records that the study had nothing to analyse (with the reason).</summary>
    public Task SkipJobAsync(long jobId, string reason, StudyAnalysisResult? result, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            await ExecAsync(c, tx, "UPDATE jobs SET state='skipped', finished_ms=$now, analysed_ms=$now, skip_reason=$r, result_json=$rj, series_json=$se, modules_json=$m WHERE id=$j",
                cancellationToken, ("$now", Now), ("$r", reason), ("$rj", result?.ResultJson),
                ("$se", result is null ? null : JsonSerializer.Serialize(result.Series, Json)), ("$m", result is null ? null : ModulesJson(result)), ("$j", jobId)).ConfigureAwait(false);
            if (result is not null)
                await AddStagesAsync(c, tx, jobId, result.Stages.Select(s => new JobStage(s.Stage, s.Duration.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <summary>Records a failed analysis.</summary>
    public Task FailJobAsync(long jobId, string error, TimeSpan analysisTime, CancellationToken cancellationToken = default) =>
        FailJobAsync(jobId, error, analysisTime, null, cancellationToken);

    /// <summary>Records a failed analysis; <paramref name="result"/>, when the analysis got that far, adds its modules, series, stages and result.json.</summary>
    public Task FailJobAsync(long jobId, string error, TimeSpan analysisTime, StudyAnalysisResult? result, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            await ExecAsync(c, tx, """
                UPDATE jobs SET state='failed', finished_ms=$now, analysed_ms=$now, error=$e,
                  result_json=COALESCE($rj, result_json), series_json=COALESCE($se, series_json), modules_json=COALESCE($m, modules_json)
                WHERE id=$j
                """, cancellationToken, ("$now", Now), ("$e", error), ("$rj", result?.ResultJson),
                ("$se", result is null ? null : JsonSerializer.Serialize(result.Series, Json)), ("$m", result is null ? null : ModulesJson(result)), ("$j", jobId)).ConfigureAwait(false);
            await AddStagesAsync(c, tx, jobId, result is null
                ? [new JobStage("analysis", analysisTime.TotalMilliseconds)]
                : result.Stages.Select(s => new JobStage(s.Stage, s.Duration.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <summary>The modules of a result as stored (null for a single analysis without modules).</summary>
    private static string? ModulesJson(StudyAnalysisResult result) =>
        result.Modules.Count == 0 ? null : JsonSerializer.Serialize(result.Modules.Select(JobModule.From).ToList(), Json);

    /// <summary>The errors of the modules that failed while others completed ("chest-xray: ..."), or null.</summary>
    private static string? ModuleErrors(StudyAnalysisResult result) =>
        result.Modules.Any(m => m.Status == ModuleStatus.Failed)
            ? string.Join("; ", result.Modules.Where(m => m.Status == ModuleStatus.Failed).Select(m => $"{m.Module}: {m.Error}"))
            : null;

    /// <summary>Pending outbox items due at <paramref name="now"/>, oldest job first.</summary>
    public async Task<IReadOnlyList<OutboxItem>> DueOutboxAsync(DateTimeOffset now, int limit = 200, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadOutboxAsync(c, "WHERE state='pending' AND next_attempt_ms<=$now ORDER BY job_id, id LIMIT $lim", cancellationToken,
            ("$now", now.ToUnixTimeMilliseconds()), ("$lim", limit)).ConfigureAwait(false);
    }

    /// <summary>When the earliest pending item is due; null when the outbox is empty.</summary>
    public async Task<DateTimeOffset?> NextOutboxDueAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync(c, null, "SELECT MIN(next_attempt_ms) FROM outbox WHERE state='pending'", cancellationToken).ConfigureAwait(false) is long ms ? At(ms) : null;
    }

    /// <summary>
    /// Marks an item sent (call only after the PACS answered success or a warning); when it was the job's last pending
    /// one, the job is done (or dead-lettered when another of its items is). Returns the job ID when the job ended.
    /// </summary>
    public Task<long?> MarkSentAsync(long itemId, ushort status, CancellationToken cancellationToken = default) =>
        WriteAsync<long?>(async (c, tx) =>
        {
            var job = await ScalarAsync(c, tx, "UPDATE outbox SET state='sent', sent_ms=$now, status=$st, last_error=NULL WHERE id=$i AND state='pending' RETURNING job_id",
                cancellationToken, ("$now", Now), ("$st", (int)status), ("$i", itemId)).ConfigureAwait(false);
            return job is long jobId && await SettleJobAsync(c, tx, jobId, cancellationToken).ConfigureAwait(false) ? jobId : null;
        }, cancellationToken);

    /// <summary>
    /// A sending job with no pending item left ends: done when every item was sent, dead-letter when any was
    /// dead-lettered (it waits there for a re-send; never for retention). True when it ended now.
    /// </summary>
    private async Task<bool> SettleJobAsync(SqliteConnection c, DbTransaction tx, long jobId, CancellationToken ct)
    {
        var left = (long)(await ScalarAsync(c, tx, "SELECT COUNT(*) FROM outbox WHERE job_id=$j AND state='pending'", ct, ("$j", jobId)).ConfigureAwait(false))!;
        if (left > 0) return false;
        var dead = (long)(await ScalarAsync(c, tx, "SELECT COUNT(*) FROM outbox WHERE job_id=$j AND state='dead'", ct, ("$j", jobId)).ConfigureAwait(false))!;
        var now = Now;
        if (dead > 0)
        {
            return await ExecAsync(c, tx, "UPDATE jobs SET state='deadletter', finished_ms=NULL WHERE id=$j AND state='sending'", ct, ("$j", jobId)).ConfigureAwait(false) > 0;
        }
        var analysed = await ScalarAsync(c, tx, "SELECT analysed_ms FROM jobs WHERE id=$j", ct, ("$j", jobId)).ConfigureAwait(false) as long? ?? now;
        if (await ExecAsync(c, tx, "UPDATE jobs SET state='done', finished_ms=$now WHERE id=$j AND state='sending'", ct, ("$now", now), ("$j", jobId)).ConfigureAwait(false) == 0) return false;
        await AddStagesAsync(c, tx, jobId, [new JobStage("send", now - analysed)], ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Records a failed sending round of an item and when to try again (a transient failure).</summary>
    public Task MarkSendFailedAsync(long itemId, string error, DateTimeOffset nextAttempt, CancellationToken cancellationToken = default) =>
        MarkSendFailedAsync(itemId, error, nextAttempt, permanent: false, deadLetterAfter: int.MaxValue, cancellationToken);

    /// <summary>
    /// Records a failed sending round. A permanent failure counts towards <paramref name="deadLetterAfter"/>: at that
    /// many the item is dead-lettered (no more retries until re-sent), and its job too once nothing of it is pending.
    /// </summary>
    public Task<SendFailureOutcome> MarkSendFailedAsync(long itemId, string error, DateTimeOffset nextAttempt, bool permanent, int deadLetterAfter,
        CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            long? jobId = null;
            var dead = false;
            await using (var cmd = Command(c, tx, """
                UPDATE outbox SET attempts=attempts+1, last_error=$e, next_attempt_ms=$n, permanent_failures=permanent_failures+$p,
                  state=CASE WHEN $p=1 AND permanent_failures+1>=$max THEN 'dead' ELSE state END,
                  dead_ms=CASE WHEN $p=1 AND permanent_failures+1>=$max THEN $now ELSE dead_ms END
                WHERE id=$i AND state='pending' RETURNING job_id, state
                """, [("$e", error), ("$n", nextAttempt.ToUnixTimeMilliseconds()), ("$p", permanent ? 1 : 0), ("$max", deadLetterAfter), ("$now", Now), ("$i", itemId)]))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    jobId = r.GetInt64(0);
                    dead = r.GetString(1) == "dead";
                }
            }
            var jobDead = dead && await SettleJobAsync(c, tx, jobId!.Value, cancellationToken).ConfigureAwait(false);
            return new SendFailureOutcome(dead, jobDead ? jobId : null);
        }, cancellationToken);

    /// <summary>
    /// Puts dead-lettered items back in the outbox, due now, with their permanent-failure count cleared (all of them,
    /// or one job's), and their jobs back to 'sending'. Returns how many items and jobs.
    /// </summary>
    public Task<(int Items, int Jobs)> ResendDeadLettersAsync(long? jobId = null, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            var jobs = new HashSet<long>();
            var items = 0;
            await using (var cmd = Command(c, tx, """
                UPDATE outbox SET state='pending', permanent_failures=0, dead_ms=NULL, next_attempt_ms=$now
                WHERE state='dead' AND ($j IS NULL OR job_id=$j) RETURNING job_id
                """, [("$now", Now), ("$j", jobId)]))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    items++;
                    jobs.Add(r.GetInt64(0));
                }
            }
            foreach (var j in jobs)
                await ExecAsync(c, tx, "UPDATE jobs SET state='sending', finished_ms=NULL WHERE id=$j AND state='deadletter'", cancellationToken, ("$j", j)).ConfigureAwait(false);
            return (items, jobs.Count);
        }, cancellationToken);

    /// <summary>Dead-lettered items, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxItem>> DeadLettersAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadOutboxAsync(c, "WHERE state='dead' ORDER BY dead_ms, id", cancellationToken).ConfigureAwait(false);
    }

    // ---- retention ----------------------------------------------------------------------------

    private const string StudyFinished = """
        s.pending=0
        AND EXISTS(SELECT 1 FROM jobs j WHERE j.study_uid=s.study_uid)
        AND NOT EXISTS(SELECT 1 FROM jobs j WHERE j.study_uid=s.study_uid AND j.state NOT IN ('done','skipped','failed'))
        """;

    /// <summary>
    /// Studies retention may delete, the longest finished first: nothing new arrived since their last job, and every job
    /// of theirs is done, skipped or failed (none queued, analysing, sending or dead-lettered).
    /// </summary>
    public async Task<IReadOnlyList<FinishedStudy>> FinishedStudiesAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<(string Uid, string Folder, long Finished)>();
        await using (var cmd = Command(c, null, "SELECT s.study_uid, s.folder, (SELECT MAX(finished_ms) FROM jobs j WHERE j.study_uid=s.study_uid) AS f FROM studies s WHERE "
            + StudyFinished + " ORDER BY f, s.study_uid", []))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? 0 : r.GetInt64(2)));
        }
        var result = new List<FinishedStudy>(list.Count);
        foreach (var (uid, folder, finished) in list)
        {
            var jobs = new List<long>();
            await using var cmd = Command(c, null, "SELECT id FROM jobs WHERE study_uid=$s ORDER BY id", [("$s", uid)]);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) jobs.Add(r.GetInt64(0));
            result.Add(new FinishedStudy(uid, folder, At(finished), jobs));
        }
        return result;
    }

    /// <summary>
    /// Forgets a finished study whose files retention deleted: its instance records and study row go (a re-sent study
    /// is new again), its jobs stay as history marked purged, our produced UIDs stay (loop protection). False, and
    /// nothing changed, when the study is no longer finished.
    /// </summary>
    public Task<bool> PurgeStudyAsync(string studyInstanceUid, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) =>
        {
            if (await ScalarAsync(c, tx, "SELECT 1 FROM studies s WHERE s.study_uid=$s AND " + StudyFinished, cancellationToken, ("$s", studyInstanceUid)).ConfigureAwait(false) is null)
                return false;
            await ExecAsync(c, tx, "DELETE FROM instances WHERE study_uid=$s", cancellationToken, ("$s", studyInstanceUid)).ConfigureAwait(false);
            await ExecAsync(c, tx, "DELETE FROM studies WHERE study_uid=$s", cancellationToken, ("$s", studyInstanceUid)).ConfigureAwait(false);
            await ExecAsync(c, tx, "UPDATE jobs SET purged_ms=$now WHERE study_uid=$s AND purged_ms IS NULL", cancellationToken, ("$now", Now), ("$s", studyInstanceUid)).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>True when the study may be deleted now (see <see cref="FinishedStudiesAsync"/>).</summary>
    public async Task<bool> IsStudyFinishedAsync(string studyInstanceUid, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync(c, null, "SELECT 1 FROM studies s WHERE s.study_uid=$s AND " + StudyFinished, cancellationToken, ("$s", studyInstanceUid)).ConfigureAwait(false) is not null;
    }

    private static async Task<IReadOnlyList<OutboxItem>> ReadOutboxAsync(SqliteConnection c, string where, CancellationToken ct, params (string, object?)[] args)
    {
        await using var cmd = Command(c, null, "SELECT id, job_id, sop_instance_uid, sop_class_uid, path, state, attempts, last_error, next_attempt_ms, sent_ms, permanent_failures, dead_ms FROM outbox " + where, args);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<OutboxItem>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(new OutboxItem(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5) == "sent", r.GetInt32(6),
                r.IsDBNull(7) ? null : r.GetString(7), At(r.GetInt64(8)), r.IsDBNull(9) ? null : At(r.GetInt64(9)))
            {
                DeadLetter = r.GetString(5) == "dead",
                PermanentFailures = r.GetInt32(10),
                DeadLetteredAt = r.IsDBNull(11) ? null : At(r.GetInt64(11)),
            });
        }
        return list;
    }

    private const string JobColumns = """
        SELECT j.id, j.study_uid, COALESCE(s.folder, ''), j.state, j.instances, j.created_ms, j.started_ms, j.finished_ms, j.attempts, j.error, j.skip_reason,
               j.result_json, j.volumes_json, j.agreement, j.quality_flagged, j.series_json, j.purged_ms, j.modules_json
        FROM jobs j LEFT JOIN studies s ON s.study_uid=j.study_uid
        """;

    /// <summary>One job with its stages and outputs; null when there is no such job.</summary>
    public async Task<JobRecord?> GetJobAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var jobs = await ReadJobsAsync(c, JobColumns + " WHERE j.id=$id", cancellationToken, ("$id", id)).ConfigureAwait(false);
        return jobs.Count == 0 ? null : await WithDetailsAsync(c, jobs[0], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest jobs first, with stages and outputs.</summary>
    public async Task<IReadOnlyList<JobRecord>> ListJobsAsync(int limit = 100, string? studyInstanceUid = null, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var jobs = await ReadJobsAsync(c, JobColumns + " WHERE ($s IS NULL OR j.study_uid=$s) ORDER BY j.id DESC LIMIT $lim", cancellationToken,
            ("$s", studyInstanceUid), ("$lim", limit)).ConfigureAwait(false);
        var result = new List<JobRecord>(jobs.Count);
        foreach (var j in jobs) result.Add(await WithDetailsAsync(c, j, cancellationToken).ConfigureAwait(false));
        return result;
    }

    private static async Task<List<JobRecord>> ReadJobsAsync(SqliteConnection c, string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var cmd = Command(c, null, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<JobRecord>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(new JobRecord
            {
                Id = r.GetInt64(0),
                StudyInstanceUid = r.GetString(1),
                StudyFolder = r.GetString(2),
                State = Enum.Parse<JobState>(r.GetString(3), ignoreCase: true),
                Instances = r.GetInt32(4),
                CreatedAt = At(r.GetInt64(5)),
                StartedAt = r.IsDBNull(6) ? null : At(r.GetInt64(6)),
                FinishedAt = r.IsDBNull(7) ? null : At(r.GetInt64(7)),
                Attempts = r.GetInt32(8),
                Error = r.IsDBNull(9) ? null : r.GetString(9),
                SkipReason = r.IsDBNull(10) ? null : r.GetString(10),
                ResultJson = r.IsDBNull(11) ? null : r.GetString(11),
                VolumesMm3 = r.IsDBNull(12) ? new Dictionary<string, double>() : JsonSerializer.Deserialize<Dictionary<string, double>>(r.GetString(12), Json)!,
                Agreement = r.IsDBNull(13) ? null : r.GetDouble(13),
                QualityFlagged = r.IsDBNull(14) ? null : r.GetInt64(14) != 0,
                Series = r.IsDBNull(15) ? [] : JsonSerializer.Deserialize<List<SeriesDecision>>(r.GetString(15), Json)!,
                PurgedAt = r.IsDBNull(16) ? null : At(r.GetInt64(16)),
                Modules = r.IsDBNull(17) ? [] : JsonSerializer.Deserialize<List<JobModule>>(r.GetString(17), Json)!,
            });
        }
        return list;
    }

    private static async Task<JobRecord> WithDetailsAsync(SqliteConnection c, JobRecord job, CancellationToken ct)
    {
        var stages = new List<JobStage>();
        await using (var cmd = Command(c, null, "SELECT stage, duration_ms FROM job_stages WHERE job_id=$j ORDER BY seq", [("$j", job.Id)]))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) stages.Add(new JobStage(r.GetString(0), r.GetDouble(1)));
        }
        var outputs = await ReadOutboxAsync(c, "WHERE job_id=$j ORDER BY id", ct, ("$j", job.Id)).ConfigureAwait(false);
        return job with { Stages = stages, Outputs = outputs };
    }

    /// <summary>Jobs per state, outbox items pending, studies waiting for their quiet time.</summary>
    public async Task<NodeCounts> CountsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var byState = Enum.GetValues<JobState>().ToDictionary(s => s, _ => 0);
        await using (var cmd = Command(c, null, "SELECT state, COUNT(*) FROM jobs GROUP BY state", []))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) byState[Enum.Parse<JobState>(r.GetString(0), ignoreCase: true)] = r.GetInt32(1);
        }
        var pending = Convert.ToInt32(await ScalarAsync(c, null, "SELECT COUNT(*) FROM outbox WHERE state='pending'", cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture);
        var waiting = Convert.ToInt32(await ScalarAsync(c, null, "SELECT COUNT(*) FROM studies WHERE pending=1", cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture);
        var dead = Convert.ToInt32(await ScalarAsync(c, null, "SELECT COUNT(*) FROM outbox WHERE state='dead'", cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture);
        return new NodeCounts(byState, pending, waiting, dead);
    }

    /// <summary>Runs a statement against the database (tests, maintenance); returns rows changed.</summary>
    internal Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx) => await ExecAsync(c, tx, sql, cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <summary>Reads one value (tests, maintenance).</summary>
    internal async Task<object?> QueryScalarAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync(c, null, sql, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // Pooled connections would keep the file open after the node stopped.
        using (var c = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(c);
        _writeLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
