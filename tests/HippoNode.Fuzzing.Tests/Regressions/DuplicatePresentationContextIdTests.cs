using HippoNode.Dicom;
using HippoNode.Dicom.Network;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>
/// Found by the pdu fuzz target (seed 20262064: an A-ASSOCIATE-RQ item duplicated): two presentation contexts with
/// the same ID made the SCP's negotiation throw ArgumentException (a dictionary keyed by ID), logged as an association
/// that "ended with an unexpected error". PS3.8 §9.3.2.2 makes each ID unique; the reader now refuses such a PDU and
/// the SCP aborts the association cleanly.
/// </summary>
public sealed class DuplicatePresentationContextIdTests
{
    private static readonly PresentationContextRequest Echo1 = new(1, DicomUid.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid]);
    private static readonly PresentationContextRequest Store1 = new(1, ScpHarness.MrImage, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid]);

    [Fact]
    public void Reader_RefusesAnAssociateRqWithAnIdTwice()
    {
        var bytes = ScpHarness.AssociateRq(Echo1, Store1);
        var ex = Assert.Throws<DicomPduException>(() => PduReader.ReadBody(PduType.AAssociateRq, bytes[6..]));
        Assert.Contains("presentation context 1 twice", ex.Message, StringComparison.Ordinal);
        Assert.Equal(AbortReason.InvalidPduParameterValue, ex.Reason);
    }

    [Fact]
    public async Task Scp_AbortsCleanly_AndServesTheNext()
    {
        await using var scp = await ScpHarness.StartAsync();
        var answer = await scp.ExchangeAsync([.. ScpHarness.AssociateRq(Echo1, Store1), .. ScpHarness.ReleaseRq()]);
        Assert.IsType<AAbort>(Assert.Single(answer));
        await scp.IdleAsync();
        Assert.Empty(scp.Errors);
        Assert.True((await scp.EchoAsync()).IsSuccess);
    }
}
