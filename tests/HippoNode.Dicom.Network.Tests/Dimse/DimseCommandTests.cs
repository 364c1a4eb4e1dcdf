using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Dimse;

/// <summary>Command sets: Implicit VR Little Endian with a group length, the fields C-ECHO and C-STORE use.</summary>
public class DimseCommandTests
{
    [Fact]
    public void Encode_EchoRequest_IsImplicitLittleEndianWithGroupLength()
    {
        var bytes = DimseCommand.EchoRequest(7).Encode();
        // (0000,0000) UL, implicit: tag, 32-bit length 4, value = bytes after this element.
        Assert.Equal(Convert.ToHexString(Hex.Parse("0000 0000 04000000")), Convert.ToHexString(bytes[..8]));
        Assert.Equal((uint)(bytes.Length - 12), BitConverter.ToUInt32(bytes, 8));
        // (0000,0002) UI "1.2.840.10008.1.1" padded with NUL to 18.
        Assert.Equal(Convert.ToHexString([.. Hex.Parse("0000 0200 12000000"), .. Hex.Ascii("1.2.840.10008.1.1"), 0]), Convert.ToHexString(bytes[12..38]));
        var decoded = DimseCommand.Decode(bytes);
        Assert.Equal(DimseCommandField.CEchoRq, decoded.CommandField);
        Assert.Equal(7, decoded.MessageId);
        Assert.False(decoded.HasDataset);
    }

    [Fact]
    public void StoreRequest_RoundTrip_KeepsEveryField()
    {
        var rq = DimseCommand.Decode(DimseCommand.StoreRequest(42, DicomUid.MRImageStorage, "1.2.3.4").Encode());
        Assert.Equal(DimseCommandField.CStoreRq, rq.CommandField);
        Assert.Equal(42, rq.MessageId);
        Assert.Equal(DicomUid.MRImageStorage, rq.AffectedSopClassUid);
        Assert.Equal("1.2.3.4", rq.AffectedSopInstanceUid);
        Assert.True(rq.HasDataset);
        Assert.False(rq.IsResponse);
    }

    [Fact]
    public void ResponseTo_StoreRequest_EchoesIdsAndCarriesStatus()
    {
        var rq = DimseCommand.StoreRequest(9, DicomUid.CTImageStorage, "1.2.3");
        var rsp = DimseCommand.Decode(DimseCommand.ResponseTo(rq, DicomStatus.OutOfResources, "disk full\\really").Encode());
        Assert.Equal(DimseCommandField.CStoreRsp, rsp.CommandField);
        Assert.Equal(9, rsp.MessageIdBeingRespondedTo);
        Assert.Equal(DicomStatus.OutOfResources, rsp.Status);
        Assert.Equal("disk full really", rsp.ErrorComment);
        Assert.Equal("1.2.3", rsp.AffectedSopInstanceUid);
        Assert.True(rsp.IsResponse);
        Assert.False(rsp.HasDataset);
    }

    [Fact]
    public void Decode_Garbage_ThrowsNetworkException()
    {
        Assert.Throws<DicomNetworkException>(() => DimseCommand.Decode(Hex.Parse("0000 0000 FFFFFF7F")));
        var noField = DicomDatasetWriter.ToArray(new DicomDataset().AddOrUpdate(DicomTags.MessageID, DicomVR.US, (ushort)1), DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Throws<DicomNetworkException>(() => DimseCommand.Decode(noField));
    }

    [Theory]
    [InlineData(0x0000, DicomStatusCategory.Success)]
    [InlineData(0xB000, DicomStatusCategory.Warning)]
    [InlineData(0xB007, DicomStatusCategory.Warning)]
    [InlineData(0x0001, DicomStatusCategory.Warning)]
    [InlineData(0xFF00, DicomStatusCategory.Pending)]
    [InlineData(0xFE00, DicomStatusCategory.Cancel)]
    [InlineData(0xA700, DicomStatusCategory.Failure)]
    [InlineData(0xC000, DicomStatusCategory.Failure)]
    [InlineData(0x0122, DicomStatusCategory.Failure)]
    [InlineData(0x0211, DicomStatusCategory.Failure)]
    public void Category_KnownCodes_AreClassifiedAsPs37Says(int code, DicomStatusCategory category)
    {
        Assert.Equal(category, new DicomStatus((ushort)code).Category);
    }

    [Fact]
    public void FromException_BoundaryMapping_GivesTheExpectedStatuses()
    {
        Assert.Equal(DicomStatus.OutOfResources, DicomStatus.FromException(new IOException("No space left on device")));
        Assert.Equal(DicomStatus.OutOfResources, DicomStatus.FromException(new UnauthorizedAccessException()));
        Assert.Equal(DicomStatus.CannotUnderstand, DicomStatus.FromException(new DicomParseException("bad", 0, null)));
        Assert.Equal(DicomStatus.ProcessingFailure, DicomStatus.FromException(new InvalidOperationException()));
        Assert.Equal(DicomStatus.CoercionOfDataElements, DicomStatus.FromException(new DicomStatusException(DicomStatus.CoercionOfDataElements, "coerced")));
    }
}
