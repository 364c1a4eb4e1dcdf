using System.Text.RegularExpressions;
using HippoNode.Analysis;
using HippoNode.Commands;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Storage;

namespace HippoNode.Tests;

/// <summary>
/// The network verbs' TLS switches (store-scp, send and echo over DICOM TLS, in process, on loopback) and
/// `hipponode resend` over a real node database.
/// </summary>
public sealed partial class NetworkCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-netverbs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A writer several tasks may write to while the test reads it.</summary>
    private sealed class SharedWriter : StringWriter
    {
        private readonly Lock _lock = new();

        public override void WriteLine(string? value)
        {
            lock (_lock) base.WriteLine(value);
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override string ToString()
        {
            lock (_lock) return base.ToString();
        }
    }

    [GeneratedRegex(@"listening on port (\d+)")]
    private static partial Regex ListeningPort();

    private async Task<(Task<int> Run, CancellationTokenSource Stop, int Port, SharedWriter Output)> StartStoreScpAsync(params string[] extra)
    {
        var output = new SharedWriter();
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => StoreScpCommand.RunAsync(["--port", "0", "--aet", "TLSSCP", "--out", Path.Combine(_dir, "in"), .. extra], output, output, stop.Token));
        var until = DateTime.UtcNow.AddSeconds(20);
        while (ListeningPort().Match(output.ToString()) is not { Success: true } m)
        {
            if (run.IsCompleted) await run; // surfaces the failure
            if (DateTime.UtcNow > until) throw new TimeoutException("store-scp did not start: " + output);
            await Task.Delay(20);
        }
        return (run, stop, int.Parse(ListeningPort().Match(output.ToString()).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), output);
    }

    private string WriteInstance()
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUid.SecondaryCaptureImageStorage);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomUid.Generate());
        ds.AddOrUpdate(DicomTags.StudyInstanceUID, DicomUid.Generate());
        ds.AddOrUpdate(DicomTags.Modality, "OT");
        var path = Path.Combine(_dir, "one.dcm");
        new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    [Fact]
    public async Task StoreScpSendEcho_OverTls_WithClientCertificates()
    {
        using var pki = new TestPki();
        using var stranger = new TestPki("Stranger CA");
        var server = pki.Issue("store-scp");
        var client = pki.Issue("send", server: false);
        var (run, stop, port, scpOutput) = await StartStoreScpAsync("--tls-cert", server.CertificateFile, "--tls-key", server.KeyFile, "--tls-ca", pki.CaFile, "--tls-verify-peer");
        Assert.Contains("(DICOM TLS)", scpOutput.ToString(), StringComparison.Ordinal);
        string[] target = ["127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--called", "TLSSCP"];
        string[] tls = ["--tls-cert", client.CertificateFile, "--tls-key", client.KeyFile, "--tls-ca", pki.CaFile];
        try
        {
            var echoOut = new StringWriter();
            var echoErr = new StringWriter();
            Assert.Equal(0, await EchoCommand.RunAsync([.. target, .. tls], echoOut, echoErr, CancellationToken.None));
            Assert.Contains("0000 Success", echoOut.ToString(), StringComparison.Ordinal);

            var sendOut = new StringWriter();
            Assert.Equal(0, await SendCommand.RunAsync([.. target, .. tls, WriteInstance()], sendOut, new StringWriter(), CancellationToken.None));
            Assert.Contains("sent 1 of 1 files", sendOut.ToString(), StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(Path.Combine(_dir, "in"), "*.dcm", SearchOption.AllDirectories));

            // No client certificate: the SCP refuses the handshake. A server the CA file does not vouch for: we refuse it.
            var noCert = new StringWriter();
            Assert.Equal(1, await EchoCommand.RunAsync([.. target, "--tls-ca", pki.CaFile], new StringWriter(), noCert, CancellationToken.None));
            var wrongCa = new StringWriter();
            Assert.Equal(1, await EchoCommand.RunAsync([.. target, "--tls-cert", client.CertificateFile, "--tls-key", client.KeyFile, "--tls-ca", stranger.CaFile],
                new StringWriter(), wrongCa, CancellationToken.None));
            Assert.Contains("TLS handshake failed", wrongCa.ToString(), StringComparison.Ordinal);
            Assert.Contains("does not chain to the configured CA", wrongCa.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await run);
        }
    }

    [Fact]
    public async Task StoreScp_PortInUse_SaysSoAndExits1()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var err = new StringWriter();
        Assert.Equal(1, await StoreScpCommand.RunAsync(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--aet", "X", "--bind", "127.0.0.1", "--out", Path.Combine(_dir, "busy")],
            new StringWriter(), err, CancellationToken.None));
        Assert.Contains($"cannot listen on port {port}", err.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("store-scp", new[] { "--port", "0", "--aet", "X", "--out", "o", "--tls-cert", "c.pem" }, "go together")]
    [InlineData("store-scp", new[] { "--port", "0", "--aet", "X", "--out", "o", "--tls-ca", "ca.pem" }, "needs a certificate")]
    [InlineData("store-scp", new[] { "--port", "0", "--aet", "X", "--out", "o", "--tls-no-verify" }, "--tls-no-verify")]
    [InlineData("echo", new[] { "127.0.0.1", "104", "--called", "X", "--tls-ca", "/nonexistent/ca.pem" }, "/nonexistent/ca.pem")]
    public async Task TlsSwitches_ThatCannotWork_AreUsageErrors(string verb, string[] args, string expected)
    {
        var ex = await Assert.ThrowsAsync<UsageException>(() => verb == "echo"
            ? EchoCommand.RunAsync(args, new StringWriter(), new StringWriter(), CancellationToken.None)
            : StoreScpCommand.RunAsync(args.Select(a => a == "o" ? Path.Combine(_dir, "o") : a).ToArray(), new StringWriter(), new StringWriter(), CancellationToken.None));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A node database with two jobs whose results the PACS refused for good (dead-lettered) and one delivered.</summary>
    private async Task<(string Storage, long JobA, long JobB)> DeadLettersAsync()
    {
        var storage = Path.Combine(_dir, "node");
        var paths = new StoragePaths(storage);
        await using var db = await NodeDatabase.OpenAsync(paths.Database);
        var jobs = new List<long>();
        foreach (var study in new[] { "1.2.1", "1.2.2", "1.2.3" })
        {
            await db.RecordArrivalAsync(new InstanceArrival(study + ".1", study, null, DicomUid.MRImageStorage, false, "/s/1.dcm", 1, "ORTHANC"), "/s");
            var id = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
            await db.ClaimNextJobAsync();
            await db.CompleteJobAsync(id, new StudyAnalysisResult
            {
                Status = AnalysisStatus.Completed, StudyInstanceUid = study, Series = [], OutputFiles = [], ResultJson = "r.json",
                VolumesMm3 = new Dictionary<string, double>(), Stages = [],
            }, [new ProducedObject(study + ".100", DicomUid.ComprehensiveSRStorage, "/r/sr.dcm"), new ProducedObject(study + ".101", DicomUid.SegmentationStorage, "/r/seg.dcm")]);
            jobs.Add(id);
        }
        foreach (var item in (await db.DueOutboxAsync(DateTimeOffset.UtcNow.AddSeconds(1))).Where(i => i.JobId != jobs[2]))
            await db.MarkSendFailedAsync(item.Id, "PACS answered 0122 Refused: SOP class not supported", DateTimeOffset.UtcNow, permanent: true, deadLetterAfter: 1);
        return (storage, jobs[0], jobs[1]);
    }

    [Fact]
    public async Task Resend_ListsDeadLetters_ResendsOneJob_ThenAll()
    {
        var (storage, a, b) = await DeadLettersAsync();

        var list = new StringWriter();
        Assert.Equal(0, await ResendCommand.RunAsync(["--storage", storage], list, new StringWriter(), CancellationToken.None));
        Assert.Contains("4 dead-lettered result object(s)", list.ToString(), StringComparison.Ordinal);
        Assert.Contains($"job {a} 1.2.1.100 dead-lettered", list.ToString(), StringComparison.Ordinal);
        Assert.Contains("0122", list.ToString(), StringComparison.Ordinal);

        var one = new StringWriter();
        Assert.Equal(0, await ResendCommand.RunAsync(["--storage", storage, "--job", a.ToString(System.Globalization.CultureInfo.InvariantCulture)], one, new StringWriter(), CancellationToken.None));
        Assert.Contains("2 result object(s) of 1 job(s) back in the outbox", one.ToString(), StringComparison.Ordinal);
        await using (var db = await NodeDatabase.OpenAsync(Path.Combine(storage, "node.db")))
        {
            Assert.Equal(JobState.Sending, (await db.GetJobAsync(a))!.State);
            Assert.Equal(JobState.DeadLetter, (await db.GetJobAsync(b))!.State);
            Assert.Equal(2, (await db.DeadLettersAsync()).Count);
        }

        var again = new StringWriter();
        Assert.Equal(1, await ResendCommand.RunAsync(["--storage", storage, "--job", a.ToString(System.Globalization.CultureInfo.InvariantCulture)], new StringWriter(), again, CancellationToken.None));
        Assert.Contains($"job {a} has no dead-lettered result", again.ToString(), StringComparison.Ordinal);

        var all = new StringWriter();
        Assert.Equal(0, await ResendCommand.RunAsync(["--storage", storage, "--all"], all, new StringWriter(), CancellationToken.None));
        Assert.Contains("2 result object(s) of 1 job(s)", all.ToString(), StringComparison.Ordinal);
        await using (var db = await NodeDatabase.OpenAsync(Path.Combine(storage, "node.db")))
        {
            Assert.Empty(await db.DeadLettersAsync());
            Assert.Equal(JobState.Sending, (await db.GetJobAsync(b))!.State);
        }
    }

    [Theory]
    [InlineData(new string[0], "--storage DIR is required")]
    [InlineData(new[] { "--storage", "x", "--all", "--job", "3" }, "exclude each other")]
    [InlineData(new[] { "--storage", "x", "--job", "abc" }, "must be a job ID")]
    public async Task Resend_BadArguments_AreUsageErrors(string[] args, string expected)
    {
        var ex = await Assert.ThrowsAsync<UsageException>(() => ResendCommand.RunAsync(args, new StringWriter(), new StringWriter(), CancellationToken.None));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resend_NoDatabase_SaysWhere()
    {
        var err = new StringWriter();
        Assert.Equal(1, await ResendCommand.RunAsync(["--storage", Path.Combine(_dir, "none")], new StringWriter(), err, CancellationToken.None));
        Assert.Contains("no node database", err.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "none", "node.db")));
    }
}
