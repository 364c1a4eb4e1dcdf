using System.Net;
using System.Net.Sockets;

namespace HippoNode.Testing;

/// <summary>Loopback ports for tests that start real peers (DCMTK, Orthanc, the node as a child process).</summary>
public static class TestNet
{
    /// <summary>A TCP port free on 127.0.0.1 right now (for peers that cannot be told to bind port 0).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Waits until something accepts TCP connections on the port; the last SocketException escapes after <paramref name="timeout"/>.</summary>
    public static async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(50);
            }
        }
    }
}
