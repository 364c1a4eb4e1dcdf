using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace HippoNode.Dicom.Network;

/// <summary>
/// One association on the SCP side, from transport connection to close. The read loop runs the Upper Layer state
/// machine and streams data sets to disk; complete requests go through a channel to a handler task, so the loop
/// keeps reading (an A-ABORT is seen at once, even while a handler is busy).
/// </summary>
internal sealed class ScpAssociation
{
    /// <summary>Association PDUs (RQ) may be larger than our P-DATA maximum: 128 contexts with many syntaxes, user identity.</summary>
    private const uint AssociatePduLimit = 1 << 20;

    /// <summary>A command set is a few hundred bytes; more is not a command.</summary>
    private const int MaxCommandLength = 64 * 1024;

    /// <summary>Requests queued for the handler beyond the one being handled; more means the peer ignores the operations window.</summary>
    private const int QueueCapacity = 16;

    private readonly UpperLayerConnection _conn;
    private readonly DicomServerOptions _options;
    private readonly IDicomAssociationPolicy _policy;
    private readonly IDicomStoreHandler _handler;
    private readonly ILogger _logger;
    private readonly long _id;
    private readonly Func<bool> _overCapacity;
    private readonly FreeSpaceGuard _freeSpace;
    private readonly Channel<ScpMessage> _queue = Channel.CreateBounded<ScpMessage>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, SingleWriter = true });

    private readonly Dictionary<byte, (string AbstractSyntax, DicomTransferSyntax Syntax)> _contexts = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AAssociateRq? _request;
    private MemoryStream? _command;
    private byte _commandContextId;
    private IncomingDataset? _incoming;
    private int _pending;

    public ScpAssociation(Socket socket, Stream? transport, long id, DicomServerOptions options, IDicomAssociationPolicy policy,
        IDicomStoreHandler handler, FreeSpaceGuard freeSpace, ILogger logger, TimeProvider time, Func<bool> overCapacity)
    {
        _conn = new UpperLayerConnection(socket, isRequestor: false, time, UpperLayerState.Sta1, transport);
        _freeSpace = freeSpace;
        _id = id;
        _options = options;
        _policy = policy;
        _handler = handler;
        _logger = logger;
        _overCapacity = overCapacity;
    }

    /// <summary>Serves the association until it is released, aborted, times out or the server stops; never throws for peer behaviour.</summary>
    public async Task RunAsync(CancellationToken serverToken)
    {
        using var scope = _logger.BeginScope("Association {AssociationId} from {Remote}", _id, _conn.RemoteEndPoint);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(serverToken);
        Task? worker = null;
        try
        {
            Log.Connected(_logger, _conn.RemoteEndPoint);
            _conn.Fire(UpperLayerEvent.Evt5); // AE-5: connection accepted, ARTIM running (Sta2)
            if (!await NegotiateAsync(lifetime.Token).ConfigureAwait(false)) return;
            worker = Task.Run(() => WorkerAsync(lifetime.Token), CancellationToken.None);
            await ServeAsync(lifetime.Token).ConfigureAwait(false);
        }
        catch (DicomAssociationAbortedException)
        {
            // The peer reset or closed the connection while we were answering it: its doing, logged as a close,
            // not as an unexpected error of ours.
            Log.PeerClosed(_logger, _conn.State);
        }
        catch (OperationCanceledException) when (serverToken.IsCancellationRequested)
        {
            // The server stops: an A-ABORT tells the peer why the connection goes (Evt15, AA-1); the wait for its
            // close is short (the cancelled token says so), so one slow peer cannot hold up the shutdown.
            Log.LocalAbort(_logger, "the server is stopping");
            await LocalAbortAsync(serverToken).ConfigureAwait(false);
        }
        finally
        {
            await lifetime.CancelAsync().ConfigureAwait(false);
            _queue.Writer.TryComplete();
            if (worker is not null)
            {
                try
                {
                    await worker.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // handler cancelled by the abort
                }
            }
            // Requests received but never handled: their files are dropped with the association.
            while (_queue.Reader.TryRead(out var left))
            {
                if (left.FilePath is { } p) StoreFileSink.TryDelete(p);
            }
            if (_incoming is not null) await _incoming.DisposeAsync().ConfigureAwait(false);
            await _conn.DisposeAsync().ConfigureAwait(false);
            try
            {
                _handler.AssociationEnded(_id);
            }
            catch (Exception ex)
            {
                // The handler's bookkeeping failed: this association is over anyway, the server goes on.
                Log.AssociationEndHandlerFailed(_logger, _id, ex);
            }
        }
    }

    // ---- association establishment -------------------------------------------------------------

    private async Task<bool> NegotiateAsync(CancellationToken ct)
    {
        var r = await _conn.ReceiveAsync(AssociatePduLimit, _options.ArtimTimeout, ct).ConfigureAwait(false);
        switch (r.Status)
        {
            case ReceiveStatus.TimedOut:
                Log.TimerExpired(_logger, _options.ArtimTimeout, _conn.State);
                _conn.Fire(UpperLayerEvent.Evt18); // AA-2: close
                return false;
            case ReceiveStatus.Closed:
                _conn.Fire(UpperLayerEvent.Evt17); // AA-5
                return false;
            case ReceiveStatus.Invalid:
                Log.ProtocolError(_logger, r.Error!.Message);
                _conn.Fire(UpperLayerEvent.Evt19); // AA-1
                await SendAbortAndCloseAsync(AbortSource.ServiceUser, AbortReason.NotSpecified, ct).ConfigureAwait(false);
                return false;
        }

        var pdu = r.Pdu!;
        var t = _conn.Fire(UpperLayerStateMachine.EventFor(pdu));
        if (pdu is not AAssociateRq rq)
        {
            Log.ProtocolError(_logger, $"{pdu.Type} before A-ASSOCIATE-RQ");
            if (t.Action == UpperLayerAction.AA1) await SendAbortAndCloseAsync(AbortSource.ServiceUser, AbortReason.NotSpecified, ct).ConfigureAwait(false);
            return false; // AA-2 for an A-ABORT: just close
        }

        // AE-6: ARTIM stopped; is the request acceptable to the provider (protocol version, capacity)?
        _request = rq;
        AssociationDecision decision;
        if ((rq.ProtocolVersion & 1) == 0)
        {
            decision = AssociationDecision.Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceProviderAcse,
                AssociateRejectReason.ProtocolVersionNotSupported);
        }
        else if (_overCapacity())
        {
            decision = AssociationDecision.Rejected(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation,
                AssociateRejectReason.LocalLimitExceeded);
        }
        else
        {
            try
            {
                decision = _policy.Negotiate(rq, new AssociationRequestContext(_conn.RemoteEndPoint, _id));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.AssociationCrashed(_logger, _id, ex);
                decision = AssociationDecision.Rejected(AssociateRejectResult.Transient, AssociateRejectSource.ServiceUser, AssociateRejectReason.NoReasonGiven);
            }
        }

        if (decision.Reject is { } reject)
        {
            Log.Rejected(_logger, rq.CallingAeTitle, rq.CalledAeTitle, reject.Describe());
            _conn.Fire(UpperLayerEvent.Evt8); // AE-8: send A-ASSOCIATE-RJ, ARTIM, Sta13
            await _conn.SendAsync(reject, _options.SendTimeout, ct).ConfigureAwait(false);
            await _conn.WaitForPeerCloseAsync(_options.ArtimTimeout, ct).ConfigureAwait(false);
            return false;
        }

        var proposed = rq.PresentationContexts.ToDictionary(p => p.Id);
        foreach (var pc in decision.PresentationContexts.Where(p => p.IsAccepted))
        {
            if (proposed.TryGetValue(pc.Id, out var p)) _contexts[pc.Id] = (p.AbstractSyntax, DicomTransferSyntax.FromUid(pc.TransferSyntax));
        }
        var userInfo = UserInformation.Ours(_options.MaxPduLength) with
        {
            // One operation at a time in each direction; answered only when the requestor asked.
            AsyncOperations = rq.UserInformation.AsyncOperations is null ? null : new AsyncOperationsWindow(1, 1),
            RoleSelections = decision.RoleSelections,
        };
        var ac = new AAssociateAc(rq.CalledAeTitle, rq.CallingAeTitle, decision.PresentationContexts, userInfo);
        _conn.PeerMaxPduLength = rq.UserInformation.MaxPduLength;
        _conn.Fire(UpperLayerEvent.Evt7); // AE-7: send A-ASSOCIATE-AC, Sta6
        await _conn.SendAsync(ac, _options.SendTimeout, ct).ConfigureAwait(false);
        Log.Accepted(_logger, rq.CallingAeTitle, rq.CalledAeTitle, _contexts.Count, rq.PresentationContexts.Count);
        return true;
    }

    // ---- data transfer -------------------------------------------------------------------------

    private async Task ServeAsync(CancellationToken ct)
    {
        while (true)
        {
            // The idle timer runs only while no request of ours is being handled (the peer then waits for us).
            var timeout = Volatile.Read(ref _pending) > 0 ? Timeout.InfiniteTimeSpan : _options.IdleTimeout;
            var r = await _conn.ReceiveAsync(_options.MaxPduLength, timeout, ct).ConfigureAwait(false);
            switch (r.Status)
            {
                case ReceiveStatus.TimedOut:
                    Log.TimerExpired(_logger, _options.IdleTimeout, _conn.State);
                    await LocalAbortAsync(ct).ConfigureAwait(false);
                    return;
                case ReceiveStatus.Closed:
                    Log.PeerClosed(_logger, _conn.State);
                    _conn.Fire(UpperLayerEvent.Evt17); // AA-4
                    return;
                case ReceiveStatus.Invalid:
                    Log.ProtocolError(_logger, r.Error!.Message);
                    await ProviderAbortAsync(UpperLayerEvent.Evt19, r.Error.Reason, ct).ConfigureAwait(false);
                    return;
            }

            var pdu = r.Pdu!;
            var evt = UpperLayerStateMachine.EventFor(pdu);
            if (!UpperLayerStateMachine.TryGetTransition(_conn.State, evt, false, out var t)) return;
            switch (t.Action)
            {
                case UpperLayerAction.DT2:
                    _conn.Fire(evt);
                    try
                    {
                        await OnPDataAsync((PDataTf)pdu, ct).ConfigureAwait(false);
                    }
                    catch (DicomNetworkException ex)
                    {
                        Log.ProtocolError(_logger, ex.Message);
                        await ProviderAbortAsync(null, AbortReason.UnexpectedPduParameter, ct).ConfigureAwait(false);
                        return;
                    }
                    break;
                case UpperLayerAction.AR2:
                    _conn.Fire(evt); // Sta8: answer what is queued, then A-RELEASE-RP
                    await ReleaseAsync(ct).ConfigureAwait(false);
                    return;
                case UpperLayerAction.AA3:
                    _conn.Fire(evt);
                    var abort = (AAbort)pdu;
                    Log.AbortedByPeer(_logger, abort.Source, abort.Reason);
                    return;
                default:
                    Log.ProtocolError(_logger, $"Unexpected {pdu.Type} in {_conn.State}");
                    await ProviderAbortAsync(evt, AbortReason.UnexpectedPdu, ct).ConfigureAwait(false);
                    return;
            }
        }
    }

    private async Task ReleaseAsync(CancellationToken ct)
    {
        _queue.Writer.TryComplete();
        if (_incoming is not null)
        {
            // A release in the middle of a data set: that instance is lost; PS3.7 leaves it to the requestor.
            await _incoming.DisposeAsync().ConfigureAwait(false);
            _incoming = null;
        }
        try
        {
            // Responses still owed go out first (AR-7 is P-DATA in Sta8); the handler task ends when the queue is empty.
            await _drained.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return; // the handler task lost the connection
        }
        _conn.Fire(UpperLayerEvent.Evt14); // AR-4: send A-RELEASE-RP, ARTIM, Sta13
        await _conn.SendAsync(new AReleaseRp(), _options.SendTimeout, ct).ConfigureAwait(false);
        Log.Released(_logger);
        await _conn.WaitForPeerCloseAsync(_options.ArtimTimeout, ct).ConfigureAwait(false);
    }

    private async Task OnPDataAsync(PDataTf pdu, CancellationToken ct)
    {
        foreach (var pdv in pdu.Values)
        {
            if (!_contexts.TryGetValue(pdv.PresentationContextId, out var pc))
                throw new DicomNetworkException($"PDV on presentation context {pdv.PresentationContextId}, which was not accepted");
            if (pdv.IsCommand)
            {
                if (_incoming is not null) throw new DicomNetworkException("A command fragment arrived where data set fragments were due");
                if (_command is null)
                {
                    _command = new MemoryStream(512);
                    _commandContextId = pdv.PresentationContextId;
                }
                else if (_commandContextId != pdv.PresentationContextId)
                {
                    throw new DicomNetworkException("Command fragments on two presentation contexts");
                }
                if (_command.Length + pdv.Data.Length > MaxCommandLength) throw new DicomNetworkException($"Command set longer than {MaxCommandLength} bytes");
                _command.Write(pdv.Data.Span);
                if (!pdv.IsLastFragment) continue;
                var command = DimseCommand.Decode(_command.GetBuffer().AsMemory(0, (int)_command.Length));
                _command = null;
                await OnCommandAsync(pdv.PresentationContextId, pc.AbstractSyntax, pc.Syntax, command, ct).ConfigureAwait(false);
            }
            else
            {
                if (_incoming is null || _incoming.PresentationContextId != pdv.PresentationContextId)
                    throw new DicomNetworkException("A data set fragment arrived without a command announcing it");
                await _incoming.WriteAsync(pdv.Data, ct).ConfigureAwait(false);
                if (!pdv.IsLastFragment) continue;
                var incoming = _incoming;
                _incoming = null;
                if (incoming.WriteError is { } err) Log.WriteFailed(_logger, DicomStatus.OutOfResources, err);
                Enqueue(await incoming.CompleteAsync(ct).ConfigureAwait(false));
            }
        }
    }

    private async Task OnCommandAsync(byte pcid, string abstractSyntax, DicomTransferSyntax syntax, DimseCommand command, CancellationToken ct)
    {
        if (command.IsResponse) throw new DicomNetworkException($"Unexpected {command.CommandField}: we sent no request");
        switch (command.CommandField)
        {
            case DimseCommandField.CEchoRq:
                var echoOk = command.AffectedSopClassUid == DicomUid.Verification && abstractSyntax == DicomUid.Verification;
                var echo = echoOk
                    ? new ScpMessage(ScpMessageKind.Echo, pcid, command)
                    : new ScpMessage(ScpMessageKind.Refusal, pcid, command) { Status = DicomStatus.SopClassNotSupported, Comment = "C-ECHO outside the Verification context" };
                if (command.HasDataset) _incoming = Discard(pcid, echo);
                else Enqueue(echo);
                break;
            case DimseCommandField.CStoreRq:
                await OnStoreRequestAsync(pcid, abstractSyntax, syntax, command, ct).ConfigureAwait(false);
                break;
            case DimseCommandField.CCancelRq:
                if (command.HasDataset) throw new DicomNetworkException("C-CANCEL-RQ with a data set");
                break; // our operations are not cancellable mid-way and we hold no pending C-FIND/C-MOVE
            default:
                var refusal = new ScpMessage(ScpMessageKind.Refusal, pcid, command)
                {
                    Status = DicomStatus.UnrecognizedOperation,
                    Comment = $"{command.CommandField} is not supported",
                };
                Log.UnsupportedCommand(_logger, command.ToString(), refusal.Status);
                if (command.HasDataset) _incoming = Discard(pcid, refusal);
                else Enqueue(refusal);
                break;
        }
    }

    private async Task OnStoreRequestAsync(byte pcid, string abstractSyntax, DicomTransferSyntax syntax, DimseCommand command, CancellationToken ct)
    {
        var sopClass = command.AffectedSopClassUid;
        var sopInstance = command.AffectedSopInstanceUid;
        ScpMessage? refusal = null;
        if (string.IsNullOrEmpty(sopClass) || string.IsNullOrEmpty(sopInstance))
        {
            refusal = new ScpMessage(ScpMessageKind.Refusal, pcid, command) { Status = DicomStatus.CannotUnderstand, Comment = "C-STORE-RQ without Affected SOP Class or Instance UID" };
        }
        else if (!IsUidText(sopClass) || !IsUidText(sopInstance))
        {
            refusal = new ScpMessage(ScpMessageKind.Refusal, pcid, command) { Status = DicomStatus.InvalidObjectInstance, Comment = "Affected SOP Class or Instance UID is not UID text" };
        }
        else if (sopClass != abstractSyntax)
        {
            refusal = new ScpMessage(ScpMessageKind.Refusal, pcid, command) { Status = DicomStatus.SopClassNotSupported, Comment = "SOP class differs from the presentation context's" };
        }
        if (!command.HasDataset)
        {
            Enqueue(refusal ?? new ScpMessage(ScpMessageKind.Refusal, pcid, command) { Status = DicomStatus.CannotUnderstand, Comment = "C-STORE-RQ without a data set" });
            return;
        }
        if (refusal is null && !_freeSpace.HasRoom(out var noSpace))
        {
            // Below the watermark: the data set is read and dropped, never written, and the sender may try again later.
            Log.StoreRefusedNoSpace(_logger, sopInstance!, noSpace!);
            refusal = new ScpMessage(ScpMessageKind.Refusal, pcid, command) { Status = DicomStatus.OutOfResources, Comment = noSpace };
        }
        if (refusal is not null)
        {
            _incoming = Discard(pcid, refusal);
            return;
        }
        try
        {
            var sink = await StoreFileSink.CreateAsync(_options.IncomingDirectory, sopClass!, sopInstance!, syntax, _request!.CallingAeTitle, ct).ConfigureAwait(false);
            _incoming = new IncomingDataset(pcid, command, sink, null, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.WriteFailed(_logger, DicomStatus.OutOfResources, ex);
            _incoming = new IncomingDataset(pcid, command, null, DicomStatus.OutOfResources, "Cannot create the instance file: " + ex.Message);
        }
    }

    /// <summary>Printable ASCII of UID length: lenient about UID syntax (old scanners), strict about what can reach a file's meta.</summary>
    private static bool IsUidText(string uid) => uid.Length <= 64 && uid.All(c => c is > ' ' and <= '~' and not '\\');

    private static IncomingDataset Discard(byte pcid, ScpMessage refusal) =>
        new(pcid, refusal.Command, null, refusal.Kind == ScpMessageKind.Refusal ? refusal.Status : DicomStatus.Success, refusal.Comment);

    private void Enqueue(ScpMessage message)
    {
        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(message))
        {
            Interlocked.Decrement(ref _pending);
            if (message.FilePath is { } p) StoreFileSink.TryDelete(p);
            throw new DicomNetworkException($"More than {QueueCapacity} requests outstanding: the peer ignores the operations window");
        }
    }

    // ---- the handler task ----------------------------------------------------------------------

    private async Task WorkerAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var message in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var response = await HandleAsync(message, ct).ConfigureAwait(false);
                await _conn.SendPDataAsync(message.PresentationContextId, true, response.Encode(), _options.SendTimeout, ct).ConfigureAwait(false);
                if (Interlocked.Decrement(ref _pending) == 0) _conn.RearmReceiveTimer(_options.IdleTimeout);
            }
            _drained.TrySetResult();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The read loop ends the association (abort, stop) and says so to the peer; nothing to add here.
            _drained.TrySetCanceled(CancellationToken.None);
        }
        catch (Exception ex)
        {
            // A response could not be sent: the association is unusable; closing lets the read loop see it at once.
            if (ex is not DicomNetworkException) Log.AssociationCrashed(_logger, _id, ex);
            _drained.TrySetCanceled(CancellationToken.None);
            _conn.Close();
        }
    }

    private async Task<DimseCommand> HandleAsync(ScpMessage message, CancellationToken ct)
    {
        switch (message.Kind)
        {
            case ScpMessageKind.Echo:
                Log.Echo(_logger, _request!.CallingAeTitle);
                return DimseCommand.ResponseTo(message.Command, DicomStatus.Success);
            case ScpMessageKind.Refusal:
                return DimseCommand.ResponseTo(message.Command, message.Status, message.Comment);
        }

        var path = message.FilePath!;
        var request = new DicomStoreRequest(path, message.Command.AffectedSopClassUid!, message.Command.AffectedSopInstanceUid!,
            _contexts[message.PresentationContextId].Syntax, _request!.CallingAeTitle, _request.CalledAeTitle, _conn.RemoteEndPoint, _id, message.Length);
        DicomStatus status;
        string? comment = null;
        try
        {
            status = await _handler.StoreAsync(request, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // The SCP boundary: whatever the handler throws becomes a status, never a dead association.
            status = DicomStatus.FromException(ex);
            comment = ex.Message;
            Log.HandlerFailed(_logger, request.SopInstanceUid, status, ex);
        }
        finally
        {
            if (File.Exists(path)) StoreFileSink.TryDelete(path);
        }
        Log.Stored(_logger, request.SopInstanceUid, request.SopClassUid, request.TransferSyntax.Name, request.Length, status);
        return DimseCommand.ResponseTo(message.Command, status, comment);
    }

    // ---- aborts --------------------------------------------------------------------------------

    /// <summary>Evt15 (local A-ABORT request): AA-1, then wait for the peer to close.</summary>
    private async Task LocalAbortAsync(CancellationToken ct)
    {
        if (!UpperLayerStateMachine.TryGetTransition(_conn.State, UpperLayerEvent.Evt15, false, out _))
        {
            _conn.Close();
            return;
        }
        _conn.Fire(UpperLayerEvent.Evt15);
        await SendAbortAndCloseAsync(AbortSource.ServiceUser, AbortReason.NotSpecified, ct).ConfigureAwait(false);
    }

    /// <summary>AA-8 (or the table's action for <paramref name="evt"/>): A-ABORT from the service provider, then wait for close.</summary>
    private async Task ProviderAbortAsync(UpperLayerEvent? evt, AbortReason reason, CancellationToken ct)
    {
        if (evt is { } e && UpperLayerStateMachine.TryGetTransition(_conn.State, e, false, out _)) _conn.Fire(e);
        else _conn.SetState(UpperLayerState.Sta13);
        await SendAbortAndCloseAsync(AbortSource.ServiceProvider, reason, ct).ConfigureAwait(false);
    }

    private async Task SendAbortAndCloseAsync(AbortSource source, AbortReason reason, CancellationToken ct)
    {
        try
        {
            await _conn.SendAsync(new AAbort(source, reason), TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            await _conn.WaitForPeerCloseAsync(ct.IsCancellationRequested ? TimeSpan.FromSeconds(1) : _options.ArtimTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DicomNetworkException ex)
        {
            Log.AbortSendFailed(_logger, ex.Message);
            _conn.Close(); // the peer is gone already
        }
    }
}
