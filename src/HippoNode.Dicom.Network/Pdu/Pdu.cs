namespace HippoNode.Dicom.Network;

/// <summary>The PDU types of PS3.8 §9.3.1 (the first byte of every PDU).</summary>
public enum PduType : byte
{
    /// <summary>A-ASSOCIATE-RQ.</summary>
    AAssociateRq = 0x01,

    /// <summary>A-ASSOCIATE-AC.</summary>
    AAssociateAc = 0x02,

    /// <summary>A-ASSOCIATE-RJ.</summary>
    AAssociateRj = 0x03,

    /// <summary>P-DATA-TF.</summary>
    PDataTf = 0x04,

    /// <summary>A-RELEASE-RQ.</summary>
    AReleaseRq = 0x05,

    /// <summary>A-RELEASE-RP.</summary>
    AReleaseRp = 0x06,

    /// <summary>A-ABORT.</summary>
    AAbort = 0x07,
}

/// <summary>One protocol data unit of the DICOM Upper Layer (PS3.8 §9.3); immutable.</summary>
public abstract record Pdu
{
    /// <summary>The PDU type byte.</summary>
    public abstract PduType Type { get; }
}

/// <summary>A-ASSOCIATE-RQ (PS3.8 §9.3.2): the requestor's AE titles, proposed presentation contexts and user information.</summary>
/// <param name="CalledAeTitle">The AE title the requestor wants to reach (leading and trailing spaces removed).</param>
/// <param name="CallingAeTitle">The requestor's own AE title.</param>
/// <param name="PresentationContexts">The proposed contexts, each with an odd ID.</param>
/// <param name="UserInformation">Maximum length, implementation identification and optional negotiation sub-items.</param>
public sealed record AAssociateRq(
    string CalledAeTitle,
    string CallingAeTitle,
    IReadOnlyList<PresentationContextRequest> PresentationContexts,
    UserInformation UserInformation) : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.AAssociateRq;

    /// <summary>Protocol version bit field; bit 0 (version 1) must be set.</summary>
    public ushort ProtocolVersion { get; init; } = 1;

    /// <summary>The application context name; DICOM's is <see cref="DicomUid.ApplicationContext"/>.</summary>
    public string ApplicationContextName { get; init; } = DicomUid.ApplicationContext;
}

/// <summary>A-ASSOCIATE-AC (PS3.8 §9.3.3): the acceptor's result for every proposed presentation context.</summary>
/// <param name="CalledAeTitle">Echoes the request's called AE title (not tested by receivers).</param>
/// <param name="CallingAeTitle">Echoes the request's calling AE title (not tested by receivers).</param>
/// <param name="PresentationContexts">One result per proposed context.</param>
/// <param name="UserInformation">The acceptor's maximum length and implementation identification.</param>
public sealed record AAssociateAc(
    string CalledAeTitle,
    string CallingAeTitle,
    IReadOnlyList<PresentationContextResponse> PresentationContexts,
    UserInformation UserInformation) : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.AAssociateAc;

    /// <summary>Protocol version bit field; bit 0 (version 1) set.</summary>
    public ushort ProtocolVersion { get; init; } = 1;

    /// <summary>The application context name; DICOM's is <see cref="DicomUid.ApplicationContext"/>.</summary>
    public string ApplicationContextName { get; init; } = DicomUid.ApplicationContext;
}

/// <summary>A-ASSOCIATE-RJ result field.</summary>
public enum AssociateRejectResult : byte
{
    /// <summary>Rejected permanently: trying again will not help.</summary>
    Permanent = 1,

    /// <summary>Rejected for now (congestion, a limit): a later attempt may succeed.</summary>
    Transient = 2,
}

/// <summary>A-ASSOCIATE-RJ source field: who rejected.</summary>
public enum AssociateRejectSource : byte
{
    /// <summary>The DICOM UL service-user (the application: AE titles, application context, contexts).</summary>
    ServiceUser = 1,

    /// <summary>The service provider, ACSE related function (protocol version).</summary>
    ServiceProviderAcse = 2,

    /// <summary>The service provider, presentation related function (congestion, limits).</summary>
    ServiceProviderPresentation = 3,
}

/// <summary>The A-ASSOCIATE-RJ reason values of PS3.8 Table 9-21; their meaning depends on the source.</summary>
public static class AssociateRejectReason
{
    /// <summary>Service-user (source 1): no reason given.</summary>
    public const byte NoReasonGiven = 1;

    /// <summary>Service-user (source 1): application context name not supported.</summary>
    public const byte ApplicationContextNameNotSupported = 2;

    /// <summary>Service-user (source 1): calling AE title not recognised.</summary>
    public const byte CallingAeTitleNotRecognized = 3;

    /// <summary>Service-user (source 1): called AE title not recognised.</summary>
    public const byte CalledAeTitleNotRecognized = 7;

    /// <summary>ACSE provider (source 2): protocol version not supported.</summary>
    public const byte ProtocolVersionNotSupported = 2;

