using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network;

/// <summary>The Command Field (0000,0100) values (PS3.7 §9.3, §10.3).</summary>
public enum DimseCommandField : ushort
{
    /// <summary>C-STORE-RQ.</summary>
    CStoreRq = 0x0001,

    /// <summary>C-STORE-RSP.</summary>
    CStoreRsp = 0x8001,

    /// <summary>C-GET-RQ.</summary>
    CGetRq = 0x0010,

    /// <summary>C-GET-RSP.</summary>
    CGetRsp = 0x8010,

    /// <summary>C-FIND-RQ.</summary>
    CFindRq = 0x0020,

    /// <summary>C-FIND-RSP.</summary>
    CFindRsp = 0x8020,

    /// <summary>C-MOVE-RQ.</summary>
    CMoveRq = 0x0021,

    /// <summary>C-MOVE-RSP.</summary>
    CMoveRsp = 0x8021,

    /// <summary>C-ECHO-RQ.</summary>
    CEchoRq = 0x0030,

    /// <summary>C-ECHO-RSP.</summary>
    CEchoRsp = 0x8030,

    /// <summary>N-EVENT-REPORT-RQ.</summary>
    NEventReportRq = 0x0100,

    /// <summary>N-GET-RQ.</summary>
    NGetRq = 0x0110,

    /// <summary>N-SET-RQ.</summary>
    NSetRq = 0x0120,

    /// <summary>N-ACTION-RQ.</summary>
    NActionRq = 0x0130,

    /// <summary>N-CREATE-RQ.</summary>
    NCreateRq = 0x0140,

    /// <summary>N-DELETE-RQ.</summary>
    NDeleteRq = 0x0150,

    /// <summary>C-CANCEL-RQ.</summary>
    CCancelRq = 0x0FFF,
}

/// <summary>A DIMSE command set (group 0000), always encoded in Implicit VR Little Endian (PS3.7 §6.3.1).</summary>
public sealed class DimseCommand
{
    /// <summary>Command Data Set Type value meaning "no data set follows".</summary>
    public const ushort NoDataSet = 0x0101;

    /// <summary>Priority (0000,0700): medium.</summary>
    public const ushort PriorityMedium = 0x0000;

    /// <summary>Wraps a decoded or built command data set.</summary>
    public DimseCommand(DicomDataset dataset) => Dataset = dataset;

    /// <summary>The command elements.</summary>
    public DicomDataset Dataset { get; }

    /// <summary>Command Field (0000,0100).</summary>
    public DimseCommandField CommandField => (DimseCommandField)Dataset.GetValue<ushort>(DicomTags.CommandField);

    /// <summary>True when (0000,0100) is present and numeric.</summary>
    public bool HasCommandField => Dataset.TryGetValue<ushort>(DicomTags.CommandField, out _);

    /// <summary>Message ID (0000,0110) of a request; 0 when absent.</summary>
    public ushort MessageId => Dataset.TryGetValue<ushort>(DicomTags.MessageID, out var v) ? v : (ushort)0;

    /// <summary>Message ID Being Responded To (0000,0120) of a response; 0 when absent.</summary>
    public ushort MessageIdBeingRespondedTo => Dataset.TryGetValue<ushort>(DicomTags.MessageIDBeingRespondedTo, out var v) ? v : (ushort)0;

    /// <summary>Affected SOP Class UID (0000,0002), or null.</summary>
    public string? AffectedSopClassUid => Dataset.GetString(DicomTags.AffectedSOPClassUID);

    /// <summary>Affected SOP Instance UID (0000,1000), or null.</summary>
    public string? AffectedSopInstanceUid => Dataset.GetString(DicomTags.AffectedSOPInstanceUID);

    /// <summary>True unless Command Data Set Type (0000,0800) says no data set follows.</summary>
    public bool HasDataset => !Dataset.TryGetValue<ushort>(DicomTags.CommandDataSetType, out var v) || v != NoDataSet;

    /// <summary>Status (0000,0900) of a response; Processing Failure when absent.</summary>
    public DicomStatus Status => Dataset.TryGetValue<ushort>(DicomTags.Status, out var v) ? new DicomStatus(v) : DicomStatus.ProcessingFailure;

    /// <summary>Error Comment (0000,0902), or null.</summary>
    public string? ErrorComment => Dataset.GetString(DicomTags.ErrorComment);

    /// <summary>True for a response (bit 15 of the command field).</summary>
    public bool IsResponse => ((ushort)CommandField & 0x8000) != 0;

    /// <summary>The command set in Implicit VR Little Endian, with its group length.</summary>
    public byte[] Encode() => DicomDatasetWriter.ToArray(Dataset, DicomTransferSyntax.ImplicitVRLittleEndian);

