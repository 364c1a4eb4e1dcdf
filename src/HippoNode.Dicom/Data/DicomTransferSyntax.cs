namespace HippoNode.Dicom;

/// <summary>A transfer syntax and the encoding facts the reader and writer need (PS3.5 §10, Annex A).</summary>
public sealed record DicomTransferSyntax(string Uid, string Name, bool IsExplicitVR, bool IsBigEndian, bool IsDeflated, bool IsEncapsulated)
{
    /// <summary>Implicit VR Little Endian, the DICOM default.</summary>
    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false);

    /// <summary>Explicit VR Little Endian.</summary>
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false);

    /// <summary>Deflated Explicit VR Little Endian.</summary>
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false);

    /// <summary>Explicit VR Big Endian (retired, still met in archives).</summary>
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, true, false, false);

    /// <summary>Every transfer syntax this toolkit names; any other UID is read as encapsulated Explicit VR Little Endian.</summary>
    public static readonly IReadOnlyList<DicomTransferSyntax> Known =
    [
        ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
        Encapsulated("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
        Encapsulated("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
        Encapsulated("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
        Encapsulated("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction"),
        Encapsulated("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
        Encapsulated("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)"),
        Encapsulated("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)"),
        Encapsulated("1.2.840.10008.1.2.4.91", "JPEG 2000"),
        Encapsulated("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)"),
        Encapsulated("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component"),
        Encapsulated("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)"),
        Encapsulated("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)"),
        Encapsulated("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"),
        Encapsulated("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
        Encapsulated("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
        Encapsulated("1.2.840.10008.1.2.5", "RLE Lossless"),
    ];

    private static readonly Dictionary<string, DicomTransferSyntax> ByUid = Known.ToDictionary(t => t.Uid, StringComparer.Ordinal);

    /// <summary>The transfer syntax for a UID (padding removed); unknown UIDs are encapsulated Explicit VR LE, as PS3.5 §10 requires of all others.</summary>
    public static DicomTransferSyntax FromUid(string uid)
    {
        var clean = uid.Trim(' ', '\0');
        return ByUid.TryGetValue(clean, out var ts) ? ts : Encapsulated(clean, "Unknown transfer syntax " + clean);
    }

    /// <summary>True when the UID names a transfer syntax in <see cref="Known"/>.</summary>
    public static bool IsKnown(string uid) => ByUid.ContainsKey(uid.Trim(' ', '\0'));

    private static DicomTransferSyntax Encapsulated(string uid, string name) => new(uid, name, true, false, false, true);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Uid})";
}
