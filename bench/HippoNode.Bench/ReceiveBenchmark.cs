using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HippoNode.Dicom.Network;
using static HippoNode.Bench.BenchUtil;

namespace HippoNode.Bench;

/// <summary>
/// `receive`: the same DCMTK storescu transfer (storescu +sd +r of a folder, default TestVolumes) into our SCP and
/// into DCMTK's storescp, both writing every instance to disk; wall time of the storescu run, best of N rounds;
/// MB/s, instances/s and the ratio ours/storescp.
/// </summary>
internal static class ReceiveBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var dir = "../shared/data/TestVolumes";
        var rounds = 3;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds" when i + 1 < args.Length: rounds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                default: dir = args[i]; break;
            }
        }
        dir = ResolvePath(dir);
        if (!Directory.Exists(dir))
        {
            Console.Error.WriteLine($"receive: no folder {dir}");
            return 2;
        }
        if (!HasTool("storescu") || !HasTool("storescp"))
        {
            Console.Error.WriteLine("receive: storescu and storescp (DCMTK) are needed");
            return 2;
        }
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToList();
        var bytes = files.Sum(f => new FileInfo(f).Length);
        const uint pdu = 65536;
        Console.WriteLine($"receive: storescu +sd +r of {files.Count} files, {F(bytes / 1e6)} MB under {dir}; best of {rounds} rounds; {Environment.ProcessorCount} CPUs");

        var scratch = Path.Combine(Path.GetTempPath(), "hipponode-bench-receive-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            // Warm-up: JIT and page cache, not measured.
            await OursAsync(dir, scratch, pdu, files.Count);
            var ours = new List<TimeSpan>();
            var dcmtkDefault = new List<TimeSpan>();
            var dcmtkSamePdu = new List<TimeSpan>();
            for (var r = 0; r < rounds; r++)
            {
                ours.Add(await OursAsync(dir, scratch, pdu, files.Count));
                dcmtkDefault.Add(await StorescpAsync(dir, scratch, null, files.Count));
                dcmtkSamePdu.Add(await StorescpAsync(dir, scratch, pdu, files.Count));
            }

            var best = ours.Min();
            Console.WriteLine("sender: DCMTK storescu");
            Print($"ours (DicomServer, max PDU {pdu})", best, bytes, files.Count);
            var bestDefault = dcmtkDefault.Min();
            Print("storescp (defaults, max PDU 16384)", bestDefault, bytes, files.Count);
            var bestSame = dcmtkSamePdu.Min();
            Print($"storescp -pdu {pdu}", bestSame, bytes, files.Count);
            Console.WriteLine($"ratio ours/storescp (throughput): {F(bestDefault / best, 2)}x vs defaults, {F(bestSame / best, 2)}x vs the same max PDU");

            // storescu writes each message in several small pieces with Nagle on; a receiver that delays its ACKs
            // stalls 40 ms per message (ours answers with TCP_QUICKACK). The same files from our SCU (TCP_NODELAY,
            // one write per PDU) compare the receivers without that effect.
            var oursFromOurs = new List<TimeSpan>();
            var dcmtkFromOurs = new List<TimeSpan>();
            for (var r = 0; r < rounds; r++)
            {
                oursFromOurs.Add(await OursAsync(dir, scratch, pdu, files.Count, sendWithOurScu: true));
                dcmtkFromOurs.Add(await StorescpAsync(dir, scratch, pdu, files.Count, sendWithOurScu: true));
            }
            Console.WriteLine("sender: our SCU (hipponode send)");
            Print($"ours (DicomServer, max PDU {pdu})", oursFromOurs.Min(), bytes, files.Count);
            Print($"storescp -pdu {pdu}", dcmtkFromOurs.Min(), bytes, files.Count);
            Console.WriteLine($"ratio ours/storescp (throughput): {F(dcmtkFromOurs.Min() / oursFromOurs.Min(), 2)}x");
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static void Print(string name, TimeSpan t, long bytes, int count) =>
        Console.WriteLine($"  {name,-40} {F(t.TotalSeconds, 2),6} s  {F(MBps(bytes, t)),7} MB/s  {F(count / t.TotalSeconds),7} instances/s");

    private static async Task<TimeSpan> OursAsync(string dir, string scratch, uint maxPdu, int expected, bool sendWithOurScu = false)
    {
        var root = Path.Combine(scratch, "ours");
        var options = new DicomServerOptions
        {
            AeTitle = "HIPPO",
            BindAddress = IPAddress.Loopback,
            Port = 0,
            MaxPduLength = maxPdu,
            IncomingDirectory = Path.Combine(root, ".incoming"),
        };
        var handler = new FileStoreHandler(root);
        var stored = 0;
        handler.Stored += _ => Interlocked.Increment(ref stored);
        await using var server = new DicomServer(options, handler);
        await server.StartAsync(CancellationToken.None);
        var t = sendWithOurScu ? await OurScuAsync(dir, server.Port, "HIPPO") : await StorescuAsync(dir, server.Port, "HIPPO");
        await server.StopAsync(CancellationToken.None);
        Check("ours", stored, expected);
        Directory.Delete(root, recursive: true);
        return t;
    }

    private static async Task<TimeSpan> StorescpAsync(string dir, string scratch, uint? maxPdu, int expected, bool sendWithOurScu = false)
    {
        var root = Path.Combine(scratch, "storescp");
        Directory.CreateDirectory(root);
        var port = BenchUtil.FreePort();
        var psi = new ProcessStartInfo("storescp") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-aet", "STORESCP", "-od", root, "-dhl" }) psi.ArgumentList.Add(a);
        if (maxPdu is { } p)
        {
            psi.ArgumentList.Add("-pdu");
            psi.ArgumentList.Add(p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        psi.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var scp = Process.Start(psi) ?? throw new InvalidOperationException("could not start storescp");
        try
        {
            await WaitForPortAsync(port);
            var t = sendWithOurScu ? await OurScuAsync(dir, port, "STORESCP") : await StorescuAsync(dir, port, "STORESCP");
            Check("storescp", Directory.GetFiles(root).Length, expected);
            return t;
        }
        finally
        {
            scp.Kill();
            await scp.WaitForExitAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<TimeSpan> StorescuAsync(string dir, int port, string calledAe)
    {
        var psi = new ProcessStartInfo("storescu") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "+sd", "+r", "-aec", calledAe, "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), dir }) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start storescu");
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        sw.Stop();
        if (p.ExitCode != 0) throw new InvalidOperationException($"storescu failed ({p.ExitCode}): {await error}{await output}");
        return sw.Elapsed;
    }

    private static async Task<TimeSpan> OurScuAsync(string dir, int port, string calledAe)
    {
        var options = new DicomClientOptions { CalledAeTitle = calledAe, CallingAeTitle = "BENCH" };
        var sw = Stopwatch.StartNew();
        var failed = 0;
        await foreach (var r in DicomSender.SendAsync("127.0.0.1", port, options, DicomSender.EnumerateFiles([dir])))
        {
            if (!r.Succeeded) failed++;
        }
        sw.Stop();
        if (failed > 0) throw new InvalidOperationException($"our SCU failed {failed} files");
        return sw.Elapsed;
    }

    private static void Check(string who, int stored, int expected)
    {
        if (stored != expected) throw new InvalidOperationException($"{who} stored {stored} of {expected} instances");
    }


    private static async Task WaitForPortAsync(int port)
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(25);
            }
        }
        throw new InvalidOperationException($"nothing listens on port {port}");
    }
}
