using System.Threading.Channels;

namespace HippoNode.Node;

/// <summary>A wake-up that coalesces: any number of <see cref="Set"/> calls wake one <see cref="WaitAsync"/>.</summary>
public sealed class AsyncSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Wakes the waiter (or the next one).</summary>
    public void Set() => _channel.Writer.TryWrite(true);

    /// <summary>Waits for a <see cref="Set"/> or the timeout; true when signalled.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _)) return true;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan) cts.CancelAfter(timeout);
        try
        {
            await _channel.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

/// <summary>The wake-ups between the node's stages, and the event tests and the demo watch.</summary>
public sealed class NodeSignals
{
    /// <summary>A job was queued.</summary>
    public AsyncSignal JobQueued { get; } = new();

    /// <summary>Items were added to the outbox.</summary>
    public AsyncSignal OutboxFilled { get; } = new();

    /// <summary>Raised when a job reaches done, skipped or failed (its ID).</summary>
    public event Action<long>? JobFinished;

    /// <summary>Raises <see cref="JobFinished"/>.</summary>
    public void OnJobFinished(long jobId) => JobFinished?.Invoke(jobId);
}
