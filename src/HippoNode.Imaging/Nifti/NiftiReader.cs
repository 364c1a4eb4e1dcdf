using System.Buffers.Binary;
using System.IO.Compression;

namespace HippoNode.Imaging.Nifti;

/// <summary>Reads single-file NIfTI-1 images (.nii, or gzip-compressed .nii.gz, told apart by content), either byte order.</summary>
/// <remarks>
/// Every way a file can be broken ends in <see cref="NiftiFormatException"/>. The voxel count the header claims is
/// checked against what the file can hold before anything that size is allocated, so a lying header cannot
/// cause a huge allocation; I/O errors (missing file, no permission) stay <see cref="IOException"/>.
/// </remarks>
public static class NiftiReader
{
    // DEFLATE cannot expand data by more than about 1032:1, so a gzip file of n bytes holds at most ~1032·n bytes.
    private const long MaxDeflateRatio = 1032;

    private static readonly byte[] GzipMagic = [0x1f, 0x8b];

    /// <summary>Reads the header and the first 3D volume of <paramref name="path"/>.</summary>
    /// <exception cref="NiftiFormatException">The file is not a readable NIfTI-1 image.</exception>
    public static NiftiImage Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(file, path, file.Length);
    }

    /// <summary>Reads only the header of <paramref name="path"/> (for a .nii.gz, decompresses only its first bytes).</summary>
    /// <exception cref="NiftiFormatException">The header is not a valid NIfTI-1 header.</exception>
    public static NiftiHeader ReadHeader(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        var (stream, compressed) = Open(file, path);
        using (stream)
        {
            var header = new byte[NiftiHeader.HeaderSize];
            var got = ReadFully(stream, header, path, compressed);
            return NiftiHeader.Parse(header.AsSpan(0, got), path);
        }
    }

    /// <summary>Reads a NIfTI image from <paramref name="input"/> at its current position (named <paramref name="name"/> in errors); <paramref name="length"/> is its byte length from there, the bound every size claim is checked against.</summary>
    /// <exception cref="NiftiFormatException">The stream is not a readable NIfTI-1 image.</exception>
    public static NiftiImage Read(Stream input, string name, long length)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (stream, compressed) = Open(input, name);
        using (stream)
        {
            var headerBytes = new byte[NiftiHeader.HeaderSize];
            var got = ReadFully(stream, headerBytes, name, compressed);
            var header = NiftiHeader.Parse(headerBytes.AsSpan(0, got), name);
            var notes = new List<string>();

            var shape = header.Shape;
            var voxels = shape.VoxelCount;
            var bpv = NiftiDataTypes.BytesPerVoxel(header.DataType);
            // The most bytes this input can hold once decompressed; checked before any size taken from the header is trusted.
            var bound = compressed ? length * MaxDeflateRatio + 1024 : length;
            if (header.VoxOffset > bound)
                throw new NiftiFormatException(name, $"vox_offset {header.VoxOffset} lies beyond the end of a {length}-byte file");
            var offset = (long)header.VoxOffset;
            var volumeBytes = voxels * bpv;
            // One volume lives in one array; larger claims are refused here rather than failing in the allocator.
            if (volumeBytes > Array.MaxLength) throw new NiftiFormatException(name, $"dimensions {shape} of {header.DataType} ({volumeBytes} bytes) are too large for one volume");
            var allBytes = volumeBytes * header.VolumeCount; // < 2^31 bytes · 32767 volumes (dim[0] ≤ 4): no overflow

            if (compressed)
            {
                if (offset + volumeBytes > bound)
                    throw new NiftiFormatException(name, $"data shorter than dims claim: {shape} of {header.DataType} needs {offset + volumeBytes} bytes, more than a {length}-byte gzip file can hold");
            }
            else if (offset + allBytes > length)
            {
                throw new NiftiFormatException(name, $"data shorter than dims claim: {header.Dim[0]}D {DimText(header)} of {header.DataType} at offset {offset} needs {offset + allBytes} bytes, the file has {length}");
            }

            if (header.VolumeCount > 1) notes.Add($"{header.Dim[0]}D image with {header.VolumeCount} volumes ({DimText(header)}): took the first");
            if (header.BitPix != bpv * 8) notes.Add($"bitpix {header.BitPix} does not match datatype {header.DataType} ({bpv * 8} bits): datatype used");

            Skip(stream, offset - NiftiHeader.HeaderSize, name, compressed, offset + volumeBytes);
            var raw = ReadData(stream, volumeBytes, name, compressed, offset);
            var data = Decode(raw, header.DataType, header.IsBigEndian, (int)voxels);
            ApplyScaling(data, header);

            var volume = new Volume3D(shape, data, header.VoxelSize, header.Affine);
            return new NiftiImage(name, header, volume, notes, compressed);
        }
    }

    private static string DimText(NiftiHeader h) => string.Join("x", h.Dim.Skip(1).Take(h.Dim[0]));

    private static (Stream Stream, bool Compressed) Open(Stream input, string name)
    {
        // Told apart by the gzip magic, not the file name: a mis-named file still reads.
        var origin = input.CanSeek ? input.Position : 0;
        var start = new byte[2];
        var n = input.ReadAtLeast(start, 2, throwOnEndOfStream: false);
        if (n < 2) throw new NiftiFormatException(name, $"truncated header: {n} of {NiftiHeader.HeaderSize} bytes");
        var gz = start.AsSpan().SequenceEqual(GzipMagic);
        Stream rest;
        if (input.CanSeek)
        {
            input.Position = origin;
            rest = new NonClosingStream(input);
        }
        else
        {
            rest = new PrefixedStream(start, input);
        }
        return gz ? (new GZipStream(rest, CompressionMode.Decompress, leaveOpen: false), true) : (rest, false);
    }

    private static int ReadFully(Stream s, Span<byte> buffer, string name, bool compressed)
    {
        try
        {
            return s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException ex) when (compressed)
        {
            throw new NiftiFormatException(name, $"gzip stream is corrupt: {ex.Message}", ex);
        }
    }

    private static void Skip(Stream s, long count, string name, bool compressed, long needed)
    {
        // Extensions between the header and vox_offset are not interpreted, only stepped over.
        var buffer = new byte[(int)Math.Min(Math.Max(count, 1), 1 << 16)];
        var left = count;
        while (left > 0)
        {
            var n = ReadFully(s, buffer.AsSpan(0, (int)Math.Min(left, buffer.Length)), name, compressed);
            if (n == 0) throw new NiftiFormatException(name, $"data shorter than dims claim: the file ends at byte {NiftiHeader.HeaderSize + count - left}, before vox_offset {NiftiHeader.HeaderSize + count} (needs {needed} bytes)");
            left -= n;
        }
    }

    private static byte[] ReadData(Stream s, long count, string name, bool compressed, long offset)
    {
        if (!compressed)
        {
            // The length was checked against the file size, so this allocation is backed by real bytes.
            var all = new byte[count];
            var got = ReadFully(s, all, name, false);
            if (got < count) throw Short(got);
            return all;
        }

        // A gzip file's true size is known only by decompressing it, so the buffer grows with what actually
        // arrives instead of trusting the header's claim up front.
        var buffer = new byte[(int)Math.Min(count, 1 << 20)];
        long filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
            {
                var bigger = new byte[(int)Math.Min(count, Math.Max(buffer.Length * 2L, 1 << 20))];
                buffer.AsSpan(0, (int)filled).CopyTo(bigger);
                buffer = bigger;
            }
            var n = ReadFully(s, buffer.AsSpan((int)filled, (int)Math.Min(buffer.Length - filled, 1 << 20)), name, true);
            if (n == 0) throw Short(filled);
            filled += n;
        }
        return buffer;

        NiftiFormatException Short(long got) =>
            new(name, $"data shorter than dims claim: {count} bytes of voxel data expected from offset {offset}, only {got} present");
    }

    private static float[] Decode(byte[] raw, NiftiDataType type, bool big, int voxels)
    {
        var d = new float[voxels];
        var b = raw.AsSpan();
        switch (type)
        {
            case NiftiDataType.UInt8:
                for (var i = 0; i < voxels; i++) d[i] = b[i];
                break;
            case NiftiDataType.Int8:
                for (var i = 0; i < voxels; i++) d[i] = (sbyte)b[i];
                break;
            case NiftiDataType.Int16:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadInt16BigEndian(b[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]);
                break;
            case NiftiDataType.UInt16:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadUInt16BigEndian(b[(2 * i)..]) : BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]);
                break;
            case NiftiDataType.Int32:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadInt32BigEndian(b[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]);
                break;
            case NiftiDataType.UInt32:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadUInt32BigEndian(b[(4 * i)..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[(4 * i)..]);
                break;
            case NiftiDataType.Float32:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadSingleBigEndian(b[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]);
                break;
            case NiftiDataType.Float64:
                for (var i = 0; i < voxels; i++) d[i] = (float)(big ? BinaryPrimitives.ReadDoubleBigEndian(b[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]));
                break;
            case NiftiDataType.Int64:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadInt64BigEndian(b[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..]);
                break;
            case NiftiDataType.UInt64:
                for (var i = 0; i < voxels; i++) d[i] = big ? BinaryPrimitives.ReadUInt64BigEndian(b[(8 * i)..]) : BinaryPrimitives.ReadUInt64LittleEndian(b[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"datatype {type} passed the header check but has no decoder");
        }
        return d;
    }

    private static void ApplyScaling(float[] data, NiftiHeader h)
    {
        // The spec: scl_slope 0 means "no scaling"; NaN/inf slopes are treated the same rather than poisoning every voxel.
        double slope = h.SclSlope, inter = h.SclInter;
        if (slope == 0 || !double.IsFinite(slope)) return;
        if (!double.IsFinite(inter)) inter = 0;
        if (slope == 1 && inter == 0) return;
        for (var i = 0; i < data.Length; i++) data[i] = (float)(data[i] * slope + inter);
    }

    // Lets the caller's stream survive disposal of the wrappers this reader puts around it.
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // For non-seekable input: gives back the two sniffed bytes before the rest of the stream.
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _used;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_used < prefix.Length && buffer.Length > 0)
            {
                var n = Math.Min(prefix.Length - _used, buffer.Length);
                prefix.AsSpan(_used, n).CopyTo(buffer);
                _used += n;
                return n;
            }
            return inner.Read(buffer);
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
