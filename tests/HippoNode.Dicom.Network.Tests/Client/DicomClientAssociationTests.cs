using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Client;

/// <summary>Our SCU against our SCP: negotiation outcomes, pass-through, conversion, statuses.</summary>
public class DicomClientAssociationTests
{
    [Fact]
    public async Task Echo_OurScuToOurScp_Succeeds()
    {
        await using var scp = await TestServer.StartAsync();
        await TestHelpers.AssertEchoAsync(scp);
    }

    [Fact]
    public async Task Connect_WrongCalledAe_ThrowsRejectedWithReason7()
    {
        await using var scp = await TestServer.StartAsync();
        var ex = await Assert.ThrowsAsync<DicomAssociationRejectedException>(() =>
            DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client("NOBODY"), [PresentationContextProposal.Verification], CancellationToken.None));
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized), ex.Reject);
    }

    [Fact]
    public async Task Connect_UnknownTransferSyntaxAndSopClass_ContextResults4And3()
    {
        await using var scp = await TestServer.StartAsync();
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(),
        [
            PresentationContextProposal.Verification,
            new PresentationContextProposal(DicomUid.MRImageStorage, ["1.2.3.4.5.999"]),
            new PresentationContextProposal("1.2.840.10008.5.1.4.1.2.2.1", [DicomTransferSyntax.ImplicitVRLittleEndian.Uid]),
        ], CancellationToken.None);
        Assert.Equal(
            [PresentationContextResult.Acceptance, PresentationContextResult.TransferSyntaxesNotSupported, PresentationContextResult.AbstractSyntaxNotSupported],
            a.Contexts.Select(c => c.Result));
        Assert.Equal(65536u, a.Accept!.UserInformation.MaxPduLength);
        Assert.Equal(DicomUid.ImplementationClassUid, a.Accept.UserInformation.ImplementationClassUid);
    }

    [SharedDataFact]
    public async Task Store_EncapsulatedFile_PassedThroughUnchanged()
    {
        await using var scp = await TestServer.StartAsync();
        var file = TestHelpers.Corpus("MR_small_jp2klossless.dcm");
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([file]), CancellationToken.None);
        var r = await a.StoreAsync(file, CancellationToken.None);
        Assert.True(r.Succeeded, r.Error);
        var stored = Assert.Single(scp.StoredFiles());
        Assert.Equal("1.2.840.10008.1.2.4.90", DicomReader.ReadFileHeader(stored).TransferSyntax.Uid);
        DatasetAssert.SameDataset(file, stored);
    }

    [SharedDataFact]
    public async Task Store_BigEndianFileToExplicitLittleOnlyScp_ConvertedEqual()
    {
        await using var scp = await TestServer.StartAsync(o => o.TransferSyntaxPreference = [DicomTransferSyntax.ExplicitVRLittleEndian.Uid]);
        var file = TestHelpers.Corpus("MR_small_bigendian.dcm");
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([file]), CancellationToken.None);
        var r = await a.StoreAsync(file, CancellationToken.None);
        Assert.True(r.Succeeded, r.Error);
        var stored = Assert.Single(scp.StoredFiles());
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian, DicomReader.ReadFileHeader(stored).TransferSyntax);
        DatasetAssert.SameDataset(file, stored);
    }

    [SharedDataFact]
    public async Task Store_CompressedFileToUncompressedOnlyScp_FailsThatFileOnly()
    {
        await using var scp = await TestServer.StartAsync(o => o.TransferSyntaxPreference = [DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid]);
        var compressed = TestHelpers.Corpus("MR_small_jp2klossless.dcm");
        var plain = TestHelpers.Corpus("MR_small.dcm");
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([compressed, plain]), CancellationToken.None);
        var bad = await a.StoreAsync(compressed, CancellationToken.None);
        Assert.Null(bad.Status);
        Assert.Contains("JPEG 2000", bad.Error, StringComparison.Ordinal);
        var good = await a.StoreAsync(plain, CancellationToken.None);
        Assert.True(good.Succeeded, good.Error);
    }

    [SharedDataFact]
    public async Task Store_HandlerThrows_StatusMappedAndAssociationGoesOn()
    {
        var handler = new ScriptedHandler(
            _ => throw new IOException("No space left on device"),
            _ => throw new DicomParseException("garbled", 10, null),
            _ => DicomStatus.DataSetDoesNotMatchSopClassWarning,
            _ => DicomStatus.Success);
        await using var scp = await TestServer.StartAsync(handler: handler);
        var file = TestHelpers.Corpus("MR_small.dcm");
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([file]), CancellationToken.None);
        var statuses = new List<DicomStoreResult>();
        for (var i = 0; i < 4; i++) statuses.Add(await a.StoreAsync(file, CancellationToken.None));
        Assert.Equal([DicomStatus.OutOfResources, DicomStatus.CannotUnderstand, DicomStatus.DataSetDoesNotMatchSopClassWarning, DicomStatus.Success], statuses.Select(s => s.Status!.Value));
        Assert.Contains("No space left", statuses[0].Error, StringComparison.Ordinal);
        Assert.True(statuses[2].Succeeded);
        // The handler saw a complete Part 10 file each time, and nothing was left behind.
        Assert.All(handler.Seen, r => Assert.Equal(DicomUid.MRImageStorage, r.SopClassUid));
        Assert.Empty(scp.IncomingLeftovers());
    }

    [SharedDataFact]
    public async Task Send_FolderWithNonDicomFile_ReportsThatFileAndSendsTheRest()
    {
        await using var scp = await TestServer.StartAsync();
        var dir = TempDir.Create("send");
        try
        {
            File.Copy(TestHelpers.Corpus("CT_small.dcm"), Path.Combine(dir, "a.dcm"));
            File.Copy(TestHelpers.Corpus("MR_small_implicit.dcm"), Path.Combine(dir, "b.dcm"));
            await File.WriteAllTextAsync(Path.Combine(dir, "notes.txt"), "not DICOM");
            var results = await DicomSender.SendAsync("127.0.0.1", scp.Port, TestHelpers.Client(), DicomSender.EnumerateFiles([dir])).ToListAsync();
            Assert.Equal(3, results.Count);
            Assert.False(results.Single(r => r.Path.EndsWith("notes.txt", StringComparison.Ordinal)).Succeeded);
            Assert.Equal(2, results.Count(r => r.Succeeded));
            Assert.Equal(2, scp.StoredFiles().Count);
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }

    [Fact]
    public async Task Connect_NothingListening_ThrowsAborted()
    {
        var port = Processes.FreePort();
        await Assert.ThrowsAsync<DicomAssociationAbortedException>(() =>
            DicomClientAssociation.ConnectAsync("127.0.0.1", port, TestHelpers.Client(), [PresentationContextProposal.Verification], CancellationToken.None));
    }

    [Fact]
    public void ProposalsFor_MixedFiles_OneContextPerSopClassAndCompression()
    {
        var proposals = DicomSender.ProposalsFor(
        [
            (DicomUid.MRImageStorage, DicomTransferSyntax.ExplicitVRLittleEndian),
            (DicomUid.MRImageStorage, DicomTransferSyntax.ImplicitVRLittleEndian),
            (DicomUid.MRImageStorage, DicomTransferSyntax.ImplicitVRLittleEndian),
            (DicomUid.MRImageStorage, DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.90")),
            (DicomUid.CTImageStorage, DicomTransferSyntax.ExplicitVRBigEndian),
        ]);
        Assert.Equal(3, proposals.Count);
        Assert.Equal([DicomTransferSyntax.ExplicitVRBigEndian.Uid, DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid],
            proposals.Single(p => p.AbstractSyntax == DicomUid.CTImageStorage).TransferSyntaxes);
        Assert.Equal([DicomTransferSyntax.ImplicitVRLittleEndian.Uid, DicomTransferSyntax.ExplicitVRLittleEndian.Uid],
            proposals.Single(p => p.AbstractSyntax == DicomUid.MRImageStorage && p.TransferSyntaxes.Count == 2).TransferSyntaxes);
        Assert.Equal(["1.2.840.10008.1.2.4.90"], proposals.Single(p => p.TransferSyntaxes.Count == 1).TransferSyntaxes);
    }

    private sealed class ScriptedHandler(params Func<DicomStoreRequest, DicomStatus>[] script) : IDicomStoreHandler
    {
        private int _next;

        public List<DicomStoreRequest> Seen { get; } = [];

        public ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
        {
            Seen.Add(request);
            Assert.True(File.Exists(request.FilePath));
            Assert.NotNull(DicomFile.Open(request.FilePath).Dataset.GetString(DicomTags.SOPInstanceUID));
            return ValueTask.FromResult(script[_next++](request));
        }
    }
}
