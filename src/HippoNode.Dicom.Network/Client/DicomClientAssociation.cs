using System.Net.Sockets;
using HippoNode.Dicom.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HippoNode.Dicom.Network;

/// <summary>
/// An association we requested (SCU side): `await using` it, send C-ECHO and C-STORE requests one at a time, and it
/// is released on dispose. A background loop reads the peer's PDUs, so an A-ABORT is seen even mid-send.
/// </summary>
public sealed class DicomClientAssociation : IAsyncDisposable
{
    private const uint AssociatePduLimit = 1 << 20;

    private readonly UpperLayerConnection _conn;
    private readonly DicomClientOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _operation = new(1, 1);
    private readonly Lock _sync = new();
    private Task _readLoop = Task.CompletedTask;
    private TaskCompletionSource<DimseCommand>? _pending;
    private ushort _pendingMessageId;
    private TaskCompletionSource? _released;
    private Exception? _failure;
    private MemoryStream? _command;
    private byte _skipDataOn;
    private int _nextMessageId;

    private DicomClientAssociation(UpperLayerConnection conn, DicomClientOptions options, ILogger logger)
    {
        _conn = conn;
        _options = options;
        _logger = logger;
    }

    /// <summary>The contexts as the peer answered them.</summary>
    public IReadOnlyList<NegotiatedContext> Contexts { get; private set; } = [];

    /// <summary>The A-ASSOCIATE-AC received.</summary>
    public AAssociateAc? Accept { get; private set; }

    /// <summary>True while the association is established and usable.</summary>
    public bool IsOpen => _conn.State == UpperLayerState.Sta6 && Volatile.Read(ref _failure) is null;

