using System.Net.Sockets;

namespace HippoNode.Dicom.Network;

/// <summary>
/// A socket stream that asks Linux to acknowledge at once after every read (TCP_QUICKACK); writes pass through.
/// Many DICOM senders write a PDU in several small pieces with Nagle's algorithm on; with our delayed ACK the
/// last piece waits 40 ms for an acknowledgement, per message. Quick ACKs remove that stall. Elsewhere: a pass-through.
/// Under TLS it sits below the <see cref="System.Net.Security.SslStream"/>, so the same holds for encrypted records.
/// </summary>
internal sealed class QuickAckStream(NetworkStream inner, Socket socket) : Stream
{
    private const int IpProtoTcp = 6;
    private const int TcpQuickAck = 12;
    private static readonly byte[] One = BitConverter.GetBytes(1);
    private readonly bool _enabled = OperatingSystem.IsLinux();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (_enabled && n > 0) QuickAck();
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("The network layer reads asynchronously only");

    private void QuickAck()
    {
        try
        {
            // The kernel drops quick-ACK mode again after a while, hence once per read.
            socket.SetRawSocketOption(IpProtoTcp, TcpQuickAck, One);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // a closed socket: the read that follows reports it
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
