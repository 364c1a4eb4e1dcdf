using System.Buffers.Binary;

namespace HippoNode.Dicom.IO;

/// <summary>A buffered, position-tracking reader over a stream, the one input of the parse core.</summary>
internal sealed class ByteSource
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _stream;
    private readonly byte[] _buf = new byte[BufferSize];
    private int _pos;
    private int _len;
    private long _bufStart;
    private readonly long _streamOrigin;

    /// <summary>Reads from <paramref name="stream"/>'s current position; <paramref name="filePath"/> enables lazy file-region values.</summary>
    public ByteSource(Stream stream, string? filePath = null)
    {
        _stream = stream;
        FilePath = stream.CanSeek ? filePath : null;
        _streamOrigin = stream.CanSeek ? stream.Position : 0;
        _bufStart = _streamOrigin;
        if (stream.CanSeek) Length = stream.Length;
    }

    /// <summary>The file the stream reads, when it is a seekable file.</summary>
    public string? FilePath { get; }

    /// <summary>Total stream length when known (seekable streams).</summary>
    public long? Length { get; }

    /// <summary>Absolute position of the next byte.</summary>
    public long Position => _bufStart + _pos;

    /// <summary>Bytes left before the end of a seekable stream; null when unknown.</summary>
    public long? Remaining => Length - Position;

    /// <summary>True when no byte is left.</summary>
    public bool AtEnd => !Ensure(1);

    /// <summary>Makes <paramref name="count"/> bytes available in the buffer; false at end of stream.</summary>
    private bool Ensure(int count)
    {
        if (_len - _pos >= count) return true;
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
            _bufStart += _pos;
            _len -= _pos;
            _pos = 0;
        }
        while (_len < count)
        {
            var n = _stream.Read(_buf, _len, _buf.Length - _len);
            if (n == 0) return false;
            _len += n;
        }
        return true;
    }

    /// <summary>The next <paramref name="count"/> bytes without consuming them; shorter at end of stream.</summary>
    public ReadOnlySpan<byte> Peek(int count)
    {
        Ensure(count);
        return _buf.AsSpan(_pos, Math.Min(count, _len - _pos));
    }

    /// <summary>Consumes and returns exactly <paramref name="count"/> (≤ 64 KiB) bytes; throws EndOfStreamException when short.</summary>
    public ReadOnlySpan<byte> Read(int count)
    {
        if (!Ensure(count)) throw new EndOfStreamException();
        var s = _buf.AsSpan(_pos, count);
        _pos += count;
        return s;
    }

    /// <summary>Reads a 16-bit unsigned number.</summary>
    public ushort ReadUInt16(bool bigEndian)
    {
        var s = Read(2);
        return bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
    }

    /// <summary>Reads a 32-bit unsigned number.</summary>
    public uint ReadUInt32(bool bigEndian)
    {
        var s = Read(4);
        return bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    /// <summary>Fills <paramref name="destination"/>; throws EndOfStreamException when the stream ends first.</summary>
    public void ReadExactly(Span<byte> destination)
    {
        var fromBuffer = Math.Min(destination.Length, _len - _pos);
        _buf.AsSpan(_pos, fromBuffer).CopyTo(destination);
        _pos += fromBuffer;
        destination = destination[fromBuffer..];
        if (destination.IsEmpty) return;
        // Larger reads bypass the buffer; the buffer is empty here so positions stay consistent.
        _bufStart += _len;
        _pos = _len = 0;
        while (!destination.IsEmpty)
        {
            var n = _stream.Read(destination);
            if (n == 0) throw new EndOfStreamException();
            destination = destination[n..];
            _bufStart += n;
        }
    }

    /// <summary>The unread rest of the input as a forward-only stream, buffered bytes first (for inflating a deflated data set
    /// from any stream, seekable or not); this source must not be read afterwards.</summary>
    public Stream RestAsStream() => new RestStream(this);

    private sealed class RestStream(ByteSource src) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            var buffered = src._len - src._pos;
            if (buffered == 0) return src._stream.Read(buffer);
            var n = Math.Min(buffered, buffer.Length);
            src._buf.AsSpan(src._pos, n).CopyTo(buffer);
            src._pos += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Skips <paramref name="count"/> bytes (seeks when it can); throws EndOfStreamException past the end.</summary>
    public void Skip(long count)
    {
        var inBuffer = Math.Min(count, _len - _pos);
        _pos += (int)inBuffer;
        count -= inBuffer;
        if (count == 0) return;
        if (_stream.CanSeek)
        {
            var target = Position + count;
            if (target > Length) throw new EndOfStreamException();
            _stream.Position = target;
            _bufStart = target;
            _pos = _len = 0;
            return;
        }
        while (count > 0)
        {
            if (!Ensure(1)) throw new EndOfStreamException();
            var n = (int)Math.Min(count, _len - _pos);
            _pos += n;
            count -= n;
        }
    }
}
