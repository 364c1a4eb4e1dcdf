using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HippoNode.Dicom;
using HippoNode.Dicom.Network;
using Microsoft.Extensions.Logging;

namespace HippoNode.Fuzzing;

/// <summary>
/// The PDU reader and the Upper Layer state machine, fed byte streams from a peer: captured associations (storescu,
/// echoscu, our SCU) with PDUs mutated, dropped, duplicated, reordered, truncated, oversized, given wrong lengths and
/// types, delivered in one write or in fragments, ended by a half-close, a stall or a reset. Each input goes once
/// through <see cref="PduReader"/> in memory (split into the same fragments) and once over loopback to a real
/// <see cref="DicomServer"/> (our SCP with its store handler), several connections at a time.
/// </summary>
public sealed class PduStreamTarget : FuzzTarget
{
    private enum Ending { HalfClose, Stall, Reset }

    private sealed record Delivery(int[] Chunks, int[] DelaysMs, Ending Ending);

    private readonly List<(string Name, List<byte[]> Pdus)> _seeds = [];
    private readonly ConcurrentDictionary<int, int> _seedByPort = new();
    private readonly ConcurrentQueue<LateFinding> _late = new();
    private readonly ServerLog _log;
    private DicomServer? _server;
    private string _work = "";

    /// <summary>A target with its own server (started by <see cref="InitializeAsync"/>).</summary>
    public PduStreamTarget() => _log = new ServerLog(this);

    /// <inheritdoc />
    public override string Name => "pdu";

    /// <inheritdoc />
    public override string Invariant =>
        "the server answers only well-formed PDUs (A-ASSOCIATE-AC/RJ, P-DATA-TF, A-RELEASE-RP, A-ABORT) and closes the connection within its ARTIM/idle timers; " +
        "no association ends in an unexpected error (event 1003) and the store handler throws only DicomException/IOException; PduReader throws only DicomPduException; " +
        "after each batch no association is open, the incoming folder is empty and a clean C-ECHO succeeds";

    /// <inheritdoc />
    public override int Parallelism => 16;

    /// <inheritdoc />
    public override TimeSpan HangLimit => TimeSpan.FromSeconds(15);

    /// <summary>The server's timers: short, so that stalled inputs end quickly.</summary>
    public static readonly TimeSpan ServerTimers = TimeSpan.FromMilliseconds(500);

    /// <summary>The fuzzed server's port.</summary>
    public int Port => _server?.Port ?? 0;

