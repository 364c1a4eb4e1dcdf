using System.Buffers.Binary;

namespace HippoNode.Dicom.IO;

/// <summary>How data sets are encoded on write.</summary>
public sealed record DicomWriteOptions
{
    /// <summary>Defaults: defined lengths for sequences and items (as DCMTK writes by default).</summary>
    public static readonly DicomWriteOptions Default = new();

    /// <summary>Write sequences and items with undefined length and delimiters instead of computed lengths.</summary>
    public bool UndefinedLengthSequences { get; init; }
}

/// <summary>Encodes data sets in a transfer syntax: padding odd values per VR, swapping for big endian, recomputing group lengths.</summary>
public sealed class DicomWriter
{
    private const uint UndefinedLength = 0xFFFFFFFF;
    private readonly Stream _out;
    private readonly bool _explicit;
    private readonly bool _big;
    private readonly bool _encapsulatedAllowed;
    private readonly DicomWriteOptions _options;
    private readonly byte[] _scratch = new byte[16];

    /// <summary>A writer to <paramref name="output"/> in <paramref name="syntax"/> (deflate is the caller's wrapping stream).</summary>
    public DicomWriter(Stream output, DicomTransferSyntax syntax, DicomWriteOptions? options = null)
    {
        _out = output;
        _explicit = syntax.IsExplicitVR;
        _big = syntax.IsBigEndian;
        _encapsulatedAllowed = syntax.IsEncapsulated;
        _options = options ?? DicomWriteOptions.Default;
    }

    /// <summary>Writes every item of the data set in tag order.</summary>
    public void WriteDataset(DicomDataset dataset)
    {
        foreach (var item in dataset)
        {
            if (item.Tag.IsGroupLength && item is DicomElement)
            {
                WriteGroupLength(dataset, item.Tag.Group);
                continue;
            }
            WriteItem(item);
        }
    }

    /// <summary>Encoded length of a data set's items in this writer's syntax.</summary>
    public long DatasetLength(DicomDataset dataset)
    {
        long n = 0;
        foreach (var item in dataset) n += ItemLength(item);
        return n;
    }

    /// <summary>Encoded length of one item: header and padded value, or a whole sequence or fragment sequence.</summary>
    public long ItemLength(DicomItem item)
    {
        switch (item)
        {
            case DicomSequence sq:
            {
                long n = HeaderLength(DicomVR.SQ);
                var undefined = HasUndefinedLength(sq);
                foreach (var ds in sq.Items) n += 8 + DatasetLength(ds) + (undefined ? 8 : 0);
                return n + (undefined ? 8 : 0);
            }
            case DicomFragmentSequence fs:
            {
                long n = HeaderLength(fs.VR) + 8 + Padded(fs.OffsetTable.Length);
                foreach (var f in fs.Fragments) n += 8 + Padded(f.Length);
                return n + 8;
            }
            case DicomElement { Tag.IsGroupLength: true }:
                return HeaderLength(DicomVR.UL) + 4; // WriteDataset recomputes it as one UL, whatever was read
            case DicomElement e:
                return HeaderLength(EncodedVR(e)) + Padded(e.Length);
            default:
                throw new DicomException($"Unknown item type {item.GetType().Name}.");
        }
    }

    /// <summary>
    /// True when a sequence is written with undefined length: when the options say so, and always in Implicit VR for a
    /// tag the dictionary does not know as SQ (private sequences): a reader cannot tell such a defined-length value from
    /// bytes, while an undefined length is read as a sequence (PS3.5 7.5; DCMTK and we do).
    /// </summary>
    public bool HasUndefinedLength(DicomSequence sequence) =>
        _options.UndefinedLengthSequences || (!_explicit && DicomDictionary.ImplicitVR(sequence.Tag) != DicomVR.SQ);

    private int HeaderLength(DicomVR vr) => !_explicit ? 8 : vr.HasLongLength() ? 12 : 8;

    private static long Padded(long length) => length + (length & 1);

    private DicomVR EncodedVR(DicomElement e) =>
        _explicit && !e.VR.HasLongLength() && Padded(e.Length) > 0xFFFF ? DicomVR.UN : e.VR; // too long for a 16-bit length: PS3.5 §6.2.2 allows UN

