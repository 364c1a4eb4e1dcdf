namespace HippoNode.Dicom.Network;

/// <summary>A proposed presentation context (A-ASSOCIATE-RQ item 20H, PS3.8 §9.3.2.2).</summary>
/// <param name="Id">An odd number 1-255, unique in the request.</param>
/// <param name="AbstractSyntax">The SOP class (or meta SOP class) UID.</param>
/// <param name="TransferSyntaxes">The transfer syntaxes the requestor can use, in its order of preference.</param>
public sealed record PresentationContextRequest(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes);

/// <summary>The result field of an A-ASSOCIATE-AC presentation context item (PS3.8 Table 9-18).</summary>
public enum PresentationContextResult : byte
{
    /// <summary>Accepted.</summary>
    Acceptance = 0,

    /// <summary>Rejected by the user (the application).</summary>
    UserRejection = 1,

    /// <summary>Rejected by the provider, no reason given.</summary>
    NoReason = 2,

    /// <summary>Abstract syntax not supported.</summary>
    AbstractSyntaxNotSupported = 3,

    /// <summary>None of the proposed transfer syntaxes is supported.</summary>
    TransferSyntaxesNotSupported = 4,
}

/// <summary>The acceptor's answer for one proposed context (A-ASSOCIATE-AC item 21H, PS3.8 §9.3.3.2).</summary>
/// <param name="Id">The proposed context's ID.</param>
/// <param name="Result">Accepted or why not.</param>
/// <param name="TransferSyntax">The chosen transfer syntax (meaningless, but still sent, when not accepted).</param>
public sealed record PresentationContextResponse(byte Id, PresentationContextResult Result, string TransferSyntax)
{
    /// <summary>True when the context was accepted.</summary>
    public bool IsAccepted => Result == PresentationContextResult.Acceptance;
}

/// <summary>Asynchronous Operations Window sub-item (item 53H, PS3.7 §D.3.3.3).</summary>
/// <param name="MaxOperationsInvoked">Outstanding operations the sender may invoke; 0 = unlimited.</param>
/// <param name="MaxOperationsPerformed">Outstanding operations the sender may perform; 0 = unlimited.</param>
public sealed record AsyncOperationsWindow(ushort MaxOperationsInvoked, ushort MaxOperationsPerformed);

/// <summary>SCP/SCU Role Selection sub-item (item 54H, PS3.7 §D.3.3.4).</summary>
/// <param name="SopClassUid">The SOP class the roles apply to.</param>
/// <param name="ScuRole">Proposed (RQ) or accepted (AC) SCU role of the association requestor.</param>
/// <param name="ScpRole">Proposed (RQ) or accepted (AC) SCP role of the association requestor.</param>
public sealed record RoleSelection(string SopClassUid, bool ScuRole, bool ScpRole);

/// <summary>A user information sub-item this layer does not interpret (extended negotiation, user identity), kept byte for byte.</summary>
/// <param name="ItemType">The sub-item type byte.</param>
/// <param name="Value">The sub-item value (after its 4-byte header).</param>
public sealed record UserInformationSubItem(byte ItemType, ReadOnlyMemory<byte> Value);

/// <summary>The user information item (50H, PS3.8 §9.3.2.3 and PS3.7 Annex D).</summary>
/// <param name="MaxPduLength">Maximum Length sub-item (51H): the largest P-DATA-TF variable field the sender accepts; 0 = unlimited.</param>
/// <param name="ImplementationClassUid">Implementation Class UID sub-item (52H); required by PS3.7, null when absent.</param>
/// <param name="ImplementationVersionName">Implementation Version Name sub-item (55H); optional.</param>
public sealed record UserInformation(uint MaxPduLength, string? ImplementationClassUid, string? ImplementationVersionName)
{
    /// <summary>Our own user information: the given maximum length and our implementation class UID and version name.</summary>
    public static UserInformation Ours(uint maxPduLength) =>
        new(maxPduLength, DicomUid.ImplementationClassUid, DicomUid.ImplementationVersionName);

    /// <summary>Asynchronous Operations Window sub-item, when present.</summary>
    public AsyncOperationsWindow? AsyncOperations { get; init; }

    /// <summary>SCP/SCU Role Selection sub-items.</summary>
    public IReadOnlyList<RoleSelection> RoleSelections { get; init; } = [];

    /// <summary>Sub-items passed through uninterpreted, in the order read.</summary>
    public IReadOnlyList<UserInformationSubItem> OtherSubItems { get; init; } = [];
}