    /// <inheritdoc />
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, bytes) in PduCorpus.Load()) _seeds.Add((name, PduCorpus.Split(bytes)));
        if (_seeds.Count == 0) throw new InvalidOperationException($"the PDU corpus is missing ({PduCorpus.SourceFolder}); capture it with `bench fuzz --capture`");
        SeedSummary = $"{_seeds.Count} captured associations ({string.Join(", ", _seeds.Select(s => $"{s.Name}: {s.Pdus.Count} PDUs"))})";
        _work = Directory.CreateTempSubdirectory("hipponode-fuzz-pdu").FullName;
        var options = new DicomServerOptions
        {
            AeTitle = PduCorpus.CalledAe, BindAddress = IPAddress.Loopback, Port = 0, IncomingDirectory = Path.Combine(_work, "incoming"),
            ArtimTimeout = ServerTimers, IdleTimeout = ServerTimers, SendTimeout = TimeSpan.FromSeconds(2),
        };
        _server = new DicomServer(options, new FileStoreHandler(Path.Combine(_work, "store")), loggerFactory: _log);
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---- generation ----------------------------------------------------------------------------

    /// <inheritdoc />
    public override FuzzInput Generate(int seed)
    {
        var rng = new Random(seed);
        var (name, original) = _seeds[rng.Next(_seeds.Count)];
        var pdus = original.Select(p => (byte[])p.Clone()).ToList();
        var applied = new List<string>();
        var n = 1 + rng.Next(3);
        for (var k = 0; k < n; k++) Mutate(pdus, rng, applied);
        var bytes = pdus.SelectMany(p => p).ToArray();
        if (rng.Next(12) == 0 && bytes.Length > 1)
        {
            var cut = rng.Next(bytes.Length);
            bytes = bytes[..cut];
            applied.Add($"stream-truncate@{cut}");
        }
        if (rng.Next(20) == 0)
        {
            var garbage = new byte[1 + rng.Next(64)];
            rng.NextBytes(garbage);
            bytes = [.. bytes, .. garbage];
            applied.Add($"garbage+{garbage.Length}");
        }
        var delivery = PlanDelivery(bytes.Length, rng);
        var description = $"{name} [{string.Join(' ', applied)}] {delivery.Chunks.Length} write(s){(delivery.DelaysMs.Any(d => d > 0) ? " with pauses" : "")}, {delivery.Ending}";
        return new FuzzInput(seed, description, bytes, delivery);
    }

    private void Mutate(List<byte[]> pdus, Random rng, List<string> applied)
    {
        if (pdus.Count == 0)
        {
            pdus.Add(RandomPdu(rng));
            applied.Add("random-pdu");
            return;
        }
        var i = rng.Next(pdus.Count);
        if (pdus[i].Length < 6) pdus[i] = [.. pdus[i], .. new byte[6 - pdus[i].Length]]; // a header to work on
        switch (rng.Next(14))
        {
            case 0:
            case 1:
            case 2: // byte-level mutation of one PDU (header included)
            {
                var (bytes, what) = ByteMutator.Mutate(pdus[i], ItemOffsets(pdus[i]), bigEndian: true, rng);
                pdus[i] = bytes;
                applied.Add($"pdu{i}:{what}");
                break;
            }
            case 3:
                pdus.RemoveAt(i);
                applied.Add($"drop{i}");
                break;
            case 4:
            {
                var at = rng.Next(pdus.Count + 1);
                pdus.Insert(at, (byte[])pdus[i].Clone());
                applied.Add($"dup{i}@{at}");
                break;
            }
            case 5:
            {
                var j = rng.Next(pdus.Count);
                (pdus[i], pdus[j]) = (pdus[j], pdus[i]);
                applied.Add($"swap{i},{j}");
                break;
            }
            case 6:
            {
                var p = pdus[i];
                pdus.RemoveAt(i);
                pdus.Insert(0, p);
                applied.Add($"first{i}");
                break;
            }
            case 7: // a PDU from another association
            {
                var other = _seeds[rng.Next(_seeds.Count)].Pdus;
                if (other.Count == 0) goto case 3;
                var at = rng.Next(pdus.Count + 1);
                pdus.Insert(at, (byte[])other[rng.Next(other.Count)].Clone());
                applied.Add($"foreign@{at}");
                break;
            }
            case 8: // PDU length field
            {
                var len = (uint)(pdus[i].Length - 6);
                uint[] values = [0, 1, 2, 3, 4, 5, 6, len - 1, len + 1, len + 6, 0xFFFF, 0x10000, 0x10001, 0x10006, 0x100000, 0x100001, 0x7FFFFFFF, 0xFFFFFFFF];
                var v = values[rng.Next(values.Length)];
                BinaryPrimitives.WriteUInt32BigEndian(pdus[i].AsSpan(2), v);
                applied.Add($"pdu{i}:len={v:X}");
                break;
            }
            case 9: // PDU type
            {
                byte[] types = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0xFF];
                var t = types[rng.Next(types.Length)];
                pdus[i][0] = t;
                applied.Add($"pdu{i}:type={t:X2}");
                break;
            }
            case 10: // oversized P-DATA-TF: over the 64 KiB we announce
            {
                var body = 65536 + 1 + rng.Next(4096);
                var pdu = new byte[6 + body];
                pdu[0] = 0x04;
                BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)body);
                BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(6), (uint)(body - 4));
                pdu[10] = 1;
                pdu[11] = (byte)rng.Next(4);
                var at = rng.Next(pdus.Count + 1);
                pdus.Insert(at, pdu);
                applied.Add($"oversized-pdata{body}@{at}");
                break;
            }
            case 11: // PDV level: presentation context, control header, item length
            {
                var p = pdus[i];
                if (p[0] != 0x04 || p.Length < 12) goto case 0;
                switch (rng.Next(3))
                {
                    case 0:
                        p[10] = (byte)rng.Next(256);
                        applied.Add($"pdu{i}:pcid={p[10]}");
                        break;
                    case 1:
                        p[11] = rng.Next(2) == 0 ? (byte)rng.Next(4) : (byte)rng.Next(256);
                        applied.Add($"pdu{i}:mch={p[11]:X2}");
                        break;
                    default:
                        var v = ByteMutator.Interesting32[rng.Next(ByteMutator.Interesting32.Length)];
                        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(6), v);
                        applied.Add($"pdu{i}:pdvlen={v:X}");
                        break;
                }
                break;
            }
            case 12: // item level in an A-ASSOCIATE PDU: type, length, duplication
            {
                var p = pdus[i];
                var items = ItemOffsets(p).Where(o => o >= 74 && o + 4 <= p.Length).ToArray();
                if (p[0] is not (1 or 2) || items.Length == 0) goto case 0;
                var o = items[rng.Next(items.Length)];
                switch (rng.Next(3))
                {
                    case 0:
                        byte[] types = [0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x58, 0x00, 0xFF];
                        p[o] = types[rng.Next(types.Length)];
                        applied.Add($"pdu{i}:item@{o}type={p[o]:X2}");
                        break;
                    case 1:
                        ushort[] lens = [0, 1, 2, 3, 4, 0x7FFF, 0xFFFF];
                        var l = rng.Next(2) == 0 ? lens[rng.Next(lens.Length)] : (ushort)rng.Next(65536);
                        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(o + 2), l);
                        applied.Add($"pdu{i}:item@{o}len={l}");
                        break;
                    default:
                        var itemLength = 4 + BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(o + 2));
                        if (o + itemLength > p.Length) goto case 0;
                        var copy = p.AsSpan(o, itemLength).ToArray();
                        var grown = new byte[p.Length + itemLength];
                        p.AsSpan(0, o + itemLength).CopyTo(grown);
                        copy.CopyTo(grown, o + itemLength);
                        p.AsSpan(o + itemLength).CopyTo(grown.AsSpan(o + 2 * itemLength));
                        BinaryPrimitives.WriteUInt32BigEndian(grown.AsSpan(2), (uint)(grown.Length - 6));
                        pdus[i] = grown;
                        applied.Add($"pdu{i}:item@{o}dup");
                        break;
                }
                break;
            }
            default:
            {
                var at = rng.Next(pdus.Count + 1);
                pdus.Insert(at, RandomPdu(rng));
                applied.Add($"random-pdu@{at}");
                break;
            }
        }
    }

    /// <summary>A PDU of a random type with a short random body (release, abort, reject shapes among them).</summary>
    private static byte[] RandomPdu(Random rng)
    {
        var body = new byte[rng.Next(3) == 0 ? 4 : rng.Next(80)];
        rng.NextBytes(body);
        var pdu = new byte[6 + body.Length];
        pdu[0] = (byte)(1 + rng.Next(7));
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)body.Length);
        body.CopyTo(pdu, 6);
        return pdu;
    }

    /// <summary>Offsets of items and sub-items (A-ASSOCIATE) or PDV items (P-DATA) in a PDU, for structure-aware mutations.</summary>
    private static int[] ItemOffsets(byte[] pdu)
    {
        var found = new List<int> { 0 };
        if (pdu.Length < 6) return [.. found];
        if (pdu[0] is 1 or 2)
        {
            void Walk(int from, int end, bool descend)
            {
                for (var at = from; at + 4 <= end && found.Count < 512;)
                {
                    found.Add(at);
                    var len = BinaryPrimitives.ReadUInt16BigEndian(pdu.AsSpan(at + 2));
                    if (descend && pdu[at] is 0x20 or 0x21) Walk(at + 8, Math.Min(end, at + 4 + len), false);
                    if (descend && pdu[at] == 0x50) Walk(at + 4, Math.Min(end, at + 4 + len), false);
                    at += 4 + len;
                }
            }
            Walk(74, pdu.Length, true);
        }
        else if (pdu[0] == 4)
        {
            for (var at = 6; at + 6 <= pdu.Length && found.Count < 512;)
            {
                found.Add(at);
                var len = BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(at));
                if (len > pdu.Length) break;
                at += 4 + (int)len;
            }
        }
        return [.. found];
    }

    private static Delivery PlanDelivery(int length, Random rng)
    {
        var chunks = new List<int>();
        var mode = rng.Next(10);
        if (mode < 4 || length == 0)
        {
            chunks.Add(length);
        }
        else
        {
            var max = mode < 8 ? 1 + rng.Next(1500) : 1 + rng.Next(16);
            for (var left = length; left > 0;)
            {
                var c = Math.Min(left, 1 + rng.Next(max));
                chunks.Add(c);
                left -= c;
            }
        }
        var delays = new int[chunks.Count];
        if (chunks.Count > 1 && rng.Next(10) == 0)
        {
            for (var k = 0; k < 20; k++) delays[rng.Next(delays.Length)] = 1 + rng.Next(5);
        }
        var e = rng.Next(100);
        var ending = e < 88 ? Ending.HalfClose : e < 96 ? Ending.Stall : Ending.Reset;
        return new Delivery([.. chunks], delays, ending);
    }

    // ---- running -------------------------------------------------------------------------------

    /// <inheritdoc />
    public override async Task<FuzzResult> RunAsync(FuzzInput input, CancellationToken cancellationToken)
    {
        var delivery = (Delivery)input.State!;
        if (ReadInMemory(input.Bytes, delivery.Chunks) is { } readerProblem) return FuzzResult.Crash(readerProblem);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
        _seedByPort[((IPEndPoint)socket.LocalEndPoint!).Port] = input.Seed;
        var received = new MemoryStream();
        var reading = ReceiveAllAsync(socket, received, cancellationToken);
        try
        {
            var at = 0;
            for (var c = 0; c < delivery.Chunks.Length; c++)
            {
                await socket.SendAsync(input.Bytes.AsMemory(at, delivery.Chunks[c]), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                at += delivery.Chunks[c];
                if (delivery.DelaysMs[c] > 0) await Task.Delay(delivery.DelaysMs[c], cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException)
        {
            // the server aborted and closed while we were still sending: what it answered is checked below
        }
        catch (OperationCanceledException)
        {
            return FuzzResult.Crash("the server stopped reading and never closed the connection");
        }

        if (delivery.Ending == Ending.Reset)
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close(); // RST: the server must notice and let go
            try { await reading.ConfigureAwait(false); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException) { }
            return FuzzResult.Rejected;
        }
        if (delivery.Ending == Ending.HalfClose)
        {
            try { socket.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
        }
        bool resetByServer;
        try
        {
            resetByServer = await reading.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return FuzzResult.Crash($"no close from the server within {2 * HangLimit.TotalSeconds:F0} s ({delivery.Ending})");
        }
        return CheckAnswer(received.ToArray(), resetByServer);
    }

    /// <summary>Reads until the server closes; true when the close was a reset.</summary>
    private static async Task<bool> ReceiveAllAsync(Socket socket, MemoryStream into, CancellationToken ct)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0) return false;
                into.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>What a SCP may send: whole, well-formed PDUs of the acceptor's types.</summary>
    private static FuzzResult CheckAnswer(byte[] answer, bool resetByServer)
    {
        var seq = new ReadOnlySequence<byte>(answer);
        var accepted = false;
        try
        {
            while (PduReader.TryRead(ref seq, uint.MaxValue, out var pdu))
            {
                switch (pdu)
                {
                    case AAssociateAc:
                        accepted = true;
                        break;
                    case AAssociateRj or PDataTf or AReleaseRp or AAbort:
                        break;
                    default:
                        return FuzzResult.Crash($"the server sent {pdu.Type}, which an acceptor never sends");
                }
            }
        }
        catch (DicomPduException ex)
        {
            return FuzzResult.Crash("the server sent a malformed PDU: " + ex.Message);
        }
        if (seq.Length > 0 && !resetByServer) return FuzzResult.Crash($"the server closed after {seq.Length} bytes of an unfinished PDU");
        return accepted ? FuzzResult.Accepted : FuzzResult.Rejected;
    }

    /// <summary>PduReader over the same bytes in the same fragments: only DicomPduException may come out.</summary>
    private static string? ReadInMemory(byte[] bytes, int[] chunks)
    {
        try
        {
            var seq = Segments(bytes, chunks);
            var first = true;
            while (PduReader.TryRead(ref seq, first ? 1u << 20 : 65536u, out _)) first = false;
            return null;
        }
        catch (DicomPduException)
        {
            return null;
        }
        catch (Exception ex)
        {
            return "PduReader: " + Describe(ex);
        }
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes, int[] chunks)
    {
        if (chunks.Length <= 1) return new ReadOnlySequence<byte>(bytes);
        Segment? first = null, last = null;
        var at = 0;
        foreach (var c in chunks)
        {
            if (c == 0) continue;
            var s = new Segment(bytes.AsMemory(at, c));
            at += c;
            if (first is null) first = last = s;
            else last = last!.Append(s);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
            return next;
        }
    }

    // ---- after each batch ----------------------------------------------------------------------

    /// <inheritdoc />
    public override async Task<string?> AfterBatchAsync(CancellationToken cancellationToken)
    {
        var server = _server!;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (server.ActiveAssociations > 0 && DateTime.UtcNow < until) await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();
        if (server.ActiveAssociations > 0) problems.Add($"{server.ActiveAssociations} association(s) still open 20 s after the batch");
        var incoming = Path.Combine(_work, "incoming");
        var left = Directory.Exists(incoming) ? Directory.GetFiles(incoming, "*", SearchOption.AllDirectories).Length : 0;
        if (left > 0) problems.Add($"{left} file(s) left in the incoming folder");
        try
        {
            var client = new DicomClientOptions { CallingAeTitle = "CLEANSCU", CalledAeTitle = PduCorpus.CalledAe, AssociationTimeout = TimeSpan.FromSeconds(10), ResponseTimeout = TimeSpan.FromSeconds(10) };
            await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", Port, client, [PresentationContextProposal.Verification], cancellationToken).ConfigureAwait(false);
            var status = await a.EchoAsync(cancellationToken).ConfigureAwait(false);
            await a.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            if (!status.IsSuccess) problems.Add($"the clean C-ECHO got {status}");
        }
        catch (Exception ex) when (ex is DicomException or IOException or SocketException or TimeoutException)
        {
            problems.Add("the clean C-ECHO failed: " + Describe(ex));
        }
        var store = Path.Combine(_work, "store");
        if (Directory.Exists(store))
        {
            foreach (var d in Directory.GetDirectories(store)) Directory.Delete(d, true);
        }
        _seedByPort.Clear();
        _log.Forget();
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <inheritdoc />
    public override IReadOnlyList<LateFinding> DrainLateFindings()
    {
        var list = new List<LateFinding>();
        while (_late.TryDequeue(out var f)) list.Add(f);
        return list;
    }

    /// <summary>Stops the server and removes its folders.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
        try { if (_work.Length > 0) Directory.Delete(_work, true); } catch (IOException) { }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    // ---- the server's log, watched for unexpected errors ----------------------------------------

    private void OnServerError(long? associationId, int? port, string problem)
    {
        var seed = port is { } p && _seedByPort.TryGetValue(p, out var s) ? s : 0;
        _late.Enqueue(new LateFinding(seed, $"server: {problem}{(associationId is null ? "" : $" (association {associationId})")}"));
    }

    /// <summary>
    /// A logger for the server that maps association IDs to the client's port (from the association's log scope) and
    /// turns errors (event 1003, an association ending in an unexpected exception) and store-handler exceptions other
    /// than DicomException/IOException (event 1109) into findings attributed to the input that caused them.
    /// </summary>
    private sealed class ServerLog(PduStreamTarget owner) : ILoggerFactory, ILogger
    {
        private static readonly AsyncLocal<long?> Current = new();
        private readonly ConcurrentDictionary<long, int> _portById = new();

        public ILogger CreateLogger(string categoryName) => this;

        /// <summary>Drops the association-to-port map between batches (every association of the batch has ended).</summary>
        public void Forget() => _portById.Clear();

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public IDisposable BeginScope<TState>(TState state) where TState : notnull
        {
            if (state is not IReadOnlyList<KeyValuePair<string, object?>> values) return NoScope.Instance;
            var id = values.FirstOrDefault(v => v.Key == "AssociationId").Value as long?;
            if (id is { } i && values.FirstOrDefault(v => v.Key == "Remote").Value is IPEndPoint remote) _portById[i] = remote.Port;
            var previous = Current.Value;
            Current.Value = id;
            return new Scope(previous);
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var unexpected = logLevel >= LogLevel.Error
                || eventId.Id == 1109 && exception is not null && exception is not (DicomException or IOException or UnauthorizedAccessException);
            if (!unexpected) return;
            var id = Current.Value;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "AssociationId").Value is long logged) id = logged;
            int? port = id is { } i && _portById.TryGetValue(i, out var p) ? p : null;
            owner.OnServerError(id, port, $"{formatter(state, exception)}: {(exception is null ? "" : Describe(exception))}");
        }

        private sealed class Scope(long? previous) : IDisposable
        {
            public void Dispose() => Current.Value = previous;
        }

        private sealed class NoScope : IDisposable
        {
            public static readonly NoScope Instance = new();

            public void Dispose() { }
        }
    }
}
