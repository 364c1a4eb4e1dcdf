using HippoNode.Node.Http;
using HippoNode.Node.Services;
using HippoNode.Node.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Json;

namespace HippoNode.Node;

/// <summary>
/// Builds the node as a generic host: console, systemd unit (Type=notify) or Windows service. Configuration, later
/// wins: appsettings.json next to the executable, an optional --config FILE, environment variables
/// (HippoNode__Pacs__Host=...), the command line (--HippoNode:Port=11112 or the short switches in <see cref="Switches"/>).
/// </summary>
public static class NodeHost
{
    /// <summary>Short command-line switches and the keys they set.</summary>
    public static IReadOnlyDictionary<string, string> Switches { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--aet"] = "HippoNode:AeTitle",
        ["--port"] = "HippoNode:Port",
        ["--bind"] = "HippoNode:BindAddress",
        ["--storage"] = "HippoNode:StorageFolder",
        ["--stable-seconds"] = "HippoNode:StableSeconds",
        ["--pacs-aet"] = "HippoNode:Pacs:AeTitle",
        ["--pacs-host"] = "HippoNode:Pacs:Host",
        ["--pacs-port"] = "HippoNode:Pacs:Port",
        ["--http"] = "HippoNode:Http:Url",
        ["--model"] = "HippoNode:Analysis:ModelFolder",
        ["--rules"] = "HippoNode:Analysis:RulesFile",
        ["--chest-model"] = "HippoNode:ChestXray:ModelFolder",
        ["--chest-rules"] = "HippoNode:ChestXray:RulesFile",
    };

    /// <summary>
    /// A host builder with every node service registered. <paramref name="configure"/> runs last: tests add in-memory
    /// settings or replace <see cref="IStudyAnalysisRunner"/> there.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            // The shipped appsettings.json sits next to the executable, wherever the service is started from.
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "HippoNode",
        });
        var configFile = ConfigFileArgument(args);
        if (configFile is not null)
        {
            // Inserted before the environment and command line sources, so those still override it.
            var index = builder.Configuration.Sources.ToList().FindIndex(s => s is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource);
            var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = Path.GetFullPath(configFile), Optional = false, ReloadOnChange = false };
            source.ResolveFileProvider();
            if (index < 0) builder.Configuration.Sources.Add(source);
            else builder.Configuration.Sources.Insert(index, source);
        }
        builder.Configuration.AddCommandLine(args.Where((a, i) => a != "--config" && (i == 0 || args[i - 1] != "--config")).ToArray(), Switches.ToDictionary());

        builder.Services.AddWindowsService(o => o.ServiceName = "HippoNode");
        builder.Services.AddSystemd();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        builder.Services.AddOptions<NodeOptions>().Bind(builder.Configuration.GetSection(NodeOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        AddServices(builder.Services);
        configure?.Invoke(builder);
        ConfigureLogging(builder);
        return builder;
    }

    /// <summary>Builds the host.</summary>
    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null) => CreateBuilder(args, configure).Build();

    private static string? ConfigFileArgument(string[] args)
    {
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--config") return args[i + 1];
        }
        return null;
    }

    /// <summary>The node's services (singletons) and hosted services in start order: startup, SCP, stability, jobs, outbox, retention, HTTP.</summary>
    public static void AddServices(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStudyAnalysisRunner, StudyAnalyzerRunner>();
        services.AddSingleton(sp => new StoragePaths(sp.GetRequiredService<IOptions<NodeOptions>>().Value.StorageRoot));
        services.AddSingleton(sp =>
        {
            var paths = sp.GetRequiredService<StoragePaths>();
            Directory.CreateDirectory(paths.Root);
            // Opened once at first use (by the startup service); synchronous here because DI factories are.
            return NodeDatabase.OpenAsync(paths.Database, sp.GetRequiredService<TimeProvider>()).GetAwaiter().GetResult();
        });
        services.TryAddSingleton<Dicom.Network.IFreeSpaceProbe>(Dicom.Network.DriveFreeSpaceProbe.Instance);
        services.AddSingleton<DiskStatus>();
        services.AddSingleton<StudyGate>();
        services.AddSingleton<OpenDeliveries>();
        services.AddSingleton<StorageLock>();
        services.AddSingleton<NodeSignals>();
        services.AddSingleton<NodeMetrics>();
        services.AddSingleton<NodeEndpoints>();
        services.AddSingleton<SpoolStoreHandler>();
        services.AddHostedService<StartupService>();
        services.AddHostedService<DicomReceiverService>();
        services.AddHostedService<StudyStabilityService>();
        services.AddHostedService<JobRunnerService>();
        services.AddHostedService<OutboxService>();
        services.AddSingleton<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());
        services.AddHostedService<HttpEndpointService>();
    }

    private static void ConfigureLogging(HostApplicationBuilder builder)
    {
        var node = builder.Configuration.GetSection(NodeOptions.Section).Get<NodeOptions>() ?? new NodeOptions();
        var logs = new StoragePaths(node.StorageRoot).Logs;
        var config = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .Enrich.FromLogContext()
            // "Serilog" in the configuration can change levels and add sinks (Serilog.Settings.Configuration).
            .ReadFrom.Configuration(builder.Configuration)
            // Structured JSON lines, one file per day, two weeks kept.
            .WriteTo.File(new JsonFormatter(renderMessage: true), Path.Combine(logs, "hipponode-.log"), rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14, shared: false);
        if (node.ConsoleLog) config = config.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(config.CreateLogger(), dispose: true);
    }
}

/// <summary>Refuses to start on settings that cannot work, naming each problem.</summary>
internal sealed class NodeOptionsValidator : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options) =>
        options.Problems() is { Count: > 0 } p ? ValidateOptionsResult.Fail(p) : ValidateOptionsResult.Success;
}
