using System.Net;

namespace HippoNode.Node;

/// <summary>The node's settings: configuration section "HippoNode" (appsettings.json, environment variables, command line).</summary>
public sealed class NodeOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "HippoNode";

    /// <summary>Our AE title (the called AE title callers must use; also our calling AE title towards the PACS).</summary>
    public string AeTitle { get; set; } = "HIPPONODE";

    /// <summary>The DICOM port we listen on; 0 picks a free one (tests, demo).</summary>
    public int Port { get; set; } = 11112;

    /// <summary>The address the DICOM listener binds to; 127.0.0.1 when the PACS runs on the same machine, 0.0.0.0 for any.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Calling AE titles accepted; empty accepts any caller.</summary>
    public List<string> AllowedCallers { get; set; } = [];

    /// <summary>Per-peer host check: a calling AE title listed here is accepted only from these IP addresses.</summary>
    public Dictionary<string, List<string>> AllowedCallerHosts { get; set; } = [];

    /// <summary>DICOM TLS for the SCP (and the certificate presented to a TLS PACS).</summary>
    public TlsSettings Tls { get; set; } = new();

    /// <summary>Disk watermark and retention of the storage folder.</summary>
    public StorageSettings Storage { get; set; } = new();

    /// <summary>Where results are C-STOREd.</summary>
    public PacsOptions Pacs { get; set; } = new();

    /// <summary>A study is complete once no new instance of it arrived for this many seconds.</summary>
    public double StableSeconds { get; set; } = 10;

    /// <summary>The root of everything the node keeps: database, spooled studies, results, logs.</summary>
    public string StorageFolder { get; set; } = "./hipponode-data";

    /// <summary>The hippocampus module: its rules, model folder and agreement threshold.</summary>
    public AnalysisSettings Analysis { get; set; } = new();

    /// <summary>The chest X-ray module: its rules, model folder and threshold.</summary>
    public ChestXraySettings ChestXray { get; set; } = new();

    /// <summary>
    /// Accept compressed (encapsulated) transfer syntaxes from callers. Off by default: the analysis decodes uncompressed
    /// images only, and a PACS such as Orthanc then transcodes compressed images to an uncompressed syntax on sending.
    /// </summary>
    public bool AcceptCompressed { get; set; }

    /// <summary>The loopback HTTP endpoint (health, jobs, metrics).</summary>
    public HttpSettings Http { get; set; } = new();

    /// <summary>How sending results retries.</summary>
    public RetrySettings Retry { get; set; } = new();

    /// <summary>A job interrupted this many times while analysing (the process died each time) is failed instead of re-run.</summary>
    public int MaxJobAttempts { get; set; } = 3;

    /// <summary>Console log output (the rolling file under StorageFolder/logs is always written).</summary>
    public bool ConsoleLog { get; set; } = true;

    /// <summary>The storage folder as an absolute path (relative paths resolve against the working directory).</summary>
    public string StorageRoot => Path.GetFullPath(StorageFolder);

    /// <summary>Every problem with these settings; empty when they can work.</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (!Dicom.Network.DicomClientOptions.IsAeTitle(AeTitle)) p.Add($"HippoNode:AeTitle '{AeTitle}' must be 1-16 characters, no backslash");
        if (Port is < 0 or > 65535) p.Add($"HippoNode:Port {Port} is out of range");
        if (!IPAddress.TryParse(BindAddress, out _)) p.Add($"HippoNode:BindAddress '{BindAddress}' is not an IP address");
        foreach (var c in AllowedCallers.Where(c => !Dicom.Network.DicomClientOptions.IsAeTitle(c))) p.Add($"HippoNode:AllowedCallers entry '{c}' is not an AE title");
        foreach (var (ae, hosts) in AllowedCallerHosts)
        {
            if (!Dicom.Network.DicomClientOptions.IsAeTitle(ae)) p.Add($"HippoNode:AllowedCallerHosts key '{ae}' is not an AE title");
            if (hosts.Count == 0) p.Add($"HippoNode:AllowedCallerHosts:{ae} lists no address (remove the entry, or name the addresses)");
            foreach (var h in hosts.Where(h => !IPAddress.TryParse(h, out _))) p.Add($"HippoNode:AllowedCallerHosts:{ae} entry '{h}' is not an IP address");
        }
        p.AddRange(Tls.Problems(Pacs.Tls));
        p.AddRange(Storage.Problems());
        if (!Dicom.Network.DicomClientOptions.IsAeTitle(Pacs.AeTitle)) p.Add($"HippoNode:Pacs:AeTitle '{Pacs.AeTitle}' must be 1-16 characters, no backslash");
        if (string.IsNullOrWhiteSpace(Pacs.Host)) p.Add("HippoNode:Pacs:Host is empty");
        if (Pacs.Port is < 1 or > 65535) p.Add($"HippoNode:Pacs:Port {Pacs.Port} is out of range");
        if (StableSeconds is < 0 or > 86400 || double.IsNaN(StableSeconds)) p.Add($"HippoNode:StableSeconds {StableSeconds} must be 0-86400");
        if (string.IsNullOrWhiteSpace(StorageFolder)) p.Add("HippoNode:StorageFolder is empty");
        if (Analysis.AgreementThreshold is < 0 or > 1) p.Add($"HippoNode:Analysis:AgreementThreshold {Analysis.AgreementThreshold} must be 0-1");
        if (ChestXray.Threshold is { } t && !(t is > 0 and < 1)) p.Add($"HippoNode:ChestXray:Threshold {t} must lie strictly between 0 and 1 (or be null for the model's)");
        if (ChestXray.ReviewMargin is not (>= 0 and <= 10)) p.Add($"HippoNode:ChestXray:ReviewMargin {ChestXray.ReviewMargin} must be 0-10 (log-odds; 0 turns the review flag off)");
        if (!Analysis.Enabled && !ChestXray.Enabled) p.Add("HippoNode:Analysis:Enabled and HippoNode:ChestXray:Enabled are both false: no module would analyse anything");
        if (!string.IsNullOrEmpty(Http.Url) && Http.LoopbackEndPoint() is null)
            p.Add($"HippoNode:Http:Url '{Http.Url}' must be http:// on a loopback address (127.0.0.1, [::1] or localhost)");
        if (Retry.Attempts is < 0 or > 20) p.Add($"HippoNode:Retry:Attempts {Retry.Attempts} must be 0-20");
        if (Retry.FirstDelaySeconds is <= 0 || Retry.MaxDelaySeconds < Retry.FirstDelaySeconds) p.Add("HippoNode:Retry: FirstDelaySeconds must be > 0 and MaxDelaySeconds >= FirstDelaySeconds");
        if (Retry.TimeoutSeconds <= 0) p.Add("HippoNode:Retry:TimeoutSeconds must be > 0");
        if (MaxJobAttempts < 1) p.Add("HippoNode:MaxJobAttempts must be at least 1");
        if (Retry.DeadLetterAfter < 1) p.Add("HippoNode:Retry:DeadLetterAfter must be at least 1");
        return p;
    }
}

