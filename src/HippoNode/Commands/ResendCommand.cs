using System.Globalization;
using HippoNode.Node.Storage;

namespace HippoNode.Commands;

/// <summary>
/// `hipponode resend --storage DIR [--all | --job ID]`: lists the dead-lettered result objects of a node's storage
/// folder, or puts them (all, or one job's) back in the outbox. Works beside a running node (SQLite in WAL mode): the
/// node sends them within its outbox poll (30 s at most); a stopped node sends them when it starts.
/// </summary>
public static class ResendCommand
{
    private const string Usage = "resend --storage DIR [--all | --job ID]";

    /// <summary>Runs the verb: 0 on success, 1 when there was nothing to re-send for the job named.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string? storage = null;
        long? job = null;
        var all = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--storage": storage = NetworkArgs.Value(args, ref i); break;
                case "--all": all = true; break;
                case "--job":
                    var text = NetworkArgs.Value(args, ref i);
                    job = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : throw new UsageException($"--job must be a job ID, not '{text}'");
                    break;
                default: throw new UsageException($"unexpected argument '{args[i]}' (usage: hipponode {Usage})");
            }
        }
        if (storage is null) throw new UsageException($"--storage DIR is required (usage: hipponode {Usage})");
        if (all && job is not null) throw new UsageException("--all and --job exclude each other");
        var paths = new StoragePaths(Path.GetFullPath(storage));
        if (!File.Exists(paths.Database))
        {
            await error.WriteLineAsync($"hipponode resend: no node database at {paths.Database}").ConfigureAwait(false);
            return 1;
        }

        await using var db = await NodeDatabase.OpenAsync(paths.Database, cancellationToken: cancellationToken).ConfigureAwait(false);
        var dead = await db.DeadLettersAsync(cancellationToken).ConfigureAwait(false);
        if (!all && job is null)
        {
            foreach (var d in dead)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"job {d.JobId} {d.SopInstanceUid} dead-lettered {d.DeadLetteredAt:O} after {d.Attempts} attempt(s): {d.LastError}")).ConfigureAwait(false);
            }
            await output.WriteLineAsync($"{dead.Count} dead-lettered result object(s); re-send with --all or --job ID").ConfigureAwait(false);
            return 0;
        }

        var (items, jobs) = await db.ResendDeadLettersAsync(job, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"{items} result object(s) of {jobs} job(s) back in the outbox; a running node sends them within 30 s, a stopped one when it starts")
            .ConfigureAwait(false);
        if (items == 0 && job is not null)
        {
            await error.WriteLineAsync($"hipponode resend: job {job} has no dead-lettered result").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }
}
