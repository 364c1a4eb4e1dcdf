using System.Buffers;
using System.Net;
using System.Net.Sockets;
using HippoNode.Dicom.Network;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>A deliberately low-level peer: writes whatever bytes a test wants and reads PDUs back, to misbehave on purpose.</summary>
public sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private byte[] _pending = [];

    private RawPeer(Socket socket) => _socket = socket;

    /// <summary>Connects to 127.0.0.1:port.</summary>
    public static async Task<RawPeer> ConnectAsync(int port)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.Loopback, port);
        return new RawPeer(s);
    }

    /// <summary>Sends raw bytes.</summary>
    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Sends a PDU.</summary>
    public Task SendAsync(Pdu pdu) => SendAsync(PduWriter.ToArray(pdu));

    /// <summary>An A-ASSOCIATE-RQ for the given contexts (IDs 1, 3, ...), sent, and the answer read.</summary>
    public async Task<Pdu?> AssociateAsync(string calledAe, params PresentationContextRequest[] contexts)
    {
        await SendAsync(new AAssociateRq(calledAe, "RAWPEER", contexts, UserInformation.Ours(16384)));
        return await ReceiveAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>The next PDU, or null when the server closed the connection; throws TimeoutException when nothing comes.</summary>
    public async Task<Pdu?> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[65536];
        while (true)
        {
            var seq = new ReadOnlySequence<byte>(_pending);
            if (PduReader.TryRead(ref seq, uint.MaxValue, out var pdu))
            {
                _pending = seq.ToArray();
                return pdu;
            }
            int n;
            try
            {
                n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("the server sent nothing in time");
            }
            catch (SocketException)
            {
                return null; // reset: closed as well
            }
            if (n == 0) return null;
            _pending = [.. _pending, .. buffer.AsSpan(0, n)];
        }
    }

    /// <summary>Reads until the server closes the connection; returns the PDUs it sent first.</summary>
    public async Task<List<Pdu>> ReadUntilClosedAsync(TimeSpan timeout)
    {
        var list = new List<Pdu>();
        while (await ReceiveAsync(timeout) is { } pdu) list.Add(pdu);
        return list;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
