using System.Text.Json;
using System.Text.Json.Serialization;
using HippoNode.Node.Services;
using HippoNode.Node.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace HippoNode.Node.Http;

/// <summary>
/// The loopback HTTP endpoint (Kestrel bound to 127.0.0.1 or ::1 only, never a public address): /health, /jobs,
/// /jobs/{id}, /deadletter (GET; POST /deadletter/resend) and Prometheus /metrics. Its own small web application
/// beside the node's host, sharing the node's database, metrics and logging.
/// </summary>
public sealed class HttpEndpointService(IOptions<NodeOptions> options, NodeDatabase database, NodeMetrics metrics, NodeEndpoints endpoints,
    DiskStatus disk, NodeSignals signals, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private WebApplication? _app;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var endPoint = options.Value.Http.LoopbackEndPoint();
        if (string.IsNullOrEmpty(options.Value.Http.Url) || endPoint is null) return;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(HttpEndpointService).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(endPoint));
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggerFactory);
        // The node's host owns the process lifetime (signals, systemd); this inner application must not hook them too.
        builder.Services.AddSingleton<IHostLifetime, InnerLifetime>();
        var app = builder.Build();
        app.UseRouting();
        MapEndpoints(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? $"http://{endPoint}";
        endpoints.HttpUrl = address;
        Log.HttpStarted(loggerFactory.CreateLogger<HttpEndpointService>(), address);
    }

    private void MapEndpoints(WebApplication app)
    {
        app.MapGet("/health", async (CancellationToken ct) =>
        {
            try
            {
                var counts = await database.CountsAsync(ct).ConfigureAwait(false);
                var free = disk.FreeBytes();
                var paused = disk.IsBelowWatermark(free);
                return Results.Json(new
                {
                    // degraded: the node runs, but receiving is paused for lack of disk or some result could not be delivered.
                    status = paused || counts.OutboxDeadLetter > 0 ? "degraded" : "ok",
                    aeTitle = options.Value.AeTitle,
                    dicomPort = endpoints.DicomPort,
                    dicomTls = options.Value.Tls.Enabled,
                    jobs = counts.JobsByState.ToDictionary(kv => kv.Key.ToString().ToLowerInvariant(), kv => kv.Value),
                    outboxPending = counts.OutboxPending,
                    outboxDeadLetter = counts.OutboxDeadLetter,
                    studiesWaiting = counts.StudiesWaiting,
                    receiving = !paused,
                    diskFreeMegabytes = free / (1024 * 1024),
                    minFreeMegabytes = disk.MinFreeBytes / (1024 * 1024),
                }, Json);
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                return Results.Json(new { status = "unhealthy", error = ex.Message }, Json, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });
        app.MapGet("/jobs", async (int? limit, string? study, CancellationToken ct) =>
            Results.Json((await database.ListJobsAsync(Math.Clamp(limit ?? 100, 1, 1000), study, ct).ConfigureAwait(false)).Select(JobView.From), Json));
        app.MapGet("/jobs/{id:long}", async (long id, CancellationToken ct) =>
            await database.GetJobAsync(id, ct).ConfigureAwait(false) is { } job ? Results.Json(JobView.From(job), Json) : Results.NotFound());
        app.MapGet("/deadletter", async (CancellationToken ct) =>
            Results.Json((await database.DeadLettersAsync(ct).ConfigureAwait(false)).Select(DeadLetterView.From), Json));
        app.MapPost("/deadletter/resend", async (HttpRequest request, long? job, CancellationToken ct) =>
        {
            // Loopback keeps other machines out; a web page in a local browser could still post here: browsers say
            // where such a request comes from (Origin), tools like curl do not.
            if (request.Headers.Origin.Count > 0) return Results.Json(new { error = "cross-origin requests are refused" }, Json, statusCode: StatusCodes.Status403Forbidden);
            var (items, jobs) = await database.ResendDeadLettersAsync(job, ct).ConfigureAwait(false);
            Log.Resent(loggerFactory.CreateLogger<HttpEndpointService>(), items, jobs);
            if (items > 0) signals.OutboxFilled.Set();
            return Results.Json(new { resentItems = items, jobs }, Json);
        });
        app.MapMetrics("/metrics", metrics.Registry);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The inner web application's lifetime: started and stopped by the node's host, no signal handling or banner of its own.</summary>
internal sealed class InnerLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A dead-lettered result object as /deadletter shows it.</summary>
public sealed record DeadLetterView(long JobId, string SopInstanceUid, string SopClassUid, string File, int Attempts, int PermanentFailures, string? LastError,
    DateTimeOffset? DeadLetteredAt)
{
    /// <summary>The view of an outbox item.</summary>
    public static DeadLetterView From(OutboxItem o) => new(o.JobId, o.SopInstanceUid, o.SopClassUid, o.Path, o.Attempts, o.PermanentFailures, o.LastError, o.DeadLetteredAt);
}

/// <summary>A job as /jobs shows it (UIDs, states, timings, volumes, quality, each module's outcome; no patient data).</summary>
public sealed record JobView(long Id, string StudyInstanceUid, string State, int Instances, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, int Attempts, string? Error, string? SkipReason, IReadOnlyDictionary<string, double> VolumesMm3, double? Agreement,
    bool? QualityFlagged, IReadOnlyList<JobStage> Stages, double TotalMilliseconds, IReadOnlyList<JobView.Output> Outputs, IReadOnlyList<JobView.Series> SeriesDecisions,
    string? ResultJson, DateTimeOffset? PurgedAt, IReadOnlyList<JobModule> Modules)
{
    /// <summary>One result object.</summary>
    public sealed record Output(string SopInstanceUid, string SopClassUid, string File, bool Sent, int Attempts, string? LastError, DateTimeOffset? SentAt,
        bool DeadLetter, int PermanentFailures);

    /// <summary>One series and the selection's decision.</summary>
    public sealed record Series(string SeriesInstanceUid, string? Description, string? Modality, int Instances, bool Chosen, string Reason);

    /// <summary>The view of a stored job.</summary>
    public static JobView From(JobRecord j) => new(j.Id, j.StudyInstanceUid, j.State.ToString().ToLowerInvariant(), j.Instances, j.CreatedAt, j.StartedAt,
        j.FinishedAt, j.Attempts, j.Error, j.SkipReason, j.VolumesMm3, j.Agreement, j.QualityFlagged, j.Stages, j.Stages.Sum(s => s.Milliseconds),
        j.Outputs.Select(o => new Output(o.SopInstanceUid, o.SopClassUid, o.Path, o.Sent, o.Attempts, o.LastError, o.SentAt, o.DeadLetter, o.PermanentFailures)).ToList(),
        j.Series.Select(s => new Series(s.SeriesInstanceUid, s.SeriesDescription, s.Modality, s.Instances, s.Chosen, s.Reason)).ToList(),
        j.ResultJson, j.PurgedAt, j.Modules);
}
