using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace HippoNode.Dicom.Network;

/// <summary>Encodes PDUs (PS3.8 §9.3) into a buffer writer: header with the computed length, then the body.</summary>
public static class PduWriter
{
    /// <summary>Bytes before the data of a single-PDV P-DATA-TF: PDU header (6), PDV length (4), context ID (1), control header (1).</summary>
    public const int PDataSinglePdvOverhead = 12;

    /// <summary>Writes the whole PDU to <paramref name="output"/>.</summary>
    public static void Write(Pdu pdu, IBufferWriter<byte> output)
    {
        switch (pdu)
        {
            case AAssociateRq rq: WriteAssociateRq(rq, output); break;
            case AAssociateAc ac: WriteAssociateAc(ac, output); break;
            case AAssociateRj rj: WriteShort(output, PduType.AAssociateRj, 0, (byte)rj.Result, (byte)rj.Source, rj.Reason); break;
            case PDataTf data: WritePDataTf(data, output); break;
            case AReleaseRq: WriteShort(output, PduType.AReleaseRq, 0, 0, 0, 0); break;
            case AReleaseRp: WriteShort(output, PduType.AReleaseRp, 0, 0, 0, 0); break;
            case AAbort abort: WriteShort(output, PduType.AAbort, 0, 0, (byte)abort.Source, (byte)abort.Reason); break;
            default: throw new ArgumentException($"Unknown PDU {pdu.GetType().Name}", nameof(pdu));
        }
    }

