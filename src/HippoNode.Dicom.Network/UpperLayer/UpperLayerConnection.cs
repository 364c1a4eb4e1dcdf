using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace HippoNode.Dicom.Network;

/// <summary>What one receive produced: a PDU, the end of the connection, an expired timer, or bytes that are no valid PDU.</summary>
internal enum ReceiveStatus
{
    /// <summary>A whole PDU arrived.</summary>
    Pdu,

    /// <summary>The peer closed the connection or it broke (Evt17); a half PDU counts as closed.</summary>
    Closed,

    /// <summary>The receive timer (ARTIM or idle) expired first.</summary>
    TimedOut,

    /// <summary>The bytes are no valid PDU (Evt19).</summary>
    Invalid,
}

/// <summary>The outcome of <see cref="UpperLayerConnection.ReceiveAsync"/>.</summary>
internal readonly record struct ReceiveResult(ReceiveStatus Status, Pdu? Pdu = null, DicomPduException? Error = null);

/// <summary>
/// One transport connection of the Upper Layer: PDU framing over a socket, the state of PS3.8 Table 9-10, timers
/// from a <see cref="TimeProvider"/>, and P-DATA fragmentation up to the peer's maximum length. Receives happen on
/// one loop; sends may come from other tasks and are serialised.
/// </summary>
internal sealed class UpperLayerConnection : IAsyncDisposable
{
    /// <summary>The largest PDV we put in one P-DATA-TF when the peer sets no limit (or a huge one).</summary>
    public const int MaxSendPdvData = 1 << 20;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TimeProvider _time;
    private readonly Lock _stateLock = new();
    private readonly CancellationTokenSource _lifetime = new();
    private Deadline? _receiveDeadline;
    private UpperLayerState _state;
    private int _closed;

    /// <summary>A connection over <paramref name="socket"/>; <paramref name="transport"/> is its TLS stream when the handshake is done, else the socket's own.</summary>
    public UpperLayerConnection(Socket socket, bool isRequestor, TimeProvider time, UpperLayerState initialState, Stream? transport = null)
    {
        _socket = socket;
        _socket.NoDelay = true; // request/response traffic: Nagle plus delayed ACK would add 40 ms per message
        _stream = transport ?? DicomTls.PlainStream(socket);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _time = time;
        IsRequestor = isRequestor;
        _state = initialState;
        RemoteEndPoint = SafeRemote(socket);
    }

    /// <summary>True on the association-requestor (SCU) side.</summary>
    public bool IsRequestor { get; }

    /// <summary>The peer's address, for logs.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The current state.</summary>
    public UpperLayerState State
    {
        get { lock (_stateLock) return _state; }
    }

    /// <summary>The peer's maximum P-DATA-TF length (0 = unlimited), known once the association is negotiated.</summary>
    public uint PeerMaxPduLength { get; set; }

    /// <summary>Cancelled when the connection is closed.</summary>
    public CancellationToken Closed => _lifetime.Token;

    /// <summary>The largest PDV data we send in one PDU: the peer's maximum less the PDV item header.</summary>
    public int MaxPdvDataLength => PeerMaxPduLength is 0 or > MaxSendPdvData + 6 ? MaxSendPdvData : Math.Max(1, (int)PeerMaxPduLength - 6);

    /// <summary>Applies an event to the state table; throws when the table has no transition (the caller is in the wrong state).</summary>
    public UpperLayerTransition Fire(UpperLayerEvent evt)
    {
        lock (_stateLock)
        {
            if (!UpperLayerStateMachine.TryGetTransition(_state, evt, IsRequestor, out var t))
                throw new InvalidUpperLayerEventException(_state, evt);
            _state = t.NextState;
            return t;
        }
    }

    /// <summary>Sets the state directly: the conditional branch of AE-6 (reject by the provider goes to Sta13).</summary>
    public void SetState(UpperLayerState state)
    {
        lock (_stateLock) _state = state;
    }

