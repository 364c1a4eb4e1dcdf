using System.Net;
using System.Runtime.InteropServices;
using HippoNode.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace HippoNode.Commands;

/// <summary>`hipponode store-scp --port N --aet AE --out DIR`: a standalone C-STORE receiver, one folder per study, until Ctrl-C or SIGTERM (plain TCP, or DICOM TLS with --tls-cert/--tls-key).</summary>
public static class StoreScpCommand
{
    private const string Usage = "store-scp --port N --aet AE --out DIR [--bind ADDRESS] [--allow-calling AE[,AE...]] [--min-free-mb N] [--tls-cert PEM --tls-key PEM [--tls-ca PEM] [--tls-verify-peer]]";

    /// <summary>Runs the verb; returns 0 after a clean stop, 1 when the port cannot be bound.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        int? port = null;
        string? aet = null, outDir = null;
        var options = new DicomServerOptions();
        var tls = new NetworkArgs.TlsArgs();
        for (var i = 0; i < args.Length; i++)
        {
            if (tls.TryParse(args, ref i)) continue;
            switch (args[i])
            {
                case "--min-free-mb": options.MinFreeBytes = NetworkArgs.ParseInt(NetworkArgs.Value(args, ref i), "--min-free-mb", 0, int.MaxValue) * 1024L * 1024; break;
                case "--port": port = NetworkArgs.ParseInt(NetworkArgs.Value(args, ref i), "--port", 0, 65535); break;
                case "--aet": aet = NetworkArgs.Value(args, ref i); break;
                case "--out": outDir = NetworkArgs.Value(args, ref i); break;
                case "--bind":
                    var text = NetworkArgs.Value(args, ref i);
                    options.BindAddress = IPAddress.TryParse(text, out var ip) ? ip : throw new UsageException($"--bind '{text}' is not an IP address");
                    break;
                case "--allow-calling":
                    options.AllowedCallingAeTitles = NetworkArgs.Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                default: throw new UsageException($"unexpected argument '{args[i]}' (usage: hipponode {Usage})");
            }
        }
        if (port is null || aet is null || outDir is null) throw new UsageException($"--port, --aet and --out are required (usage: hipponode {Usage})");
        NetworkArgs.CheckAeTitle(aet, "--aet");

        options.Port = port.Value;
        options.AeTitle = aet;
        options.Tls = tls.Build(server: true);
        var root = Path.GetFullPath(outDir);
        // Incoming files live under the output folder, so filing one into its study folder is a rename.
        options.IncomingDirectory = Path.Combine(root, ".incoming");
        var handler = new FileStoreHandler(root);
        var lines = new Lock();
        handler.Stored += s =>
        {
            lock (lines) output.WriteLine($"stored {s.Path} from {s.Request.CallingAeTitle} ({s.Status})");
        };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // SIGTERM (docker stop, systemd) stops as cleanly as Ctrl-C.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });
        using var loggerFactory = new StderrLoggerFactory(error, LogLevel.Warning);
        DicomServer server;
        try
        {
            server = new DicomServer(options, handler, loggerFactory: loggerFactory);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        await using var _ = server;
        try
        {
            await server.StartAsync(stop.Token).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            await error.WriteLineAsync($"hipponode store-scp: cannot listen on port {port}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        await output.WriteLineAsync($"store-scp {aet} listening on port {server.Port}{(server.IsTls ? " (DICOM TLS)" : "")}, storing under {root} (Ctrl-C to stop)").ConfigureAwait(false);
        await output.FlushAsync(stop.Token).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM
        }
        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await output.WriteLineAsync("store-scp stopped").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Warnings and errors of the network layer as single lines on stderr.</summary>
    private sealed class StderrLoggerFactory(TextWriter error, LogLevel minimum) : ILoggerFactory
    {
        private readonly Lock _lock = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void AddProvider(ILoggerProvider provider)
        {
            // only the one sink
        }

        public void Dispose()
        {
            // nothing held
        }

        private sealed class Logger(StderrLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                lock (owner._lock) owner.Error.WriteLine($"{logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}{(exception is null ? "" : " (" + exception.Message + ")")}");
            }
        }

        private LogLevel Minimum => minimum;

        private TextWriter Error => error;
    }
}
