namespace HippoNode.Dicom.Network;

/// <summary>
/// DICOM TLS for one side of an association (PS3.15 Annex B, the BCP 195 profiles): our certificate and key from PEM
/// files, the CA certificates a peer must chain to, and whether the peer must present a certificate at all.
/// </summary>
public sealed class DicomTlsOptions
{
    /// <summary>Our certificate (PEM); further certificates in the file are sent as its chain. Required for an SCP; an SCU presents it when the SCP asks.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The private key of <see cref="CertificateFile"/> (PEM, unencrypted PKCS#8, PKCS#1 or SEC1).</summary>
    public string? KeyFile { get; set; }

    /// <summary>Trusted CA certificates (a PEM bundle) the peer's certificate must chain to; null trusts the system's store.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// Whether the peer must prove who it is. SCP: a client certificate is required and must chain to
    /// <see cref="CaFile"/> (default: none is requested). SCU: the server's certificate must chain to
    /// <see cref="CaFile"/> (default: verified). Host names are not compared: DICOM peers are known by AE title and
    /// address, and hospital certificates rarely name them (DCMTK does the same).
    /// </summary>
    public bool? VerifyPeer { get; set; }

    /// <summary>Throws when a setting cannot work for this role (files named but missing, a key without a certificate).</summary>
    public void Validate(bool server)
    {
        if (server && string.IsNullOrWhiteSpace(CertificateFile)) throw new ArgumentException("TLS: an SCP needs a certificate file (PEM)");
        if (string.IsNullOrWhiteSpace(CertificateFile) != string.IsNullOrWhiteSpace(KeyFile))
            throw new ArgumentException("TLS: the certificate file and the key file go together");
        foreach (var (file, what) in new[] { (CertificateFile, "certificate"), (KeyFile, "key"), (CaFile, "CA") })
        {
            if (!string.IsNullOrWhiteSpace(file) && !File.Exists(file)) throw new ArgumentException($"TLS: {what} file '{file}' does not exist");
        }
    }
}