    /// <summary>Presentation provider (source 3): temporary congestion.</summary>
    public const byte TemporaryCongestion = 1;

    /// <summary>Presentation provider (source 3): local limit exceeded.</summary>
    public const byte LocalLimitExceeded = 2;
}

/// <summary>A-ASSOCIATE-RJ (PS3.8 §9.3.4).</summary>
/// <param name="Result">Permanent or transient.</param>
/// <param name="Source">Who rejected.</param>
/// <param name="Reason">Why, in the source's numbering (see <see cref="AssociateRejectReason"/>).</param>
public sealed record AAssociateRj(AssociateRejectResult Result, AssociateRejectSource Source, byte Reason) : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.AAssociateRj;

    /// <summary>The rejection in words, as DCMTK prints it.</summary>
    public string Describe()
    {
        var reason = (Source, Reason) switch
        {
            (AssociateRejectSource.ServiceUser, AssociateRejectReason.NoReasonGiven) => "no reason given",
            (AssociateRejectSource.ServiceUser, AssociateRejectReason.ApplicationContextNameNotSupported) => "application context name not supported",
            (AssociateRejectSource.ServiceUser, AssociateRejectReason.CallingAeTitleNotRecognized) => "calling AE title not recognized",
            (AssociateRejectSource.ServiceUser, AssociateRejectReason.CalledAeTitleNotRecognized) => "called AE title not recognized",
            (AssociateRejectSource.ServiceProviderAcse, AssociateRejectReason.NoReasonGiven) => "no reason given",
            (AssociateRejectSource.ServiceProviderAcse, AssociateRejectReason.ProtocolVersionNotSupported) => "protocol version not supported",
            (AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.TemporaryCongestion) => "temporary congestion",
            (AssociateRejectSource.ServiceProviderPresentation, AssociateRejectReason.LocalLimitExceeded) => "local limit exceeded",
            _ => $"reason {Reason}",
        };
        return $"{Result.ToString().ToLowerInvariant()}, source {Source}, {reason}";
    }
}

/// <summary>One presentation data value: a fragment of a command or data set on one presentation context (PS3.8 §9.3.5.1).</summary>
/// <param name="PresentationContextId">The accepted context the fragment belongs to.</param>
/// <param name="IsCommand">True for a command fragment, false for a data set fragment (control header bit 0).</param>
/// <param name="IsLastFragment">True for the last fragment of the command or data set (control header bit 1).</param>
/// <param name="Data">The fragment's bytes.</param>
public readonly record struct PresentationDataValue(byte PresentationContextId, bool IsCommand, bool IsLastFragment, ReadOnlyMemory<byte> Data)
{
    /// <summary>The message control header byte.</summary>
    public byte ControlHeader => (byte)((IsCommand ? 1 : 0) | (IsLastFragment ? 2 : 0));
}

/// <summary>P-DATA-TF (PS3.8 §9.3.5): one or more presentation data values.</summary>
/// <param name="Values">The PDVs in order.</param>
public sealed record PDataTf(IReadOnlyList<PresentationDataValue> Values) : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.PDataTf;
}

/// <summary>A-RELEASE-RQ (PS3.8 §9.3.6).</summary>
public sealed record AReleaseRq : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.AReleaseRq;
}

/// <summary>A-RELEASE-RP (PS3.8 §9.3.7).</summary>
public sealed record AReleaseRp : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.AReleaseRp;
}

/// <summary>A-ABORT source field.</summary>
public enum AbortSource : byte
{
    /// <summary>The DICOM UL service-user initiated the abort.</summary>
    ServiceUser = 0,

    /// <summary>Reserved.</summary>
    Reserved = 1,

    /// <summary>The DICOM UL service-provider initiated the abort (a protocol error).</summary>
    ServiceProvider = 2,
}

/// <summary>A-ABORT reason/diagnostic field (meaningful when the source is the service provider).</summary>
public enum AbortReason : byte
{
    /// <summary>Reason not specified.</summary>
    NotSpecified = 0,

    /// <summary>Unrecognized PDU.</summary>
    UnrecognizedPdu = 1,

    /// <summary>Unexpected PDU.</summary>
    UnexpectedPdu = 2,

    /// <summary>Unrecognized PDU parameter.</summary>
    UnrecognizedPduParameter = 4,

    /// <summary>Unexpected PDU parameter.</summary>
    UnexpectedPduParameter = 5,

    /// <summary>Invalid PDU parameter value.</summary>
    InvalidPduParameterValue = 6,
}

/// <summary>A-ABORT (PS3.8 §9.3.8).</summary>
/// <param name="Source">Service-user or service-provider.</param>
/// <param name="Reason">The diagnostic (zero for a service-user abort).</param>
public sealed record AAbort(AbortSource Source, AbortReason Reason) : Pdu
{
    /// <inheritdoc />
    public override PduType Type => PduType.AAbort;
}