/// <summary>The PACS results go to.</summary>
public sealed class PacsOptions
{
    /// <summary>The PACS's AE title (our called AE title).</summary>
    public string AeTitle { get; set; } = "ORTHANC";

    /// <summary>Host name or address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The PACS's DICOM port.</summary>
    public int Port { get; set; } = 4242;

    /// <summary>C-STORE to the PACS over DICOM TLS: its certificate must chain to Tls:CaFile; ours (Tls:CertificateFile) is presented when it asks.</summary>
    public bool Tls { get; set; }
}

/// <summary>DICOM TLS (PS3.15 Annex B, BCP 195): certificates from PEM files.</summary>
public sealed class TlsSettings
{
    /// <summary>The SCP accepts TLS connections only (on <see cref="NodeOptions.Port"/>).</summary>
    public bool Enabled { get; set; }

    /// <summary>Our certificate (PEM; the chain may follow it in the file).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>Its private key (PEM, unencrypted).</summary>
    public string? KeyFile { get; set; }

    /// <summary>CA certificates (PEM) that client certificates and the PACS's certificate must chain to; empty trusts the system's store.</summary>
    public string? CaFile { get; set; }

    /// <summary>The SCP requires a client certificate that chains to <see cref="CaFile"/>.</summary>
    public bool VerifyPeer { get; set; }

    /// <summary>The SCP side as network options, or null when TLS is off.</summary>
    public Dicom.Network.DicomTlsOptions? ForServer() => Enabled
        ? new() { CertificateFile = CertificateFile, KeyFile = KeyFile, CaFile = NullIfEmpty(CaFile), VerifyPeer = VerifyPeer }
        : null;

    /// <summary>The PACS side: the PACS is always verified; our certificate, when configured, is offered as the client certificate.</summary>
    public Dicom.Network.DicomTlsOptions ForPacs() =>
        new() { CertificateFile = NullIfEmpty(CertificateFile), KeyFile = NullIfEmpty(KeyFile), CaFile = NullIfEmpty(CaFile), VerifyPeer = true };

