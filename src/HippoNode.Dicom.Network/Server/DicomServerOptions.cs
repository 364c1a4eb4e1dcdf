using System.Net;

namespace HippoNode.Dicom.Network;

/// <summary>How a <see cref="DicomServer"/> listens, negotiates and times out.</summary>
public sealed class DicomServerOptions
{
    /// <summary>Our AE title; with <see cref="CheckCalledAeTitle"/> requests addressed to another title are rejected.</summary>
    public string AeTitle { get; set; } = "HIPPONODE";

    /// <summary>Reject associations whose called AE title is not <see cref="AeTitle"/> (reason 7, called AE title not recognised).</summary>
    public bool CheckCalledAeTitle { get; set; } = true;

    /// <summary>When set, only these calling AE titles are accepted (others: reason 3, calling AE title not recognised).</summary>
    public IReadOnlyCollection<string>? AllowedCallingAeTitles { get; set; }

    /// <summary>
    /// Per-peer host check: a calling AE title listed here is accepted only from these addresses (others: reason 3,
    /// calling AE title not recognised). Titles not listed are governed by <see cref="AllowedCallingAeTitles"/> alone.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyCollection<IPAddress>>? AllowedPeerAddresses { get; set; }

    /// <summary>DICOM TLS: when set, every connection must complete a TLS handshake (our certificate, optional client check) before any PDU.</summary>
    public DicomTlsOptions? Tls { get; set; }

    /// <summary>
    /// Free space (bytes) the incoming directory's file system must keep: below it every C-STORE is answered A700
    /// (out of resources) without writing a byte, until space returns. 0 turns the check off. Read at each request,
    /// so it may be changed while the server runs.
    /// </summary>
    public long MinFreeBytes { get; set; }

    /// <summary>Measures the free space for <see cref="MinFreeBytes"/> (tests and the node may plug in their own).</summary>
    public IFreeSpaceProbe FreeSpaceProbe { get; set; } = DriveFreeSpaceProbe.Instance;

    /// <summary>The address to listen on.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Any;

    /// <summary>The TCP port; 0 picks a free one (see <see cref="DicomServer.Port"/>).</summary>
    public int Port { get; set; } = 104;

    /// <summary>Abstract syntaxes (SOP classes) we accept: Verification and the default storage classes.</summary>
    public IReadOnlyCollection<string> AcceptedAbstractSyntaxes { get; set; } = [DicomUid.Verification, .. DicomUid.StorageSopClasses];

    /// <summary>Transfer syntaxes we accept, best first: the first one the requestor also proposes wins.</summary>
    public IReadOnlyList<string> TransferSyntaxPreference { get; set; } = DefaultTransferSyntaxPreference;

    /// <summary>Explicit VR LE, Implicit VR LE, Deflated, Big Endian, then every encapsulated syntax we know (stored as received).</summary>
    public static IReadOnlyList<string> DefaultTransferSyntaxPreference { get; } =
    [
        DicomTransferSyntax.ExplicitVRLittleEndian.Uid,
        DicomTransferSyntax.ImplicitVRLittleEndian.Uid,
        DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid,
        DicomTransferSyntax.ExplicitVRBigEndian.Uid,
        .. DicomTransferSyntax.Known.Where(t => t.IsEncapsulated).Select(t => t.Uid),
    ];

    /// <summary>The largest P-DATA-TF we accept (announced as our Maximum Length); PDUs above it abort the association.</summary>
    public uint MaxPduLength { get; set; } = 65536;

    /// <summary>Associations served at once; the next one is rejected as transient, local limit exceeded.</summary>
    public int MaxAssociations { get; set; } = 64;

    /// <summary>ARTIM: how long a new connection may take to send its A-ASSOCIATE-RQ, and how long we wait for a peer to close.</summary>
    public TimeSpan ArtimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an established association may stay silent while no request of it is being processed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one send to the peer may take before the association is dropped (a peer that does not read).</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Where received instances are written while they arrive (the handler moves them on); created when missing.</summary>
    public string IncomingDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "hipponode-incoming");

    /// <summary>Throws when a setting cannot work (empty or over-long AE title, no syntaxes, a tiny PDU size).</summary>
    public void Validate()
    {
        if (!DicomClientOptions.IsAeTitle(AeTitle)) throw new ArgumentException($"AE title '{AeTitle}' must be 1-16 characters of the default repertoire, no backslash");
        if (Port is < 0 or > 65535) throw new ArgumentException($"Port {Port} is out of range");
        if (TransferSyntaxPreference.Count == 0) throw new ArgumentException("No transfer syntax accepted");
        if (MaxPduLength < 4096) throw new ArgumentException("Maximum PDU length below 4096 bytes");
        if (MaxAssociations < 1) throw new ArgumentException("MaxAssociations must be at least 1");
        if (string.IsNullOrWhiteSpace(IncomingDirectory)) throw new ArgumentException("No incoming directory");
        if (MinFreeBytes < 0) throw new ArgumentException("MinFreeBytes must not be negative");
        Tls?.Validate(server: true);
    }
}
