using HippoNode.Dicom.Network;

namespace HippoNode.Commands;

/// <summary>`hipponode send HOST PORT --called AE [--calling AE] PATH...`: C-STORE files and folders (recursively) to a peer.</summary>
public static class SendCommand
{
    private const string Usage = "send HOST PORT --called AE [--calling AE] " + NetworkArgs.TlsUsage + " PATH...";

    /// <summary>Runs the verb: one line per file, a summary; exit code 1 when any file failed.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (host, port, options) = NetworkArgs.ParseClient(args, Usage, out var paths);
        if (paths.Count == 0) throw new UsageException($"no file or folder given (usage: hipponode {Usage})");
        foreach (var p in paths)
        {
            if (!File.Exists(p) && !Directory.Exists(p)) throw new UsageException($"'{p}' does not exist");
        }

        int sent = 0, failed = 0, warnings = 0;
        long bytes = 0;
        var started = TimeProvider.System.GetTimestamp();
        await foreach (var r in DicomSender.SendAsync(host, port, options, DicomSender.EnumerateFiles(paths), cancellationToken).ConfigureAwait(false))
        {
            if (r.Succeeded)
            {
                sent++;
                if (r.Status!.Value.IsWarning) warnings++;
                bytes += new FileInfo(r.Path).Length;
                await output.WriteLineAsync($"{(r.Status.Value.IsWarning ? "WARN" : "OK  ")} {r.Status.Value.Code:X4} {r.Path}").ConfigureAwait(false);
            }
            else
            {
                failed++;
                var code = r.Status is { } s ? s.Code.ToString("X4", System.Globalization.CultureInfo.InvariantCulture) : "----";
                await output.WriteLineAsync($"FAIL {code} {r.Path}: {r.Error}").ConfigureAwait(false);
            }
        }
        var seconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
        await output.WriteLineAsync(
            $"sent {sent} of {sent + failed} files ({warnings} with warnings, {failed} failed), {bytes / 1e6:0.0} MB in {seconds:0.0} s").ConfigureAwait(false);
        if (failed > 0) await error.WriteLineAsync($"hipponode send: {failed} file(s) failed").ConfigureAwait(false);
        return failed == 0 ? 0 : 1;
    }
}