    private void WriteGroupLength(DicomDataset dataset, ushort group)
    {
        long n = 0;
        foreach (var item in dataset)
        {
            if (item.Tag.Group == group && !item.Tag.IsGroupLength) n += ItemLength(item);
        }
        WriteHeader(new DicomTag(group, 0), DicomVR.UL, 4);
        WriteUInt32((uint)n);
    }

    /// <summary>Writes one item (element, sequence or fragment sequence).</summary>
    public void WriteItem(DicomItem item)
    {
        switch (item)
        {
            case DicomSequence sq:
                WriteSequence(sq);
                break;
            case DicomFragmentSequence fs:
                WriteFragments(fs);
                break;
            case DicomElement e:
                WriteElement(e);
                break;
        }
    }

    private void WriteElement(DicomElement e)
    {
        var vr = EncodedVR(e);
        var length = e.Length;
        var padded = Padded(length);
        if (padded > uint.MaxValue - 1) throw new DicomException($"{e.Tag} is too long ({length} bytes) for one DICOM value.");
        WriteHeader(e.Tag, vr, (uint)padded);
        var size = e.VR.ValueSize();
        if (_big && size > 1)
        {
            var bytes = e.Buffer.GetMemory().ToArray();
            DicomParser.SwapInPlace(bytes, size);
            _out.Write(bytes);
        }
        else
        {
            e.Buffer.CopyTo(_out);
        }
        if (padded != length) _out.WriteByte(e.VR.PaddingByte());
    }

    private void WriteSequence(DicomSequence sq)
    {
        var undefined = HasUndefinedLength(sq);
        if (undefined) WriteHeader(sq.Tag, DicomVR.SQ, UndefinedLength);
        else WriteHeader(sq.Tag, DicomVR.SQ, checked((uint)(ItemLength(sq) - HeaderLength(DicomVR.SQ))));
        foreach (var ds in sq.Items)
        {
            WriteTagAndLength(DicomTag.Item, undefined ? UndefinedLength : checked((uint)DatasetLength(ds)));
            WriteDataset(ds);
            if (undefined) WriteTagAndLength(DicomTag.ItemDelimitationItem, 0);
        }
        if (undefined) WriteTagAndLength(DicomTag.SequenceDelimitationItem, 0);
    }

    private void WriteFragments(DicomFragmentSequence fs)
    {
        if (!_encapsulatedAllowed)
            throw new DicomException($"{fs.Tag} holds compressed (encapsulated) pixel data, which this transfer syntax cannot carry; no codec is available to decode it.");
        WriteHeader(fs.Tag, fs.VR, UndefinedLength);
        WriteFragment(fs.OffsetTable);
        foreach (var f in fs.Fragments) WriteFragment(f);
        WriteTagAndLength(DicomTag.SequenceDelimitationItem, 0);
    }

    private void WriteFragment(IByteBuffer f)
    {
        WriteTagAndLength(DicomTag.Item, checked((uint)Padded(f.Length)));
        f.CopyTo(_out);
        if ((f.Length & 1) == 1) _out.WriteByte(0);
    }

    private void WriteHeader(DicomTag tag, DicomVR vr, uint length)
    {
        WriteTag(tag);
        if (!_explicit)
        {
            WriteUInt32(length);
            return;
        }
        _scratch[0] = (byte)((ushort)vr >> 8);
        _scratch[1] = (byte)vr;
        if (vr.HasLongLength())
        {
            _scratch[2] = _scratch[3] = 0;
            _out.Write(_scratch, 0, 4);
            WriteUInt32(length);
        }
        else
        {
            _out.Write(_scratch, 0, 2);
            WriteUInt16((ushort)length);
        }
    }

    private void WriteTagAndLength(DicomTag tag, uint length)
    {
        WriteTag(tag);
        WriteUInt32(length);
    }

    private void WriteTag(DicomTag tag)
    {
        WriteUInt16(tag.Group);
        WriteUInt16(tag.Element);
    }

    private void WriteUInt16(ushort v)
    {
        if (_big) BinaryPrimitives.WriteUInt16BigEndian(_scratch, v);
        else BinaryPrimitives.WriteUInt16LittleEndian(_scratch, v);
        _out.Write(_scratch, 0, 2);
    }

    private void WriteUInt32(uint v)
    {
        if (_big) BinaryPrimitives.WriteUInt32BigEndian(_scratch, v);
        else BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v);
        _out.Write(_scratch, 0, 4);
    }
}
