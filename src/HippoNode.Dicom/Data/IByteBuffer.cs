namespace HippoNode.Dicom;

/// <summary>The bytes of one value, held in memory or left in a file region until asked for.</summary>
public interface IByteBuffer
{
    /// <summary>Number of bytes.</summary>
    long Length { get; }

    /// <summary>The bytes; a file-backed buffer reads its region on each call (nothing is cached).</summary>
    ReadOnlyMemory<byte> GetMemory();

    /// <summary>Copies the bytes to a stream without building one array of them when avoidable.</summary>
    void CopyTo(Stream destination);

    /// <summary>Copies the bytes to a stream asynchronously.</summary>
    ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default);
}

/// <summary>A buffer over bytes in memory.</summary>
public sealed class MemoryByteBuffer(ReadOnlyMemory<byte> data) : IByteBuffer
{
    /// <summary>The shared empty buffer.</summary>
    public static readonly MemoryByteBuffer Empty = new(ReadOnlyMemory<byte>.Empty);

    /// <inheritdoc />
    public long Length => data.Length;

    /// <inheritdoc />
    public ReadOnlyMemory<byte> GetMemory() => data;

    /// <inheritdoc />
    public void CopyTo(Stream destination) => destination.Write(data.Span);

    /// <inheritdoc />
    public ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default) =>
        destination.WriteAsync(data, cancellationToken);
}

/// <summary>A buffer over a region of a file, read only when used: large pixel data is never held twice.</summary>
public sealed class FileRegionByteBuffer : IByteBuffer
{
    private readonly string _path;
    private readonly long _offset;

    /// <summary>Refers to <paramref name="length"/> bytes at <paramref name="offset"/> of the file at <paramref name="path"/>.</summary>
    public FileRegionByteBuffer(string path, long offset, long length)
    {
        _path = path;
        _offset = offset;
        Length = length;
    }

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> GetMemory()
    {
        if (Length > Array.MaxLength) throw new DicomException($"A value of {Length} bytes cannot be held in memory; stream it instead.");
        var bytes = GC.AllocateUninitializedArray<byte>((int)Length);
        using var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        fs.Position = _offset;
        fs.ReadExactly(bytes);
        return bytes;
    }

    /// <inheritdoc />
    public void CopyTo(Stream destination)
    {
        using var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
        fs.Position = _offset;
        CopyRegion(fs, destination, Length);
    }

    /// <inheritdoc />
    public async ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        await using var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan | FileOptions.Asynchronous);
        fs.Position = _offset;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            var left = Length;
            while (left > 0)
            {
                var n = await fs.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException($"File {_path} ended inside a value.");
                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CopyRegion(Stream source, Stream destination, long count)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (count > 0)
            {
                var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
                if (n == 0) throw new EndOfStreamException($"File {_path} ended inside a value.");
                destination.Write(buffer, 0, n);
                count -= n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
