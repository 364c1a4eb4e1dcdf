using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace HippoNode.Dicom.Network;

/// <summary>
/// Decodes PDUs from a byte sequence as it arrives (possibly in many segments). The 6-byte header is checked
/// against the maximum length before any of the body is waited for, so a peer cannot make us buffer more.
/// </summary>
public static class PduReader
{
    /// <summary>Size of the PDU header: type, reserved byte, 32-bit big-endian length.</summary>
    public const int HeaderLength = 6;

    /// <summary>
    /// Reads one whole PDU from the start of <paramref name="buffer"/> and advances it past the PDU; false (buffer
    /// untouched) while the PDU is incomplete.
    /// </summary>
    /// <param name="buffer">Received bytes not yet consumed.</param>
    /// <param name="maxPduLength">Largest PDU length field (bytes after the header) accepted.</param>
    /// <param name="pdu">The PDU when true is returned.</param>
    /// <exception cref="DicomPduException">Unknown type, a length over <paramref name="maxPduLength"/>, or a malformed body.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, uint maxPduLength, [NotNullWhen(true)] out Pdu? pdu)
    {
        pdu = null;
        if (buffer.Length < HeaderLength) return false;
        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        var type = header[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        if (type is < 1 or > 7)
            throw new DicomPduException($"Unrecognized PDU type 0x{type:X2}", AbortReason.UnrecognizedPdu);
        if (length > maxPduLength)
            throw new DicomPduException($"PDU of {length} bytes exceeds the limit of {maxPduLength} bytes", AbortReason.InvalidPduParameterValue);
        if (buffer.Length - HeaderLength < length) return false;

        // One copy of the body: P-DATA values refer into it, so it must outlive the receive buffer anyway.
        var body = buffer.Slice(HeaderLength, length).ToArray();
        pdu = ReadBody((PduType)type, body);
        buffer = buffer.Slice(HeaderLength + (long)length);
        return true;
    }

    /// <summary>Decodes a PDU body (the bytes after the 6-byte header).</summary>
    /// <exception cref="DicomPduException">The body is malformed.</exception>
    public static Pdu ReadBody(PduType type, byte[] body) => type switch
    {
        PduType.AAssociateRq => ReadAssociateRq(body),
        PduType.AAssociateAc => ReadAssociateAc(body),
        PduType.AAssociateRj => ReadAssociateRj(body),
        PduType.PDataTf => ReadPDataTf(body),
        PduType.AReleaseRq => ReadRelease(body, new AReleaseRq()),
        PduType.AReleaseRp => ReadRelease(body, new AReleaseRp()),
        PduType.AAbort => ReadAbort(body),
        _ => throw new DicomPduException($"Unrecognized PDU type 0x{(byte)type:X2}", AbortReason.UnrecognizedPdu),
    };

    // ---- A-ASSOCIATE-RQ / AC -------------------------------------------------------------------

    private const int AssociateFixedLength = 68; // version 2, reserved 2, called 16, calling 16, reserved 32

    /// <summary>Decodes an A-ASSOCIATE-RQ body.</summary>
    public static AAssociateRq ReadAssociateRq(ReadOnlySpan<byte> body)
    {
        var (version, called, calling) = ReadAssociateFixed(body);
        string? appContext = null;
        var contexts = new List<PresentationContextRequest>();
        UserInformation? userInfo = null;
        foreach (var (itemType, value) in Items(body[AssociateFixedLength..], "A-ASSOCIATE-RQ"))
        {
            switch (itemType)
            {
                case 0x10: appContext = ReadUid(value); break;
                case 0x20: contexts.Add(ReadContextRequest(value)); break;
                case 0x50: userInfo = ReadUserInformation(value); break;
                default: break; // PS3.8 §9.3.1: unrecognised items are ignored
            }
        }
        if (appContext is null) throw new DicomPduException("A-ASSOCIATE-RQ has no application context item", AbortReason.InvalidPduParameterValue);
        CheckDistinctIds(contexts.Select(c => c.Id), "A-ASSOCIATE-RQ");
        return new AAssociateRq(called, calling, contexts, userInfo ?? new UserInformation(0, null, null))
        {
            ProtocolVersion = version,
            ApplicationContextName = appContext,
        };
    }

    /// <summary>Decodes an A-ASSOCIATE-AC body.</summary>
    public static AAssociateAc ReadAssociateAc(ReadOnlySpan<byte> body)
    {
        var (version, called, calling) = ReadAssociateFixed(body);
        string? appContext = null;
        var contexts = new List<PresentationContextResponse>();
        UserInformation? userInfo = null;
        foreach (var (itemType, value) in Items(body[AssociateFixedLength..], "A-ASSOCIATE-AC"))
        {
            switch (itemType)
            {
                case 0x10: appContext = ReadUid(value); break;
                case 0x21: contexts.Add(ReadContextResponse(value)); break;
                case 0x50: userInfo = ReadUserInformation(value); break;
                default: break;
            }
        }
        if (appContext is null) throw new DicomPduException("A-ASSOCIATE-AC has no application context item", AbortReason.InvalidPduParameterValue);
        CheckDistinctIds(contexts.Select(c => c.Id), "A-ASSOCIATE-AC");
        return new AAssociateAc(called, calling, contexts, userInfo ?? new UserInformation(0, null, null))
        {
            ProtocolVersion = version,
            ApplicationContextName = appContext,
        };
    }

    /// <summary>PS3.8 §9.3.2.2: each presentation context ID is unique within the association request (and its answer).</summary>
    private static void CheckDistinctIds(IEnumerable<byte> ids, string where)
    {
        var seen = new HashSet<byte>();
        foreach (var id in ids)
        {
            if (!seen.Add(id)) throw new DicomPduException($"{where} holds presentation context {id} twice", AbortReason.InvalidPduParameterValue);
        }
    }

    private static (ushort Version, string Called, string Calling) ReadAssociateFixed(ReadOnlySpan<byte> body)
    {
        if (body.Length < AssociateFixedLength)
            throw new DicomPduException($"A-ASSOCIATE PDU body of {body.Length} bytes is shorter than its 68-byte fixed part", AbortReason.InvalidPduParameterValue);
        var version = BinaryPrimitives.ReadUInt16BigEndian(body);
        var called = ReadAeTitle(body.Slice(4, 16));
        var calling = ReadAeTitle(body.Slice(20, 16));
        return (version, called, calling);
    }

    private static string ReadAeTitle(ReadOnlySpan<byte> field)
    {
        foreach (var b in field)
        {
            if (b is < 0x20 and not 0 or > 0x7E or (byte)'\\')
                throw new DicomPduException("AE title holds characters outside the default repertoire", AbortReason.InvalidPduParameterValue);
        }
        return Encoding.ASCII.GetString(field).Trim(' ', '\0');
    }

    private static string ReadUid(ReadOnlySpan<byte> value)
    {
        // UIDs in items are unpadded, but a trailing NUL (or space) from older peers is tolerated.
        var s = Encoding.ASCII.GetString(value).TrimEnd('\0', ' ');
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or '.'))
                throw new DicomPduException($"'{s}' is not a UID", AbortReason.InvalidPduParameterValue);
        }
        return s;
    }

    private static PresentationContextRequest ReadContextRequest(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4) throw new DicomPduException("Presentation context item shorter than 4 bytes", AbortReason.InvalidPduParameterValue);
        var id = value[0];
        string? abstractSyntax = null;
        var syntaxes = new List<string>();
        foreach (var (type, sub) in Items(value[4..], "presentation context"))
        {
            switch (type)
            {
                case 0x30:
                    if (abstractSyntax is not null) throw new DicomPduException($"Presentation context {id} has two abstract syntaxes", AbortReason.InvalidPduParameterValue);
                    abstractSyntax = ReadUid(sub);
                    break;
                case 0x40:
                    syntaxes.Add(ReadUid(sub));
                    break;
                default:
                    throw new DicomPduException($"Unexpected sub-item 0x{type:X2} in presentation context {id}", AbortReason.UnexpectedPduParameter);
            }
        }
        if (abstractSyntax is null) throw new DicomPduException($"Presentation context {id} has no abstract syntax", AbortReason.InvalidPduParameterValue);
        return new PresentationContextRequest(id, abstractSyntax, syntaxes);
    }

    private static PresentationContextResponse ReadContextResponse(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4) throw new DicomPduException("Presentation context item shorter than 4 bytes", AbortReason.InvalidPduParameterValue);
        var id = value[0];
        var result = value[2];
        if (result > 4) throw new DicomPduException($"Presentation context {id} has result {result}", AbortReason.InvalidPduParameterValue);
        var syntax = "";
        foreach (var (type, sub) in Items(value[4..], "presentation context"))
        {
            if (type == 0x40) syntax = ReadUid(sub);
            else throw new DicomPduException($"Unexpected sub-item 0x{type:X2} in presentation context {id}", AbortReason.UnexpectedPduParameter);
        }
        return new PresentationContextResponse(id, (PresentationContextResult)result, syntax);
    }

    private static UserInformation ReadUserInformation(ReadOnlySpan<byte> value)
    {
        uint max = 0;
        string? classUid = null;
        string? version = null;
        AsyncOperationsWindow? window = null;
        var roles = new List<RoleSelection>();
        var others = new List<UserInformationSubItem>();
        foreach (var (type, sub) in Items(value, "user information"))
        {
            switch (type)
            {
                case 0x51:
                    if (sub.Length != 4) throw new DicomPduException("Maximum length sub-item is not 4 bytes", AbortReason.InvalidPduParameterValue);
                    max = BinaryPrimitives.ReadUInt32BigEndian(sub);
                    break;
                case 0x52:
                    classUid = ReadUid(sub);
                    break;
                case 0x53:
                    if (sub.Length != 4) throw new DicomPduException("Asynchronous operations window sub-item is not 4 bytes", AbortReason.InvalidPduParameterValue);
                    window = new AsyncOperationsWindow(BinaryPrimitives.ReadUInt16BigEndian(sub), BinaryPrimitives.ReadUInt16BigEndian(sub[2..]));
                    break;
                case 0x54:
                    roles.Add(ReadRoleSelection(sub));
                    break;
                case 0x55:
                    version = Encoding.ASCII.GetString(sub).Trim(' ', '\0');
                    break;
                default:
                    others.Add(new UserInformationSubItem(type, sub.ToArray()));
                    break;
            }
        }
        return new UserInformation(max, classUid, version) { AsyncOperations = window, RoleSelections = roles, OtherSubItems = others };
    }

    private static RoleSelection ReadRoleSelection(ReadOnlySpan<byte> sub)
    {
        if (sub.Length < 2) throw new DicomPduException("Role selection sub-item too short", AbortReason.InvalidPduParameterValue);
        var uidLength = BinaryPrimitives.ReadUInt16BigEndian(sub);
        if (sub.Length != 2 + uidLength + 2) throw new DicomPduException("Role selection sub-item length does not match its UID length", AbortReason.InvalidPduParameterValue);
        return new RoleSelection(ReadUid(sub.Slice(2, uidLength)), sub[2 + uidLength] == 1, sub[3 + uidLength] == 1);
    }

    /// <summary>Splits a run of items (type, reserved, 16-bit length, value), checking every length against what is left.</summary>
    private static List<(byte Type, byte[] Value)> Items(ReadOnlySpan<byte> span, string where)
    {
        var items = new List<(byte, byte[])>();
        while (!span.IsEmpty)
        {
            if (span.Length < 4) throw new DicomPduException($"Truncated item header in {where}", AbortReason.InvalidPduParameterValue);
            var type = span[0];
            var length = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
            if (span.Length - 4 < length)
                throw new DicomPduException($"Item 0x{type:X2} of {length} bytes runs past the end of {where}", AbortReason.InvalidPduParameterValue);
            items.Add((type, span.Slice(4, length).ToArray()));
            span = span[(4 + length)..];
        }
        return items;
    }

    // ---- the short PDUs ------------------------------------------------------------------------

    /// <summary>Decodes an A-ASSOCIATE-RJ body.</summary>
    public static AAssociateRj ReadAssociateRj(ReadOnlySpan<byte> body)
    {
        if (body.Length != 4) throw new DicomPduException($"A-ASSOCIATE-RJ body is {body.Length} bytes, not 4", AbortReason.InvalidPduParameterValue);
        return new AAssociateRj((AssociateRejectResult)body[1], (AssociateRejectSource)body[2], body[3]);
    }

    /// <summary>Decodes an A-ABORT body.</summary>
    public static AAbort ReadAbort(ReadOnlySpan<byte> body)
    {
        if (body.Length != 4) throw new DicomPduException($"A-ABORT body is {body.Length} bytes, not 4", AbortReason.InvalidPduParameterValue);
        return new AAbort((AbortSource)body[2], (AbortReason)body[3]);
    }

    private static T ReadRelease<T>(ReadOnlySpan<byte> body, T pdu) where T : Pdu =>
        body.Length == 4 ? pdu : throw new DicomPduException($"{pdu.Type} body is {body.Length} bytes, not 4", AbortReason.InvalidPduParameterValue);

    /// <summary>Decodes a P-DATA-TF body; the values refer into <paramref name="body"/> without copying.</summary>
    public static PDataTf ReadPDataTf(byte[] body)
    {
        var values = new List<PresentationDataValue>(1);
        var pos = 0;
        while (pos < body.Length)
        {
            if (body.Length - pos < 6) throw new DicomPduException("Truncated PDV item in P-DATA-TF", AbortReason.InvalidPduParameterValue);
            var itemLength = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(pos));
            if (itemLength < 2 || itemLength > body.Length - pos - 4)
                throw new DicomPduException($"PDV item length {itemLength} does not fit the P-DATA-TF", AbortReason.InvalidPduParameterValue);
            var pcid = body[pos + 4];
            var control = body[pos + 5]; // bits 2-7 are reserved and not tested on receipt (PS3.8 §E.2)
            values.Add(new PresentationDataValue(pcid, (control & 1) != 0, (control & 2) != 0, body.AsMemory(pos + 6, (int)itemLength - 2)));
            pos += 4 + (int)itemLength;
        }
        if (values.Count == 0) throw new DicomPduException("P-DATA-TF without a PDV", AbortReason.InvalidPduParameterValue);
        return new PDataTf(values);
    }
}
