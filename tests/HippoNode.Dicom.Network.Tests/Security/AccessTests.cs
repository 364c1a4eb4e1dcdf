using System.Net;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Security;

/// <summary>Who may call (AE title and host), and what a hostile UID can do to the file system: nothing outside the folder.</summary>
public sealed class AccessTests : IDisposable
{
    private readonly string _work = TempDir.Create("access");

    public void Dispose() => TempDir.Delete(_work);

    private static AAssociateRq Request(string calling) =>
        new("HIPPO", calling, [new PresentationContextRequest(1, DicomUid.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid])], UserInformation.Ours(16384));

    [Theory]
    [InlineData("ORTHANC", "127.0.0.1", true)]
    [InlineData("ORTHANC", "::ffff:127.0.0.1", true)] // the dual-stack form of the same address
    [InlineData("ORTHANC", "127.0.0.2", false)]
    [InlineData("MODALITY", "10.9.8.7", true)]        // no host entry: the AE title rules alone decide
    public void HostCheck_ListedTitleOnlyFromItsAddresses(string calling, string from, bool accepted)
    {
        var policy = new DicomAssociationPolicy(new DicomServerOptions
        {
            AeTitle = "HIPPO",
            AllowedPeerAddresses = new Dictionary<string, IReadOnlyCollection<IPAddress>> { ["ORTHANC"] = [IPAddress.Loopback] },
        });
        var decision = policy.Negotiate(Request(calling), new AssociationRequestContext(new IPEndPoint(IPAddress.Parse(from), 40000), 1));
        Assert.Equal(accepted, decision.IsAccepted);
        if (!accepted)
        {
            Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CallingAeTitleNotRecognized), decision.Reject);
        }
    }

    [ToolFact("echoscu")]
    public async Task HostCheck_EchoScuFromTheWrongHost_Rejected_FromTheRightHost_Accepted()
    {
        await using (var scp = await TestServer.StartAsync(o => o.AllowedPeerAddresses =
            new Dictionary<string, IReadOnlyCollection<IPAddress>> { ["ORTHANC"] = [IPAddress.Parse("127.0.0.2")] }))
        {
            var r = await Processes.RunAsync("echoscu", ["-aet", "ORTHANC", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Reason: Calling AE Title Not Recognized", r.Output, StringComparison.Ordinal);
        }
        await using (var scp = await TestServer.StartAsync(o => o.AllowedPeerAddresses =
            new Dictionary<string, IReadOnlyCollection<IPAddress>> { ["ORTHANC"] = [IPAddress.Loopback] }))
        {
            var r = await Processes.RunAsync("echoscu", ["-aet", "ORTHANC", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
            Assert.True(r.ExitCode == 0, r.Output);
        }
    }

    public static TheoryData<string, string> HostileUids => new()
    {
        // SOP Instance UID (command and file meta), Study Instance UID (data set)
        { "../../escaped-instance", DicomUid.Generate() },
        { DicomUid.Generate(), "../../../escaped-study" },
        { "/tmp/absolute-instance", "/tmp/absolute-study" },
        { "..", ".." },
        { DicomUid.Generate(), new string('9', 300) },
        { DicomUid.Generate(), "1.2.3/../../x" },
        { "a:b*c?d<e>f|g", DicomUid.Generate() },
    };

    /// <summary>Hostile UIDs sent by our SCU through the SCP into the store: every file stays inside the root, or the instance is refused with a status.</summary>
    [Theory]
    [MemberData(nameof(HostileUids))]
    public async Task HostileUids_ThroughTheScp_NeverLeaveTheStorageFolder(string sopInstanceUid, string studyUid)
    {
        var box = Path.Combine(_work, "box-" + Guid.NewGuid().ToString("N")[..6]);
        var root = Path.Combine(box, "a", "b", "root");
        var handler = new FileStoreHandler(root);
        await using var scp = await TestServer.StartAsync(o => o.IncomingDirectory = Path.Combine(root, ".incoming"), handler);
        var file = TestInstances.Write(Path.Combine(_work, "src-" + Guid.NewGuid().ToString("N")[..6]), 1, studyUid, _ => sopInstanceUid)[0];

        var result = Assert.Single(await DicomSender.SendAsync("127.0.0.1", scp.Port, TestHelpers.Client(), [file]).ToListAsync());
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));

        Assert.True(result.Succeeded || result.Status is { IsFailure: true }, $"{result.Status} {result.Error}");
        var everything = Directory.EnumerateFiles(box, "*", SearchOption.AllDirectories).ToList();
        Assert.All(everything, f => Assert.StartsWith(root + Path.DirectorySeparatorChar, f, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(root, ".incoming")));
        if (result.Succeeded)
        {
            var stored = Assert.Single(everything);
            // One level below the root: ROOT/<study>/<instance>.dcm, both names single, harmless components.
            Assert.Equal(root, Path.GetDirectoryName(Path.GetDirectoryName(stored)));
            Assert.Equal(sopInstanceUid, DicomReader.ReadFileHeader(stored).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID));
        }
    }

    public static TheoryData<string, ushort> HostileCommandUids => new()
    {
        { "1.2.3\0../../nul", 0x0117 },         // NUL inside: not UID text
        { new string('1', 65), 0x0117 },          // longer than a UID may be
        { "..\\..\\windows", 0x0117 },            // backslash: the value separator, never UID text
        { "../../../../etc/cron.d/x", 0x0000 },   // printable: accepted, the file name sanitised
    };

    /// <summary>A raw peer puts the hostile value straight into the command set's Affected SOP Instance UID.</summary>
    [Theory]
    [MemberData(nameof(HostileCommandUids))]
    public async Task HostileAffectedSopInstanceUid_RefusedOrSanitised(string uid, ushort expected)
    {
        var box = Path.Combine(_work, "raw-" + Guid.NewGuid().ToString("N")[..6]);
        var root = Path.Combine(box, "x", "y", "root");
        await using var scp = await TestServer.StartAsync(o => o.IncomingDirectory = Path.Combine(root, ".incoming"), new FileStoreHandler(root));
        var dataset = File.ReadAllBytes(TestInstances.Write(Path.Combine(_work, "raw-src-" + Guid.NewGuid().ToString("N")[..6]), 1)[0]);
        var body = dataset.AsSpan(DicomReader.ReadFileHeader(new MemoryStream(dataset)).DatasetOffset.ToInt()).ToArray();

        await using var peer = await RawPeer.ConnectAsync(scp.Port);
        Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, new PresentationContextRequest(1, DicomUid.MRImageStorage, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid])));
        await peer.SendAsync(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.StoreRequest(1, DicomUid.MRImageStorage, uid).Encode())]));
        await peer.SendAsync(new PDataTf([new PresentationDataValue(1, false, true, body)]));
        var rsp = DimseCommand.Decode(Assert.IsType<PDataTf>(await peer.ReceiveAsync(TimeSpan.FromSeconds(10))).Values[0].Data);

        Assert.Equal(expected, rsp.Status.Code);
        Assert.All(Directory.EnumerateFiles(box, "*", SearchOption.AllDirectories), f => Assert.StartsWith(root + Path.DirectorySeparatorChar, f, StringComparison.Ordinal));
        Assert.Equal(expected == 0 ? 1 : 0, Directory.EnumerateFiles(root, "*.dcm", SearchOption.AllDirectories).Count());
    }
}

internal static class LongExtensions
{
    public static int ToInt(this long value) => checked((int)value);
}
