namespace HippoNode.Dicom.Network;

/// <summary>The root of every error the network layer raises.</summary>
public class DicomNetworkException : DicomException
{
    /// <summary>An error with a message.</summary>
    public DicomNetworkException(string message) : base(message) { }

    /// <summary>An error with a message and its cause.</summary>
    public DicomNetworkException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A PDU that breaks PS3.8 §9.3 (unknown type, bad length, malformed item); the association is aborted with <see cref="Reason"/>.</summary>
public sealed class DicomPduException(string message, AbortReason reason) : DicomNetworkException(message)
{
    /// <summary>The A-ABORT reason a service provider reports for this fault.</summary>
    public AbortReason Reason { get; } = reason;
}

/// <summary>The peer rejected our A-ASSOCIATE-RQ.</summary>
public sealed class DicomAssociationRejectedException(AAssociateRj reject)
    : DicomNetworkException($"Association rejected: {reject.Describe()}")
{
    /// <summary>The A-ASSOCIATE-RJ as received.</summary>
    public AAssociateRj Reject { get; } = reject;
}

/// <summary>The association ended without a release: an A-ABORT, a closed connection, a protocol error or a timeout.</summary>
public sealed class DicomAssociationAbortedException(string message, AAbort? abort = null, Exception? inner = null)
    : DicomNetworkException(message, inner ?? new IOException(message))
{
    /// <summary>The A-ABORT PDU received, when the peer sent one.</summary>
    public AAbort? Abort { get; } = abort;
}

/// <summary>Thrown by a C-STORE handler to answer with a particular status (mapped at the SCP boundary).</summary>
public sealed class DicomStatusException(DicomStatus status, string message) : DicomNetworkException(message)
{
    /// <summary>The status to send in the response.</summary>
    public DicomStatus Status { get; } = status;
}
