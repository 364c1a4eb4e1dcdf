using Microsoft.Extensions.Logging;

namespace HippoNode.Dicom.Network;

/// <summary>How a <see cref="DicomClientAssociation"/> identifies itself and how long it waits.</summary>
public sealed class DicomClientOptions
{
    /// <summary>Our AE title.</summary>
    public string CallingAeTitle { get; set; } = "HIPPONODE";

    /// <summary>The peer's AE title.</summary>
    public string CalledAeTitle { get; set; } = "ANY-SCP";

    /// <summary>The largest P-DATA-TF we accept (announced as our Maximum Length).</summary>
    public uint MaxPduLength { get; set; } = 65536;

    /// <summary>DICOM TLS towards the peer: the server's certificate is verified against <see cref="DicomTlsOptions.CaFile"/> unless told otherwise; ours is presented when asked.</summary>
    public DicomTlsOptions? Tls { get; set; }

    /// <summary>How long the TCP connect may take (and, with TLS, the handshake after it).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long we wait for the A-ASSOCIATE-AC/RJ and for the A-RELEASE-RP.</summary>
    public TimeSpan AssociationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long we wait for the response to a request once it is sent.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one send may take before the association is dropped (a peer that does not read).</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Timers come from here (tests pass a fake).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where log messages go; none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>True for an AE title PS3.5 allows: 1-16 characters of the default repertoire, no backslash or control character.</summary>
    public static bool IsAeTitle(string? value)
    {
        var t = value?.Trim() ?? "";
        return t.Length is > 0 and <= 16 && t.All(c => c is >= ' ' and <= '~' and not '\\');
    }

    /// <summary>Throws when a setting cannot work.</summary>
    public void Validate()
    {
        if (!IsAeTitle(CallingAeTitle)) throw new ArgumentException($"Calling AE title '{CallingAeTitle}' must be 1-16 characters of the default repertoire, no backslash");
        if (!IsAeTitle(CalledAeTitle)) throw new ArgumentException($"Called AE title '{CalledAeTitle}' must be 1-16 characters of the default repertoire, no backslash");
        if (MaxPduLength is > 0 and < 4096) throw new ArgumentException("Maximum PDU length below 4096 bytes");
        Tls?.Validate(server: false);
    }
}

/// <summary>A presentation context to propose: one abstract syntax with the transfer syntaxes we can send it in, best first.</summary>
/// <param name="AbstractSyntax">The SOP class UID.</param>
/// <param name="TransferSyntaxes">Transfer syntax UIDs, our preference first.</param>
public sealed record PresentationContextProposal(string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes)
{
    /// <summary>Verification in Explicit and Implicit VR Little Endian (for C-ECHO).</summary>
    public static PresentationContextProposal Verification { get; } =
        new(DicomUid.Verification, [DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid]);
}

/// <summary>A presentation context as negotiated.</summary>
/// <param name="Id">The context ID.</param>
/// <param name="AbstractSyntax">The proposed SOP class.</param>
/// <param name="Result">The acceptor's result.</param>
/// <param name="TransferSyntax">The accepted transfer syntax (when accepted).</param>
public sealed record NegotiatedContext(byte Id, string AbstractSyntax, PresentationContextResult Result, string TransferSyntax)
{
    /// <summary>True when accepted.</summary>
    public bool IsAccepted => Result == PresentationContextResult.Acceptance;
}

/// <summary>The outcome of sending one file: the peer's status, or why it was never sent.</summary>
/// <param name="Path">The file.</param>
/// <param name="SopInstanceUid">Its SOP instance UID when it could be read.</param>
/// <param name="Status">The C-STORE-RSP status; null when the file was not sent.</param>
/// <param name="Error">The error comment of a failure status, or why the file was not sent.</param>
public sealed record DicomStoreResult(string Path, string? SopInstanceUid, DicomStatus? Status, string? Error)
{
    /// <summary>True when the peer stored it (success or warning).</summary>
    public bool Succeeded => Status is { } s && (s.IsSuccess || s.IsWarning);

    /// <summary>Why the file was not stored; <see cref="DicomStoreFailure.PeerStatus"/> when the peer answered a failure status.</summary>
    public DicomStoreFailure Failure { get; init; }

    /// <summary>The A-ASSOCIATE-RJ, when <see cref="Failure"/> is <see cref="DicomStoreFailure.AssociationRejected"/>.</summary>
    public AAssociateRj? Rejection { get; init; }

    /// <summary>
    /// True when sending the same file to the same peer again cannot succeed until someone changes something: an
    /// association rejected-permanent, no presentation context for the file, a file we cannot read, or a failure status
    /// of <see cref="DicomStatus.IsPermanentStoreFailure"/>. Lost connections, time-outs, transient rejections and
    /// out-of-resources are worth another try.
    /// </summary>
    public bool IsPermanentFailure => !Succeeded && Failure switch
    {
        DicomStoreFailure.PeerStatus => Status is { } s && s.IsPermanentStoreFailure,
        DicomStoreFailure.AssociationRejected => Rejection?.Result == AssociateRejectResult.Permanent,
        DicomStoreFailure.NotNegotiated or DicomStoreFailure.Unreadable => true,
        _ => false,
    };
}

/// <summary>Why a file was not stored by the peer.</summary>
public enum DicomStoreFailure
{
    /// <summary>It was stored, or the peer answered a status (see <see cref="PeerStatus"/>).</summary>
    None,

    /// <summary>The peer answered a failure status.</summary>
    PeerStatus,

    /// <summary>The file could not be read or converted here.</summary>
    Unreadable,

    /// <summary>The peer accepted no presentation context for the file's SOP class and transfer syntax.</summary>
    NotNegotiated,

    /// <summary>The peer rejected the association (A-ASSOCIATE-RJ).</summary>
    AssociationRejected,

    /// <summary>No connection, a time-out, an abort or a TLS failure: the association was not there to send on.</summary>
    Connection,
}
