using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HippoNode.Dicom.Network;

/// <summary>
/// A DICOM SCP: C-ECHO and C-STORE over any number of simultaneous associations, one task each. Received instances
/// are streamed to disk and handed to an <see cref="IDicomStoreHandler"/>; what a peer does (stall, send garbage,
/// vanish) costs that one association, never the server.
/// </summary>
public sealed class DicomServer : IAsyncDisposable
{
    private readonly DicomServerOptions _options;
    private readonly IDicomStoreHandler _storeHandler;
    private readonly IDicomAssociationPolicy _policy;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly DicomTls? _tls;
    private readonly FreeSpaceGuard _freeSpace;
    private readonly ConcurrentDictionary<long, Task> _associations = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;
    private long _nextId;
    private int _active;

    /// <summary>
    /// A server with the given options and handler; the policy defaults to <see cref="DicomAssociationPolicy"/> over
    /// the options. TLS certificates are loaded here: a wrong file fails now, with its name, not at the first peer.
    /// </summary>
    public DicomServer(DicomServerOptions options, IDicomStoreHandler storeHandler, IDicomAssociationPolicy? policy = null,
        ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        options.Validate();
        _options = options;
        _storeHandler = storeHandler;
        _policy = policy ?? new DicomAssociationPolicy(options);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DicomServer>();
        _time = timeProvider ?? TimeProvider.System;
        _tls = options.Tls is null ? null : DicomTls.Load(options.Tls, server: true);
        _freeSpace = new FreeSpaceGuard(options, _logger);
    }

    /// <summary>True when connections must speak TLS.</summary>
    public bool IsTls => _tls is not null;

    /// <summary>The bound address once started.</summary>
    public IPEndPoint? LocalEndPoint => _listener?.LocalEndpoint as IPEndPoint;

    /// <summary>The bound port once started (the real one when the options said 0).</summary>
    public int Port => LocalEndPoint?.Port ?? 0;

    /// <summary>Associations being served now.</summary>
    public int ActiveAssociations => Volatile.Read(ref _active);

    /// <summary>Binds and starts accepting; returns once the port is open.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_listener is not null) throw new InvalidOperationException("The server is already started");
        Directory.CreateDirectory(_options.IncomingDirectory);
        var listener = new TcpListener(_options.BindAddress, _options.Port);
        listener.Start(backlog: 128);
        _listener = listener;
        Log.Listening(_logger, _options.AeTitle, listener.LocalEndpoint);
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Starts, serves until <paramref name="cancellationToken"/> is cancelled, then stops (aborting open associations).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the normal way to stop
        }
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Stops listening, aborts the associations still open and waits for them to end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        if (_acceptLoop is not null) await _acceptLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_associations.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
        Log.Stopped(_logger);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // Out of descriptors or a connection reset while queued: wait a moment rather than spin.
                Log.AcceptFailed(_logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            var id = Interlocked.Increment(ref _nextId);
            _associations[id] = ServeAsync(socket, id, ct);
        }
    }

    private async Task ServeAsync(Socket socket, long id, CancellationToken ct)
    {
        await Task.Yield(); // off the accept loop at once
        var active = Interlocked.Increment(ref _active);
        try
        {
            Stream? transport = null;
            if (_tls is not null)
            {
                // The handshake is bounded by ARTIM, like the A-ASSOCIATE-RQ that follows it: a silent peer costs one slot briefly.
                try
                {
                    transport = await _tls.AuthenticateAsync(socket, null, _options.ArtimTimeout, _time, ct).ConfigureAwait(false);
                }
                catch (DicomTlsException ex)
                {
                    Log.TlsHandshakeFailed(_logger, SafeRemote(socket), ex.Message);
                    socket.Dispose();
                    return;
                }
                var ssl = (System.Net.Security.SslStream)transport;
                Log.TlsEstablished(_logger, SafeRemote(socket), ssl.SslProtocol, ssl.NegotiatedCipherSuite, ssl.RemoteCertificate?.Subject ?? "none");
            }
            var association = new ScpAssociation(socket, transport, id, _options, _policy, _storeHandler, _freeSpace, _logger, _time,
                overCapacity: () => active > _options.MaxAssociations);
            await association.RunAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            socket.Dispose(); // stopped during the TLS handshake
        }
        catch (Exception ex)
        {
            // Whatever happened, it ends here: one association lost, the server goes on.
            Log.AssociationCrashed(_logger, id, ex);
            socket.Dispose();
        }
        finally
        {
            Interlocked.Decrement(ref _active);
            _associations.TryRemove(id, out _);
        }
    }

    private static EndPoint? SafeRemote(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
