using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HippoNode.Dicom;
using HippoNode.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>Our SCP on loopback with its log kept, plus a raw peer that sends bytes and reads the answer until the server closes.</summary>
internal sealed class ScpHarness : IAsyncDisposable, ILoggerFactory, ILogger
{
    public const string Called = "REGRSCP";
    public const string MrImage = "1.2.840.10008.5.1.4.1.1.4";

    private readonly string _work = Directory.CreateTempSubdirectory("hipponode-regression").FullName;
    private DicomServer? _server;

    /// <summary>Every message at Warning or above: level, event id, text and exception.</summary>
    public ConcurrentQueue<(LogLevel Level, int EventId, string Text)> Messages { get; } = new();

    public int Port => _server!.Port;

    public string Incoming => Path.Combine(_work, "incoming");

    public static async Task<ScpHarness> StartAsync()
    {
        var h = new ScpHarness();
        var options = new DicomServerOptions
        {
            AeTitle = Called, BindAddress = IPAddress.Loopback, Port = 0, IncomingDirectory = h.Incoming,
            ArtimTimeout = TimeSpan.FromSeconds(2), IdleTimeout = TimeSpan.FromSeconds(2),
        };
        h._server = new DicomServer(options, new FileStoreHandler(Path.Combine(h._work, "store")), loggerFactory: h);
        await h._server.StartAsync(CancellationToken.None);
        return h;
    }

    /// <summary>Sends the bytes, half-closes (or resets), and returns the PDUs the server answered before it closed.</summary>
    public async Task<List<Pdu>> ExchangeAsync(byte[] bytes, bool reset = false)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, Port);
        await socket.SendAsync(bytes, SocketFlags.None);
        if (reset)
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
            return [];
        }
        socket.Shutdown(SocketShutdown.Send);
        var received = new MemoryStream();
        var buffer = new byte[16384];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) received.Write(buffer, 0, n);
        }
        catch (SocketException)
        {
            // a reset after the answer: what came before it is checked
        }
        var seq = new ReadOnlySequence<byte>(received.ToArray());
        var pdus = new List<Pdu>();
        while (PduReader.TryRead(ref seq, uint.MaxValue, out var pdu)) pdus.Add(pdu);
        return pdus;
    }

    /// <summary>A clean C-ECHO from our SCU.</summary>
    public async Task<DicomStatus> EchoAsync()
    {
        var client = new DicomClientOptions { CallingAeTitle = "REGRSCU", CalledAeTitle = Called };
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", Port, client, [PresentationContextProposal.Verification], CancellationToken.None);
        var status = await a.EchoAsync(CancellationToken.None);
        await a.ReleaseAsync(CancellationToken.None);
        return status;
    }

    /// <summary>Waits until the server holds no association (they end after the peer's close).</summary>
    public async Task IdleAsync()
    {
        for (var i = 0; i < 300 && _server!.ActiveAssociations > 0; i++) await Task.Delay(20);
        Assert.Equal(0, _server!.ActiveAssociations);
    }

    /// <summary>An A-ASSOCIATE-RQ proposing the given contexts, from our own writer.</summary>
    public static byte[] AssociateRq(params PresentationContextRequest[] contexts) =>
        PduWriter.ToArray(new AAssociateRq(Called, "REGRSCU", contexts, UserInformation.Ours(65536)));

    /// <summary>One P-DATA-TF holding one whole PDV.</summary>
    public static byte[] PData(byte pcid, bool command, byte[] data) =>
        PduWriter.ToArray(new PDataTf([new PresentationDataValue(pcid, command, true, data)]));

    public static byte[] ReleaseRq() => PduWriter.ToArray(new AReleaseRq());

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        try { Directory.Delete(_work, true); } catch (IOException) { }
    }

    // ---- the log ---------------------------------------------------------------------------------

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Messages.Enqueue((logLevel, eventId.Id, formatter(state, exception) + (exception is null ? "" : $" [{exception.GetType().Name}: {exception.Message}]")));

    /// <summary>The Error-level messages (event 1003: an association ended with an unexpected error).</summary>
    public List<string> Errors => [.. Messages.Where(l => l.Level >= LogLevel.Error).Select(l => $"{l.EventId}: {l.Text}")];
}
