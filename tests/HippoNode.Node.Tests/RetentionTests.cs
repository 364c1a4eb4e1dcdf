using System.Globalization;
using HippoNode.Analysis;
using HippoNode.Node.Services;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HippoNode.Node.Tests;

/// <summary>
/// Retention over a real storage folder and database, on a clock the test moves: finished studies go after the age
/// limit or, oldest first, under the size cap; a study queued, analysing, sending, dead-lettered or still arriving
/// never goes, nor one that receives an instance while it is being deleted.
/// </summary>
public sealed class RetentionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2025, 1, 1, 8, 0, 0, TimeSpan.Zero));
    private IHost? _host;

    public void Dispose()
    {
        _host?.Dispose();
        _dir.Dispose();
    }

    private NodeDatabase Db => _host!.Services.GetRequiredService<NodeDatabase>();

    private StoragePaths Paths => _host!.Services.GetRequiredService<StoragePaths>();

    private RetentionService Retention => _host!.Services.GetRequiredService<RetentionService>();

    /// <summary>The node's services over a storage folder, not started: the test drives the database and runs retention itself.</summary>
    private void Build(double days, double maxGigabytes = 0)
    {
        var settings = TestNode.Settings(_dir.Sub("node"), 4242);
        settings["HippoNode:Storage:RetentionDays"] = days.ToString(CultureInfo.InvariantCulture);
        settings["HippoNode:Storage:MaxSizeGigabytes"] = maxGigabytes.ToString("R", CultureInfo.InvariantCulture);
        _host = TestNode.Build(settings, new CopyRunner(), s => s.AddSingleton<TimeProvider>(_clock));
    }

    /// <summary>A study with one spooled file of <paramref name="bytes"/> bytes, recorded as arrived now.</summary>
    private async Task<string> ArriveAsync(string study, int bytes = 1000, string sop = "1")
    {
        var folder = Paths.StudyFolder(study);
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, sop + ".dcm");
        await File.WriteAllBytesAsync(file, new byte[bytes]);
        await Db.RecordArrivalAsync(new InstanceArrival($"{study}.{sop}", study, study + ".9", "1.2.840.10008.5.1.4.1.1.4", false, file, bytes, "ORTHANC"), folder);
        return folder;
    }

    private async Task<long> QueueAsync(string study, int spoolBytes = 1000)
    {
        await ArriveAsync(study, spoolBytes);
        return Assert.Single(await Db.QueueStableStudiesAsync(_clock.GetUtcNow()));
    }

    /// <summary>Queued and claimed: the job is analysing; the results folder exists.</summary>
    private async Task<long> AnalysingAsync(string study, int resultBytes = 500, int spoolBytes = 1000)
    {
        var id = await QueueAsync(study, spoolBytes);
        Assert.Equal(id, (await Db.ClaimNextJobAsync())!.Id);
        Directory.CreateDirectory(Paths.JobResults(id));
        await File.WriteAllBytesAsync(Path.Combine(Paths.JobResults(id), "seg.dcm"), new byte[resultBytes]);
        return id;
    }

    private async Task<long> SendingAsync(string study, int resultBytes = 500, int spoolBytes = 1000)
    {
        var id = await AnalysingAsync(study, resultBytes, spoolBytes);
        await Db.CompleteJobAsync(id, Result(study), [new ProducedObject(study + ".100", "1.2.840.10008.5.1.4.1.1.66.4", Path.Combine(Paths.JobResults(id), "seg.dcm"))]);
        return id;
    }

    private async Task<long> DoneAsync(string study, int resultBytes = 500, int spoolBytes = 1000)
    {
        var id = await SendingAsync(study, resultBytes, spoolBytes);
        var item = Assert.Single((await Db.GetJobAsync(id))!.Outputs);
        Assert.Equal(id, await Db.MarkSentAsync(item.Id, 0));
        return id;
    }

    private static StudyAnalysisResult Result(string study) => new()
    {
        Status = AnalysisStatus.Completed, StudyInstanceUid = study, Series = [], OutputFiles = [], ResultJson = "result.json",
        VolumesMm3 = new Dictionary<string, double>(), Stages = [],
    };

    private bool Kept(string study) => Directory.Exists(Paths.StudyFolder(study));

    [Fact]
    public async Task AgeLimit_DeletesFinishedStudiesOnly_NeverUnanalysedOrUndelivered()
    {
        Build(days: 30);
        var done = await DoneAsync("1.1");
        var skipped = await AnalysingAsync("1.2");
        await Db.SkipJobAsync(skipped, "no eligible series", null);
        var failed = await AnalysingAsync("1.3");
        await Db.FailJobAsync(failed, "broken", TimeSpan.Zero);
        var sending = await SendingAsync("1.4");
        var dead = await SendingAsync("1.5");
        await Db.MarkSendFailedAsync(Assert.Single((await Db.GetJobAsync(dead))!.Outputs).Id, "0122", _clock.GetUtcNow(), permanent: true, deadLetterAfter: 1);
        var analysing = await AnalysingAsync("1.6");
        var again = await DoneAsync("1.9");

        _clock.Advance(TimeSpan.FromDays(31));
        var recent = await DoneAsync("2.1");
        var queued = await QueueAsync("1.7");
        await ArriveAsync("1.8"); // still arriving: no job yet
        // A finished study that received a new series later: pending again, so it stays.
        await ArriveAsync("1.9", sop: "2");

        var report = await Retention.RunOnceAsync(CancellationToken.None);

        Assert.Equal(3, report.Studies);
        Assert.True(report.Bytes >= 3 * 1500, report.Bytes.ToString(CultureInfo.InvariantCulture));
        foreach (var (study, job) in new[] { ("1.1", done), ("1.2", skipped), ("1.3", failed) })
        {
            Assert.False(Kept(study), study);
            Assert.False(Directory.Exists(Paths.JobResults(job)), study);
            Assert.NotNull((await Db.GetJobAsync(job))!.PurgedAt);
            Assert.Equal(0L, await Db.QueryScalarAsync($"SELECT COUNT(*) FROM instances WHERE study_uid='{study}'"));
        }
        foreach (var (study, job) in new[] { ("1.4", sending), ("1.5", dead), ("1.6", analysing), ("1.7", queued), ("1.9", again), ("2.1", recent) })
        {
            Assert.True(Kept(study), study);
            Assert.True(Directory.Exists(Paths.JobResults(job)) || study == "1.7", study);
            Assert.Null((await Db.GetJobAsync(job))!.PurgedAt);
        }
        Assert.True(Kept("1.8"));
        // Our produced UIDs are remembered after the purge: a routed-back result is still recognised as ours.
        Assert.True(await Db.IsProducedAsync("1.1.100"));

        // A study re-sent after its purge is a new study again.
        Assert.Equal(ArrivalOutcome.New, (await Db.RecordArrivalAsync(new InstanceArrival("1.1.1", "1.1", null, "1.2.840.10008.5.1.4.1.1.4", false, "/x", 1, "ORTHANC"), Paths.StudyFolder("1.1"))));

        // Nothing more to do on a second run.
        Assert.Equal(0, (await Retention.RunOnceAsync(CancellationToken.None)).Studies);
    }

    [Fact]
    public async Task SizeCap_DeletesOldestFinishedFirst_UntilUnder_SendingStudiesStayEvenAboveIt()
    {
        // Each finished study: 40,000 spooled + 10,000 of results; the sending one 100,000 + 10,000.
        var cap = 180_000 / (1024d * 1024 * 1024);
        Build(days: 0, maxGigabytes: cap);
        var oldest = await DoneAsync("3.1", 10_000, 40_000);
        _clock.Advance(TimeSpan.FromHours(1));
        var middle = await DoneAsync("3.2", 10_000, 40_000);
        _clock.Advance(TimeSpan.FromHours(1));
        var newest = await DoneAsync("3.3", 10_000, 40_000);
        var sending = await SendingAsync("3.4", 10_000, 100_000);

        var report = await Retention.RunOnceAsync(CancellationToken.None);

        // 260,000 bytes: the two oldest must go to get under 180,000 (210,000 after one, 160,000 after two).
        Assert.Equal(2, report.Studies);
        Assert.False(Kept("3.1"));
        Assert.False(Kept("3.2"));
        Assert.True(Kept("3.3"));
        Assert.True(Kept("3.4"));
        Assert.NotNull((await Db.GetJobAsync(oldest))!.PurgedAt);
        Assert.NotNull((await Db.GetJobAsync(middle))!.PurgedAt);
        Assert.Null((await Db.GetJobAsync(newest))!.PurgedAt);
        Assert.Null((await Db.GetJobAsync(sending))!.PurgedAt);
    }

    [Fact]
    public async Task SizeCapBelowWhatUnfinishedStudiesHold_DeletesEveryFinishedOne_KeepsTheRest()
    {
        Build(days: 0, maxGigabytes: 1000 / (1024d * 1024 * 1024));
        await DoneAsync("4.1");
        var sending = await SendingAsync("4.2");
        Assert.Equal(1, (await Retention.RunOnceAsync(CancellationToken.None)).Studies);
        Assert.False(Kept("4.1"));
        Assert.True(Kept("4.2"));
        Assert.True(Directory.Exists(Paths.JobResults(sending)));
    }

    [Fact]
    public async Task InstanceArrivingWhileRetentionWaitsForTheStudy_KeepsTheStudy()
    {
        Build(days: 30);
        await DoneAsync("5.1");
        _clock.Advance(TimeSpan.FromDays(31));

        // The spooler holds the study's lock (it is filing a new instance); retention must wait for it...
        var gate = _host!.Services.GetRequiredService<StudyGate>();
        Task<RetentionReport> run;
        using (await gate.EnterAsync("5.1", CancellationToken.None))
        {
            run = Retention.RunOnceAsync(CancellationToken.None);
            await Task.Delay(200);
            Assert.False(run.IsCompleted);
            await ArriveAsync("5.1", sop: "2");
        }
        // ...and then finds the study no longer finished.
        Assert.Equal(0, (await run).Studies);
        Assert.True(File.Exists(Path.Combine(Paths.StudyFolder("5.1"), "2.dcm")));
        Assert.True(File.Exists(Path.Combine(Paths.StudyFolder("5.1"), "1.dcm")));
    }

    [Fact]
    public async Task DefaultSettings_KeepThirtyDays_NoCap()
    {
        var o = new NodeOptions();
        Assert.Equal((30d, 0d, 1024L), (o.Storage.RetentionDays, o.Storage.MaxSizeGigabytes, o.Storage.MinFreeMegabytes));
        Build(days: o.Storage.RetentionDays);
        await DoneAsync("6.1");
        _clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal(0, (await Retention.RunOnceAsync(CancellationToken.None)).Studies);
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, (await Retention.RunOnceAsync(CancellationToken.None)).Studies);
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
