using HippoNode.Dicom.Network;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace HippoNode.Node.Services;

/// <summary>
/// The durable outbox: sends pending result objects to the PACS by C-STORE. Within a round Polly retries the failed
/// ones with exponential back-off; what still fails stays pending in the database with a later due time (doubling up
/// to Retry:MaxDelaySeconds), so results wait out a PACS that is down for hours, and a restart. A permanent failure
/// (association rejected-permanent, no presentation context, a status a retry cannot change: see
/// <see cref="DicomStoreResult.IsPermanentFailure"/>) is not retried within the round, and after Retry:DeadLetterAfter
/// such rounds the item is dead-lettered: no endless loop; `hipponode resend` puts it back. The outbox runs beside the
/// receiver and the job runner, so a slow or absent PACS delays results only. An item is marked
/// sent only after the PACS's success response. Killed between that response and the mark, the item is sent again
/// after restart with the same SOP Instance UID: a PACS stores an instance once per UID (Orthanc keeps or replaces
/// it, storescp overwrites its file), so the second C-STORE is idempotent.
/// </summary>
public sealed class OutboxService : ResilientLoop
{
    private readonly NodeDatabase _database;
    private readonly NodeOptions _options;
    private readonly NodeSignals _signals;
    private readonly NodeMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<OutboxService> _logger;
    private readonly ResiliencePipeline _pipeline;

