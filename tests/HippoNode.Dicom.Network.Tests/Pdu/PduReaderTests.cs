using System.Buffers;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Pdus;

/// <summary>The reader over bytes as they arrive: split anywhere, incomplete, oversized, malformed.</summary>
public class PduReaderTests
{
    [Theory]
    [MemberData(nameof(PduGoldenTests.Cases), MemberType = typeof(PduGoldenTests))]
    public void TryRead_SplitAtEveryOffset_GivesTheSamePdu(string name)
    {
        var (_, bytes) = PduGoldenTests.Case(name);
        for (var at = 1; at < bytes.Length; at++)
        {
            var seq = Sequences.SplitAt(bytes, at);
            Assert.True(PduReader.TryRead(ref seq, uint.MaxValue, out var pdu), $"split at {at}");
            Assert.True(seq.IsEmpty);
            Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(PduWriter.ToArray(pdu)));
        }
    }

    [Theory]
    [MemberData(nameof(PduGoldenTests.Cases), MemberType = typeof(PduGoldenTests))]
    public void TryRead_OneByteSegments_GivesTheSamePdu(string name)
    {
        var (_, bytes) = PduGoldenTests.Case(name);
        var seq = Sequences.Bytewise(bytes);
        Assert.True(PduReader.TryRead(ref seq, uint.MaxValue, out var pdu));
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(PduWriter.ToArray(pdu)));
    }

    [Theory]
    [MemberData(nameof(PduGoldenTests.Cases), MemberType = typeof(PduGoldenTests))]
    public void TryRead_EveryIncompletePrefix_ReturnsFalseAndConsumesNothing(string name)
    {
        var (_, bytes) = PduGoldenTests.Case(name);
        for (var n = 0; n < bytes.Length; n++)
        {
            var seq = Sequences.Of(bytes[..n]);
            var before = seq.Length;
            Assert.False(PduReader.TryRead(ref seq, uint.MaxValue, out var pdu), $"prefix {n}");
            Assert.Null(pdu);
            Assert.Equal(before, seq.Length);
        }
    }

    [Fact]
    public void TryRead_TwoPdusInOneBuffer_ReadsThemInOrder()
    {
        var seq = Sequences.Of([.. PduGoldenTests.ReleaseRqBytes, .. PduGoldenTests.PDataBytes[..10]], PduGoldenTests.PDataBytes[10..]);
        Assert.True(PduReader.TryRead(ref seq, uint.MaxValue, out var first));
        Assert.IsType<AReleaseRq>(first);
        Assert.True(PduReader.TryRead(ref seq, uint.MaxValue, out var second));
        Assert.IsType<PDataTf>(second);
        Assert.True(seq.IsEmpty);
    }

    [Fact]
    public void TryRead_LengthOverMaximum_ThrowsFromTheHeaderAlone()
    {
        // Only the 6-byte header has arrived; the announced 1 GiB must be refused now, not buffered first.
        var seq = new ReadOnlySequence<byte>(Hex.Parse("04 00 40000000"));
        var ex = Assert.Throws<DicomPduException>(() => PduReader.TryRead(ref seq, 65536, out _));
        Assert.Equal(AbortReason.InvalidPduParameterValue, ex.Reason);
    }

    [Fact]
    public void TryRead_LengthAtMaximum_IsAccepted()
    {
        var data = new PDataTf([new PresentationDataValue(1, false, true, new byte[100])]);
        var bytes = PduWriter.ToArray(data);
        var seq = new ReadOnlySequence<byte>(bytes);
        Assert.True(PduReader.TryRead(ref seq, (uint)(bytes.Length - 6), out _));
    }

    [Theory]
    [InlineData("00 00 00000004 00000000")]
    [InlineData("08 00 00000004 00000000")]
    [InlineData("FF FF FFFFFFFF")]
    public void TryRead_UnknownType_IsUnrecognizedPdu(string hex)
    {
        var seq = new ReadOnlySequence<byte>(Hex.Parse(hex));
        var ex = Assert.Throws<DicomPduException>(() => PduReader.TryRead(ref seq, uint.MaxValue, out _));
        Assert.Equal(AbortReason.UnrecognizedPdu, ex.Reason);
    }

    [Theory]
    [InlineData("04 00 00000005 | 00000001 01")] // PDV item length below 2
    [InlineData("04 00 00000008 | 00000009 01 03 41 42")] // PDV item longer than the PDU
    [InlineData("04 00 00000000")] // no PDV at all
    [InlineData("05 00 00000002 0000")] // release body not 4 bytes
    [InlineData("03 00 00000003 000101")] // reject body not 4 bytes
    [InlineData("01 00 00000010 0001 0000 0000000000000000 00000000")] // associate body shorter than its fixed part
    public void TryRead_MalformedBody_ThrowsPduException(string hex)
    {
        var seq = new ReadOnlySequence<byte>(Hex.Parse(hex));
        Assert.Throws<DicomPduException>(() => PduReader.TryRead(ref seq, uint.MaxValue, out _));
    }

    [Fact]
    public void TryRead_ItemRunningPastItsParent_Throws()
    {
        var bytes = PduGoldenTests.AssociateRqBytes();
        bytes[6 + 68 + 3] = 0xFF; // application context item claims 255 bytes
        var seq = new ReadOnlySequence<byte>(bytes);
        Assert.Throws<DicomPduException>(() => PduReader.TryRead(ref seq, uint.MaxValue, out _));
    }

    [Fact]
    public void TryRead_AssociateRqWithoutApplicationContext_Throws()
    {
        var body = new byte[68];
        body[1] = 1;
        var seq = new ReadOnlySequence<byte>([.. Hex.Parse("01 00 00000044"), .. body]);
        Assert.Throws<DicomPduException>(() => PduReader.TryRead(ref seq, uint.MaxValue, out _));
    }

    [Fact]
    public void TryRead_RandomBytes_NeverThrowsAnythingButPduException()
    {
        var rng = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[rng.Next(6, 200)];
            rng.NextBytes(bytes);
            bytes[0] = (byte)rng.Next(1, 8);
            var len = (uint)(bytes.Length - 6);
            bytes[2] = 0; bytes[3] = 0; bytes[4] = (byte)(len >> 8); bytes[5] = (byte)len;
            var seq = new ReadOnlySequence<byte>(bytes);
            try
            {
                PduReader.TryRead(ref seq, uint.MaxValue, out _);
            }
            catch (DicomPduException)
            {
                // the expected way to refuse garbage
            }
        }
    }
}
