namespace HippoNode.Fuzzing;

/// <summary>How one input ended.</summary>
public enum Verdict
{
    /// <summary>The input was taken (parsed, stored, turned into a volume).</summary>
    Accepted,

    /// <summary>The input ended in the documented exception, a reject or a clean abort.</summary>
    Rejected,

    /// <summary>Anything else: an undocumented exception, a malformed answer, a broken invariant.</summary>
    Crash,
}

/// <summary>The outcome of one input; <see cref="Problem"/> says what went wrong for a crash.</summary>
public readonly record struct FuzzResult(Verdict Verdict, string? Problem = null)
{
    /// <summary>The input was taken.</summary>
    public static FuzzResult Accepted { get; } = new(Verdict.Accepted);

    /// <summary>The input was refused the documented way.</summary>
    public static FuzzResult Rejected { get; } = new(Verdict.Rejected);

    /// <summary>A broken invariant.</summary>
    public static FuzzResult Crash(string problem) => new(Verdict.Crash, problem);
}

/// <summary>One generated input: its bytes (what a crash report saves), a description of the mutations, and target state.</summary>
public sealed record FuzzInput(int Seed, string Description, byte[] Bytes, object? State = null);

/// <summary>A finding reported after the input itself returned (e.g. logged by the server once the connection ended).</summary>
public sealed record LateFinding(int Seed, string Problem);

/// <summary>
/// One thing to fuzz. Inputs are a pure function of their seed (<see cref="Generate"/>), so a campaign can resume at
/// any index and any finding can be reproduced from its seed alone.
/// </summary>
public abstract class FuzzTarget : IAsyncDisposable
{
    /// <summary>The name used on the command line and in reports.</summary>
    public abstract string Name { get; }

    /// <summary>What every input must end in (the documented exception or outcome).</summary>
    public abstract string Invariant { get; }

    /// <summary>What the seeds are (filled in by <see cref="InitializeAsync"/>).</summary>
    public string SeedSummary { get; protected set; } = "";

    /// <summary>Inputs run at once.</summary>
    public virtual int Parallelism => Math.Max(2, Environment.ProcessorCount);

    /// <summary>An input still running after this long is a hang.</summary>
    public virtual TimeSpan HangLimit => TimeSpan.FromSeconds(10);

    /// <summary>Loads seeds and starts whatever the target needs (a server).</summary>
    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The input for a seed; deterministic.</summary>
    public abstract FuzzInput Generate(int seed);

    /// <summary>Runs one input; <paramref name="cancellationToken"/> fires at twice the hang limit.</summary>
    public abstract Task<FuzzResult> RunAsync(FuzzInput input, CancellationToken cancellationToken);

    /// <summary>Checks run after each batch (the server still serves, nothing leaked); a problem, or null.</summary>
    public virtual Task<string?> AfterBatchAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    /// <summary>Findings that surfaced after their input returned; drained after each batch.</summary>
    public virtual IReadOnlyList<LateFinding> DrainLateFindings() => [];

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Exception type, message and the first frame in our code.</summary>
    public static string Describe(Exception ex)
    {
        var frame = new System.Diagnostics.StackTrace(ex, true).GetFrames()
            .FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("HippoNode", StringComparison.Ordinal) == true);
        var where = frame is null ? "" : $" at {frame.GetMethod()?.DeclaringType?.Name}.{frame.GetMethod()?.Name}:{frame.GetFileLineNumber()}";
        return $"{ex.GetType().Name}: {ex.Message}{where}";
    }
}
