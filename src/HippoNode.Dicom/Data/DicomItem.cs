namespace HippoNode.Dicom;

/// <summary>One entry of a data set: an element with a value, a sequence, or encapsulated pixel data.</summary>
public abstract class DicomItem(DicomTag tag, DicomVR vr)
{
    /// <summary>The attribute tag.</summary>
    public DicomTag Tag { get; } = tag;

    /// <summary>The value representation.</summary>
    public DicomVR VR { get; } = vr;

    /// <inheritdoc />
    public override string ToString() => $"{Tag} {VR.Code()} {DicomDictionary.KeywordOf(Tag)}";
}

/// <summary>An element with a value held as little-endian bytes (big-endian input is swapped on read).</summary>
public sealed class DicomElement(DicomTag tag, DicomVR vr, IByteBuffer buffer) : DicomItem(tag, vr)
{
    /// <summary>The value bytes, little-endian for binary VRs, without trailing padding removed.</summary>
    public IByteBuffer Buffer { get; } = buffer;

    /// <summary>Value length in bytes as stored (before padding to even length on write).</summary>
    public long Length => Buffer.Length;

    /// <summary>Value multiplicity: backslash-separated parts for strings (0 when only padding), value count for binary VRs, 1 for OB/OW/UN.</summary>
    public int ValueMultiplicity
    {
        get
        {
            if (Length == 0) return 0;
            if (VR.IsString())
            {
                var span = Buffer.GetMemory().Span;
                // Only padding (spaces, NULs) is an empty value: VM 0, as DCMTK reports it.
                if (span.IndexOfAnyExcept((byte)' ', (byte)0) < 0) return 0;
                if (VR.IsSingleValuedText()) return 1;
                var n = 1;
                foreach (var b in span) if (b == (byte)'\\') n++;
                return n;
            }
            return VR switch
            {
                DicomVR.OB or DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV or DicomVR.UN => 1,
                DicomVR.AT => (int)(Length / 4),
                _ => (int)(Length / VR.ValueSize()),
            };
        }
    }
}

/// <summary>A sequence of items (VR SQ), each item a nested data set.</summary>
public sealed class DicomSequence(DicomTag tag) : DicomItem(tag, DicomVR.SQ)
{
    /// <summary>The items in order.</summary>
    public List<DicomDataset> Items { get; } = [];
}

/// <summary>Encapsulated (compressed) pixel data: the Basic Offset Table and the fragments, kept undecoded (PS3.5 A.4).</summary>
public sealed class DicomFragmentSequence(DicomTag tag, DicomVR vr) : DicomItem(tag, vr)
{
    /// <summary>The Basic Offset Table item's bytes (often empty).</summary>
    public IByteBuffer OffsetTable { get; set; } = MemoryByteBuffer.Empty;

    /// <summary>The fragments after the offset table, in order.</summary>
    public List<IByteBuffer> Fragments { get; } = [];
}
