using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Interop;

/// <summary>DCMTK's echoscu and storescu against our SCP: everything arrives, equal to what was sent, readable by dcmdump.</summary>
public class DcmtkScuToOurScpTests
{
    [ToolFact("echoscu")]
    public async Task EchoScu_AgainstOurScp_Succeeds()
    {
        await using var scp = await TestServer.StartAsync();
        var r = await Processes.RunAsync("echoscu", ["-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
        Assert.True(r.ExitCode == 0, r.Output);
    }

    [SharedDataFact("storescu", "dcmdump")]
    public async Task StoreScu_TestVolumesRecursive_EveryFileArrivesEqual()
    {
        await using var scp = await TestServer.StartAsync();
        var r = await Processes.RunAsync("storescu", ["-aec", scp.AeTitle, "+sd", "+r", "127.0.0.1", scp.Port.ToString(), TestFiles.Volumes]);
        Assert.True(r.ExitCode == 0, r.Output);

        await AssertReceivedAsync(scp, TestFiles.Volumes, DicomTransferSyntax.ExplicitVRLittleEndian, "STORESCU");
        // Both studies, one folder each.
        Assert.Equal(2, Directory.GetDirectories(scp.Root).Count(d => !d.EndsWith(".incoming", StringComparison.Ordinal)));
    }

    public static TheoryData<string, string, string> Variants => new()
    {
        { "-xi", "Study1", DicomTransferSyntax.ImplicitVRLittleEndian.Uid },
        { "-xe", "Study2", DicomTransferSyntax.ExplicitVRLittleEndian.Uid },
        { "-xb", "Study1", DicomTransferSyntax.ExplicitVRBigEndian.Uid },
        { "-xd", "Study2", DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid },
    };

    /// <summary>
    /// Each transfer syntax storescu can propose; our SCP is configured to accept only that one, so the data set
    /// really travels in it (storescu proposes one context per syntax and would otherwise pick the file's own).
    /// storescu's option for deflate is -xd (storescp's is +xd).
    /// </summary>
    [SharedDataTheory("storescu", "dcmdump")]
    [MemberData(nameof(Variants))]
    public async Task StoreScu_TransferSyntaxVariant_ArrivesInThatSyntaxEqual(string option, string study, string syntaxUid)
    {
        await using var scp = await TestServer.StartAsync(o => o.TransferSyntaxPreference = [syntaxUid]);
        var r = await Processes.RunAsync("storescu", [option, "-aec", scp.AeTitle, "+sd", "+r", "127.0.0.1", scp.Port.ToString(), TestFiles.Study(study)]);
        Assert.True(r.ExitCode == 0, r.Output);
        await AssertReceivedAsync(scp, TestFiles.Study(study), DicomTransferSyntax.FromUid(syntaxUid), "STORESCU");
    }

    internal static async Task AssertReceivedAsync(TestServer scp, string sentFolder, DicomTransferSyntax syntax, string callingAe)
    {
        var expected = TestFiles.InstancesUnder(sentFolder);
        var received = scp.StoredFiles();
        Assert.Equal(expected.Count, received.Count);
        foreach (var file in received)
        {
            var header = DicomReader.ReadFileHeader(file);
            var meta = header.FileMetaInformation;
            var uid = meta.GetString(DicomTags.MediaStorageSOPInstanceUID)!;
            Assert.Contains(uid, expected);
            Assert.Equal(uid + ".dcm", Path.GetFileName(file));
            Assert.Equal(syntax.Uid, header.TransferSyntax.Uid);
            var source = DicomReader.ReadFileHeader(TestFiles.SourceOf(uid)).FileMetaInformation;
            Assert.Equal(source.GetString(DicomTags.MediaStorageSOPClassUID), meta.GetString(DicomTags.MediaStorageSOPClassUID));
            Assert.Equal(callingAe, meta.GetString(DicomTags.SourceApplicationEntityTitle));
            Assert.Equal(DicomUid.ImplementationClassUid, meta.GetString(DicomTags.ImplementationClassUID));
            DatasetAssert.SameDataset(TestFiles.SourceOf(uid), file, compareVR: syntax.IsExplicitVR);
            // One folder per study, named by the study UID.
            var study = DicomFile.Open(file, DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData }).Dataset.GetString(DicomTags.StudyInstanceUID);
            Assert.Equal(study, Path.GetFileName(Path.GetDirectoryName(file)));
        }
        Assert.Empty(scp.IncomingLeftovers());
        await DatasetAssert.DcmdumpReadsCleanlyAsync(received);
    }
}
