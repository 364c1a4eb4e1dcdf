using HippoNode.Analysis;

namespace HippoNode.Node.Storage;

/// <summary>Where a job is in its life: queued → analysing → sending → done (or dead-letter), or skipped / failed.</summary>
public enum JobState
{
    /// <summary>The study is complete and waits for the analyser.</summary>
    Queued,

    /// <summary>The analysis runs (found at startup: the process died; it is run again).</summary>
    Analysing,

    /// <summary>Results are in the outbox, not all stored in the PACS yet.</summary>
    Sending,

    /// <summary>Every result was stored in the PACS (or there were none).</summary>
    Done,

    /// <summary>Nothing to analyse (no eligible series); the reason is recorded.</summary>
    Skipped,

    /// <summary>The analysis failed; the error is recorded.</summary>
    Failed,

    /// <summary>Some result could not be delivered: the PACS failed it permanently; it waits for `hipponode resend` (or POST /deadletter/resend).</summary>
    DeadLetter,
}

/// <summary>One stage of a job and how long it took.</summary>
/// <param name="Stage">receive, stable-wait, queue, the analyser's stages, send.</param>
/// <param name="Milliseconds">Its duration.</param>
public sealed record JobStage(string Stage, double Milliseconds);

/// <summary>One result object on its way to the PACS.</summary>
/// <param name="Id">Outbox row ID.</param>
/// <param name="JobId">The job that produced it.</param>
/// <param name="SopInstanceUid">Its SOP Instance UID (recorded as ours, so it is never analysed when it comes back).</param>
/// <param name="SopClassUid">Its SOP Class UID.</param>
/// <param name="Path">The file.</param>
/// <param name="Sent">True once the PACS answered success (or a warning) to its C-STORE.</param>
/// <param name="Attempts">Sending rounds that failed so far.</param>
/// <param name="LastError">Why the last round failed.</param>
/// <param name="NextAttemptAt">When the outbox tries again.</param>
/// <param name="SentAt">When the PACS took it.</param>
public sealed record OutboxItem(long Id, long JobId, string SopInstanceUid, string SopClassUid, string Path, bool Sent, int Attempts,
    string? LastError, DateTimeOffset NextAttemptAt, DateTimeOffset? SentAt)
{
    /// <summary>True once it was dead-lettered: failed permanently Retry:DeadLetterAfter times; no more retries until re-sent.</summary>
    public bool DeadLetter { get; init; }

    /// <summary>Sending rounds that ended in a permanent failure since it was queued (or last re-sent).</summary>
    public int PermanentFailures { get; init; }

    /// <summary>When it was dead-lettered.</summary>
    public DateTimeOffset? DeadLetteredAt { get; init; }
}

/// <summary>What recording a failed sending round did.</summary>
/// <param name="DeadLettered">The item reached its permanent-failure limit and is dead-lettered.</param>
/// <param name="JobDeadLettered">The job's ID when the job went to the dead-letter state with it.</param>
public sealed record SendFailureOutcome(bool DeadLettered, long? JobDeadLettered);

/// <summary>A study retention may delete.</summary>
/// <param name="StudyInstanceUid">The study.</param>
/// <param name="Folder">Its spool folder.</param>
/// <param name="FinishedAt">When its last job finished.</param>
/// <param name="JobIds">Its jobs (their results/ folders go with it).</param>
public sealed record FinishedStudy(string StudyInstanceUid, string Folder, DateTimeOffset FinishedAt, IReadOnlyList<long> JobIds);

/// <summary>A job as stored, with its stages and outputs.</summary>
public sealed record JobRecord
{
    /// <summary>The job ID.</summary>
    public required long Id { get; init; }

    /// <summary>The study analysed.</summary>
    public required string StudyInstanceUid { get; init; }

    /// <summary>The study's spool folder.</summary>
    public required string StudyFolder { get; init; }

    /// <summary>Where it is.</summary>
    public required JobState State { get; init; }

    /// <summary>Instances of the study (not ours) when the job was queued.</summary>
    public required int Instances { get; init; }

    /// <summary>When the study was found complete.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the analysis last started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it reached done, skipped or failed.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>How often the analysis was started.</summary>
    public required int Attempts { get; init; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; init; }

    /// <summary>Why it was skipped.</summary>
    public string? SkipReason { get; init; }

