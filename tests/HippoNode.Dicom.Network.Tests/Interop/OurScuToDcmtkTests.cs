using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Interop;

/// <summary>Our SCU against DCMTK's storescp: every file arrives equal, converted when storescp insists on a syntax.</summary>
public class OurScuToDcmtkTests
{
    [SharedDataFact("storescp")]
    public async Task Send_TestVolumesToStorescp_EveryFileArrivesEqual()
    {
        await using var peer = await Storescp.StartAsync([]);
        var results = await DicomSender.SendAsync("127.0.0.1", peer.Port, TestHelpers.Client("STORESCP"), TestFiles.All).ToListAsync();

        Assert.Equal(TestFiles.All.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Path}: {r.Status} {r.Error}"));
        var received = Directory.GetFiles(peer.Folder);
        Assert.Equal(TestFiles.All.Count, received.Length);
        foreach (var f in received)
        {
            var uid = DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!;
            DatasetAssert.SameDataset(TestFiles.SourceOf(uid), f);
        }
    }

    [SharedDataFact("storescp", "echoscu")]
    public async Task Echo_ToStorescp_Succeeds()
    {
        await using var peer = await Storescp.StartAsync([]);
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", peer.Port, TestHelpers.Client("STORESCP"), [PresentationContextProposal.Verification], CancellationToken.None);
        Assert.Equal(DicomStatus.Success, await a.EchoAsync(CancellationToken.None));
    }

    [SharedDataFact("storescp")]
    public async Task Send_ToStorescpImplicitOnly_ConvertsWithOurWriter()
    {
        // storescp +xi accepts Implicit VR LE only; the files are Explicit VR LE: our SCU re-encodes them.
        await using var peer = await Storescp.StartAsync(["+xi"]);
        var files = TestFiles.FilesUnder(Path.Combine(TestFiles.Study("Study1"), "13_HCropVolume"));
        var results = await DicomSender.SendAsync("127.0.0.1", peer.Port, TestHelpers.Client("STORESCP"), files).ToListAsync();
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Path}: {r.Status} {r.Error}"));
        var received = Directory.GetFiles(peer.Folder);
        Assert.Equal(files.Count, received.Length);
        foreach (var f in received)
        {
            var header = DicomReader.ReadFileHeader(f);
            Assert.Equal(DicomTransferSyntax.ImplicitVRLittleEndian, header.TransferSyntax);
            DatasetAssert.SameDataset(TestFiles.SourceOf(header.FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!), f, compareVR: false);
        }
    }
}
