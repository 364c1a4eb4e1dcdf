using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HippoNode.Testing;

/// <summary>One certificate and its key as PEM files.</summary>
/// <param name="CertificateFile">The certificate (PEM).</param>
/// <param name="KeyFile">Its private key (PKCS#8 PEM, unencrypted).</param>
/// <param name="Subject">The subject name.</param>
public sealed record PemPair(string CertificateFile, string KeyFile, string Subject);

/// <summary>
/// A throw-away PKI made in the test, written as PEM files DCMTK (OpenSSL) and .NET both read: a CA, certificates
/// it signs for a server (SAN 127.0.0.1) and for clients, and a second, unrelated CA for "unknown" peers. RSA 2048,
/// so DCMTK's BCP 195 profile (ECDHE/DHE-RSA with AES-GCM) applies.
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly RSA _caKey;
    private readonly X509Certificate2 _ca;

    /// <summary>A CA named <paramref name="name"/> under a fresh folder.</summary>
    public TestPki(string name = "HippoNode Test CA")
    {
        Folder = Path.Combine(Path.GetTempPath(), "hn-pki-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Folder);
        _caKey = RSA.Create(2048);
        var req = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        _ca = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaFile = Path.Combine(Folder, "ca.pem");
        File.WriteAllText(CaFile, _ca.ExportCertificatePem());
    }

    /// <summary>Where the files are.</summary>
    public string Folder { get; }

    /// <summary>The CA certificate (PEM): what peers trust.</summary>
    public string CaFile { get; }

    /// <summary>A server certificate for 127.0.0.1 (server and client authentication).</summary>
    public PemPair Issue(string commonName, bool server = true)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            server ? [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")] : [new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var cert = req.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        var safe = string.Concat(commonName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));
        var pair = new PemPair(Path.Combine(Folder, safe + ".crt"), Path.Combine(Folder, safe + ".key"), cert.Subject);
        File.WriteAllText(pair.CertificateFile, cert.ExportCertificatePem());
        File.WriteAllText(pair.KeyFile, key.ExportPkcs8PrivateKeyPem());
        return pair;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
