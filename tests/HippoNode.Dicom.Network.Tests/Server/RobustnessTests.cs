using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Server;

/// <summary>Peers that send garbage, stop half-way, go silent or vanish cost one association, never the server.</summary>
public class RobustnessTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(500);

    private static Task<TestServer> ShortTimersAsync() => TestServer.StartAsync(o =>
    {
        o.ArtimTimeout = Short;
        o.IdleTimeout = Short;
    });

    private static readonly PresentationContextRequest MrContext =
        new(1, DicomUid.MRImageStorage, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid]);

    [Fact]
    public async Task GarbageBytes_AbortedAndClosed_NextAssociationServed()
    {
        await using var scp = await ShortTimersAsync();
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            var garbage = new byte[256];
            new Random(7).NextBytes(garbage);
            garbage[0] = 0xFF; // no PDU type
            await peer.SendAsync(garbage);
            var pdus = await peer.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
            Assert.IsType<AAbort>(Assert.Single(pdus)); // AA-1 in Sta2, then closed
        }
        await TestHelpers.AssertEchoAsync(scp);
    }

    [Fact]
    public async Task HalfSentPdu_ArtimExpires_ConnectionClosedOthersServedMeanwhile()
    {
        await using var scp = await ShortTimersAsync();
        await using var peer = await RawPeer.ConnectAsync(scp.Port);
        // An A-ASSOCIATE-RQ header announcing 300 bytes, then only 20 of them.
        await peer.SendAsync([.. Hex.Parse("01 00 0000012C"), .. new byte[20]]);

        await TestHelpers.AssertEchoAsync(scp); // served while the half PDU hangs

        var started = DateTime.UtcNow;
        var pdus = await peer.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(pdus); // ARTIM in Sta2: AA-2, close without a word
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4));
        await TestHelpers.AssertEchoAsync(scp);
    }

    [Fact]
    public async Task SilentPeerMidDataset_IdleTimerAborts_PartialFileRemoved()
    {
        await using var scp = await ShortTimersAsync();
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, MrContext));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.StoreRequest(1, DicomUid.MRImageStorage, "1.2.3.4").Encode())]));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, false, false, new byte[1000])]));
            // ... and nothing more.
            var pdus = await peer.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
            var abort = Assert.IsType<AAbort>(Assert.Single(pdus));
            Assert.Equal(AbortSource.ServiceUser, abort.Source);
        }
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Empty(scp.IncomingLeftovers());
        Assert.Empty(scp.StoredFiles());
        await TestHelpers.AssertEchoAsync(scp);
    }

    [Fact]
    public async Task PeerVanishesMidDataset_PartialFileRemoved_NextAssociationServed()
    {
        await using var scp = await TestServer.StartAsync();
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, MrContext));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.StoreRequest(1, DicomUid.MRImageStorage, "1.2.3.4").Encode())]));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, false, false, new byte[5000])]));
        }
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Empty(scp.IncomingLeftovers());
        await TestHelpers.AssertEchoAsync(scp);
    }

    [Fact]
    public async Task OversizedPdu_AbortedFromItsHeader()
    {
        await using var scp = await TestServer.StartAsync();
        await using var peer = await RawPeer.ConnectAsync(scp.Port);
        Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, MrContext));
        // A P-DATA-TF header announcing 100 MB; not one byte of it follows.
        await peer.SendAsync(Hex.Parse("04 00 06400000"));
        var abort = Assert.IsType<AAbort>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal((AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue), (abort.Source, abort.Reason));
    }

    [Fact]
    public async Task UnexpectedPdus_AbortedByTheProvider()
    {
        await using var scp = await TestServer.StartAsync();
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            // P-DATA before any association: AA-1.
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, true, true, new byte[4])]));
            Assert.IsType<AAbort>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
        }
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            // A second A-ASSOCIATE-RQ on an established association: Evt6 in Sta6, AA-8.
            Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, MrContext));
            await peer.SendAsync(Pdus.PduGoldenTests.AssociateRq());
            var abort = Assert.IsType<AAbort>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(AbortSource.ServiceProvider, abort.Source);
        }
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            // Data on a context that was never accepted.
            Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, MrContext));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(9, true, true, DimseCommand.EchoRequest(1).Encode())]));
            Assert.IsType<AAbort>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
        }
        await TestHelpers.AssertEchoAsync(scp);
    }

    [Fact]
    public async Task AssociateRq_ProtocolVersionWithoutBit0_RejectedByTheAcseProvider()
    {
        await using var scp = await ShortTimersAsync();
        await using var peer = await RawPeer.ConnectAsync(scp.Port);
        await peer.SendAsync(new AAssociateRq(scp.AeTitle, "RAWPEER", [MrContext], UserInformation.Ours(16384)) { ProtocolVersion = 2 });
        var rj = Assert.IsType<AAssociateRj>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceProviderAcse, AssociateRejectReason.ProtocolVersionNotSupported), rj);
        // AE-8 started ARTIM in Sta13: a requestor that does not close is closed on when it expires.
        Assert.Null(await peer.ReceiveAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task UnsupportedCommand_AnsweredUnrecognizedOperation_AssociationGoesOn()
    {
        await using var scp = await TestServer.StartAsync();
        await using var peer = await RawPeer.ConnectAsync(scp.Port);
        Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, new PresentationContextRequest(1, DicomUid.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid])));
        var find = new DicomDataset()
            .AddOrUpdate(DicomTags.CommandGroupLength, DicomVR.UL, 0u)
            .AddOrUpdate(DicomTags.AffectedSOPClassUID, DicomVR.UI, DicomUid.Verification)
            .AddOrUpdate(DicomTags.CommandField, DicomVR.US, (ushort)DimseCommandField.CFindRq)
            .AddOrUpdate(DicomTags.MessageID, DicomVR.US, (ushort)5)
            .AddOrUpdate(DicomTags.CommandDataSetType, DicomVR.US, (ushort)0x0000);
        await peer.SendAsync(new PDataTf([
            new PresentationDataValue(1, true, true, new DimseCommand(find).Encode()),
            new PresentationDataValue(1, false, true, new byte[10]),
        ]));
        var rsp = DimseCommand.Decode(Assert.IsType<PDataTf>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5))).Values[0].Data);
        Assert.Equal(DicomStatus.UnrecognizedOperation, rsp.Status);
        Assert.Equal(5, rsp.MessageIdBeingRespondedTo);

        await peer.SendAsync(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.EchoRequest(6).Encode())]));
        var echo = DimseCommand.Decode(Assert.IsType<PDataTf>(await peer.ReceiveAsync(TimeSpan.FromSeconds(5))).Values[0].Data);
        Assert.Equal(DicomStatus.Success, echo.Status);
    }

    [Fact]
    public async Task AbortWhileHandlerBusy_IsReadAtOnce_HandlerCancelled()
    {
        var handler = new BlockingHandler();
        await using var scp = await TestServer.StartAsync(handler: handler);
        await using (var peer = await RawPeer.ConnectAsync(scp.Port))
        {
            Assert.IsType<AAssociateAc>(await peer.AssociateAsync(scp.AeTitle, MrContext));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, true, true, DimseCommand.StoreRequest(1, DicomUid.MRImageStorage, "1.2.3.4").Encode())]));
            await peer.SendAsync(new PDataTf([new PresentationDataValue(1, false, true, new byte[100])]));
            await handler.Entered.Task.WaitAsync(TimeSpan.FromSeconds(5));
            await peer.SendAsync(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified));
            // The handler never returns on its own: only the abort, read by the loop, can cancel it.
            await handler.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5));
        }
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Empty(scp.IncomingLeftovers());
    }

    private sealed class BlockingHandler : IDicomStoreHandler
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
            return DicomStatus.Success;
        }
    }
}

