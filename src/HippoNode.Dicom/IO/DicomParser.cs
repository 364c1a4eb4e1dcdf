namespace HippoNode.Dicom.IO;

/// <summary>
/// The one parse core: reads a data set encoded in a given transfer syntax and reports it to an observer.
/// Every length is checked against what its container and the stream can still hold before anything is
/// allocated, so malformed input ends in a <see cref="DicomParseException"/>, never a hang or a huge allocation.
/// </summary>
internal sealed class DicomParser
{
    private const uint UndefinedLength = 0xFFFFFFFF;
    private const int ChunkSize = 1 << 20;
    private readonly ByteSource _src;
    private readonly IDicomReaderObserver _observer;
    private readonly DicomReadOptions _options;
    private readonly bool _bigEndian;
    private DicomTag? _lastTag;      // the element or item last started, named when the data ends inside it
    private long _lastOffset;
    private DicomTag? _sequenceTag;  // the innermost open sequence

    public DicomParser(ByteSource source, IDicomReaderObserver observer, DicomReadOptions options, bool bigEndian)
    {
        _src = source;
        _observer = observer;
        _options = options;
        _bigEndian = bigEndian;
    }

    /// <summary>Told about input that was read leniently (the caller's ReadWarnings).</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>Parses the whole (rest of the) stream as one data set.</summary>
    public void ParseTopLevel(bool explicitVR)
    {
        try
        {
            ParseDataset(explicitVR, end: null, untilItemDelimiter: false, depth: 0);
        }
        catch (EndOfStreamException ex)
        {
            throw new DicomParseException($"Unexpected end of data at byte offset {_src.Position} (truncated file)", _lastOffset, _lastTag, ex);
        }
    }

    /// <summary>Reads elements until <paramref name="end"/>, an item delimiter, or end of stream at top level.</summary>
    /// <returns>True when a sequence delimiter ended an undefined-length item early (a lenient read).</returns>
    private bool ParseDataset(bool explicitVR, long? end, bool untilItemDelimiter, int depth)
    {
        while (true)
        {
            if (end is { } e && _src.Position >= e)
            {
                if (_src.Position > e) throw new DicomParseException("Element runs past the end of its item", _src.Position, _sequenceTag);
                return false;
            }
            if (end is null && !untilItemDelimiter && depth == 0 && _src.AtEnd) return false;

            var offset = _src.Position;
            var head = _src.Peek(4);
            if (head.Length < 4)
            {
                if (head.Length == 0 && depth == 0 && !untilItemDelimiter) return false;
                throw new DicomParseException("Unexpected end of data inside an element header (truncated file)", offset, depth > 0 ? _sequenceTag : null);
            }
            var tag = _bigEndian
                ? new DicomTag((ushort)((head[0] << 8) | head[1]), (ushort)((head[2] << 8) | head[3]))
                : new DicomTag((ushort)(head[0] | (head[1] << 8)), (ushort)(head[2] | (head[3] << 8)));
            // Stop before consuming anything, so the stream is left where the stopping element starts.
            if (depth == 0 && (_options.StopAtTag is { } stop && tag >= stop || _options.OnlyGroup is { } g && tag.Group != g)) return false;
            _src.Skip(4);
            _lastTag = tag;
            _lastOffset = offset;

            if (tag.Group == 0xFFFE)
            {
                var delimLength = _src.ReadUInt32(_bigEndian);
                if (tag == DicomTag.ItemDelimitationItem)
                {
                    if (untilItemDelimiter) return false;
                    // A stray item delimiter in a defined-length context: DCMTK skips it, so do we.
                    continue;
                }
                if (tag == DicomTag.SequenceDelimitationItem && untilItemDelimiter)
                {
                    // Item delimiter missing before the sequence delimiter: end item and sequence together.
                    return true;
                }
                throw new DicomParseException($"Unexpected {(tag == DicomTag.Item ? "item" : "delimiter")} tag (length {delimLength}) in a data set", offset, tag);
            }

            DicomVR vr;
            uint length;
            if (explicitVR)
            {
                var vrBytes = _src.Read(2);
                vr = (DicomVR)((vrBytes[0] << 8) | vrBytes[1]);
                if (!vr.IsKnown())
                {
                    throw new DicomParseException(
                        $"Invalid VR bytes 0x{vrBytes[0]:X2}{vrBytes[1]:X2} in Explicit VR data", offset, tag);
                }
                if (vr.HasLongLength())
                {
                    _src.Skip(2);
                    length = _src.ReadUInt32(_bigEndian);
                }
                else
                {
                    length = _src.ReadUInt16(_bigEndian);
                }
            }
            else
            {
                vr = DicomDictionary.ImplicitVR(tag);
                length = _src.ReadUInt32(_bigEndian);
            }

            if (length == UndefinedLength)
            {
                if (vr is DicomVR.SQ or DicomVR.UN)
                {
                    // UN of undefined length holds an Implicit VR LE sequence (PS3.5 §6.2.2).
                    ParseSequence(tag, vr == DicomVR.SQ && explicitVR, end: null, depth, offset);
                }
                else if (vr is DicomVR.OB or DicomVR.OW)
                {
                    // Encapsulated pixel data is OB (PS3.5 A.4); some writers say OW. Read as OB, as DCMTK does,
                    // so that the file is written back conformant.
                    ParseFragments(tag, DicomVR.OB, depth, offset);
                }
                else if (!explicitVR)
                {
                    // An implicit element of undefined length that the dictionary does not call SQ: DCMTK reads a sequence too.
                    ParseSequence(tag, false, end: null, depth, offset);
                }
                else
                {
                    throw new DicomParseException($"Undefined length is not allowed for VR {vr.Code()}", offset, tag);
                }
                continue;
            }

            CheckFits(length, end, offset, tag);

            if (vr == DicomVR.SQ)
            {
                ParseSequence(tag, explicitVR, _src.Position + length, depth, offset);
                continue;
            }

            _observer.OnElement(tag, vr, ReadValue(vr, length, offset, tag));
        }
    }

