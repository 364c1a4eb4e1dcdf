using System.Buffers;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Pdus;

/// <summary>Byte-exact encodings of every PDU type, built by hand from PS3.8 §9.3 (not from our writer).</summary>
public class PduGoldenTests
{
    private static readonly byte[] Zero32 = new byte[32];

    /// <summary>A-ASSOCIATE-RQ: ANY-SCP from ECHOSCU, Verification in Implicit VR LE, max 16384, class 1.2.3, version "X".</summary>
    internal static byte[] AssociateRqBytes() =>
    [
        .. Hex.Parse("01 00 000000A9 0001 0000"),
        .. Hex.Ascii("ANY-SCP", 16), .. Hex.Ascii("ECHOSCU", 16), .. Zero32,
        .. Hex.Parse("10 00 0015"), .. Hex.Ascii("1.2.840.10008.3.1.1.1"),
        .. Hex.Parse("20 00 002E 01 00 00 00"),
        .. Hex.Parse("30 00 0011"), .. Hex.Ascii("1.2.840.10008.1.1"),
        .. Hex.Parse("40 00 0011"), .. Hex.Ascii("1.2.840.10008.1.2"),
        .. Hex.Parse("50 00 0016 | 51 00 0004 00004000 | 52 00 0005"), .. Hex.Ascii("1.2.3"), .. Hex.Parse("55 00 0001"), .. Hex.Ascii("X"),
    ];

