using HippoNode.Node.Storage;

namespace HippoNode.Fuzzing.Tests.Regressions;

/// <summary>
/// Found by the soak (1,000 studies over 20 concurrent associations, quiet time 1 s: 38 studies got two or three
/// jobs and 99 extra result objects reached the PACS): on a loaded machine a study's instances can pause longer than
/// the quiet time, so its job was queued, and the instances that came after queued a second job while the first still
/// waited. Both read the whole study folder when they ran: the same study analysed twice, two sets of results. A
/// study whose job has not started now gets no second job; the waiting one takes the late instances.
/// </summary>
public sealed class LateInstancesOfAQueuedStudyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-regression-queue").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static InstanceArrival Arrival(string sop) => new(sop, "1.2.3", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.4", false, "/spool/" + sop + ".dcm", 100, "SCANNER");

    [Fact]
    public async Task LateInstances_JoinTheQueuedJob_ThenStartANewOneOnceItRan()
    {
        await using var db = await NodeDatabase.OpenAsync(Path.Combine(_dir, "node.db"));
        await db.RecordArrivalAsync(Arrival("1.1"), "/spool");
        await db.RecordArrivalAsync(Arrival("1.2"), "/spool");
        var first = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));

        // The sender paused past the quiet time; the rest of the study arrives while its job waits.
        await db.RecordArrivalAsync(Arrival("1.3"), "/spool");
        await db.RecordArrivalAsync(Arrival("1.4"), "/spool");
        Assert.Empty(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.Equal(4, (await db.GetJobAsync(first))!.Instances);
        Assert.Single(await db.ListJobsAsync(10, "1.2.3"));

        // Once that job has started, new images are a change of the study: a new job.
        Assert.Equal(first, (await db.ClaimNextJobAsync())!.Id);
        await db.RecordArrivalAsync(Arrival("1.5"), "/spool");
        var second = Assert.Single(await db.QueueStableStudiesAsync(DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.NotEqual(first, second);
    }
}
