using System.Collections.Concurrent;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Server;

/// <summary>
/// The store handler hears once when an association ends, after its last store, whichever way it ends: the node
/// holds a study back while the association delivering it is open, so a missed end would hold it forever.
/// </summary>
public sealed class AssociationEndTests : IDisposable
{
    private readonly string _dir = TempDir.Create("assoc-end");

    public void Dispose() => TempDir.Delete(_dir);

    private string NewInstance()
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".dcm");
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.MRImageStorage)
            .AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.Modality, DicomVR.CS, "MR");
        new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    private async Task<DicomClientAssociation> ConnectAsync(TestServer scp, string file) =>
        await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, TestHelpers.Client(), TestHelpers.ProposalsFor([file]), CancellationToken.None);

    [Fact]
    public async Task Released_AfterTwoStores_EndsOnceAfterBoth()
    {
        var handler = new RecordingHandler();
        await using var scp = await TestServer.StartAsync(handler: handler);
        var file = NewInstance();
        await using (var a = await ConnectAsync(scp, file))
        {
            Assert.True((await a.StoreAsync(file, CancellationToken.None)).Succeeded);
            Assert.True((await a.StoreAsync(NewInstance(), CancellationToken.None)).Succeeded);
            Assert.DoesNotContain(handler.Events, e => e.StartsWith("end", StringComparison.Ordinal)); // still open: no end yet
            await a.ReleaseAsync(CancellationToken.None);
        }
        var id = await handler.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Equal([$"store {id}", $"store {id}", $"end {id}"], handler.Events);
    }

    [Fact]
    public async Task AbortedByThePeer_EndsOnce()
    {
        var handler = new RecordingHandler();
        await using var scp = await TestServer.StartAsync(handler: handler);
        var file = NewInstance();
        await using (var a = await ConnectAsync(scp, file))
        {
            Assert.True((await a.StoreAsync(file, CancellationToken.None)).Succeeded);
            await a.AbortAsync();
        }
        var id = await handler.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Equal([$"store {id}", $"end {id}"], handler.Events);
    }

    [Fact]
    public async Task ASilentPeer_DroppedByTheIdleTimeout_Ends()
    {
        var handler = new RecordingHandler();
        await using var scp = await TestServer.StartAsync(o => o.IdleTimeout = TimeSpan.FromMilliseconds(500), handler);
        var file = NewInstance();
        await using var a = await ConnectAsync(scp, file);
        Assert.True((await a.StoreAsync(file, CancellationToken.None)).Succeeded);
        // The peer stays connected and says nothing: the server's idle timeout ends the association, and the handler hears it.
        var id = await handler.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([$"store {id}", $"end {id}"], handler.Events);
    }

    [Fact]
    public async Task AHandlerThatThrowsAtTheEnd_LeavesTheServerServing()
    {
        var handler = new RecordingHandler { ThrowAtEnd = true };
        await using var scp = await TestServer.StartAsync(handler: handler);
        for (var round = 0; round < 2; round++)
        {
            var file = NewInstance();
            await using var a = await ConnectAsync(scp, file);
            Assert.True((await a.StoreAsync(file, CancellationToken.None)).Succeeded);
            await a.ReleaseAsync(CancellationToken.None);
        }
        await TestHelpers.WaitForNoAssociationsAsync(scp.Server, TimeSpan.FromSeconds(5));
        Assert.Equal(2, handler.Events.Count(e => e.StartsWith("end", StringComparison.Ordinal)));
    }

    private sealed class RecordingHandler : IDicomStoreHandler
    {
        private readonly ConcurrentQueue<string> _events = new();

        public bool ThrowAtEnd { get; init; }

        public TaskCompletionSource<long> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<string> Events => [.. _events];

        public ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
        {
            _events.Enqueue($"store {request.AssociationId}");
            return ValueTask.FromResult(DicomStatus.Success);
        }

        public void AssociationEnded(long associationId)
        {
            _events.Enqueue($"end {associationId}");
            Ended.TrySetResult(associationId);
            if (ThrowAtEnd) throw new InvalidOperationException("bookkeeping failed");
        }
    }
}
