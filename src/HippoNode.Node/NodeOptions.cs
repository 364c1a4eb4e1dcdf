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
        if (!Dicom.Network.DicomClientOptions.IsAeTitle(Pacs.AeTitle)) p.Add($"HippoNode:Pacs:AeTitle '{Pacs.AeTitle}' must be 1-16 characters, no backslash");
        if (string.IsNullOrWhiteSpace(Pacs.Host)) p.Add("HippoNode:Pacs:Host is empty");
        if (Pacs.Port is < 1 or > 65535) p.Add($"HippoNode:Pacs:Port {Pacs.Port} is out of range");
        if (StableSeconds is < 0 or > 86400 || double.IsNaN(StableSeconds)) p.Add($"HippoNode:StableSeconds {StableSeconds} must be 0-86400");
        if (string.IsNullOrWhiteSpace(StorageFolder)) p.Add("HippoNode:StorageFolder is empty");
        if (Analysis.AgreementThreshold is < 0 or > 1) p.Add($"HippoNode:Analysis:AgreementThreshold {Analysis.AgreementThreshold} must be 0-1");
        if (ChestXray.Threshold is { } t && !(t is > 0 and < 1)) p.Add($"HippoNode:ChestXray:Threshold {t} must lie strictly between 0 and 1 (or be null for the model's)");
        if (!Analysis.Enabled && !ChestXray.Enabled) p.Add("HippoNode:Analysis:Enabled and HippoNode:ChestXray:Enabled are both false: no module would analyse anything");
        if (!string.IsNullOrEmpty(Http.Url) && Http.LoopbackEndPoint() is null)
            p.Add($"HippoNode:Http:Url '{Http.Url}' must be http:// on a loopback address (127.0.0.1, [::1] or localhost)");
        if (Retry.Attempts is < 0 or > 20) p.Add($"HippoNode:Retry:Attempts {Retry.Attempts} must be 0-20");
        if (Retry.FirstDelaySeconds is <= 0 || Retry.MaxDelaySeconds < Retry.FirstDelaySeconds) p.Add("HippoNode:Retry: FirstDelaySeconds must be > 0 and MaxDelaySeconds >= FirstDelaySeconds");
        if (Retry.TimeoutSeconds <= 0) p.Add("HippoNode:Retry:TimeoutSeconds must be > 0");
        if (MaxJobAttempts < 1) p.Add("HippoNode:MaxJobAttempts must be at least 1");
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
}