    /// <summary>The outbox over the node's database and PACS settings.</summary>
    public OutboxService(NodeDatabase database, IOptions<NodeOptions> options, NodeSignals signals, NodeMetrics metrics, TimeProvider time, ILogger<OutboxService> logger)
        : base(logger, "outbox")
    {
        _database = database;
        _options = options.Value;
        _signals = signals;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        var retry = _options.Retry;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (retry.Attempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<SendRoundFailedException>(),
                MaxRetryAttempts = retry.Attempts,
                Delay = TimeSpan.FromSeconds(retry.FirstDelaySeconds),
                MaxDelay = TimeSpan.FromSeconds(retry.MaxDelaySeconds),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is SendRoundFailedException f)
                        Log.SendRetry(_logger, f.Failed.Count, args.AttemptNumber + 1, args.RetryDelay, f.Message);
                    return default;
                },
            });
        }
        _pipeline = builder.Build();
    }

    /// <inheritdoc />
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var due = await _database.DueOutboxAsync(_time.GetUtcNow(), cancellationToken: stoppingToken).ConfigureAwait(false);
            if (due.Count > 0)
            {
                await SendRoundAsync(due, stoppingToken).ConfigureAwait(false);
                continue;
            }
            var next = await _database.NextOutboxDueAsync(stoppingToken).ConfigureAwait(false);
            var wait = next is null ? TimeSpan.FromSeconds(30) : next.Value - _time.GetUtcNow();
            if (wait > TimeSpan.Zero) await _signals.OutboxFilled.WaitAsync(wait > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : wait, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task SendRoundAsync(IReadOnlyList<OutboxItem> items, CancellationToken ct)
    {
        var remaining = items;
        _errors.Clear();
        _lastError = null;
        try
        {
            await _pipeline.ExecuteAsync(async token =>
            {
                remaining = await SendOnceAsync(remaining, token).ConfigureAwait(false);
                if (remaining.Count > 0) throw new SendRoundFailedException(remaining, _lastError ?? "not stored");
            }, ct).ConfigureAwait(false);
        }
        catch (SendRoundFailedException f)
        {
            var next = NextAttempt(f.Failed);
            foreach (var item in f.Failed) await _database.MarkSendFailedAsync(item.Id, _errors.GetValueOrDefault(item.Id, f.Message), next, CancellationToken.None).ConfigureAwait(false);
            Log.SendDeferred(_logger, f.Failed.Count, next, f.Message);
        }
    }

    /// <summary>When failed items are due again: the first delay doubled per failed round, capped.</summary>
    private DateTimeOffset NextAttempt(IEnumerable<OutboxItem> failed)
    {
        var attempts = failed.Max(i => i.Attempts) + 1;
        var delay = TimeSpan.FromSeconds(Math.Min(_options.Retry.MaxDelaySeconds, _options.Retry.FirstDelaySeconds * Math.Pow(2, Math.Min(attempts, 30))));
        return _time.GetUtcNow() + delay;
    }

    /// <summary>A failure a retry cannot fix: counted, and dead-lettered at the limit (the item leaves this round either way).</summary>
    private async Task PermanentFailureAsync(OutboxItem item, string error)
    {
        var outcome = await _database.MarkSendFailedAsync(item.Id, error, NextAttempt([item]), permanent: true, _options.Retry.DeadLetterAfter, CancellationToken.None)
            .ConfigureAwait(false);
        if (!outcome.DeadLettered)
        {
            Log.SendFailedPermanently(_logger, item.SopInstanceUid, item.JobId, item.PermanentFailures + 1, _options.Retry.DeadLetterAfter, error);
            return;
        }
        _metrics.DeadLettered.Inc();
        Log.DeadLettered(_logger, item.SopInstanceUid, item.JobId, _options.Retry.DeadLetterAfter, error);
        if (outcome.JobDeadLettered is { } jobId)
        {
            Log.JobDeadLettered(_logger, jobId);
            _metrics.JobsFinished.WithLabels("deadletter").Inc();
            _signals.OnJobFinished(jobId);
        }
    }

    private string? _lastError;
    private readonly Dictionary<long, string> _errors = [];

    /// <summary>One association's worth of C-STOREs; returns the items not stored.</summary>
    private async Task<IReadOnlyList<OutboxItem>> SendOnceAsync(IReadOnlyList<OutboxItem> items, CancellationToken ct)
    {
        var pacs = _options.Pacs;
        var timeout = TimeSpan.FromSeconds(_options.Retry.TimeoutSeconds);
        var client = new DicomClientOptions
        {
            CallingAeTitle = _options.AeTitle,
            CalledAeTitle = pacs.AeTitle,
            ConnectTimeout = timeout,
            AssociationTimeout = timeout,
            ResponseTimeout = timeout,
            SendTimeout = timeout,
            TimeProvider = _time,
            Tls = pacs.Tls ? _options.Tls.ForPacs() : null,
        };
        var byPath = items.GroupBy(i => i.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var failed = new List<OutboxItem>();
        await foreach (var r in DicomSender.SendAsync(pacs.Host, pacs.Port, client, byPath.Keys, ct).ConfigureAwait(false))
        {
            foreach (var item in byPath[r.Path])
            {
                // 0111 duplicate SOP instance: the PACS holds an instance with this UID already, and only we make our
                // UIDs (fresh per analysis), so it is ours from an earlier send whose response we did not record.
                var alreadyThere = r.Status == DicomStatus.DuplicateSopInstance;
                if (r.Succeeded || alreadyThere)
                {
                    // Only now, after the PACS's response: marked sent in its own transaction.
                    var finishedJob = await _database.MarkSentAsync(item.Id, r.Status!.Value.Code, CancellationToken.None).ConfigureAwait(false);
                    _metrics.OutboxSent.Inc();
                    Log.Sent(_logger, item.SopInstanceUid, item.JobId, r.Status.Value.ToString());
                    if (finishedJob is { } jobId) await JobEndedAsync(jobId).ConfigureAwait(false);
                    continue;
                }
                var error = r.Status is { } s ? $"PACS answered {s}{(r.Error is null ? "" : ": " + r.Error)}" : r.Error ?? "not sent";
                _metrics.OutboxFailures.Inc();
                if (r.IsPermanentFailure)
                {
                    await PermanentFailureAsync(item, error).ConfigureAwait(false);
                    continue;
                }
                _errors[item.Id] = error;
                _lastError = error;
                failed.Add(item);
            }
        }
        return failed;
    }

    private async Task JobEndedAsync(long jobId)
    {
        var job = await _database.GetJobAsync(jobId, CancellationToken.None).ConfigureAwait(false);
        if (job?.State == JobState.DeadLetter)
        {
            // Its last pending item was sent, but another one of it is dead-lettered.
            Log.JobDeadLettered(_logger, jobId);
            _metrics.JobsFinished.WithLabels("deadletter").Inc();
            _signals.OnJobFinished(jobId);
            return;
        }
        Log.JobDone(_logger, jobId);
        _metrics.JobsFinished.WithLabels("done").Inc();
        if (job is not null) _metrics.ObserveStages(job.Stages);
        _signals.OnJobFinished(jobId);
    }

    /// <summary>Some items of a round were not stored; Polly retries on it.</summary>
    private sealed class SendRoundFailedException(IReadOnlyList<OutboxItem> failed, string message) : Exception(message)
    {
        public IReadOnlyList<OutboxItem> Failed { get; } = failed;
    }
}
