using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HippoNode.Dicom;
using HippoNode.Dicom.Network;
using HippoNode.Node.Demo;

namespace HippoNode.Fuzzing;

/// <summary>
/// The network seed corpus: byte streams that real requestors (DCMTK storescu and echoscu, our own SCU) sent to our
/// SCP, captured by a recording proxy on loopback and kept as files under Corpus/pdu (one file per association,
/// client to server only).
/// </summary>
public static class PduCorpus
{
    /// <summary>The AE title the captured streams call (the fuzz server answers to it).</summary>
    public const string CalledAe = "FUZZSCP";

    /// <summary>The AE title the captured streams call from.</summary>
    public const string CallingAe = "FUZZSCU";

    /// <summary>The corpus folder in the source tree (where a capture writes).</summary>
    public static string SourceFolder => Path.Combine(FuzzData.RepoRoot, "tests", "HippoNode.Fuzzing", "Corpus", "pdu");

    /// <summary>The corpus as copied beside the binaries, else from the source tree.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Load()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", "pdu");
        var folder = Directory.Exists(beside) ? beside : SourceFolder;
        if (!Directory.Exists(folder)) return [];
        return [.. Directory.GetFiles(folder, "*.bin").Order(StringComparer.Ordinal).Select(f => (Path.GetFileNameWithoutExtension(f), File.ReadAllBytes(f)))];
    }

    /// <summary>Splits a stream into whole PDUs (header included); a trailing partial PDU is left out.</summary>
    public static List<byte[]> Split(byte[] stream)
    {
        var pdus = new List<byte[]>();
        for (var at = 0; at + 6 <= stream.Length;)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(at + 2));
            if (length > stream.Length - at - 6) break;
            pdus.Add(stream.AsSpan(at, 6 + (int)length).ToArray());
            at += 6 + (int)length;
        }
        return pdus;
    }

    /// <summary>The command sets (command PDV fragments joined) found in a stream's P-DATA-TF PDUs.</summary>
    public static List<byte[]> CommandSets(byte[] stream)
    {
        var sets = new List<byte[]>();
        var current = new MemoryStream();
        foreach (var pdu in Split(stream))
        {
            if (pdu[0] != 0x04) continue;
            for (var at = 6; at + 6 <= pdu.Length;)
            {
                var itemLength = (int)BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(at));
                if (itemLength < 2 || at + 4 + itemLength > pdu.Length) break;
                var header = pdu[at + 5];
                if ((header & 1) != 0)
                {
                    current.Write(pdu.AsSpan(at + 6, itemLength - 2));
                    if ((header & 2) != 0)
                    {
                        sets.Add(current.ToArray());
                        current = new MemoryStream();
                    }
                }
                at += 4 + itemLength;
            }
        }
        return sets;
    }

    /// <summary>
    /// Captures the corpus: our SCP behind a recording proxy, and storescu, echoscu and our SCU sending small
    /// synthetic files through it. Returns the files written.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CaptureAsync(string outputFolder, Action<string>? log, CancellationToken ct)
    {
        Directory.CreateDirectory(outputFolder);
        var work = Directory.CreateTempSubdirectory("hipponode-capture").FullName;
        var written = new List<string>();
        try
        {
            var files = Path.Combine(work, "files");
            SyntheticStudy.Write(files);
            var slices = Directory.GetFiles(files).Order(StringComparer.Ordinal).Take(2).ToArray();
            var options = new DicomServerOptions
            {
                AeTitle = CalledAe, BindAddress = IPAddress.Loopback, Port = 0, IncomingDirectory = Path.Combine(work, "incoming"),
            };
            await using var server = new DicomServer(options, new FileStoreHandler(Path.Combine(work, "store")));
            await server.StartAsync(ct).ConfigureAwait(false);
            // A second server that announces a 4 KiB maximum PDU, so that the requestors fragment data sets into many PDVs.
            var small = new DicomServerOptions
            {
                AeTitle = CalledAe, BindAddress = IPAddress.Loopback, Port = 0, IncomingDirectory = Path.Combine(work, "incoming"), MaxPduLength = 4096,
            };
            await using var smallServer = new DicomServer(small, new FileStoreHandler(Path.Combine(work, "store")));
            await smallServer.StartAsync(ct).ConfigureAwait(false);
            using var bigProxy = new RecordingProxy(server.Port);
            using var smallProxy = new RecordingProxy(smallServer.Port);

            async Task Capture(string name, Func<int, Task> send, bool fragmented = false)
            {
                var proxy = fragmented ? smallProxy : bigProxy;
                proxy.Clear();
                await send(proxy.Port).ConfigureAwait(false);
                await Task.Delay(200, ct).ConfigureAwait(false); // the pumps flush what the last read brought
                var bytes = proxy.Recorded();
                if (bytes.Length == 0) throw new InvalidOperationException($"capture {name}: nothing recorded");
                var path = Path.Combine(outputFolder, name + ".bin");
                await File.WriteAllBytesAsync(path, bytes, ct).ConfigureAwait(false);
                written.Add(path);
                log?.Invoke($"captured {name}: {bytes.Length} bytes, {Split(bytes).Count} PDUs");
            }

            var dcmtk = new[] { "-aet", CallingAe, "-aec", CalledAe };
            if (HasTool("storescu") && HasTool("echoscu"))
            {
                await Capture("echoscu", p => RunTool("echoscu", [.. dcmtk, "127.0.0.1", $"{p}"], ct)).ConfigureAwait(false);
                await Capture("storescu-2-slices", p => RunTool("storescu", [.. dcmtk, "127.0.0.1", $"{p}", .. slices], ct)).ConfigureAwait(false);
                await Capture("storescu-fragmented-implicit", p => RunTool("storescu", [.. dcmtk, "-xi", "127.0.0.1", $"{p}", slices[0]], ct), fragmented: true).ConfigureAwait(false);
                await Capture("storescu-big-endian", p => RunTool("storescu", [.. dcmtk, "-xb", "127.0.0.1", $"{p}", slices[1]], ct)).ConfigureAwait(false);
            }
            else
            {
                log?.Invoke("storescu/echoscu not found: capturing our own SCU only");
            }
            var ours = new DicomClientOptions { CallingAeTitle = CallingAe, CalledAeTitle = CalledAe };
            await Capture("ourscu-2-slices", async p =>
            {
                await foreach (var r in DicomSender.SendAsync("127.0.0.1", p, ours, slices, ct).ConfigureAwait(false))
                    if (!r.Succeeded) throw new InvalidOperationException($"our SCU: {r.Error}");
            }).ConfigureAwait(false);
            await Capture("ourscu-fragmented", async p =>
            {
                await foreach (var r in DicomSender.SendAsync("127.0.0.1", p, ours, slices[..1], ct).ConfigureAwait(false))
                    if (!r.Succeeded) throw new InvalidOperationException($"our SCU: {r.Error}");
            }, fragmented: true).ConfigureAwait(false);
            await Capture("ourscu-echo", async p =>
            {
                await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", p, ours, [PresentationContextProposal.Verification], ct).ConfigureAwait(false);
                await a.EchoAsync(ct).ConfigureAwait(false);
                await a.ReleaseAsync(ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            await server.StopAsync(ct).ConfigureAwait(false);
            await smallServer.StopAsync(ct).ConfigureAwait(false);
            return written;
        }
        finally
        {
            try { Directory.Delete(work, true); } catch (IOException) { }
        }
    }

    private static bool HasTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, name)));

    private static async Task RunTool(string tool, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {tool}");
        var err = p.StandardError.ReadToEndAsync(ct);
        _ = p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} exited {p.ExitCode}: {await err.ConfigureAwait(false)}");
    }

    /// <summary>Forwards loopback connections to the server and records what clients send.</summary>
    private sealed class RecordingProxy : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _target;
        private readonly CancellationTokenSource _stop = new();
        private MemoryStream _recorded = new();

        public RecordingProxy(int targetPort)
        {
            _target = targetPort;
            _listener.Start();
            _ = AcceptLoop();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Clear()
        {
            lock (this) _recorded = new MemoryStream();
        }

        public byte[] Recorded()
        {
            lock (this) return _recorded.ToArray();
        }

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try { client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false); }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await upstream.ConnectAsync(IPAddress.Loopback, _target).ConfigureAwait(false);
                var pumps = Task.WhenAll(Pump(client, upstream, record: true), Pump(upstream, client, record: false));
                _ = pumps.ContinueWith(_ => { client.Dispose(); upstream.Dispose(); }, TaskScheduler.Default);
            }
        }

        private async Task Pump(Socket from, Socket to, bool record)
        {
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    var n = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                    if (n == 0) break;
                    if (record) lock (this) _recorded.Write(buffer, 0, n);
                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
                }
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // one side went away: the other follows
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
