using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Security;

/// <summary>
/// DICOM TLS (PS3.15 Annex B, BCP 195) against DCMTK built with OpenSSL, with certificates made in the test:
/// storescu/echoscu +tls into our SCP, our SCU into storescp +tls, and client-certificate checks both ways.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly TestPki _pki = new();
    private readonly TestPki _stranger = new("Some Other CA");
    private readonly string _work = TempDir.Create("tls");

    public void Dispose()
    {
        _pki.Dispose();
        _stranger.Dispose();
        TempDir.Delete(_work);
    }

    private DicomTlsOptions ServerTls(bool verifyPeer = false)
    {
        var server = _pki.Issue("hipponode-scp");
        return new DicomTlsOptions { CertificateFile = server.CertificateFile, KeyFile = server.KeyFile, CaFile = _pki.CaFile, VerifyPeer = verifyPeer };
    }

    private static string[] DcmtkTls(PemPair client, string caFile) =>
        ["+tls", client.KeyFile, client.CertificateFile, "+cf", caFile, "-pw"];

    [ToolFact("storescu")]
    public async Task StoreScuTls_IntoOurTlsScp_StoresEqual_AndPlainTcpIsRefused()
    {
        var log = new ListLoggerFactory();
        await using var scp = await TestServer.StartAsync(o => o.Tls = ServerTls(), log: log);
        var files = TestInstances.Write(Path.Combine(_work, "study"), 3);

        var r = await Processes.RunAsync("storescu", [.. DcmtkTls(_pki.Issue("storescu"), _pki.CaFile), "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), .. files]);
        Assert.True(r.ExitCode == 0, r.Output + string.Join("\n", log.Lines));
        var stored = scp.StoredFiles();
        Assert.Equal(3, stored.Count);
        foreach (var f in stored)
        {
            var uid = DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!;
            DatasetAssert.SameDataset(files.Single(s => DicomReader.ReadFileHeader(s).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID) == uid), f);
        }
        Assert.Contains(log.Lines, l => l.Contains("TLS Tls1", StringComparison.Ordinal) && l.Contains("_GCM_", StringComparison.Ordinal));

        // The same SCP does not speak DICOM in clear text: nothing more is stored.
        var plain = await Processes.RunAsync("storescu", ["-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), files[0]]);
        Assert.NotEqual(0, plain.ExitCode);
        Assert.Equal(3, scp.StoredFiles().Count);
        Assert.Contains(log.Lines, l => l.Contains("TLS handshake with", StringComparison.Ordinal));
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(10));
        Assert.Empty(scp.IncomingLeftovers());
    }

    [ToolFact("echoscu")]
    public async Task EchoScuTls_ProfileBcp195_AgainstOurScp_Succeeds()
    {
        await using var scp = await TestServer.StartAsync(o => o.Tls = ServerTls());
        // +px: the (downgrading) BCP 195 profile; +py (non-downgrading, the default) is what the storescu test uses.
        var r = await Processes.RunAsync("echoscu", [.. DcmtkTls(_pki.Issue("echoscu"), _pki.CaFile), "+px", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    [ToolFact("storescu")]
    public async Task ClientCertificateVerification_RejectsUnknownAndMissingClients_AcceptsOurs()
    {
        var log = new ListLoggerFactory();
        await using var scp = await TestServer.StartAsync(o => o.Tls = ServerTls(verifyPeer: true), log: log);
        var file = TestInstances.Write(Path.Combine(_work, "one"), 1)[0];
        string[] target = ["-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), file];

        // A client whose certificate another CA signed: the handshake fails, nothing is stored.
        var unknown = await Processes.RunAsync("storescu", [.. DcmtkTls(_stranger.Issue("intruder"), _pki.CaFile), .. target]);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Empty(scp.StoredFiles());
        Assert.Contains(log.Lines, l => l.Contains("TLS handshake with", StringComparison.Ordinal) && l.Contains("does not chain to the configured CA", StringComparison.Ordinal));

        // Our SCU without a client certificate: refused too.
        var anonymous = new DicomTlsOptions { CaFile = _pki.CaFile };
        var ex = await Assert.ThrowsAnyAsync<DicomNetworkException>(() => EchoAsync(scp.Port, anonymous));
        Assert.True(ex is DicomTlsException or DicomAssociationAbortedException, ex.ToString());
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(10));
        Assert.Contains(log.Lines, l => l.Contains("presented no certificate", StringComparison.Ordinal));

        // A client certificate from the right CA: stored.
        var known = await Processes.RunAsync("storescu", [.. DcmtkTls(_pki.Issue("known-modality", server: false), _pki.CaFile), .. target]);
        Assert.True(known.ExitCode == 0, known.Output + string.Join("\n", log.Lines));
        Assert.Single(scp.StoredFiles());
        Assert.Contains(log.Lines, l => l.Contains("client certificate CN=known-modality", StringComparison.Ordinal));
    }

    [ToolFact("storescp")]
    public async Task OurScuTls_IntoStorescpTls_StoresEqual_WithAndWithoutClientCertificate()
    {
        var server = _pki.Issue("storescp");
        var files = TestInstances.Write(Path.Combine(_work, "send"), 2);

        // storescp that does not ask for a client certificate (-ic); we verify its certificate against our CA.
        await using (var peer = await Storescp.StartAsync(["+tls", server.KeyFile, server.CertificateFile, "+cf", _pki.CaFile, "-pw", "-ic"]))
        {
            var client = TestHelpers.Client("STORESCP");
            client.Tls = new DicomTlsOptions { CaFile = _pki.CaFile };
            var results = await DicomSender.SendAsync("127.0.0.1", peer.Port, client, files).ToListAsync();
            Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Error}\n{peer.Output}"));
            var received = Directory.GetFiles(peer.Folder);
            Assert.Equal(2, received.Length);
            foreach (var f in received)
            {
                var uid = DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!;
                DatasetAssert.SameDataset(files.Single(s => DicomReader.ReadFileHeader(s).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID) == uid), f);
            }
        }

        // storescp that requires one (-rc, DCMTK's default): ours from the CA is accepted; none is refused.
        await using (var peer = await Storescp.StartAsync(["+tls", server.KeyFile, server.CertificateFile, "+cf", _pki.CaFile, "-pw", "-rc"]))
        {
            var mine = _pki.Issue("hipponode-scu", server: false);
            var client = TestHelpers.Client("STORESCP");
            client.Tls = new DicomTlsOptions { CaFile = _pki.CaFile, CertificateFile = mine.CertificateFile, KeyFile = mine.KeyFile };
            var results = await DicomSender.SendAsync("127.0.0.1", peer.Port, client, files).ToListAsync();
            Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Error}\n{peer.Output}"));

            client.Tls = new DicomTlsOptions { CaFile = _pki.CaFile };
            var refused = await DicomSender.SendAsync("127.0.0.1", peer.Port, client, files.Take(1)).ToListAsync();
            Assert.False(refused[0].Succeeded);
            Assert.Equal(DicomStoreFailure.Connection, refused[0].Failure);
            Assert.Equal(2, Directory.GetFiles(peer.Folder).Length);
        }
    }

    [Fact]
    public async Task OurScu_ServerCertificateFromAnotherCa_IsNotTrusted()
    {
        await using var scp = await TestServer.StartAsync(o => o.Tls = ServerTls());
        var ex = await Assert.ThrowsAsync<DicomTlsException>(() => EchoAsync(scp.Port, new DicomTlsOptions { CaFile = _stranger.CaFile }));
        Assert.Contains("does not chain to the configured CA", ex.Message, StringComparison.Ordinal);

        // Told not to verify (encryption without authentication, like DCMTK's -ic), the same server is fine.
        Assert.Equal(DicomStatus.Success, await EchoAsync(scp.Port, new DicomTlsOptions { VerifyPeer = false }));
        Assert.Equal(DicomStatus.Success, await EchoAsync(scp.Port, new DicomTlsOptions { CaFile = _pki.CaFile }));
    }

    [Fact]
    public void MissingOrMismatchedFiles_FailAtConstruction_NamingTheFile()
    {
        var handler = new FileStoreHandler(_work);
        var missing = new DicomServerOptions { Port = 0, Tls = new DicomTlsOptions { CertificateFile = "/nonexistent/cert.pem", KeyFile = "/nonexistent/key.pem" } };
        Assert.Contains("/nonexistent/cert.pem", Assert.Throws<ArgumentException>(() => new DicomServer(missing, handler)).Message, StringComparison.Ordinal);

        var a = _pki.Issue("a");
        var b = _pki.Issue("b");
        var mismatched = new DicomServerOptions { Port = 0, Tls = new DicomTlsOptions { CertificateFile = a.CertificateFile, KeyFile = b.KeyFile } };
        Assert.Contains(a.CertificateFile, Assert.Throws<ArgumentException>(() => new DicomServer(mismatched, handler)).Message, StringComparison.Ordinal);

        var noCertificate = new DicomServerOptions { Port = 0, Tls = new DicomTlsOptions { CaFile = _pki.CaFile } };
        Assert.Throws<ArgumentException>(() => new DicomServer(noCertificate, handler));
    }

    private static async Task<DicomStatus> EchoAsync(int port, DicomTlsOptions tls)
    {
        var options = TestHelpers.Client();
        options.Tls = tls;
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", port, options, [PresentationContextProposal.Verification], CancellationToken.None);
        return await a.EchoAsync(CancellationToken.None);
    }
}