    /// <summary>Decodes a command set received in Implicit VR Little Endian.</summary>
    /// <exception cref="DicomNetworkException">Not a readable command set, or one without a command field.</exception>
    public static DimseCommand Decode(ReadOnlyMemory<byte> bytes)
    {
        DicomDataset ds;
        try
        {
            ds = DicomReader.ReadDataset(bytes, DicomTransferSyntax.ImplicitVRLittleEndian);
        }
        catch (DicomParseException ex)
        {
            throw new DicomNetworkException("Malformed DIMSE command set: " + ex.Message, ex);
        }
        var command = new DimseCommand(ds);
        if (!command.HasCommandField) throw new DicomNetworkException("DIMSE command set without a Command Field (0000,0100)");
        return command;
    }

    /// <summary>A C-ECHO-RQ.</summary>
    public static DimseCommand EchoRequest(ushort messageId)
    {
        var ds = Base(DicomUid.Verification, DimseCommandField.CEchoRq);
        ds.AddOrUpdate(DicomTags.MessageID, DicomVR.US, messageId);
        ds.AddOrUpdate(DicomTags.CommandDataSetType, DicomVR.US, NoDataSet);
        return new DimseCommand(ds);
    }

    /// <summary>A C-STORE-RQ for an instance; a data set follows.</summary>
    public static DimseCommand StoreRequest(ushort messageId, string sopClassUid, string sopInstanceUid, ushort priority = PriorityMedium)
    {
        var ds = Base(sopClassUid, DimseCommandField.CStoreRq);
        ds.AddOrUpdate(DicomTags.MessageID, DicomVR.US, messageId);
        ds.AddOrUpdate(DicomTags.Priority, DicomVR.US, priority);
        ds.AddOrUpdate(DicomTags.CommandDataSetType, DicomVR.US, (ushort)0x0000);
        ds.AddOrUpdate(DicomTags.AffectedSOPInstanceUID, DicomVR.UI, sopInstanceUid);
        return new DimseCommand(ds);
    }

    /// <summary>The response to <paramref name="request"/> with a status: command field with bit 15 set, no data set.</summary>
    public static DimseCommand ResponseTo(DimseCommand request, DicomStatus status, string? errorComment = null)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.CommandGroupLength, DicomVR.UL, 0u);
        // A request's UIDs are peer bytes: echoed only when they can be written as UI (the default repertoire);
        // otherwise left out (PS3.7 makes them conditional), never an exception that kills the association.
        if (Echoable(request.AffectedSopClassUid) is { } cls) ds.AddOrUpdate(DicomTags.AffectedSOPClassUID, DicomVR.UI, cls);
        var field = request.HasCommandField ? (ushort)((ushort)request.CommandField | 0x8000) : (ushort)0x8000;
        ds.AddOrUpdate(DicomTags.CommandField, DicomVR.US, field);
        ds.AddOrUpdate(DicomTags.MessageIDBeingRespondedTo, DicomVR.US, request.MessageId);
        ds.AddOrUpdate(DicomTags.CommandDataSetType, DicomVR.US, NoDataSet);
        ds.AddOrUpdate(DicomTags.Status, DicomVR.US, status.Code);
        if (status.IsFailure && !string.IsNullOrEmpty(errorComment))
        {
            // LO: at most 64 characters of the default repertoire.
            var clean = new string(errorComment.Select(c => c is >= ' ' and <= '~' and not '\\' ? c : ' ').Take(64).ToArray());
            ds.AddOrUpdate(DicomTags.ErrorComment, DicomVR.LO, clean);
        }
        if (Echoable(request.AffectedSopInstanceUid) is { } inst) ds.AddOrUpdate(DicomTags.AffectedSOPInstanceUID, DicomVR.UI, inst);
        return new DimseCommand(ds);
    }

    private static string? Echoable(string? uid) => uid is { Length: > 0 } && uid.All(c => c <= 0x7F) ? uid : null;

    private static DicomDataset Base(string sopClassUid, DimseCommandField field)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.CommandGroupLength, DicomVR.UL, 0u); // recomputed by the writer
        ds.AddOrUpdate(DicomTags.AffectedSOPClassUID, DicomVR.UI, sopClassUid);
        ds.AddOrUpdate(DicomTags.CommandField, DicomVR.US, (ushort)field);
        return ds;
    }

    /// <inheritdoc />
    public override string ToString() =>
        HasCommandField ? $"{CommandField} id={(IsResponse ? MessageIdBeingRespondedTo : MessageId)}" : "(no command field)";
}
