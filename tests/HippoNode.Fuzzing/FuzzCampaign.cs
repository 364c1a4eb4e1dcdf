using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HippoNode.Fuzzing;

/// <summary>How a campaign runs.</summary>
public sealed class FuzzOptions
{
    /// <summary>Input i is generated from seed BaseSeed + i.</summary>
    public int BaseSeed { get; init; } = 20_261_206;

    /// <summary>How many inputs in all.</summary>
    public long Inputs { get; init; } = 1000;

    /// <summary>Inputs per batch: the unit of progress lines, checkpoints and after-batch checks.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>Where the checkpoint (the report so far, with the next index) is kept; null: no checkpoint, no resume.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Where inputs that crashed or hung are saved; null: not saved.</summary>
    public string? FindingsDirectory { get; init; }

    /// <summary>Stop after this many findings (a broken target would otherwise fill the disk).</summary>
    public int MaxFindings { get; init; } = 50;

    /// <summary>The working set above which the campaign counts a memory-bound failure.</summary>
    public long MaxWorkingSetBytes { get; init; } = 2L << 30;

    /// <summary>Where progress lines go.</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>One crash, hang or failed after-batch check.</summary>
public sealed record FuzzFinding(string Kind, int Seed, string Description, string Problem, string? SavedAs);

/// <summary>What a campaign found, also its checkpoint (NextIndex: every input below it has run).</summary>
public sealed class FuzzReport
{
    public string Target { get; set; } = "";
    public string Invariant { get; set; } = "";
    public string Seeds { get; set; } = "";
    public int BaseSeed { get; set; }
    public long RequestedInputs { get; set; }
    public long NextIndex { get; set; }
    public long Inputs { get; set; }
    public long Accepted { get; set; }
    public long Rejected { get; set; }
    public long Crashes { get; set; }
    public long Hangs { get; set; }
    public long BatchCheckFailures { get; set; }
    public double MaxInputSeconds { get; set; }
    public long PeakWorkingSetBytes { get; set; }
    public long PeakGcHeapBytes { get; set; }
    public bool MemoryBoundExceeded { get; set; }
    public long RetainedHeapFirstBatchBytes { get; set; }
    public long RetainedHeapLastBatchBytes { get; set; }
    public List<long> RetainedHeapEvery10Batches { get; set; } = [];
    public double ElapsedSeconds { get; set; }
    public int Resumes { get; set; }
    public bool Completed { get; set; }
    public string Machine { get; set; } = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}";
    public List<FuzzFinding> Findings { get; set; } = [];

    /// <summary>No crash, no hang, no failed check, memory within bounds, all inputs run.</summary>
    public bool Clean => Completed && Crashes == 0 && Hangs == 0 && BatchCheckFailures == 0 && !MemoryBoundExceeded;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static FuzzReport? FromJson(string json) => JsonSerializer.Deserialize<FuzzReport>(json, Json);

    /// <summary>The human-readable summary.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        var ic = CultureInfo.InvariantCulture;
        sb.AppendLine(ic, $"target {Target}: {Inputs:N0} inputs ({Accepted:N0} accepted, {Rejected:N0} rejected the documented way), {Crashes} crashes, {Hangs} hangs, {BatchCheckFailures} failed after-batch checks");
        sb.AppendLine(ic, $"  invariant: {Invariant}");
        sb.AppendLine(ic, $"  seeds: {Seeds}; base seed {BaseSeed}");
        sb.AppendLine(ic, $"  peak working set {PeakWorkingSetBytes / 1048576.0:F0} MiB, peak GC heap {PeakGcHeapBytes / 1048576.0:F0} MiB{(MemoryBoundExceeded ? " (OVER THE BOUND)" : "")}, heap retained after a full GC {RetainedHeapFirstBatchBytes / 1048576.0:F1} MiB after the first batch, {RetainedHeapLastBatchBytes / 1048576.0:F1} MiB after the last; slowest input {MaxInputSeconds:F2} s");
        sb.AppendLine(ic, $"  elapsed {ElapsedSeconds:F0} s ({(ElapsedSeconds > 0 ? Inputs / ElapsedSeconds : 0):F0} inputs/s){(Resumes > 0 ? $", resumed {Resumes} time(s)" : "")}; {(Completed ? "completed" : "NOT completed")}; {Machine}");
        foreach (var f in Findings.Take(20)) sb.AppendLine(ic, $"  {f.Kind} seed {f.Seed}: {f.Description}\n      {f.Problem}{(f.SavedAs is null ? "" : $"\n      saved as {f.SavedAs}")}");
        return sb.ToString();
    }
}

