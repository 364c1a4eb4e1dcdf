using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;
using HippoNode.Node.Demo;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HippoNode.Node.Tests;

/// <summary>
/// The node's security settings end to end: DICOM TLS in and out with DCMTK, the per-caller host check, hostile
/// UIDs that never leave the spool, no patient identifiers in the logs, the status endpoint on loopback.
/// </summary>
public sealed class SecurityTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Storage => _dir.Sub("node");

    [ToolFact("storescu", "storescp")]
    public async Task Tls_StoreScuIntoTheNode_AndResultsIntoStorescpTls_BothWithClientCertificates()
    {
        using var pki = new TestPki();
        var nodeCert = pki.Issue("hipponode");
        var pacsCert = pki.Issue("pacs");
        var modality = pki.Issue("orthanc", server: false);
        // The PACS requires our client certificate (-rc, DCMTK's default) and trusts the CA.
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"), extra: ["+tls", pacsCert.KeyFile, pacsCert.CertificateFile, "+cf", pki.CaFile, "-pw", "-rc"]);
        await using var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), s =>
        {
            s["HippoNode:Tls:Enabled"] = "true";
            s["HippoNode:Tls:CertificateFile"] = nodeCert.CertificateFile;
            s["HippoNode:Tls:KeyFile"] = nodeCert.KeyFile;
            s["HippoNode:Tls:CaFile"] = pki.CaFile;
            s["HippoNode:Tls:VerifyPeer"] = "true";
            s["HippoNode:Pacs:Tls"] = "true";
        });

        var study = _dir.Sub("study");
        var uid = SyntheticStudy.Write(study);
        var plain = StoreScu.Send(node.DicomPort, study);
        Assert.NotEqual(0, plain.ExitCode); // no clear text on a TLS node
        var (code, output) = StoreScu.Send(node.DicomPort, study, extra: ["+tls", modality.KeyFile, modality.CertificateFile, "+cf", pki.CaFile, "-pw"]);
        Assert.True(code == 0, output);

        var job = await node.WaitForJobAsync(j => j.StudyInstanceUid == uid && j.State == JobState.Done);
        Assert.Equal(SyntheticStudy.Slices, job.Instances);
        Assert.Equal(job.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.ReceivedUids().Order());
    }

    [ToolFact("storescu")]
    public async Task HostCheck_CallerFromAnotherAddress_Rejected_FromItsOwn_Accepted()
    {
        var study = _dir.Sub("study");
        SyntheticStudy.Write(study);
        await using (var node = await TestNode.StartAsync(Storage, StoreScp.FreePort(), new CopyRunner(), s => s["HippoNode:AllowedCallerHosts:ORTHANC:0"] = "127.0.0.2"))
        {
            var (code, output) = StoreScu.Send(node.DicomPort, study);
            Assert.NotEqual(0, code);
            Assert.Contains("Calling AE Title Not Recognized", output, StringComparison.Ordinal);
            Assert.Equal(0L, await node.Db.QueryScalarAsync("SELECT COUNT(*) FROM instances"));
        }
        await using (var node = await TestNode.StartAsync(_dir.Sub("node2"), StoreScp.FreePort(), new CopyRunner(), s => s["HippoNode:AllowedCallerHosts:ORTHANC:0"] = "127.0.0.1"))
        {
            var (code, output) = StoreScu.Send(node.DicomPort, study);
            Assert.True(code == 0, output);
        }
    }

    [Fact]
    public async Task HostileUids_SentIntoTheNode_StayInsideItsStudiesFolder()
    {
        var sources = _dir.Sub("hostile");
        SyntheticStudy.Write(sources);
        var hostile = new[] { "../../../../escaped", "/tmp/absolute", "..", new string('7', 200), "1.2/../../x" };
        var files = Directory.GetFiles(sources).Order().Take(hostile.Length).ToList();
        for (var i = 0; i < files.Count; i++)
        {
            var ds = DicomFile.Open(files[i]).Dataset;
            ds.AddOrUpdate(DicomTags.StudyInstanceUID, hostile[i]);
            ds.AddOrUpdate(DicomTags.SOPInstanceUID, hostile[(i + 1) % hostile.Length]);
            new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(files[i]);
        }
        await using var node = await TestNode.StartAsync(Storage, StoreScp.FreePort(), new CopyRunner());
        var client = new DicomClientOptions { CalledAeTitle = "HIPPONODE", CallingAeTitle = "ORTHANC" };
        var results = new List<DicomStoreResult>();
        await foreach (var r in DicomSender.SendAsync("127.0.0.1", node.DicomPort, client, files)) results.Add(r);

        Assert.All(results, r => Assert.True(r.Succeeded || r.Status is { IsFailure: true }, $"{r.Status} {r.Error}"));
        Assert.Contains(results, r => r.Succeeded); // some were sanitised and kept, not all refused
        var studies = Path.Combine(Storage, "studies") + Path.DirectorySeparatorChar;
        foreach (var f in Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories))
        {
            Assert.True(f.StartsWith(sources + Path.DirectorySeparatorChar, StringComparison.Ordinal) || f.StartsWith(Storage + Path.DirectorySeparatorChar, StringComparison.Ordinal), f);
            if (f.EndsWith(".dcm", StringComparison.Ordinal) && f.StartsWith(Storage, StringComparison.Ordinal))
            {
                Assert.StartsWith(studies, f, StringComparison.Ordinal);
                Assert.Equal(Path.Combine(Storage, "studies"), Path.GetDirectoryName(Path.GetDirectoryName(f)));
            }
        }
        Assert.False(Directory.Exists("/tmp/absolute"));
        // Recorded with the path it really has.
        Assert.Equal((long)results.Count(r => r.Succeeded), await node.Db.QueryScalarAsync("SELECT COUNT(*) FROM instances WHERE path LIKE '" + studies + "%'"));
    }

    [ToolFact("storescu")]
    public async Task Logs_AtInformation_NeverCarryPatientNameIdOrBirthDate_OnTheFaultPathsEither()
    {
        const string name = "PHIDOE^JANE^MARIE", id = "PHI-ID-4711", birth = "19450317";
        var study = _dir.Sub("study");
        SyntheticStudy.Write(study);
        foreach (var f in Directory.GetFiles(study))
        {
            var ds = DicomFile.Open(f).Dataset;
            ds.AddOrUpdate(DicomTags.PatientName, name);
            ds.AddOrUpdate(DicomTags.PatientID, id);
            ds.AddOrUpdate(DicomTags.PatientBirthDate, birth);
            new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(f);
        }
        var probe = new SettableProbe { Free = 1 };
        await using var pacs = await ScriptedPacs.StartAsync(_dir.Sub("pacs"));
        pacs.RejectAssociations = true;
        await using (var node = await TestNode.StartAsync(Storage, pacs.Port, new CopyRunner(), s =>
        {
            s["HippoNode:Retry:DeadLetterAfter"] = "1";
            s["HippoNode:Storage:MinFreeMegabytes"] = "10";
        }, services => services.AddSingleton<IFreeSpaceProbe>(probe)))
        {
            StoreScu.Send(node.DicomPort, study); // refused: below the watermark
            probe.Free = 1L << 40;
            var (code, output) = StoreScu.Send(node.DicomPort, study);
            Assert.True(code == 0, output);
            await node.WaitForJobAsync(j => j.State == JobState.DeadLetter); // analysed, then the PACS refused the results
        }
        var log = string.Join("\n", Directory.EnumerateFiles(Path.Combine(Storage, "logs")).Select(File.ReadAllText));
        // The fault paths did log (so their lines were checked)...
        Assert.Contains("\"Id\":1005", log);
        Assert.Contains("\"Id\":2205", log);
        Assert.Contains("\"Level\":\"Information\"", log);
        Assert.Contains("loopback only", log);
        // ...and nothing identifies the patient.
        foreach (var phi in new[] { "PHIDOE", "JANE", id, birth, "1945-03-17" }) Assert.DoesNotContain(phi, log, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("HippoNode:Tls:Enabled", "true", "Tls:CertificateFile")]
    [InlineData("HippoNode:Tls:CertificateFile", "/nonexistent/cert.pem", "go together")]
    [InlineData("HippoNode:AllowedCallerHosts:ORTHANC:0", "not-an-address", "not an IP address")]
    [InlineData("HippoNode:Storage:MinFreeMegabytes", "-1", "MinFreeMegabytes")]
    [InlineData("HippoNode:Storage:RetentionDays", "-3", "RetentionDays")]
    [InlineData("HippoNode:Retry:DeadLetterAfter", "0", "DeadLetterAfter")]
    public async Task BadSecurityOrStorageSettings_RefuseToStart_NamingTheKey(string key, string value, string expected)
    {
        var settings = TestNode.Settings(Storage, 4242);
        settings[key] = value;
        using var host = TestNode.Build(settings, new CopyRunner());
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedAppSettings_TlsOff_LoopbackHttp_WatermarkRetentionAndDeadLetterDefaults()
    {
        var config = new ConfigurationBuilder().AddJsonFile(Path.Combine(TestData.RepoRoot, "src", "HippoNode", "appsettings.json")).Build();
        var o = config.GetSection(NodeOptions.Section).Get<NodeOptions>()!;
        Assert.Empty(o.Problems());
        Assert.False(o.Tls.Enabled);
        Assert.False(o.Pacs.Tls);
        Assert.Empty(o.AllowedCallerHosts);
        Assert.True(System.Net.IPAddress.IsLoopback(o.Http.LoopbackEndPoint()!.Address));
        Assert.Equal((1024L, 30d, 0d, 60d), (o.Storage.MinFreeMegabytes, o.Storage.RetentionDays, o.Storage.MaxSizeGigabytes, o.Storage.RetentionIntervalMinutes));
        Assert.Equal(3, o.Retry.DeadLetterAfter);
    }
}
