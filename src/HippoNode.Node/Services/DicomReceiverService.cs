using System.Net;
using HippoNode.Dicom;
using HippoNode.Dicom.Network;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HippoNode.Node.Services;

/// <summary>What the running node bound to (the real ports when the settings said 0).</summary>
public sealed class NodeEndpoints
{
    /// <summary>The DICOM port, once listening.</summary>
    public int DicomPort { get; internal set; }

    /// <summary>The HTTP endpoint's base URL, once listening; null when disabled.</summary>
    public string? HttpUrl { get; internal set; }
}

/// <summary>The C-STORE SCP: our <see cref="DicomServer"/> with the spooler as its store handler.</summary>
public sealed class DicomReceiverService(IOptions<NodeOptions> options, StoragePaths paths, SpoolStoreHandler spooler, NodeEndpoints endpoints,
    DiskStatus disk, ILoggerFactory loggerFactory, TimeProvider time) : IHostedService, IAsyncDisposable
{
    private DicomServer? _server;

    /// <summary>What the node accepts when <see cref="NodeOptions.AcceptCompressed"/> is off: the native (uncompressed) syntaxes, best first.</summary>
    public static IReadOnlyList<string> UncompressedTransferSyntaxes { get; } =
        [.. DicomServerOptions.DefaultTransferSyntaxPreference.Where(uid => DicomTransferSyntax.Known.First(t => t.Uid == uid) is { IsEncapsulated: false })];

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var serverOptions = new DicomServerOptions
        {
            AeTitle = o.AeTitle,
            Port = o.Port,
            BindAddress = IPAddress.Parse(o.BindAddress),
            AllowedCallingAeTitles = o.AllowedCallers.Count == 0 ? null : o.AllowedCallers,
            AllowedPeerAddresses = o.AllowedCallerHosts.Count == 0
                ? null
                : o.AllowedCallerHosts.ToDictionary(kv => kv.Key.Trim(), kv => (IReadOnlyCollection<IPAddress>)kv.Value.Select(IPAddress.Parse).ToList(), StringComparer.Ordinal),
            // Under the storage root: filing a received instance into its study folder is a rename, never a copy.
            IncomingDirectory = paths.Incoming,
            Tls = o.Tls.ForServer(),
            MinFreeBytes = disk.MinFreeBytes,
            FreeSpaceProbe = disk.Probe,
            // Uncompressed only unless told otherwise: the analysis cannot decode compressed pixels, and a PACS that is
            // refused a compressed syntax (Orthanc with AllowTranscoding) sends the image decompressed instead.
            TransferSyntaxPreference = o.AcceptCompressed ? DicomServerOptions.DefaultTransferSyntaxPreference : UncompressedTransferSyntaxes,
        };
        _server = new DicomServer(serverOptions, spooler, loggerFactory: loggerFactory, timeProvider: time);
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        endpoints.DicomPort = _server.Port;
        Log.NodeStarted(loggerFactory.CreateLogger<DicomReceiverService>(), o.AeTitle, _server.LocalEndPoint, _server.IsTls ? "DICOM TLS" : "plain TCP", paths.Root,
            o.Pacs.AeTitle, o.Pacs.Host, o.Pacs.Port, o.Pacs.Tls ? "DICOM TLS" : "plain TCP");
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A background loop that logs and restarts itself after an unexpected error instead of taking the host down.</summary>
public abstract class ResilientLoop(ILogger logger, string component) : BackgroundService
{
    /// <summary>One run of the loop until <paramref name="stoppingToken"/> fires.</summary>
    protected abstract Task RunAsync(CancellationToken stoppingToken);

    /// <inheritdoc />
    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var delay = TimeSpan.FromSeconds(1);
                Log.ComponentCrashed(logger, component, delay, ex);
                try
                {
                    await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>Finds studies whose quiet time has passed and that no open association still delivers, and queues one job each (on a <see cref="PeriodicTimer"/> tick).</summary>
public sealed class StudyStabilityService(NodeDatabase database, IOptions<NodeOptions> options, NodeSignals signals, OpenDeliveries deliveries, TimeProvider time,
    ILogger<StudyStabilityService> logger) : ResilientLoop(logger, "stability check")
{
    /// <inheritdoc />
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var stable = TimeSpan.FromSeconds(options.Value.StableSeconds);
        // Look a few times per quiet period: a study is queued at most a quarter period late (bounded 50 ms - 1 s).
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(stable.TotalMilliseconds / 4, 50, 1000));
        using var timer = new PeriodicTimer(tick, time);
        do
        {
            await CheckAsync(stable, stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task CheckAsync(TimeSpan stable, CancellationToken ct)
    {
        var ids = await database.QueueStableStudiesAsync(time.GetUtcNow() - stable, deliveries.Studies(), ct).ConfigureAwait(false);
        foreach (var id in ids)
        {
            var job = await database.GetJobAsync(id, ct).ConfigureAwait(false);
            if (job is not null) Log.Queued(logger, job.StudyInstanceUid, id);
        }
        if (ids.Count > 0) signals.JobQueued.Set();
    }
}
