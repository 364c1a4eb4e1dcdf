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

    /// <summary>How long the TCP connect may take.</summary>
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
}