    /// <summary>The analyser's result.json.</summary>
    public string? ResultJson { get; init; }

    /// <summary>Volumes in mm³ by structure.</summary>
    public IReadOnlyDictionary<string, double> VolumesMm3 { get; init; } = new Dictionary<string, double>();

    /// <summary>Ensemble agreement (mean pairwise Dice).</summary>
    public double? Agreement { get; init; }

    /// <summary>True when the agreement is below the threshold: a radiologist should look closer.</summary>
    public bool? QualityFlagged { get; init; }

    /// <summary>The series and the analyser's decision on each.</summary>
    public IReadOnlyList<SeriesDecision> Series { get; init; } = [];

    /// <summary>Stages in order with their durations.</summary>
    public IReadOnlyList<JobStage> Stages { get; init; } = [];

    /// <summary>Result objects and their sending state.</summary>
    public IReadOnlyList<OutboxItem> Outputs { get; init; } = [];

    /// <summary>When retention deleted the study's files and this job's results (the record stays as history).</summary>
    public DateTimeOffset? PurgedAt { get; init; }

    /// <summary>The modules the study was routed to and how each ended (empty for a single analysis without modules).</summary>
    public IReadOnlyList<JobModule> Modules { get; init; } = [];
}

/// <summary>One module's part of a job, as stored and shown by /jobs.</summary>
/// <param name="Module">"hippocampus", "chest-xray".</param>
/// <param name="Status">"completed", "not-applicable" or "failed".</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Summary">One line a reader understands.</param>
/// <param name="ResultJson">The module's own result.json.</param>
/// <param name="Outputs">The DICOM objects it wrote.</param>
/// <param name="Measurements">Its numbers (volumes; probability, threshold, positive).</param>
public sealed record JobModule(string Module, string Status, string? Error, string? Summary, string? ResultJson, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, double> Measurements)
{
    /// <summary>The stored form of an analysis module's outcome.</summary>
    public static JobModule From(ModuleOutcome o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var status = o.Status switch { ModuleStatus.Completed => "completed", ModuleStatus.Failed => "failed", _ => "not-applicable" };
        return new JobModule(o.Module, status, o.Error, o.Summary, o.ResultJson, o.OutputFiles, o.Measurements);
    }
}

/// <summary>An instance the SCP received, as the spooler records it.</summary>
/// <param name="SopInstanceUid">The instance.</param>
/// <param name="StudyInstanceUid">Its study.</param>
/// <param name="SeriesInstanceUid">Its series.</param>
/// <param name="SopClassUid">Its SOP class.</param>
/// <param name="Own">True when it is an object we produced (routed back by the PACS).</param>
/// <param name="Path">Where it is spooled; null for our own objects (not kept).</param>
/// <param name="Bytes">File size.</param>
/// <param name="CallingAeTitle">Who sent it.</param>
public sealed record InstanceArrival(string SopInstanceUid, string StudyInstanceUid, string? SeriesInstanceUid, string SopClassUid, bool Own,
    string? Path, long Bytes, string CallingAeTitle);

/// <summary>What recording an arrival did.</summary>
public enum ArrivalOutcome
{
    /// <summary>A new instance of a study: the study waits for its quiet time again.</summary>
    New,

    /// <summary>An instance we already had: recorded, triggers nothing.</summary>
    Duplicate,

    /// <summary>One of our own objects: recorded, never analysed, triggers nothing.</summary>
    Own,
}

/// <summary>One output of a finished analysis, read from its header.</summary>
/// <param name="SopInstanceUid">Its SOP Instance UID.</param>
/// <param name="SopClassUid">Its SOP Class UID.</param>
/// <param name="Path">The file.</param>
public sealed record ProducedObject(string SopInstanceUid, string SopClassUid, string Path);

/// <summary>Counts for /health and the metrics.</summary>
/// <param name="JobsByState">Jobs per state.</param>
/// <param name="OutboxPending">Result objects not yet in the PACS.</param>
/// <param name="StudiesWaiting">Studies receiving or waiting for their quiet time.</param>
/// <param name="OutboxDeadLetter">Result objects dead-lettered (waiting for a re-send).</param>
public sealed record NodeCounts(IReadOnlyDictionary<JobState, int> JobsByState, int OutboxPending, int StudiesWaiting, int OutboxDeadLetter = 0);