    private void ParseSequence(DicomTag tag, bool explicitVR, long? end, int depth, long offset)
    {
        if (depth + 1 > _options.MaxDepth)
            throw new DicomParseException($"Sequences nested deeper than {_options.MaxDepth} levels", offset, tag);
        _observer.OnBeginSequence(tag, end is null);
        var outerSequence = _sequenceTag;
        _sequenceTag = tag;
        while (true)
        {
            if (end is { } e)
            {
                if (_src.Position == e) break;
                if (_src.Position > e) throw new DicomParseException("Item runs past the end of its sequence", _src.Position, tag);
            }
            var itemOffset = _src.Position;
            _lastTag = tag;
            _lastOffset = itemOffset;
            var itemTag = ReadTag();
            var itemLength = _src.ReadUInt32(_bigEndian);
            if (itemTag == DicomTag.SequenceDelimitationItem)
            {
                if (end is not null) throw new DicomParseException("Sequence delimiter inside a defined-length sequence", itemOffset, tag);
                break;
            }
            if (itemTag != DicomTag.Item)
                throw new DicomParseException($"Expected an item tag in the sequence but found {itemTag}", itemOffset, tag);

            _observer.OnBeginItem(itemLength == UndefinedLength);
            bool endedBySequenceDelimiter;
            if (itemLength == UndefinedLength)
            {
                endedBySequenceDelimiter = ParseDataset(explicitVR, end: null, untilItemDelimiter: true, depth + 1);
            }
            else
            {
                var itemEnd = _src.Position + itemLength;
                if (end is { } sequenceEnd && itemEnd > sequenceEnd)
                {
                    // A stale item length overrunning its defined-length sequence (elements removed, length not
                    // updated): the sequence's length bounds the item, as in DCMTK; its elements must still fit.
                    Warn?.Invoke($"Item at byte offset {itemOffset} in {tag} claims {itemLength} bytes but its sequence ends after {sequenceEnd - _src.Position}; read up to the sequence end.");
                    itemEnd = sequenceEnd;
                }
                else
                {
                    CheckFits(itemLength, end, itemOffset, tag, "Item length");
                }
                endedBySequenceDelimiter = ParseDataset(explicitVR, itemEnd, untilItemDelimiter: false, depth + 1);
            }
            _observer.OnEndItem();
            if (endedBySequenceDelimiter) break;
        }
        _sequenceTag = outerSequence;
        _observer.OnEndSequence();
    }

