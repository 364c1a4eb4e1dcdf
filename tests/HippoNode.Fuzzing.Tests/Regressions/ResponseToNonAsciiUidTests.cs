using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>
/// Found by the dimse fuzz target (seeds 20261364, 20261413, 20261441, 20261450: bytes above 0x7F in an Affected SOP
/// Class or Instance UID): building the response echoed the request's UIDs with the UI setter, which refuses
/// non-ASCII text, so DimseCommand.ResponseTo threw ArgumentException; in the SCP that happened in the response
/// task and ended the association with an unexpected error instead of answering. The response now leaves out a UID
/// it cannot write (PS3.7 makes them conditional) and the peer gets its failure status.
/// </summary>
public sealed class ResponseToNonAsciiUidTests
{
    private static byte[] StoreRequestWithUid(string classUid, byte[] instanceUid)
    {
        var ds = DimseCommand.StoreRequest(5, classUid, "1.2.3").Dataset;
        ds.AddOrUpdate(DicomTags.AffectedSOPInstanceUID, DicomVR.UI, instanceUid);
        return DicomDatasetWriter.ToArray(ds, DicomTransferSyntax.ImplicitVRLittleEndian);
    }

    private static readonly byte[] NonAscii = [(byte)'1', (byte)'.', 0xC4, (byte)'2'];

    [Fact]
    public void ResponseTo_LeavesOutAUidItCannotWrite()
    {
        var request = DimseCommand.Decode(StoreRequestWithUid(ScpHarness.MrImage, NonAscii));
        var response = DimseCommand.Decode(DimseCommand.ResponseTo(request, DicomStatus.InvalidObjectInstance, "bad UID").Encode());
        Assert.Equal(DicomStatus.InvalidObjectInstance, response.Status);
        Assert.Equal(5, response.MessageIdBeingRespondedTo);
        Assert.Null(response.AffectedSopInstanceUid);
        Assert.Equal(ScpHarness.MrImage, response.AffectedSopClassUid); // a writable UID is still echoed
    }

    [Fact]
    public async Task Scp_AnswersAStoreWithANonAsciiInstanceUid_WithAFailureStatus()
    {
        await using var scp = await ScpHarness.StartAsync();
        var pc = new PresentationContextRequest(1, ScpHarness.MrImage, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid]);
        var dataset = DicomDatasetWriter.ToArray(new DicomDataset().AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "X"), DicomTransferSyntax.ExplicitVRLittleEndian);
        var answer = await scp.ExchangeAsync([.. ScpHarness.AssociateRq(pc), .. ScpHarness.PData(1, true, StoreRequestWithUid(ScpHarness.MrImage, NonAscii)),
            .. ScpHarness.PData(1, false, dataset), .. ScpHarness.ReleaseRq()]);
        Assert.IsType<AAssociateAc>(answer[0]);
        var rsp = DimseCommand.Decode(Assert.IsType<PDataTf>(answer[1]).Values[0].Data);
        Assert.Equal(DimseCommandField.CStoreRsp, rsp.CommandField);
        Assert.True(rsp.Status.IsFailure, rsp.Status.ToString());
        Assert.IsType<AReleaseRp>(answer[2]);
        await scp.IdleAsync();
        Assert.Empty(scp.Errors);
    }
}