    /// <summary>What is wrong with these settings for the roles in use.</summary>
    public IEnumerable<string> Problems(bool pacsTls)
    {
        if (Enabled && string.IsNullOrWhiteSpace(CertificateFile)) yield return "HippoNode:Tls:Enabled needs Tls:CertificateFile and Tls:KeyFile (PEM)";
        if (string.IsNullOrWhiteSpace(CertificateFile) != string.IsNullOrWhiteSpace(KeyFile)) yield return "HippoNode:Tls:CertificateFile and Tls:KeyFile go together";
        if (VerifyPeer && !Enabled) yield return "HippoNode:Tls:VerifyPeer needs Tls:Enabled";
        if (!Enabled && !pacsTls) yield break;
        foreach (var (file, key) in new[] { (CertificateFile, "CertificateFile"), (KeyFile, "KeyFile"), (CaFile, "CaFile") })
        {
            if (!string.IsNullOrWhiteSpace(file) && !File.Exists(file)) yield return $"HippoNode:Tls:{key} '{file}' does not exist";
        }
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>How much disk the node may use and how long it keeps what it received and produced.</summary>
public sealed class StorageSettings
{
    /// <summary>Below this much free space on the storage folder's file system the SCP answers C-STORE with A700 (out of resources); 0 turns it off.</summary>
    public long MinFreeMegabytes { get; set; } = 1024;

    /// <summary>Studies whose jobs all finished (done, skipped, failed) this many days ago are deleted with their results; 0 keeps them forever.</summary>
    public double RetentionDays { get; set; } = 30;

    /// <summary>When studies/ and results/ together exceed this, the oldest finished studies are deleted first; 0: no cap.</summary>
    public double MaxSizeGigabytes { get; set; }

    /// <summary>How often retention runs (also once at startup).</summary>
    public double RetentionIntervalMinutes { get; set; } = 60;

    /// <summary>What is wrong with these settings.</summary>
    public IEnumerable<string> Problems()
    {
        if (MinFreeMegabytes < 0) yield return "HippoNode:Storage:MinFreeMegabytes must be 0 or more";
        if (RetentionDays < 0 || double.IsNaN(RetentionDays)) yield return "HippoNode:Storage:RetentionDays must be 0 (keep) or more";
        if (MaxSizeGigabytes < 0 || double.IsNaN(MaxSizeGigabytes)) yield return "HippoNode:Storage:MaxSizeGigabytes must be 0 (no cap) or more";
        if (RetentionIntervalMinutes <= 0 || double.IsNaN(RetentionIntervalMinutes)) yield return "HippoNode:Storage:RetentionIntervalMinutes must be > 0";
    }
}

/// <summary>The hippocampus module's settings (handed to the analyzer adapter).</summary>
public sealed class AnalysisSettings
{
    /// <summary>Route studies to the hippocampus module.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A series selection rules file; null uses the rules embedded in the analyzer.</summary>
    public string? RulesFile { get; set; }

    /// <summary>The ONNX ensemble's folder.</summary>
    public string ModelFolder { get; set; } = "models/hippocampus";

    /// <summary>Mean pairwise Dice of the ensemble below which a result is flagged for review.</summary>
    public double AgreementThreshold { get; set; } = 0.8;
}

/// <summary>The chest X-ray module's settings.</summary>
public sealed class ChestXraySettings
{
    /// <summary>Route studies to the chest X-ray module.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>An image selection rules file; null uses the rules embedded in the analyzer (DX/CR, chest, PA or AP).</summary>
    public string? RulesFile { get; set; }

    /// <summary>The classifier folder (model.json, model.onnx).</summary>
    public string ModelFolder { get; set; } = "models/chest-xray";

    /// <summary>A decision threshold replacing the model's; null uses model.json's (chosen on validation data).</summary>
    public double? Threshold { get; set; }

    /// <summary>Half-width in log-odds of the review band around the threshold: a probability inside it flags the result for review (0: off).</summary>
    public double ReviewMargin { get; set; } = HippoNode.Classification.ReviewBand.DefaultMargin;
}

/// <summary>The HTTP endpoint.</summary>
public sealed class HttpSettings
{
    /// <summary>http://127.0.0.1:PORT (loopback only; port 0 picks one); empty disables the endpoint.</summary>
    public string? Url { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The loopback address and port to bind, or null when the URL is not an http URL on loopback.</summary>
    public IPEndPoint? LoopbackEndPoint()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp) return null;
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, uri.Port);
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip) ? new IPEndPoint(ip, uri.Port) : null;
    }
}

/// <summary>How results are re-sent when the PACS does not take them.</summary>
public sealed class RetrySettings
{
    /// <summary>Immediate retries (Polly, exponential back-off with jitter) within one sending round.</summary>
    public int Attempts { get; set; } = 3;

    /// <summary>The first retry delay; doubles per retry and per failed round.</summary>
    public double FirstDelaySeconds { get; set; } = 2;

    /// <summary>The longest wait between two rounds of the durable outbox (it retries for as long as it takes).</summary>
    public double MaxDelaySeconds { get; set; } = 300;

    /// <summary>Connect, association and response timeout towards the PACS.</summary>
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Sending rounds that ended in a permanent failure (association rejected-permanent, no presentation context, a
    /// status such as 0122, 0124, A9xx, Cxxx) before a result object is dead-lettered instead of retried.
    /// </summary>
    public int DeadLetterAfter { get; set; } = 3;
}