    /// <summary>Waits for the next whole PDU, at most <paramref name="timeout"/> (infinite allowed), accepting PDUs up to <paramref name="maxPduLength"/>.</summary>
    public async ValueTask<ReceiveResult> ReceiveAsync(uint maxPduLength, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new Deadline(_time, timeout, cancellationToken, _lifetime.Token);
        Volatile.Write(ref _receiveDeadline, deadline);
        try
        {
            while (true)
            {
                var read = await _reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                Pdu? pdu;
                try
                {
                    if (PduReader.TryRead(ref buffer, maxPduLength, out pdu))
                    {
                        _reader.AdvanceTo(buffer.Start);
                        return new ReceiveResult(ReceiveStatus.Pdu, pdu);
                    }
                }
                catch (DicomPduException ex)
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                    return new ReceiveResult(ReceiveStatus.Invalid, Error: ex);
                }
                if (read.IsCompleted || read.IsCanceled)
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                    return new ReceiveResult(ReceiveStatus.Closed);
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (deadline.Expired && !cancellationToken.IsCancellationRequested)
        {
            return new ReceiveResult(ReceiveStatus.TimedOut);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new ReceiveResult(ReceiveStatus.Closed);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return new ReceiveResult(ReceiveStatus.Closed);
        }
        finally
        {
            Interlocked.CompareExchange(ref _receiveDeadline, null, deadline);
        }
    }

    /// <summary>Re-arms the timer of the receive in progress (the idle timer restarts once a request has been answered).</summary>
    public void RearmReceiveTimer(TimeSpan timeout) => Volatile.Read(ref _receiveDeadline)?.Change(timeout);

    /// <summary>Sends one PDU that is not P-DATA (association, release, abort), bounded by <paramref name="timeout"/>.</summary>
    public async ValueTask SendAsync(Pdu pdu, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var bytes = PduWriter.ToArray(pdu);
        await WriteAsync(bytes, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a command or data set held in memory as PDVs no larger than the peer accepts; each PDU is a P-DATA request (Evt9).</summary>
    public async ValueTask SendPDataAsync(byte presentationContextId, bool isCommand, ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var max = MaxPdvDataLength;
        var buffer = ArrayPool<byte>.Shared.Rent(PduWriter.PDataSinglePdvOverhead + Math.Min(max, Math.Max(1, data.Length)));
        try
        {
            var offset = 0;
            do
            {
                var n = Math.Min(max, data.Length - offset);
                var last = offset + n == data.Length;
                PduWriter.WritePDataSinglePdvHeader(buffer, presentationContextId, isCommand, last, n);
                data.Span.Slice(offset, n).CopyTo(buffer.AsSpan(PduWriter.PDataSinglePdvOverhead));
                await SendPDataPduAsync(buffer.AsMemory(0, PduWriter.PDataSinglePdvOverhead + n), timeout, cancellationToken).ConfigureAwait(false);
                offset += n;
            }
            while (offset < data.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends <paramref name="length"/> bytes of a data set read from <paramref name="source"/>, one PDV per PDU, without holding the data set.</summary>
    public async ValueTask SendPDataAsync(byte presentationContextId, Stream source, long length, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var max = MaxPdvDataLength;
        var buffer = ArrayPool<byte>.Shared.Rent(PduWriter.PDataSinglePdvOverhead + (int)Math.Min(max, Math.Max(1, length)));
        try
        {
            var left = length;
            do
            {
                var n = (int)Math.Min(max, left);
                await source.ReadExactlyAsync(buffer.AsMemory(PduWriter.PDataSinglePdvOverhead, n), cancellationToken).ConfigureAwait(false);
                left -= n;
                PduWriter.WritePDataSinglePdvHeader(buffer, presentationContextId, false, left == 0, n);
                await SendPDataPduAsync(buffer.AsMemory(0, PduWriter.PDataSinglePdvOverhead + n), timeout, cancellationToken).ConfigureAwait(false);
            }
            while (left > 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask SendPDataPduAsync(ReadOnlyMemory<byte> pdu, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            // DT-1 in Sta6, AR-7 in Sta8; anywhere else the association is gone or going.
            if (!UpperLayerStateMachine.TryGetTransition(_state, UpperLayerEvent.Evt9, IsRequestor, out var t))
                throw new DicomAssociationAbortedException($"Cannot send data: the association is in {_state}, not open for data transfer");
            _state = t.NextState;
        }
        await WriteAsync(pdu, timeout, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new Deadline(_time, timeout, cancellationToken, _lifetime.Token);
        try
        {
            await _sendLock.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DicomAssociationAbortedException(deadline.Expired ? "Timed out waiting to send" : "The connection is closed");
        }
        try
        {
            await _stream.WriteAsync(bytes, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A write cut off half-way leaves the byte stream unusable: the connection goes.
            Close();
            throw new DicomAssociationAbortedException(deadline.Expired ? "Timed out sending to the peer (it does not read)" : "The connection is closed");
        }
        catch (OperationCanceledException)
        {
            Close();
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Close();
            throw new DicomAssociationAbortedException("The connection broke while sending: " + ex.Message, inner: ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sta13: waits (at most the ARTIM time) for the peer to close, ignoring PDUs (AA-6); then closes (AR-5 or AA-2).</summary>
    public async ValueTask WaitForPeerCloseAsync(TimeSpan artim, CancellationToken cancellationToken)
    {
        try
        {
            while (State == UpperLayerState.Sta13)
            {
                var r = await ReceiveAsync(uint.MaxValue, artim, cancellationToken).ConfigureAwait(false);
                switch (r.Status)
                {
                    case ReceiveStatus.Closed:
                        Fire(UpperLayerEvent.Evt17); // AR-5
                        break;
                    case ReceiveStatus.TimedOut:
                        Fire(UpperLayerEvent.Evt18); // AA-2
                        break;
                    case ReceiveStatus.Invalid:
                        SetState(UpperLayerState.Sta1); // Evt19 in Sta13 is AA-7; the peer is not listening, just close
                        break;
                    case ReceiveStatus.Pdu when r.Pdu is AAbort:
                        Fire(UpperLayerEvent.Evt16); // AA-2
                        break;
                    default:
                        break; // AA-6: ignore
                }
            }
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Closes the transport connection (idempotent).</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1) return;
        try
        {
            _lifetime.Cancel();
        }
        catch (AggregateException)
        {
            // a registered callback failed; the connection is going anyway
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already reset by the peer
        }
        _socket.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Close();
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _lifetime.Dispose();
    }

    private static EndPoint? SafeRemote(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>A cancellation token that fires when a <see cref="TimeProvider"/> timer expires or either outer token is cancelled.</summary>
    private sealed class Deadline : IDisposable
    {
        private readonly CancellationTokenSource _cts;
        private readonly ITimer _timer;
        private int _expired;

        public Deadline(TimeProvider time, TimeSpan timeout, CancellationToken a, CancellationToken b)
        {
            _cts = CancellationTokenSource.CreateLinkedTokenSource(a, b);
            _timer = time.CreateTimer(static s => ((Deadline)s!).Expire(), this, timeout, Timeout.InfiniteTimeSpan);
        }

        public CancellationToken Token => _cts.Token;

        public bool Expired => Volatile.Read(ref _expired) == 1;

        public void Change(TimeSpan timeout) => _timer.Change(timeout, Timeout.InfiniteTimeSpan);

        private void Expire()
        {
            Volatile.Write(ref _expired, 1);
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the operation finished as the timer fired
            }
        }

        public void Dispose()
        {
            _timer.Dispose();
            _cts.Dispose();
        }
    }
}

/// <summary>Our own code raised an event the state table has no cell for in the current state (a bug, or a call in the wrong state).</summary>
internal sealed class InvalidUpperLayerEventException(UpperLayerState state, UpperLayerEvent evt)
    : DicomNetworkException($"{evt} is not valid in {state}")
{
    public UpperLayerState State { get; } = state;

    public UpperLayerEvent Event { get; } = evt;
}
