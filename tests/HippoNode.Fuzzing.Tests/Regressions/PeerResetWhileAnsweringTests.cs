using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>
/// Found by the pdu fuzz target (seeds 20262039, 20262046, 20262090 and others ending in a reset): a peer that sends
/// its request and resets the connection made our answer fail with DicomAssociationAbortedException, which escaped
/// the association and was logged at Error as "ended with an unexpected error" (event 1003). A peer's reset is the
/// peer's doing: it is now logged as a close, and the server goes on.
/// </summary>
public sealed class PeerResetWhileAnsweringTests
{
    [Fact]
    public async Task PeersThatResetRightAfterTheirRequest_AreNotServerErrors()
    {
        await using var scp = await ScpHarness.StartAsync();
        var pc = new PresentationContextRequest(1, DicomUid.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid]);
        var echo = DimseCommand.EchoRequest(1).Encode();
        byte[] request = [.. ScpHarness.AssociateRq(pc), .. ScpHarness.PData(1, true, echo), .. ScpHarness.PData(1, true, echo), .. ScpHarness.ReleaseRq()];
        // The reset races the server's answer; many tries make the losing side of the race (our send failing) certain.
        for (var i = 0; i < 40; i++) await scp.ExchangeAsync(request, reset: true);
        await scp.IdleAsync();
        Assert.Empty(scp.Errors);
        Assert.True((await scp.EchoAsync()).IsSuccess);
        Assert.Empty(Directory.Exists(scp.Incoming) ? Directory.GetFiles(scp.Incoming) : []);
    }
}