/// <summary>Stopping the server and honouring small PDU limits.</summary>
public class ServerLifecycleTests
{
    [Fact]
    public async Task StopAsync_WithAnOpenAssociation_AbortsItAndReturnsPromptly()
    {
        var log = new ListLoggerFactory();
        var scp = await TestServer.StartAsync(log: log);
        var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), [PresentationContextProposal.Verification], CancellationToken.None);
        var started = DateTime.UtcNow;
        await scp.DisposeAsync();
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        var ex = await Assert.ThrowsAsync<DicomAssociationAbortedException>(() => a.EchoAsync(CancellationToken.None));
        Assert.True(ex.Message.Contains("aborted", StringComparison.Ordinal), ex.Message + "\n" + string.Join("\n", log.Lines));
        await a.DisposeAsync();
    }

    [SharedDataFact("storescu")]
    public async Task SmallMaxPdu_BothScus_FragmentWithinIt()
    {
        // A PDU above our 4096-byte maximum would abort the association; every file arriving proves the fragmenting.
        await using var scp = await TestServer.StartAsync(o => o.MaxPduLength = 4096);
        var files = TestFiles.FilesUnder(Path.Combine(TestFiles.Study("Study2"), "14_HCropVolume")).Take(5).ToList();
        var ours = await DicomSender.SendAsync("127.0.0.1", scp.Port, TestHelpers.Client(), files).ToListAsync();
        Assert.All(ours, r => Assert.True(r.Succeeded, r.Error));
        var dcmtk = await Processes.RunAsync("storescu", ["-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), .. files]);
        Assert.True(dcmtk.ExitCode == 0, dcmtk.Output);
        Assert.Equal(files.Count, scp.StoredFiles().Count);
    }
}