    /// <summary>The PDU's bytes.</summary>
    public static byte[] ToArray(Pdu pdu)
    {
        var w = new ArrayBufferWriter<byte>();
        Write(pdu, w);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Writes the 12-byte header of a P-DATA-TF holding one PDV of <paramref name="dataLength"/> bytes.</summary>
    public static void WritePDataSinglePdvHeader(Span<byte> destination, byte presentationContextId, bool isCommand, bool isLast, int dataLength)
    {
        destination[0] = (byte)PduType.PDataTf;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)(dataLength + 6));
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], (uint)(dataLength + 2));
        destination[10] = presentationContextId;
        destination[11] = (byte)((isCommand ? 1 : 0) | (isLast ? 2 : 0));
    }

    // ---- per-PDU writers -----------------------------------------------------------------------

    /// <summary>Writes an A-ASSOCIATE-RQ.</summary>
    public static void WriteAssociateRq(AAssociateRq rq, IBufferWriter<byte> output)
    {
        var body = new ArrayBufferWriter<byte>(512);
        WriteAssociateFixed(body, rq.ProtocolVersion, rq.CalledAeTitle, rq.CallingAeTitle);
        WriteItem(body, 0x10, Ascii(rq.ApplicationContextName));
        foreach (var pc in rq.PresentationContexts)
        {
            var sub = new ArrayBufferWriter<byte>(128);
            sub.Write<byte>([pc.Id, 0, 0, 0]);
            WriteItem(sub, 0x30, Ascii(pc.AbstractSyntax));
            foreach (var ts in pc.TransferSyntaxes) WriteItem(sub, 0x40, Ascii(ts));
            WriteItem(body, 0x20, sub.WrittenSpan);
        }
        WriteItem(body, 0x50, UserInformationBytes(rq.UserInformation));
        WritePdu(output, PduType.AAssociateRq, body.WrittenSpan);
    }

    /// <summary>Writes an A-ASSOCIATE-AC.</summary>
    public static void WriteAssociateAc(AAssociateAc ac, IBufferWriter<byte> output)
    {
        var body = new ArrayBufferWriter<byte>(512);
        WriteAssociateFixed(body, ac.ProtocolVersion, ac.CalledAeTitle, ac.CallingAeTitle);
        WriteItem(body, 0x10, Ascii(ac.ApplicationContextName));
        foreach (var pc in ac.PresentationContexts)
        {
            var sub = new ArrayBufferWriter<byte>(64);
            sub.Write<byte>([pc.Id, 0, (byte)pc.Result, 0]);
            WriteItem(sub, 0x40, Ascii(pc.TransferSyntax));
            WriteItem(body, 0x21, sub.WrittenSpan);
        }
        WriteItem(body, 0x50, UserInformationBytes(ac.UserInformation));
        WritePdu(output, PduType.AAssociateAc, body.WrittenSpan);
    }

    /// <summary>Writes a P-DATA-TF with all its PDVs.</summary>
    public static void WritePDataTf(PDataTf data, IBufferWriter<byte> output)
    {
        long length = 0;
        foreach (var v in data.Values) length += 6 + v.Data.Length;
        WriteHeader(output, PduType.PDataTf, checked((uint)length));
        foreach (var v in data.Values)
        {
            var h = output.GetSpan(6);
            BinaryPrimitives.WriteUInt32BigEndian(h, (uint)(v.Data.Length + 2));
            h[4] = v.PresentationContextId;
            h[5] = v.ControlHeader;
            output.Advance(6);
            output.Write(v.Data.Span);
        }
    }

    private static byte[] UserInformationBytes(UserInformation ui)
    {
        var w = new ArrayBufferWriter<byte>(128);
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(four, ui.MaxPduLength);
        WriteItem(w, 0x51, four);
        if (ui.ImplementationClassUid is { } cls) WriteItem(w, 0x52, Ascii(cls));
        if (ui.AsyncOperations is { } win)
        {
            BinaryPrimitives.WriteUInt16BigEndian(four, win.MaxOperationsInvoked);
            BinaryPrimitives.WriteUInt16BigEndian(four[2..], win.MaxOperationsPerformed);
            WriteItem(w, 0x53, four);
        }
        foreach (var role in ui.RoleSelections)
        {
            var uid = Ascii(role.SopClassUid);
            var v = new byte[2 + uid.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(v, (ushort)uid.Length);
            uid.CopyTo(v, 2);
            v[^2] = role.ScuRole ? (byte)1 : (byte)0;
            v[^1] = role.ScpRole ? (byte)1 : (byte)0;
            WriteItem(w, 0x54, v);
        }
        if (ui.ImplementationVersionName is { Length: > 0 } name) WriteItem(w, 0x55, Ascii(name));
        foreach (var other in ui.OtherSubItems) WriteItem(w, other.ItemType, other.Value.Span);
        return w.WrittenSpan.ToArray();
    }

    private static void WriteAssociateFixed(IBufferWriter<byte> w, ushort version, string called, string calling)
    {
        var s = w.GetSpan(68)[..68];
        s.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(s, version);
        WriteAeTitle(s.Slice(4, 16), called);
        WriteAeTitle(s.Slice(20, 16), calling);
        w.Advance(68);
    }

    private static void WriteAeTitle(Span<byte> field, string aeTitle)
    {
        var trimmed = aeTitle.Trim();
        if (trimmed.Length > 16) throw new ArgumentException($"AE title '{aeTitle}' is longer than 16 characters", nameof(aeTitle));
        field.Fill((byte)' ');
        Encoding.ASCII.GetBytes(trimmed, field);
    }

    private static void WriteItem(IBufferWriter<byte> w, byte type, ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue) throw new ArgumentException($"Item 0x{type:X2} of {value.Length} bytes does not fit a 16-bit length");
        var h = w.GetSpan(4);
        h[0] = type;
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)value.Length);
        w.Advance(4);
        w.Write(value);
    }

    private static void WriteShort(IBufferWriter<byte> w, PduType type, byte b0, byte b1, byte b2, byte b3) =>
        WritePdu(w, type, [b0, b1, b2, b3]);

    private static void WritePdu(IBufferWriter<byte> w, PduType type, ReadOnlySpan<byte> body)
    {
        WriteHeader(w, type, (uint)body.Length);
        w.Write(body);
    }

    private static void WriteHeader(IBufferWriter<byte> w, PduType type, uint length)
    {
        var h = w.GetSpan(6);
        h[0] = (byte)type;
        h[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(h[2..], length);
        w.Advance(6);
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