    private void ParseFragments(DicomTag tag, DicomVR vr, int depth, long offset)
    {
        _observer.OnBeginFragments(tag, vr);
        while (true)
        {
            var itemOffset = _src.Position;
            _lastTag = tag;
            _lastOffset = itemOffset;
            var itemTag = ReadTag();
            var itemLength = _src.ReadUInt32(_bigEndian);
            if (itemTag == DicomTag.SequenceDelimitationItem) break;
            if (itemTag != DicomTag.Item)
                throw new DicomParseException($"Expected a fragment item in encapsulated pixel data but found {itemTag}", itemOffset, tag);
            if (itemLength == UndefinedLength)
                throw new DicomParseException("Fragment with undefined length", itemOffset, tag);
            CheckFits(itemLength, null, itemOffset, tag, "Fragment length");
            _observer.OnFragment(ReadValue(DicomVR.OB, itemLength, itemOffset, tag));
        }
        _observer.OnEndFragments();
    }

    private DicomTag ReadTag()
    {
        var g = _src.ReadUInt16(_bigEndian);
        var el = _src.ReadUInt16(_bigEndian);
        return new DicomTag(g, el);
    }

    private void CheckFits(long length, long? end, long offset, DicomTag tag, string what = "Value length")
    {
        if (end is { } e && _src.Position + length > e)
            throw new DicomParseException($"{what} {length} runs past the end of its parent ({e - _src.Position} bytes left)", offset, tag);
        if (_src.Remaining is { } left && length > left)
            throw new DicomParseException($"{what} {length} exceeds the {left} bytes left in the data", offset, tag);
    }

    private IByteBuffer ReadValue(DicomVR vr, uint length, long offset, DicomTag tag)
    {
        if (length == 0) return MemoryByteBuffer.Empty;
        var swap = _bigEndian && vr.ValueSize() > 1;
        if (!swap && _src.FilePath is { } path && length >= _options.LargeValueThreshold)
        {
            var start = _src.Position;
            _src.Skip(length);
            return new FileRegionByteBuffer(path, start, length);
        }
        byte[] bytes;
        if (_src.Remaining is not null || length <= ChunkSize)
        {
            if (length > Array.MaxLength) throw new DicomParseException($"Value of {length} bytes is too large to hold in memory", offset, tag);
            bytes = GC.AllocateUninitializedArray<byte>((int)length);
            _src.ReadExactly(bytes);
        }
        else
        {
            // Unknown stream length (deflate, network): grow chunk by chunk, so a lying length field
            // costs no more memory than the data that really arrives.
            if (length > Array.MaxLength) throw new DicomParseException($"Value of {length} bytes is too large to hold in memory", offset, tag);
            using var ms = new MemoryStream();
            var chunk = new byte[ChunkSize];
            long left = length;
            while (left > 0)
            {
                var n = (int)Math.Min(left, ChunkSize);
                _src.ReadExactly(chunk.AsSpan(0, n));
                ms.Write(chunk, 0, n);
                left -= n;
            }
            bytes = ms.ToArray();
        }
        if (swap) SwapInPlace(bytes, vr.ValueSize());
        return new MemoryByteBuffer(bytes);
    }

    /// <summary>Reverses the byte order of each <paramref name="size"/>-byte value (big ↔ little endian).</summary>
    internal static void SwapInPlace(Span<byte> bytes, int size)
    {
        var whole = bytes.Length - bytes.Length % size;
        for (var i = 0; i < whole; i += size) bytes.Slice(i, size).Reverse();
    }
}