    /// <summary>
    /// Connects, proposes <paramref name="proposals"/> (IDs 1, 3, 5, ...) and waits for the answer.
    /// </summary>
    /// <exception cref="DicomAssociationRejectedException">The peer answered A-ASSOCIATE-RJ.</exception>
    /// <exception cref="DicomAssociationAbortedException">The peer aborted, closed, did not answer in time, or sent garbage.</exception>
    /// <exception cref="DicomTlsException">With TLS: the handshake failed (the peer's certificate is not trusted, or ours is refused).</exception>
    public static async Task<DicomClientAssociation> ConnectAsync(string host, int port, DicomClientOptions options,
        IEnumerable<PresentationContextProposal> proposals, CancellationToken cancellationToken)
    {
        options.Validate();
        var list = proposals.ToList();
        if (list.Count is 0 or > 128) throw new ArgumentException($"{list.Count} presentation contexts proposed; 1 to 128 are possible", nameof(proposals));
        var requests = list.Select((p, i) => new PresentationContextRequest((byte)(2 * i + 1), p.AbstractSyntax, p.TransferSyntaxes)).ToList();
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DicomClientAssociation>();

        // AE-1: the transport connect request, bounded by the connect timeout.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var connectCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var timer = options.TimeProvider.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), connectCts, options.ConnectTimeout, Timeout.InfiniteTimeSpan);
            try
            {
                await socket.ConnectAsync(host, port, connectCts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DicomAssociationAbortedException($"Could not connect to {host}:{port} within {options.ConnectTimeout.TotalSeconds:0} s");
            }
            catch (SocketException ex)
            {
                throw new DicomAssociationAbortedException($"Could not connect to {host}:{port}: {ex.Message}", inner: ex);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Stream? transport = null;
        if (options.Tls is { } tlsOptions)
        {
            try
            {
                DicomTls tls;
                try
                {
                    tls = DicomTls.Load(tlsOptions, server: false);
                }
                catch (ArgumentException ex)
                {
                    throw new DicomTlsException(ex.Message, ex);
                }
                transport = await tls.AuthenticateAsync(socket, host, options.ConnectTimeout, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        var conn = new UpperLayerConnection(socket, isRequestor: true, options.TimeProvider, UpperLayerState.Sta4, transport);
        var association = new DicomClientAssociation(conn, options, logger);
        try
        {
            await association.AssociateAsync(host, port, requests, cancellationToken).ConfigureAwait(false);
            return association;
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task AssociateAsync(string host, int port, List<PresentationContextRequest> requests, CancellationToken ct)
    {
        var rq = new AAssociateRq(_options.CalledAeTitle.Trim(), _options.CallingAeTitle.Trim(), requests, UserInformation.Ours(_options.MaxPduLength));
        _conn.Fire(UpperLayerEvent.Evt2); // AE-2: send A-ASSOCIATE-RQ, Sta5
        await _conn.SendAsync(rq, _options.SendTimeout, ct).ConfigureAwait(false);
        var r = await _conn.ReceiveAsync(AssociatePduLimit, _options.AssociationTimeout, ct).ConfigureAwait(false);
        switch (r.Status)
        {
            case ReceiveStatus.TimedOut:
                _conn.Fire(UpperLayerEvent.Evt15); // AA-1
                await TrySendAbortAsync(AbortSource.ServiceUser, AbortReason.NotSpecified).ConfigureAwait(false);
                throw new DicomAssociationAbortedException($"{host}:{port} did not answer the association request within {_options.AssociationTimeout.TotalSeconds:0} s");
            case ReceiveStatus.Closed:
                _conn.Fire(UpperLayerEvent.Evt17); // AA-4
                throw new DicomAssociationAbortedException($"{host}:{port} closed the connection instead of answering the association request");
            case ReceiveStatus.Invalid:
                _conn.Fire(UpperLayerEvent.Evt19); // AA-8
                await TrySendAbortAsync(AbortSource.ServiceProvider, r.Error!.Reason).ConfigureAwait(false);
                throw new DicomAssociationAbortedException($"{host}:{port} answered with an invalid PDU: {r.Error.Message}", inner: r.Error);
        }
        var pdu = r.Pdu!;
        var t = _conn.Fire(UpperLayerStateMachine.EventFor(pdu));
        switch (pdu)
        {
            case AAssociateAc ac:
                Accept = ac;
                var byId = requests.ToDictionary(p => p.Id);
                Contexts = ac.PresentationContexts
                    .Where(pc => byId.ContainsKey(pc.Id))
                    .Select(pc => new NegotiatedContext(pc.Id, byId[pc.Id].AbstractSyntax, pc.Result, pc.TransferSyntax))
                    .ToList();
                _conn.PeerMaxPduLength = ac.UserInformation.MaxPduLength;
                Log.ClientAssociated(_logger, host, port, _options.CalledAeTitle, Contexts.Count(c => c.IsAccepted), requests.Count);
                _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
                return;
            case AAssociateRj rj:
                _conn.Close(); // AE-4
                throw new DicomAssociationRejectedException(rj);
            case AAbort abort:
                _conn.Close(); // AA-3
                throw new DicomAssociationAbortedException($"{host}:{port} aborted the association request (source {abort.Source}, reason {abort.Reason})", abort);
            default:
                if (t.Action == UpperLayerAction.AA8) await TrySendAbortAsync(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu).ConfigureAwait(false);
                throw new DicomAssociationAbortedException($"{host}:{port} answered the association request with {pdu.Type}");
        }
    }

    // ---- operations ----------------------------------------------------------------------------

    /// <summary>Sends a C-ECHO-RQ and returns the response status.</summary>
    public async Task<DicomStatus> EchoAsync(CancellationToken cancellationToken)
    {
        var pc = Contexts.FirstOrDefault(c => c.IsAccepted && c.AbstractSyntax == DicomUid.Verification)
            ?? throw new DicomNetworkException("The peer did not accept the Verification SOP class");
        var id = NextMessageId();
        var rsp = await RequestAsync(pc.Id, DimseCommand.EchoRequest(id), null, cancellationToken).ConfigureAwait(false);
        return rsp.Status;
    }

    /// <summary>
    /// Sends one Part 10 file by C-STORE. The data set goes straight from the file when an accepted context has the
    /// file's transfer syntax; otherwise an uncompressed file is re-encoded in the context's uncompressed syntax.
    /// Problems with the file itself come back as a result without a status; a lost association throws.
    /// </summary>
    public async Task<DicomStoreResult> StoreAsync(string path, CancellationToken cancellationToken)
    {
        DicomFileHeader header;
        string? sopClass, sopInstance;
        try
        {
            (header, sopClass, sopInstance) = await Task.Run(() => ReadIdentity(path), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
        {
            return new DicomStoreResult(path, null, null, "Not a readable DICOM file: " + ex.Message) { Failure = DicomStoreFailure.Unreadable };
        }
        if (string.IsNullOrEmpty(sopClass) || string.IsNullOrEmpty(sopInstance))
            return new DicomStoreResult(path, sopInstance, null, "The file has no SOP Class or SOP Instance UID") { Failure = DicomStoreFailure.Unreadable };

        var fileSyntax = header.TransferSyntax;
        var candidates = Contexts.Where(c => c.IsAccepted && c.AbstractSyntax == sopClass).ToList();
        var exact = candidates.FirstOrDefault(c => c.TransferSyntax == fileSyntax.Uid);
        var convertible = fileSyntax.IsEncapsulated ? null : candidates.FirstOrDefault(c => !DicomTransferSyntax.FromUid(c.TransferSyntax).IsEncapsulated);
        var pc = exact ?? convertible;
        if (pc is null)
        {
            var why = candidates.Count == 0
                ? $"The peer accepted no presentation context for SOP class {DicomUid.NameOf(sopClass) ?? sopClass}"
                : $"The peer accepts {DicomUid.NameOf(sopClass) ?? sopClass} only in {string.Join(", ", candidates.Select(c => DicomUid.NameOf(c.TransferSyntax) ?? c.TransferSyntax))}; the file is {fileSyntax.Name}";
            return new DicomStoreResult(path, sopInstance, null, why) { Failure = DicomStoreFailure.NotNegotiated };
        }

        string? temp = null;
        try
        {
            var source = path;
            var offset = header.DatasetOffset;
            if (pc != exact)
            {
                // Re-encode off the caller's thread (the core writer is synchronous) into a temporary file, so memory
                // stays flat whatever the instance size; then stream it like any file.
                temp = Path.Combine(Path.GetTempPath(), "hipponode-send-" + Guid.NewGuid().ToString("N") + ".dcm");
                var target = DicomTransferSyntax.FromUid(pc.TransferSyntax);
                var tempPath = temp;
                try
                {
                    await Task.Run(() =>
                    {
                        var file = DicomFile.Open(path);
                        using var fs = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                        DicomDatasetWriter.Write(fs, file.Dataset, target);
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or (DicomException and not DicomNetworkException))
                {
                    return new DicomStoreResult(path, sopInstance, null, $"Could not convert the file to {target.Name}: {ex.Message}") { Failure = DicomStoreFailure.Unreadable };
                }
                source = temp;
                offset = 0;
            }

            var command = DimseCommand.StoreRequest(NextMessageId(), sopClass, sopInstance);
            var rsp = await RequestAsync(pc.Id, command, async ct =>
            {
                await using var fs = new FileStream(source, new FileStreamOptions
                {
                    Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0,
                    Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                });
                fs.Position = offset;
                await _conn.SendPDataAsync(pc.Id, fs, fs.Length - offset, _options.SendTimeout, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return new DicomStoreResult(path, sopInstance, rsp.Status, rsp.Status.IsFailure ? rsp.ErrorComment ?? rsp.Status.Description : null)
            {
                Failure = rsp.Status.IsFailure || rsp.Status.Category is DicomStatusCategory.Cancel or DicomStatusCategory.Pending ? DicomStoreFailure.PeerStatus : DicomStoreFailure.None,
            };
        }
        finally
        {
            if (temp is not null) StoreFileSink.TryDelete(temp);
        }
    }

    private static (DicomFileHeader Header, string? SopClass, string? SopInstance) ReadIdentity(string path)
    {
        var header = DicomReader.ReadFileHeader(path);
        var sopClass = header.FileMetaInformation.GetString(DicomTags.MediaStorageSOPClassUID);
        var sopInstance = header.FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID);
        if (string.IsNullOrEmpty(sopClass) || string.IsNullOrEmpty(sopInstance))
        {
            // No (complete) meta information: the data set names itself.
            var ds = DicomFile.Open(path, DicomReadOptions.Default with { StopAtTag = new DicomTag(0x0008, 0x0019) }).Dataset;
            sopClass = string.IsNullOrEmpty(sopClass) ? ds.GetString(DicomTags.SOPClassUID) : sopClass;
            sopInstance = string.IsNullOrEmpty(sopInstance) ? ds.GetString(DicomTags.SOPInstanceUID) : sopInstance;
        }
        return (header, sopClass, sopInstance);
    }

    private async Task<DimseCommand> RequestAsync(byte pcid, DimseCommand command, Func<CancellationToken, Task>? sendData, CancellationToken ct)
    {
        await _operation.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            var tcs = new TaskCompletionSource<DimseCommand>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_sync)
            {
                _pending = tcs;
                _pendingMessageId = command.MessageId;
            }
            await _conn.SendPDataAsync(pcid, true, command.Encode(), _options.SendTimeout, ct).ConfigureAwait(false);
            if (sendData is not null)
            {
                try
                {
                    await sendData(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The command is out but its data set is not: the message cannot be completed, so the association goes.
                    var reason = "Reading the data set failed mid-send; association aborted: " + ex.Message;
                    await AbortAsync(reason).ConfigureAwait(false);
                    throw new DicomAssociationAbortedException(reason, inner: ex);
                }
            }
            try
            {
                return await tcs.Task.WaitAsync(_options.ResponseTimeout, _options.TimeProvider, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                var reason = $"No response to {command.CommandField} within {_options.ResponseTimeout.TotalSeconds:0} s; association aborted";
                await AbortAsync(reason).ConfigureAwait(false);
                throw new DicomAssociationAbortedException(reason);
            }
        }
        catch (DicomAssociationAbortedException) when (Volatile.Read(ref _failure) is { } failure)
        {
            // The read loop knows better why the association ended (an A-ABORT, a closed connection).
            throw new DicomAssociationAbortedException(failure.Message, (failure as DicomAssociationAbortedException)?.Abort, failure);
        }
        finally
        {
            lock (_sync) _pending = null;
            _operation.Release();
        }
    }

    private ushort NextMessageId() => (ushort)(Interlocked.Increment(ref _nextMessageId) & 0xFFFF);

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } f) throw new DicomAssociationAbortedException(f.Message, (f as DicomAssociationAbortedException)?.Abort, f);
        if (_conn.State != UpperLayerState.Sta6) throw new DicomAssociationAbortedException($"The association is not open ({_conn.State})");
    }

    // ---- release and abort ---------------------------------------------------------------------

    /// <summary>Releases the association (A-RELEASE-RQ, waits for A-RELEASE-RP) and closes the connection.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_conn.State != UpperLayerState.Sta6 || Volatile.Read(ref _failure) is not null) return;
            var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_sync) _released = released;
            _conn.Fire(UpperLayerEvent.Evt11); // AR-1: send A-RELEASE-RQ, Sta7
            await _conn.SendAsync(new AReleaseRq(), _options.SendTimeout, cancellationToken).ConfigureAwait(false);
            try
            {
                await released.Task.WaitAsync(_options.AssociationTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                var reason = $"No A-RELEASE-RP within {_options.AssociationTimeout.TotalSeconds:0} s; association aborted";
                await AbortAsync(reason).ConfigureAwait(false);
                throw new DicomAssociationAbortedException(reason);
            }
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>Aborts the association (A-ABORT, service-user source) and closes the connection.</summary>
    public ValueTask AbortAsync() => AbortAsync("The association was aborted locally");

    private async ValueTask AbortAsync(string reason)
    {
        if (UpperLayerStateMachine.TryGetTransition(_conn.State, UpperLayerEvent.Evt15, true, out _))
        {
            _conn.Fire(UpperLayerEvent.Evt15); // AA-1
            Fail(new DicomAssociationAbortedException(reason));
            await TrySendAbortAsync(AbortSource.ServiceUser, AbortReason.NotSpecified).ConfigureAwait(false);
        }
        _conn.Close();
    }

    /// <summary>Releases when still open (aborting if that fails), closes and waits for the read loop.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (IsOpen) await ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (DicomNetworkException)
        {
            await AbortAsync().ConfigureAwait(false);
        }
        _conn.Close();
        await _readLoop.ConfigureAwait(false);
        await _conn.DisposeAsync().ConfigureAwait(false);
        _operation.Dispose();
    }

    private async Task TrySendAbortAsync(AbortSource source, AbortReason reason)
    {
        try
        {
            await _conn.SendAsync(new AAbort(source, reason), TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (DicomNetworkException)
        {
            // the peer is gone already
        }
        _conn.Close();
    }

    // ---- the read loop -------------------------------------------------------------------------

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var r = await _conn.ReceiveAsync(_options.MaxPduLength == 0 ? uint.MaxValue : _options.MaxPduLength,
                    Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false);
                if (r.Status == ReceiveStatus.Closed)
                {
                    if (UpperLayerStateMachine.TryGetTransition(_conn.State, UpperLayerEvent.Evt17, true, out _)) _conn.Fire(UpperLayerEvent.Evt17);
                    Fail(new DicomAssociationAbortedException("The peer closed the connection"));
                    return;
                }
                if (r.Status == ReceiveStatus.Invalid)
                {
                    Fail(new DicomAssociationAbortedException("The peer sent an invalid PDU: " + r.Error!.Message, inner: r.Error));
                    await ProviderAbortAsync(UpperLayerEvent.Evt19, r.Error.Reason).ConfigureAwait(false);
                    return;
                }
                if (r.Status == ReceiveStatus.TimedOut) continue; // no timer on this loop

                var pdu = r.Pdu!;
                var evt = UpperLayerStateMachine.EventFor(pdu);
                if (!UpperLayerStateMachine.TryGetTransition(_conn.State, evt, true, out var t)) return; // closed meanwhile
                _conn.Fire(evt);
                switch (t.Action)
                {
                    case UpperLayerAction.DT2 or UpperLayerAction.AR6:
                        try
                        {
                            OnPData((PDataTf)pdu);
                        }
                        catch (DicomNetworkException ex)
                        {
                            Fail(new DicomAssociationAbortedException("Protocol error from the peer: " + ex.Message, inner: ex));
                            _conn.SetState(UpperLayerState.Sta13);
                            await TrySendAbortAsync(AbortSource.ServiceProvider, AbortReason.UnexpectedPduParameter).ConfigureAwait(false);
                            return;
                        }
                        break;
                    case UpperLayerAction.AR3: // A-RELEASE-RP: released
                        lock (_sync) _released?.TrySetResult();
                        Fail(new DicomAssociationAbortedException("The association was released"));
                        _conn.Close();
                        return;
                    case UpperLayerAction.AR2: // the peer releases: answer, then it closes
                        Fail(new DicomAssociationAbortedException("The peer released the association"));
                        _conn.Fire(UpperLayerEvent.Evt14); // AR-4
                        await _conn.SendAsync(new AReleaseRp(), _options.SendTimeout, CancellationToken.None).ConfigureAwait(false);
                        await _conn.WaitForPeerCloseAsync(_options.AssociationTimeout, CancellationToken.None).ConfigureAwait(false);
                        return;
                    case UpperLayerAction.AR8: // release collision, requestor side (Sta9): answer with A-RELEASE-RP, await theirs
                        _conn.Fire(UpperLayerEvent.Evt14); // AR-9, Sta11
                        await _conn.SendAsync(new AReleaseRp(), _options.SendTimeout, CancellationToken.None).ConfigureAwait(false);
                        break;
                    case UpperLayerAction.AA3:
                        var abort = (AAbort)pdu;
                        Fail(new DicomAssociationAbortedException($"The peer aborted the association (source {abort.Source}, reason {abort.Reason})", abort));
                        _conn.Close();
                        return;
                    case UpperLayerAction.AA6:
                        break;
                    default: // AA-7, AA-8: a PDU that has no place here
                        Fail(new DicomAssociationAbortedException($"Unexpected {pdu.Type} from the peer"));
                        await TrySendAbortAsync(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu).ConfigureAwait(false);
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is DicomNetworkException or IOException or ObjectDisposedException)
        {
            Fail(ex as DicomNetworkException ?? new DicomAssociationAbortedException(ex.Message, inner: ex));
            _conn.Close();
        }
    }

    private async Task ProviderAbortAsync(UpperLayerEvent evt, AbortReason reason)
    {
        if (UpperLayerStateMachine.TryGetTransition(_conn.State, evt, true, out _)) _conn.Fire(evt);
        await TrySendAbortAsync(AbortSource.ServiceProvider, reason).ConfigureAwait(false);
    }

    private void OnPData(PDataTf pdu)
    {
        foreach (var pdv in pdu.Values)
        {
            if (!pdv.IsCommand)
            {
                // Responses to C-ECHO and C-STORE carry no data set; one announced anyway is skipped.
                if (_skipDataOn != pdv.PresentationContextId) throw new DicomNetworkException("A data set fragment arrived without a command announcing it");
                if (pdv.IsLastFragment) _skipDataOn = 0;
                continue;
            }
            _command ??= new MemoryStream(256);
            if (_command.Length + pdv.Data.Length > 64 * 1024) throw new DicomNetworkException("Response command set longer than 64 KiB");
            _command.Write(pdv.Data.Span);
            if (!pdv.IsLastFragment) continue;
            var command = DimseCommand.Decode(_command.GetBuffer().AsMemory(0, (int)_command.Length));
            _command = null;
            if (command.HasDataset) _skipDataOn = pdv.PresentationContextId;
            if (!command.IsResponse) throw new DicomNetworkException($"The peer sent a request ({command.CommandField}); we act as SCU only");
            lock (_sync)
            {
                // A late response to a request we gave up on has no taker: it is dropped.
                if (_pending is { } p && command.MessageIdBeingRespondedTo == _pendingMessageId) p.TrySetResult(command);
            }
        }
    }

    private void Fail(Exception reason)
    {
        Interlocked.CompareExchange(ref _failure, reason, null);
        lock (_sync)
        {
            _pending?.TrySetException(reason);
            _released?.TrySetResult();
        }
    }
}