    internal static AAssociateRq AssociateRq() => new("ANY-SCP", "ECHOSCU",
        [new PresentationContextRequest(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])],
        new UserInformation(16384, "1.2.3", "X"));

    /// <summary>A-ASSOCIATE-AC: context 1 accepted in Implicit VR LE; max 65536, async window 1/1, role selection SCU only.</summary>
    internal static byte[] AssociateAcBytes() =>
    [
        .. Hex.Parse("02 00 000000B5 0001 0000"),
        .. Hex.Ascii("ANY-SCP", 16), .. Hex.Ascii("ECHOSCU", 16), .. Zero32,
        .. Hex.Parse("10 00 0015"), .. Hex.Ascii("1.2.840.10008.3.1.1.1"),
        .. Hex.Parse("21 00 0019 01 00 00 00"),
        .. Hex.Parse("40 00 0011"), .. Hex.Ascii("1.2.840.10008.1.2"),
        .. Hex.Parse("50 00 0037 | 51 00 0004 00010000 | 52 00 0005"), .. Hex.Ascii("1.2.3"),
        .. Hex.Parse("53 00 0004 0001 0001"),
        .. Hex.Parse("54 00 0015 0011"), .. Hex.Ascii("1.2.840.10008.1.1"), .. Hex.Parse("01 00"),
        .. Hex.Parse("55 00 0001"), .. Hex.Ascii("X"),
    ];

    internal static AAssociateAc AssociateAc() => new("ANY-SCP", "ECHOSCU",
        [new PresentationContextResponse(1, PresentationContextResult.Acceptance, "1.2.840.10008.1.2")],
        new UserInformation(65536, "1.2.3", "X")
        {
            AsyncOperations = new AsyncOperationsWindow(1, 1),
            RoleSelections = [new RoleSelection("1.2.840.10008.1.1", true, false)],
        });

    internal static readonly byte[] AssociateRjBytes = Hex.Parse("03 00 00000004 00 01 01 07");
    internal static readonly byte[] PDataBytes = Hex.Parse("04 00 00000011 | 00000004 01 03 41 42 | 00000005 03 00 43 44 45");
    internal static readonly byte[] ReleaseRqBytes = Hex.Parse("05 00 00000004 00000000");
    internal static readonly byte[] ReleaseRpBytes = Hex.Parse("06 00 00000004 00000000");
    internal static readonly byte[] AbortBytes = Hex.Parse("07 00 00000004 00 00 02 06");

    internal static PDataTf PData() => new([
        new PresentationDataValue(1, IsCommand: true, IsLastFragment: true, "AB"u8.ToArray()),
        new PresentationDataValue(3, IsCommand: false, IsLastFragment: false, "CDE"u8.ToArray()),
    ]);

    /// <summary>Every golden case: name, PDU, bytes.</summary>
    public static TheoryData<string> Cases => new() { "rq", "ac", "rj", "pdata", "release-rq", "release-rp", "abort" };

    internal static (Network.Pdu Pdu, byte[] Bytes) Case(string name) => name switch
    {
        "rq" => (AssociateRq(), AssociateRqBytes()),
        "ac" => (AssociateAc(), AssociateAcBytes()),
        "rj" => (new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized), AssociateRjBytes),
        "pdata" => (PData(), PDataBytes),
        "release-rq" => (new AReleaseRq(), ReleaseRqBytes),
        "release-rp" => (new AReleaseRp(), ReleaseRpBytes),
        "abort" => (new AAbort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue), AbortBytes),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Write_Pdu_MatchesGoldenBytes(string name)
    {
        var (pdu, bytes) = Case(name);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(PduWriter.ToArray(pdu)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_GoldenBytes_ReencodesIdentically(string name)
    {
        var (_, bytes) = Case(name);
        var seq = new ReadOnlySequence<byte>(bytes);
        Assert.True(PduReader.TryRead(ref seq, uint.MaxValue, out var pdu));
        Assert.True(seq.IsEmpty);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(PduWriter.ToArray(pdu)));
    }

    [Fact]
    public void Read_AssociateRq_GivesEveryField()
    {
        var rq = Assert.IsType<AAssociateRq>(ReadOne(AssociateRqBytes()));
        Assert.Equal("ANY-SCP", rq.CalledAeTitle);
        Assert.Equal("ECHOSCU", rq.CallingAeTitle);
        Assert.Equal(1, rq.ProtocolVersion);
        Assert.Equal(DicomUid.ApplicationContext, rq.ApplicationContextName);
        var pc = Assert.Single(rq.PresentationContexts);
        Assert.Equal((byte)1, pc.Id);
        Assert.Equal(DicomUid.Verification, pc.AbstractSyntax);
        Assert.Equal(["1.2.840.10008.1.2"], pc.TransferSyntaxes);
        Assert.Equal(16384u, rq.UserInformation.MaxPduLength);
        Assert.Equal("1.2.3", rq.UserInformation.ImplementationClassUid);
        Assert.Equal("X", rq.UserInformation.ImplementationVersionName);
        Assert.Null(rq.UserInformation.AsyncOperations);
        Assert.Empty(rq.UserInformation.RoleSelections);
    }

    [Fact]
    public void Read_AssociateAc_GivesResultsAndSubItems()
    {
        var ac = Assert.IsType<AAssociateAc>(ReadOne(AssociateAcBytes()));
        var pc = Assert.Single(ac.PresentationContexts);
        Assert.True(pc.IsAccepted);
        Assert.Equal("1.2.840.10008.1.2", pc.TransferSyntax);
        Assert.Equal(65536u, ac.UserInformation.MaxPduLength);
        Assert.Equal(new AsyncOperationsWindow(1, 1), ac.UserInformation.AsyncOperations);
        Assert.Equal(new RoleSelection(DicomUid.Verification, true, false), Assert.Single(ac.UserInformation.RoleSelections));
    }

    [Fact]
    public void Read_PData_GivesPdvsWithControlBits()
    {
        var data = Assert.IsType<PDataTf>(ReadOne(PDataBytes));
        Assert.Equal(2, data.Values.Count);
        Assert.Equal((1, true, true, "AB"), (data.Values[0].PresentationContextId, data.Values[0].IsCommand, data.Values[0].IsLastFragment, System.Text.Encoding.ASCII.GetString(data.Values[0].Data.Span)));
        Assert.Equal((3, false, false, "CDE"), (data.Values[1].PresentationContextId, data.Values[1].IsCommand, data.Values[1].IsLastFragment, System.Text.Encoding.ASCII.GetString(data.Values[1].Data.Span)));
    }

    [Fact]
    public void Read_RejectAndAbort_GiveTheirFields()
    {
        var rj = Assert.IsType<AAssociateRj>(ReadOne(AssociateRjBytes));
        Assert.Equal((AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, (byte)7), (rj.Result, rj.Source, rj.Reason));
        Assert.Contains("called AE title not recognized", rj.Describe(), StringComparison.Ordinal);
        var abort = Assert.IsType<AAbort>(ReadOne(AbortBytes));
        Assert.Equal((AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue), (abort.Source, abort.Reason));
    }

    [Fact]
    public void Read_UnknownItemInAssociateRq_IsSkipped()
    {
        // PS3.8 §9.3.1: items of unrecognised types are ignored. Insert a 0x99 item before the user information.
        var bytes = AssociateRqBytes().ToList();
        var at = bytes.Count - 26;
        bytes.InsertRange(at, Hex.Parse("99 00 0002 ABCD"));
        var fixedLength = (uint)(bytes.Count - 6);
        bytes[2] = (byte)(fixedLength >> 24); bytes[3] = (byte)(fixedLength >> 16); bytes[4] = (byte)(fixedLength >> 8); bytes[5] = (byte)fixedLength;
        var rq = Assert.IsType<AAssociateRq>(ReadOne([.. bytes]));
        Assert.Equal(16384u, rq.UserInformation.MaxPduLength);
    }

    [Fact]
    public void Read_UidWithTrailingNul_IsTrimmed()
    {
        var pdu = AssociateRq() with { ApplicationContextName = DicomUid.ApplicationContext + "\0" };
        var rq = Assert.IsType<AAssociateRq>(ReadOne(PduWriter.ToArray(pdu)));
        Assert.Equal(DicomUid.ApplicationContext, rq.ApplicationContextName);
    }

    [Fact]
    public void Write_PDataSinglePdvHeader_MatchesGeneralWriter()
    {
        var header = new byte[PduWriter.PDataSinglePdvOverhead];
        PduWriter.WritePDataSinglePdvHeader(header, 5, isCommand: false, isLast: true, dataLength: 3);
        var general = PduWriter.ToArray(new PDataTf([new PresentationDataValue(5, false, true, new byte[3])]));
        Assert.Equal(Convert.ToHexString(general[..12]), Convert.ToHexString(header));
    }

    internal static Network.Pdu ReadOne(byte[] bytes)
    {
        var seq = new ReadOnlySequence<byte>(bytes);
        Assert.True(PduReader.TryRead(ref seq, uint.MaxValue, out var pdu));
        return pdu;
    }
}
