using System.Collections.Concurrent;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Server;

/// <summary>Many associations at once, each served by its own task.</summary>
public class ConcurrencyTests
{
    [SharedDataFact]
    public async Task TwentyAssociationsAtOnce_SendTheStudies_EveryFileArrivesEqual()
    {
        await using var scp = await TestServer.StartAsync();
        var files = TestFiles.All;
        var proposals = TestHelpers.ProposalsFor(files);

        // All twenty are open at the same time before anything is sent.
        var associations = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), proposals, CancellationToken.None)));
        Assert.Equal(20, scp.Server.ActiveAssociations);

        var results = new ConcurrentBag<DicomStoreResult>();
        await Task.WhenAll(associations.Select((a, i) => Task.Run(async () =>
        {
            for (var k = i; k < files.Count; k += associations.Length) results.Add(await a.StoreAsync(files[k], CancellationToken.None));
        })));
        await Task.WhenAll(associations.Select(a => a.DisposeAsync().AsTask()));

        Assert.Equal(files.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Path}: {r.Status} {r.Error}"));
        var stored = scp.StoredFiles();
        Assert.Equal(files.Count, stored.Count);
        foreach (var f in stored)
        {
            var uid = DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!;
            DatasetAssert.SameDataset(TestFiles.SourceOf(uid), f);
        }
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(10));
        Assert.Empty(scp.IncomingLeftovers());
    }

    [Fact]
    public async Task MoreThanMaxAssociations_NextOneRejectedTransientLocalLimit()
    {
        await using var scp = await TestServer.StartAsync(o => o.MaxAssociations = 2);
        await using var a1 = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), [PresentationContextProposal.Verification], CancellationToken.None);
        await using var a2 = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), [PresentationContextProposal.Verification], CancellationToken.None);
        var ex = await Assert.ThrowsAsync<DicomAssociationRejectedException>(() =>
            DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), [PresentationContextProposal.Verification], CancellationToken.None));
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Transient, AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.LocalLimitExceeded), ex.Reject);
        Assert.Equal(DicomStatus.Success, await a1.EchoAsync(CancellationToken.None));
        Assert.Equal(DicomStatus.Success, await a2.EchoAsync(CancellationToken.None));
    }
}
