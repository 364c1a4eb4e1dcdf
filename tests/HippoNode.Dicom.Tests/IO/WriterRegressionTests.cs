using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

/// <summary>Writer bugs the fuzzer found: each test failed before its fix.</summary>
public sealed class WriterRegressionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GroupLengthOfOddSize_InADefinedLengthItem_KeepsItemLengthsRight(bool implicitVR)
    {
        // A group length read with a length other than 4 (here 8 bytes, VR CS) is written back as one UL: the
        // item length computed for it must count 4 bytes too, or the item length lies and the file cannot be read.
        var syntax = implicitVR ? DicomTransferSyntax.ImplicitVRLittleEndian : DicomTransferSyntax.ExplicitVRLittleEndian;
        var item = new DicomDataset()
            .AddOrUpdate(new DicomTag(0x0040, 0x0000), DicomVR.CS, "CONTAINS")
            .AddOrUpdate(DicomTags.RelationshipType, DicomVR.CS, "CONTAINS");
        var ds = DicomTestUtil.NewDataset().AddOrUpdate(DicomTags.ContentSequence, item)
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "After");
        var bytes = DicomTestUtil.Encode(ds, syntax);
        var writer = new DicomWriter(Stream.Null, syntax);
        Assert.Equal(bytes.Length, writer.DatasetLength(ds));
        var back = DicomTestUtil.Decode(bytes, syntax);
        Assert.Equal("After", back.GetString(DicomTags.PatientName));
        var backItem = back.GetSequence(DicomTags.ContentSequence)!.Items.Single();
        Assert.Equal(16u, backItem.GetValue<uint>(new DicomTag(0x0040, 0x0000))); // recomputed: (0040,A010) is 8 + 8 bytes
    }

    [Fact]
    public void Group0002_LeftInTheDataset_IsNotWrittenIntoIt()
    {
        // A file whose meta information ended early leaves group 0002 elements in the data set; written back there,
        // a reader takes them for meta information (transfer syntax included) and misreads everything after.
        var ds = DicomTestUtil.NewDataset()
            .AddOrUpdate(DicomTags.TransferSyntaxUID, DicomVR.UI, DicomTransferSyntax.ImplicitVRLittleEndian.Uid)
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Doe");
        var file = new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        var ms = new MemoryStream();
        file.Write(ms);
        var back = DicomTestUtil.Read(ms.ToArray());
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian, back.TransferSyntax);
        Assert.Equal("Doe", back.Dataset.GetString(DicomTags.PatientName));
        Assert.DoesNotContain(back.Dataset, i => i.Tag.Group == 2);
        Assert.True(ds.Contains(DicomTags.TransferSyntaxUID)); // the caller's data set is left alone
    }

    [Fact]
    public void SopUidsWithNonAsciiBytes_AreCopiedIntoTheMeta_NotRejected()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, new byte[] { (byte)'1', (byte)'.', 0xE9, 0 })
            .AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, new byte[] { (byte)'2', 0xFF });
        var file = new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian); // builds meta from the data set
        Assert.Equal(new byte[] { (byte)'1', (byte)'.', 0xE9, 0 }, DicomTestUtil.Bytes(file.FileMetaInformation, DicomTags.MediaStorageSOPClassUID));
        var ms = new MemoryStream();
        file.Write(ms);
        var read = DicomTestUtil.Read(ms.ToArray());
        Assert.Equal(new byte[] { (byte)'2', 0xFF }, DicomTestUtil.Bytes(read.FileMetaInformation, DicomTags.MediaStorageSOPInstanceUID));

        // And when the meta lacks them, Write copies them as bytes too.
        read.FileMetaInformation.Remove(DicomTags.MediaStorageSOPClassUID);
        var again = new MemoryStream();
        read.Write(again);
        Assert.Equal(new byte[] { (byte)'1', (byte)'.', 0xE9, 0 }, DicomTestUtil.Bytes(DicomTestUtil.Read(again.ToArray()).FileMetaInformation, DicomTags.MediaStorageSOPClassUID));
    }

    [Fact]
    public void TransferSyntaxUidWithNonAsciiCharacters_IsADicomException()
    {
        var file = new DicomFile(DicomTestUtil.NewDataset(), DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Throws<DicomException>(() => file.Write(new MemoryStream(), DicomTransferSyntax.FromUid("1.2.é")));
    }
}
