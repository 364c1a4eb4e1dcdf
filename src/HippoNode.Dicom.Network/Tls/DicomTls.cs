using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace HippoNode.Dicom.Network;

/// <summary>
/// The TLS side of a connection: certificates loaded once from <see cref="DicomTlsOptions"/>, the BCP 195 protocol
/// versions and cipher suites, and the peer check. Handshakes run over the raw socket stream, before any PDU.
/// </summary>
internal sealed class DicomTls
{
    /// <summary>
    /// The BCP 195 (RFC 7525 §4.2) TLS 1.2 suites PS3.15 B.9 names, their ECDSA twins, and the TLS 1.3 suites; nothing
    /// without forward secrecy or AEAD. Applied where the platform lets us choose (Linux and macOS, through OpenSSL).
    /// </summary>
    public static readonly TlsCipherSuite[] Bcp195CipherSuites =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ];

    /// <summary>TLS 1.2 and 1.3: BCP 195 forbids anything older.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly bool _server;
    private readonly bool _verifyPeer;
    private readonly SslStreamCertificateContext? _ours;
    private readonly X509Certificate2Collection? _trusted;

    private DicomTls(bool server, bool verifyPeer, SslStreamCertificateContext? ours, X509Certificate2Collection? trusted)
    {
        _server = server;
        _verifyPeer = verifyPeer;
        _ours = ours;
        _trusted = trusted;
    }

    /// <summary>Loads the certificates named in <paramref name="options"/>; throws <see cref="ArgumentException"/> naming the file that is wrong.</summary>
    public static DicomTls Load(DicomTlsOptions options, bool server)
    {
        options.Validate(server);
        SslStreamCertificateContext? ours = null;
        if (!string.IsNullOrWhiteSpace(options.CertificateFile))
        {
            X509Certificate2 leaf;
            var chain = new X509Certificate2Collection();
            try
            {
                leaf = X509Certificate2.CreateFromPemFile(options.CertificateFile, options.KeyFile);
                chain.ImportFromPemFile(options.CertificateFile);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
            {
                throw new ArgumentException($"TLS: cannot load the certificate '{options.CertificateFile}' with key '{options.KeyFile}': {ex.Message}", ex);
            }
            if (OperatingSystem.IsWindows())
            {
                // SChannel wants a persisted key; a PFX round trip gives it one.
                leaf = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
            }
            var intermediates = new X509Certificate2Collection();
            foreach (var c in chain)
            {
                if (c.Thumbprint != leaf.Thumbprint) intermediates.Add(c);
            }
            ours = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        }
        X509Certificate2Collection? trusted = null;
        if (!string.IsNullOrWhiteSpace(options.CaFile))
        {
            trusted = [];
            try
            {
                trusted.ImportFromPemFile(options.CaFile);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
            {
                throw new ArgumentException($"TLS: cannot read the CA file '{options.CaFile}': {ex.Message}", ex);
            }
            if (trusted.Count == 0) throw new ArgumentException($"TLS: the CA file '{options.CaFile}' holds no certificate");
        }
        return new DicomTls(server, options.VerifyPeer ?? !server, ours, trusted);
    }

    /// <summary>The stream of a plain connection: the socket, with quick ACKs on Linux.</summary>
    public static Stream PlainStream(Socket socket) => new QuickAckStream(new NetworkStream(socket, ownsSocket: false), socket);

    /// <summary>
    /// Runs the handshake over <paramref name="socket"/> within <paramref name="timeout"/>; returns the encrypted stream.
    /// A failure (timeout, no acceptable suite, an unknown or missing peer certificate) throws <see cref="DicomTlsException"/>.
    /// </summary>
    public async Task<SslStream> AuthenticateAsync(Socket socket, string? targetHost, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        string? rejection = null;
        bool Check(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            rejection = CheckPeer(certificate, chain, errors);
            return rejection is null;
        }

        var ssl = new SslStream(PlainStream(socket), leaveInnerStreamOpen: false, Check);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), cts, timeout, Timeout.InfiniteTimeSpan);
        try
        {
            if (_server)
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _ours,
                    ClientCertificateRequired = _verifyPeer,
                    EnabledSslProtocols = Protocols,
                    CipherSuitesPolicy = CipherPolicy(),
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowRenegotiation = false,
                }, cts.Token).ConfigureAwait(false);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = targetHost ?? "",
                    ClientCertificateContext = _ours,
                    EnabledSslProtocols = Protocols,
                    CipherSuitesPolicy = CipherPolicy(),
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowRenegotiation = false,
                }, cts.Token).ConfigureAwait(false);
            }
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            var why = rejection ?? (ex is OperationCanceledException ? $"no handshake within {timeout.TotalSeconds:0.#} s" : ex.Message);
            throw new DicomTlsException("TLS handshake failed: " + why, ex);
        }
    }

    private static CipherSuitesPolicy? CipherPolicy() =>
        OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? new CipherSuitesPolicy(Bcp195CipherSuites) : null;

    /// <summary>Null when the peer's certificate is acceptable, else why not.</summary>
    private string? CheckPeer(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!_verifyPeer) return null;
        if (certificate is null) return _server ? "the client presented no certificate" : "the server presented no certificate";
        var peer = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        if (_trusted is null)
        {
            // The system's trust store decided; the name is not ours to check (see DicomTlsOptions.VerifyPeer).
            var left = errors & ~SslPolicyErrors.RemoteCertificateNameMismatch;
            return left == SslPolicyErrors.None ? null : $"certificate '{peer.Subject}' is not trusted ({left})";
        }
        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        own.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(_server ? ClientAuthOid : ServerAuthOid));
        if (chain is not null)
        {
            foreach (var e in chain.ChainElements) own.ChainPolicy.ExtraStore.Add(e.Certificate);
        }
        if (own.Build(peer)) return null;
        var status = string.Join(", ", own.ChainStatus.Select(s => s.Status.ToString()).Distinct());
        return $"certificate '{peer.Subject}' does not chain to the configured CA ({status})";
    }
}

/// <summary>A TLS handshake failed: no common protocol or suite, or a peer certificate that is missing or not trusted.</summary>
public sealed class DicomTlsException(string message, Exception inner) : DicomNetworkException(message, inner);
