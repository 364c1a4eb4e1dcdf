using System.Net;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Server;

/// <summary>ARTIM and the idle timer run on the injected <see cref="TimeProvider"/>: no waiting on the wall clock.</summary>
public class TimerTests
{
    private static async Task<(DicomServer Server, string Root)> StartAsync(ManualTimeProvider time)
    {
        var root = TempDir.Create("timers");
        var options = new DicomServerOptions
        {
            AeTitle = "HIPPO",
            BindAddress = IPAddress.Loopback,
            Port = 0,
            IncomingDirectory = Path.Combine(root, ".incoming"),
            ArtimTimeout = TimeSpan.FromMinutes(5),
            IdleTimeout = TimeSpan.FromMinutes(10),
        };
        var server = new DicomServer(options, new FileStoreHandler(root), timeProvider: time);
        await server.StartAsync(CancellationToken.None);
        return (server, root);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }

    [Fact]
    public async Task Artim_ExpiresOnTheInjectedClock_ConnectionClosed()
    {
        var time = new ManualTimeProvider();
        var (server, root) = await StartAsync(time);
        try
        {
            await using var peer = await RawPeer.ConnectAsync(server.Port);
            await WaitUntilAsync(() => time.ArmedTimers > 0); // ARTIM armed for the request
            time.Advance(TimeSpan.FromMinutes(4));
            await Task.Delay(100);
            Assert.Equal(1, server.ActiveAssociations); // not yet: 4 of 5 minutes
            time.Advance(TimeSpan.FromMinutes(2));
            Assert.Empty(await peer.ReadUntilClosedAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            await server.DisposeAsync();
            TempDir.Delete(root);
        }
    }

    [Fact]
    public async Task IdleTimer_ExpiresOnTheInjectedClock_Aborts()
    {
        var time = new ManualTimeProvider();
        var (server, root) = await StartAsync(time);
        try
        {
            await using var peer = await RawPeer.ConnectAsync(server.Port);
            Assert.IsType<AAssociateAc>(await peer.AssociateAsync("HIPPO", new PresentationContextRequest(1, DicomUid.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid])));
            await WaitUntilAsync(() => time.ArmedTimers > 0);
            // The idle timer is re-armed by the server's read loop after the A-ASSOCIATE-AC goes out, which may be just
            // after the first advance: keep the injected clock moving until the abort arrives (real time bounds it).
            var abort = peer.ReceiveAsync(TimeSpan.FromSeconds(5));
            while (!abort.IsCompleted)
            {
                time.Advance(TimeSpan.FromMinutes(11));
                await Task.WhenAny(abort, Task.Delay(50));
            }
            Assert.IsType<AAbort>(await abort);
        }
        finally
        {
            await server.DisposeAsync();
            TempDir.Delete(root);
        }
    }
}
