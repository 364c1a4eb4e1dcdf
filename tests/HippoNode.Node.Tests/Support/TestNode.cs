using System.Globalization;
using HippoNode.Node.Services;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HippoNode.Node.Tests.Support;

/// <summary>A temp folder, deleted at the end (kept when HIPPONODE_KEEP_TEST_DIRS is set).</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hn-node-" + Guid.NewGuid().ToString("N")[..10]);

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("HIPPONODE_KEEP_TEST_DIRS") is null)
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }
}

/// <summary>The node as an in-process host on free loopback ports over a storage folder (a restart is a new TestNode on the same folder).</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private TestNode(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public NodeDatabase Db => Services.GetRequiredService<NodeDatabase>();

    public int DicomPort => Services.GetRequiredService<NodeEndpoints>().DicomPort;

    public string? HttpUrl => Services.GetRequiredService<NodeEndpoints>().HttpUrl;

    /// <summary>Settings every test node starts from: fast quiet time and retries, HTTP on a free loopback port.</summary>
    public static Dictionary<string, string?> Settings(string storage, int pacsPort) => new()
    {
        ["HippoNode:AeTitle"] = "HIPPONODE",
        ["HippoNode:Port"] = "0",
        ["HippoNode:BindAddress"] = "127.0.0.1",
        ["HippoNode:Pacs:AeTitle"] = "PACS",
        ["HippoNode:Pacs:Host"] = "127.0.0.1",
        ["HippoNode:Pacs:Port"] = pacsPort.ToString(CultureInfo.InvariantCulture),
        ["HippoNode:StableSeconds"] = "0.4",
        ["HippoNode:StorageFolder"] = storage,
        ["HippoNode:Http:Url"] = "http://127.0.0.1:0",
        ["HippoNode:ConsoleLog"] = "false",
        ["HippoNode:Retry:Attempts"] = "1",
        ["HippoNode:Retry:FirstDelaySeconds"] = "0.1",
        ["HippoNode:Retry:MaxDelaySeconds"] = "0.4",
        ["HippoNode:Retry:TimeoutSeconds"] = "5",
    };

    /// <summary>The node's host, not started; a null <paramref name="runner"/> keeps the real analysis modules; <paramref name="services"/> replaces services (a free-space probe, a clock).</summary>
    public static IHost Build(Dictionary<string, string?> settings, IStudyAnalysisRunner? runner, Action<IServiceCollection>? services = null) =>
        NodeHost.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            if (runner is not null) b.Services.AddSingleton(runner);
            services?.Invoke(b.Services);
        });

    public static async Task<TestNode> StartAsync(string storage, int pacsPort, IStudyAnalysisRunner? runner, Action<Dictionary<string, string?>>? tweak = null,
        Action<IServiceCollection>? services = null)
    {
        var settings = Settings(storage, pacsPort);
        tweak?.Invoke(settings);
        var host = Build(settings, runner, services);
        await host.StartAsync();
        return new TestNode(host);
    }

    /// <summary>Waits until a job matches; fails the test with the jobs seen when none does in time.</summary>
    public async Task<JobRecord> WaitForJobAsync(Func<JobRecord, bool> match, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var jobs = await Db.ListJobsAsync();
            if (jobs.FirstOrDefault(match) is { } j) return j;
            if (DateTime.UtcNow > until)
                throw new TimeoutException("no matching job; jobs: " + string.Join(" | ", jobs.Select(x => $"{x.Id} {x.State} {x.Error}{x.SkipReason} outputs {x.Outputs.Count(o => o.Sent)}/{x.Outputs.Count} {x.Outputs.FirstOrDefault()?.LastError}")));
            await Task.Delay(50);
        }
    }

    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await _host.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}