/// <summary>
/// Runs a target over a range of seeds: in parallel, batch by batch, with a watchdog for hangs, memory sampling,
/// after-batch checks, a progress line per batch with an ETA, and a checkpoint after every batch so that a killed
/// campaign resumes where it stopped.
/// </summary>
public static class FuzzCampaign
{
    /// <summary>Runs (or resumes) a campaign and returns its report.</summary>
    public static async Task<FuzzReport> RunAsync(FuzzTarget target, FuzzOptions options, CancellationToken cancellationToken = default)
    {
        var report = LoadCheckpoint(target, options) ?? new FuzzReport { Target = target.Name, BaseSeed = options.BaseSeed };
        report.Invariant = target.Invariant;
        report.Seeds = target.SeedSummary;
        report.RequestedInputs = options.Inputs;
        report.Completed = false;
        var resumedAt = report.NextIndex;
        var elapsedBefore = report.ElapsedSeconds;
        var clock = Stopwatch.StartNew();
        var process = Process.GetCurrentProcess();

        void SampleMemory()
        {
            process.Refresh();
            report.PeakWorkingSetBytes = Math.Max(report.PeakWorkingSetBytes, Math.Max(process.WorkingSet64, process.PeakWorkingSet64));
            report.PeakGcHeapBytes = Math.Max(report.PeakGcHeapBytes, GC.GetGCMemoryInfo().HeapSizeBytes);
            if (report.PeakWorkingSetBytes > options.MaxWorkingSetBytes) report.MemoryBoundExceeded = true;
        }

        while (report.NextIndex < options.Inputs && report.Findings.Count < options.MaxFindings)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = report.NextIndex;
            var count = (int)Math.Min(options.BatchSize, options.Inputs - start);
            var results = new ConcurrentBag<(int Seed, FuzzResult Result, double Seconds)>();
            var running = new ConcurrentDictionary<int, long>();
            var hung = new ConcurrentDictionary<int, bool>();

            var batch = Parallel.ForEachAsync(Enumerable.Range(0, count),
                new ParallelOptions { MaxDegreeOfParallelism = target.Parallelism, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var seed = unchecked(options.BaseSeed + (int)(start + i));
                    running[seed] = Stopwatch.GetTimestamp();
                    var began = Stopwatch.GetTimestamp();
                    FuzzResult result;
                    using (var limit = CancellationTokenSource.CreateLinkedTokenSource(ct))
                    {
                        limit.CancelAfter(2 * target.HangLimit);
                        try
                        {
                            // Off the caller's thread: a target that blocks (a parser stuck in a loop) holds one worker, not the watchdog.
                            result = await Task.Run(() => target.RunAsync(target.Generate(seed), limit.Token), CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                        {
                            result = FuzzResult.Crash("escaped the target: " + FuzzTarget.Describe(ex));
                        }
                    }
                    running.TryRemove(seed, out _);
                    results.Add((seed, result, Stopwatch.GetElapsedTime(began).TotalSeconds));
                });

            // Watchdog: an input that never returns is seen while it runs; a batch stuck on hung inputs is given up.
            DateTime? stuckSince = null;
            while (!batch.IsCompleted)
            {
                await Task.WhenAny(batch, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false);
                SampleMemory();
                foreach (var (seed, began) in running)
                {
                    if (Stopwatch.GetElapsedTime(began) > target.HangLimit && hung.TryAdd(seed, true))
                        AddFinding(report, options, target, "hang", seed, $"still running after {target.HangLimit.TotalSeconds:F0} s");
                }
                if (!hung.IsEmpty && running.Keys.All(hung.ContainsKey))
                {
                    stuckSince ??= DateTime.UtcNow;
                    if (DateTime.UtcNow - stuckSince > 3 * target.HangLimit)
                    {
                        report.Hangs += hung.Count;
                        options.Progress?.Invoke($"{target.Name}: every running input hangs; giving up the campaign at index {start}");
                        Save(report, options, elapsedBefore + clock.Elapsed.TotalSeconds);
                        return report;
                    }
                }
                else
                {
                    stuckSince = null;
                }
            }
            await batch.ConfigureAwait(false);

            foreach (var (seed, result, seconds) in results)
            {
                report.Inputs++;
                report.MaxInputSeconds = Math.Max(report.MaxInputSeconds, seconds);
                switch (result.Verdict)
                {
                    case Verdict.Accepted: report.Accepted++; break;
                    case Verdict.Rejected: report.Rejected++; break;
                    default:
                        report.Crashes++;
                        AddFinding(report, options, target, "crash", seed, result.Problem ?? "crash");
                        break;
                }
                if (hung.ContainsKey(seed)) report.Hangs++;
                else if (seconds > target.HangLimit.TotalSeconds)
                {
                    report.Hangs++;
                    AddFinding(report, options, target, "hang", seed, $"took {seconds:F1} s (limit {target.HangLimit.TotalSeconds:F0} s)");
                }
            }
            var problem = await target.AfterBatchAsync(cancellationToken).ConfigureAwait(false);
            foreach (var late in target.DrainLateFindings())
            {
                report.Crashes++;
                AddFinding(report, options, target, "crash", late.Seed, late.Problem);
            }
            if (problem is not null)
            {
                report.BatchCheckFailures++;
                report.Findings.Add(new FuzzFinding("after-batch check", unchecked(options.BaseSeed + (int)start), $"batch {start}..{start + count - 1}", problem, null));
            }
            SampleMemory();
            // What the heap still holds after a full collection: flat from the first batch to the last, or something leaks.
            var retained = GC.GetTotalMemory(forceFullCollection: true);
            if (report.RetainedHeapFirstBatchBytes == 0) report.RetainedHeapFirstBatchBytes = retained;
            report.RetainedHeapLastBatchBytes = retained;
            if ((start / options.BatchSize) % 10 == 0) report.RetainedHeapEvery10Batches.Add(retained);
            report.NextIndex = start + count;
            var elapsed = clock.Elapsed.TotalSeconds;
            Save(report, options, elapsedBefore + elapsed);
            var done = report.NextIndex - resumedAt;
            var rate = done / Math.Max(elapsed, 1e-3);
            var eta = TimeSpan.FromSeconds((options.Inputs - report.NextIndex) / Math.Max(rate, 1e-3));
            options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"{target.Name}: {report.NextIndex:N0}/{options.Inputs:N0} inputs ({100.0 * report.NextIndex / options.Inputs:F1}%), {report.Crashes} crashes, {report.Hangs} hangs, {report.BatchCheckFailures} failed checks, {rate:F0} inputs/s, peak WS {report.PeakWorkingSetBytes / 1048576.0:F0} MiB, ETA {FormatSpan(eta)}"));
        }
        report.Completed = report.NextIndex >= options.Inputs;
        Save(report, options, elapsedBefore + clock.Elapsed.TotalSeconds);
        return report;
    }

    private static void AddFinding(FuzzReport report, FuzzOptions options, FuzzTarget target, string kind, int seed, string problem)
    {
        string description;
        string? saved = null;
        try
        {
            var input = target.Generate(seed);
            description = input.Description;
            if (options.FindingsDirectory is { } dir)
            {
                Directory.CreateDirectory(dir);
                saved = Path.Combine(dir, $"{target.Name}-{kind}-{seed}.bin");
                File.WriteAllBytes(saved, input.Bytes);
                File.WriteAllText(saved + ".txt", $"{kind} seed {seed}: {description}\n{problem}\n");
            }
        }
        catch (Exception ex)
        {
            // A generator that throws is a bug of the harness: report it, never lose the campaign over it.
            description = "(input not saved: " + FuzzTarget.Describe(ex) + ")";
        }
        lock (report.Findings) report.Findings.Add(new FuzzFinding(kind, seed, description, problem, saved));
    }

    private static FuzzReport? LoadCheckpoint(FuzzTarget target, FuzzOptions options)
    {
        if (options.CheckpointPath is not { } path || !File.Exists(path)) return null;
        var previous = FuzzReport.FromJson(File.ReadAllText(path));
        if (previous is null || previous.Target != target.Name || previous.BaseSeed != options.BaseSeed) return null;
        if (previous.NextIndex > 0 && previous.NextIndex < options.Inputs) previous.Resumes++;
        options.Progress?.Invoke($"{target.Name}: resuming at input {previous.NextIndex:N0} from {path}");
        return previous;
    }

    private static void Save(FuzzReport report, FuzzOptions options, double elapsedSeconds)
    {
        report.ElapsedSeconds = elapsedSeconds;
        if (options.CheckpointPath is not { } path) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, report.ToJson());
        File.Move(tmp, path, overwrite: true); // a kill leaves the old checkpoint or the new one, never half of one
    }

    /// <summary>1h02m, 4m05s, 12s.</summary>
    public static string FormatSpan(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}
