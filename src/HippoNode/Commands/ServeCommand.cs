using HippoNode.Node;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HippoNode.Commands;

/// <summary>`hipponode serve`: the node as a long-running service (console, systemd unit or Windows service) until stopped.</summary>
public static class ServeCommand
{
    /// <summary>Runs the node; 0 after a clean stop, 1 when it cannot start (settings, port in use, storage locked).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        IHost host;
        try
        {
            host = NodeHost.Build(args);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or FormatException or InvalidOperationException)
        {
            await error.WriteLineAsync($"hipponode serve: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        using (host)
        {
            try
            {
                // SIGTERM / Ctrl-C are handled by the host's lifetime (systemd: Type=notify); the token covers the verb's own Ctrl-C.
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (OptionsValidationException ex)
            {
                foreach (var f in ex.Failures) await error.WriteLineAsync($"hipponode serve: {f}").ConfigureAwait(false);
                return 1;
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.Net.Sockets.SocketException or IOException)
            {
                await error.WriteLineAsync($"hipponode serve: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        }
    }
}
