using Microsoft.Extensions.Logging;

namespace HippoNode.Node;

/// <summary>
/// Log messages of the node; event IDs 2000-2099 spool, 2100-2199 jobs, 2200-2299 outbox, 2300-2399 host. UIDs are
/// logged at Information; patient identifiers never (not even at Debug: nothing here reads them).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(2000, LogLevel.Information, "Received {SopInstanceUid} of study {StudyInstanceUid} from {CallingAeTitle}: {Outcome}")]
    public static partial void Received(ILogger logger, string sopInstanceUid, string studyInstanceUid, string callingAeTitle, Storage.ArrivalOutcome outcome);

    [LoggerMessage(2001, LogLevel.Information, "Startup: registered {Count} spooled file(s) that had no record (the process stopped between filing and recording)")]
    public static partial void Reconciled(ILogger logger, int count);

    [LoggerMessage(2002, LogLevel.Warning, "Startup: {Path} is not a readable DICOM file; moved aside to {Target}")]
    public static partial void ReconcileUnreadable(ILogger logger, string path, string target, Exception exception);

    [LoggerMessage(2003, LogLevel.Information, "Study {StudyInstanceUid} is complete; job {JobId} queued")]
    public static partial void Queued(ILogger logger, string studyInstanceUid, long jobId);

    [LoggerMessage(2100, LogLevel.Information, "Job {JobId}: analysing study {StudyInstanceUid} ({Instances} instances, attempt {Attempt})")]
    public static partial void Analysing(ILogger logger, long jobId, string studyInstanceUid, int instances, int attempt);

    [LoggerMessage(2101, LogLevel.Information, "Job {JobId}: analysed in {Milliseconds:F0} ms; {Outputs} result object(s) queued for the PACS; volumes {Volumes}; quality flagged {Flagged}")]
    public static partial void Analysed(ILogger logger, long jobId, double milliseconds, int outputs, string volumes, bool flagged);

    [LoggerMessage(2102, LogLevel.Warning, "Job {JobId}: skipped: {Reason}")]
    public static partial void Skipped(ILogger logger, long jobId, string reason);

    [LoggerMessage(2103, LogLevel.Error, "Job {JobId}: failed: {Error}")]
    public static partial void Failed(ILogger logger, long jobId, string error, Exception? exception);

    [LoggerMessage(2107, LogLevel.Information, "Job {JobId}: module {Module}: {ModuleStatus}: {Detail}")]
    public static partial void ModuleOutcome(ILogger logger, long jobId, string module, string moduleStatus, string detail);

    [LoggerMessage(2104, LogLevel.Information, "Job {JobId}: interrupted by the stop; back in the queue")]
    public static partial void Interrupted(ILogger logger, long jobId);

    [LoggerMessage(2105, LogLevel.Warning, "Startup: {Requeued} job(s) found analysing were queued again; {Failed} failed after too many interruptions")]
    public static partial void Recovered(ILogger logger, int requeued, int failed);

    [LoggerMessage(2106, LogLevel.Warning, "Job {JobId}: output {Path} does not carry Manufacturer \"HippoNode\"; recorded as ours by its UID anyway")]
    public static partial void OutputNotMarked(ILogger logger, long jobId, string path);

    [LoggerMessage(2200, LogLevel.Information, "Stored {SopInstanceUid} (job {JobId}) in the PACS: {Status}")]
    public static partial void Sent(ILogger logger, string sopInstanceUid, long jobId, string status);

    [LoggerMessage(2201, LogLevel.Warning, "Sending {Count} result object(s) to the PACS failed (round {Attempt}), retrying in {Delay}: {Error}")]
    public static partial void SendRetry(ILogger logger, int count, int attempt, TimeSpan delay, string error);

    [LoggerMessage(2202, LogLevel.Warning, "{Count} result object(s) still not in the PACS; the outbox tries again at {Next:O}: {Error}")]
    public static partial void SendDeferred(ILogger logger, int count, DateTimeOffset next, string error);

    [LoggerMessage(2203, LogLevel.Information, "Job {JobId}: every result is in the PACS; done")]
    public static partial void JobDone(ILogger logger, long jobId);

    [LoggerMessage(2204, LogLevel.Warning, "Sending {SopInstanceUid} (job {JobId}) failed permanently ({Count} of {Limit} before dead-letter): {Error}")]
    public static partial void SendFailedPermanently(ILogger logger, string sopInstanceUid, long jobId, int count, int limit, string error);

    [LoggerMessage(2205, LogLevel.Error, "Dead-lettered {SopInstanceUid} (job {JobId}) after {Limit} permanent failures: {Error}; re-send with `hipponode resend` or POST /deadletter/resend")]
    public static partial void DeadLettered(ILogger logger, string sopInstanceUid, long jobId, int limit, string error);

    [LoggerMessage(2206, LogLevel.Warning, "Job {JobId}: a result could not be delivered; the job is dead-lettered until re-sent")]
    public static partial void JobDeadLettered(ILogger logger, long jobId);

    [LoggerMessage(2207, LogLevel.Information, "Re-send: {Items} dead-lettered result object(s) of {Jobs} job(s) are back in the outbox")]
    public static partial void Resent(ILogger logger, int items, int jobs);

    [LoggerMessage(2010, LogLevel.Information, "Retention: deleted study {StudyInstanceUid} ({Bytes} bytes, jobs {Jobs}) finished {FinishedAt:O}: {Why}")]
    public static partial void RetentionDeleted(ILogger logger, string studyInstanceUid, long bytes, string jobs, DateTimeOffset finishedAt, string why);

    [LoggerMessage(2011, LogLevel.Warning, "Retention: studies/ and results/ hold {Bytes} bytes, above the cap of {Cap} bytes, and nothing more is finished to delete")]
    public static partial void RetentionOverCap(ILogger logger, long bytes, long cap);

    [LoggerMessage(2012, LogLevel.Warning, "Retention: could not delete {Path}: {Message}")]
    public static partial void RetentionDeleteFailed(ILogger logger, string path, string message);

    [LoggerMessage(2300, LogLevel.Information, "HippoNode {AeTitle} listening for DICOM on {EndPoint} ({Transport}); storage {Storage}; results to {PacsAeTitle}@{PacsHost}:{PacsPort} ({PacsTransport})")]
    public static partial void NodeStarted(ILogger logger, string aeTitle, System.Net.EndPoint? endPoint, string transport, string storage, string pacsAeTitle, string pacsHost, int pacsPort,
        string pacsTransport);

    [LoggerMessage(2301, LogLevel.Information, "HTTP endpoint on {Url}, loopback only (/health, /jobs, /jobs/{{id}}, /deadletter, /metrics)")]
    public static partial void HttpStarted(ILogger logger, string url);

    [LoggerMessage(2302, LogLevel.Error, "{Component} stopped with an unexpected error; it restarts in {Delay}")]
    public static partial void ComponentCrashed(ILogger logger, string component, TimeSpan delay, Exception exception);
}
