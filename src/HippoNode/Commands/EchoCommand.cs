using System.Globalization;
using HippoNode.Dicom.Network;

namespace HippoNode.Commands;

/// <summary>`hipponode echo HOST PORT --called AE [--calling AE]`: a C-ECHO (DICOM ping) to a peer.</summary>
public static class EchoCommand
{
    /// <summary>Runs the verb; exit code 0 when the peer answered success, 1 otherwise.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (host, port, options) = NetworkArgs.ParseClient(args, "echo HOST PORT --called AE [--calling AE] " + NetworkArgs.TlsUsage, out var rest);
        if (rest.Count > 0) throw new UsageException($"unexpected argument '{rest[0]}'");
        try
        {
            await using var association = await DicomClientAssociation.ConnectAsync(host, port, options,
                [PresentationContextProposal.Verification], cancellationToken).ConfigureAwait(false);
            var status = await association.EchoAsync(cancellationToken).ConfigureAwait(false);
            await association.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"C-ECHO {options.CallingAeTitle} -> {options.CalledAeTitle}@{host}:{port}: {status}").ConfigureAwait(false);
            return status.IsSuccess ? 0 : 1;
        }
        catch (DicomNetworkException ex)
        {
            await error.WriteLineAsync($"hipponode echo: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary>Command-line pieces shared by the network verbs.</summary>
internal static class NetworkArgs
{
    /// <summary>The TLS options every network verb takes.</summary>
    public const string TlsUsage = "[--tls] [--tls-cert PEM --tls-key PEM] [--tls-ca PEM] [--tls-verify-peer | --tls-no-verify]";

    /// <summary>HOST PORT --called AE [--calling AE] [--timeout SECONDS] [TLS options]; the remaining arguments come back in <paramref name="rest"/>.</summary>
    public static (string Host, int Port, DicomClientOptions Options) ParseClient(string[] args, string usage, out List<string> rest)
    {
        var options = new DicomClientOptions();
        string? called = null;
        rest = [];
        var positional = new List<string>();
        var tls = new TlsArgs();
        for (var i = 0; i < args.Length; i++)
        {
            if (tls.TryParse(args, ref i)) continue;
            switch (args[i])
            {
                case "--called" or "-aec": called = Value(args, ref i); break;
                case "--calling" or "-aet": options.CallingAeTitle = Value(args, ref i); break;
                case "--timeout":
                    var seconds = ParseInt(Value(args, ref i), "--timeout", 1, 86400);
                    options.ConnectTimeout = options.AssociationTimeout = options.ResponseTimeout = options.SendTimeout = TimeSpan.FromSeconds(seconds);
                    break;
                case var a when a.StartsWith("--", StringComparison.Ordinal): throw new UsageException($"unknown option '{a}' (usage: hipponode {usage})");
                default: positional.Add(args[i]); break;
            }
        }
        if (positional.Count < 2) throw new UsageException($"HOST and PORT are required (usage: hipponode {usage})");
        if (called is null) throw new UsageException($"--called AE is required (usage: hipponode {usage})");
        options.CalledAeTitle = called;
        CheckAeTitle(options.CalledAeTitle, "--called");
        CheckAeTitle(options.CallingAeTitle, "--calling");
        var port = ParseInt(positional[1], "PORT", 1, 65535);
        rest = positional.Skip(2).ToList();
        options.Tls = tls.Build(server: false);
        return (positional[0], port, options);
    }

    /// <summary>
    /// The TLS switches: --tls, --tls-cert, --tls-key, --tls-ca, --tls-verify-peer, --tls-no-verify (any of them turns
    /// TLS on). An SCU verifies the server against --tls-ca (or the system store) unless --tls-no-verify; an SCP asks
    /// for client certificates only with --tls-verify-peer.
    /// </summary>
    public sealed class TlsArgs
    {
        private bool _on;
        private bool? _verify;
        private string? _cert, _key, _ca;

        /// <summary>Consumes the switch at <paramref name="i"/> when it is a TLS one.</summary>
        public bool TryParse(string[] args, ref int i)
        {
            switch (args[i])
            {
                case "--tls": _on = true; return true;
                case "--tls-cert": _cert = Value(args, ref i); _on = true; return true;
                case "--tls-key": _key = Value(args, ref i); _on = true; return true;
                case "--tls-ca": _ca = Value(args, ref i); _on = true; return true;
                case "--tls-verify-peer": _verify = true; _on = true; return true;
                case "--tls-no-verify": _verify = false; _on = true; return true;
                default: return false;
            }
        }

        /// <summary>The options, null without TLS; a usage error for a combination that cannot work.</summary>
        public DicomTlsOptions? Build(bool server)
        {
            if (!_on) return null;
            if (_verify == false && server) throw new UsageException("--tls-no-verify is for the sending side; an SCP checks clients only with --tls-verify-peer");
            var o = new DicomTlsOptions { CertificateFile = _cert, KeyFile = _key, CaFile = _ca, VerifyPeer = _verify };
            try
            {
                o.Validate(server);
            }
            catch (ArgumentException ex)
            {
                throw new UsageException(ex.Message + (server ? " (--tls-cert and --tls-key)" : ""));
            }
            return o;
        }
    }

    /// <summary>The value after an option; a usage error when it is missing.</summary>
    public static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) throw new UsageException($"{args[i]} needs a value");
        return args[++i];
    }

    /// <summary>An integer within bounds, or a usage error naming the option.</summary>
    public static int ParseInt(string text, string name, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"{name} must be a number from {min} to {max}, not '{text}'");
        return v;
    }

    /// <summary>An AE title: 1-16 characters of the default repertoire, no backslash.</summary>
    public static void CheckAeTitle(string ae, string name)
    {
        var t = ae.Trim();
        if (t.Length is 0 or > 16 || t.Any(c => c is < ' ' or > '~' or '\\'))
            throw new UsageException($"{name} '{ae}' is not an AE title (1-16 characters, no backslash)");
    }
}
