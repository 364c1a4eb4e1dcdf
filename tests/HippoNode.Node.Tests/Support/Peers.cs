using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Node.Tests.Support;

/// <summary>DCMTK's storescp as the PACS stand-in: every reception becomes its own file (+uf), so "arrived once" is countable.</summary>
public static class StoreScp
{
    /// <summary>Starts storescp as AE "PACS" on <paramref name="port"/> (0: a free one) writing into <paramref name="folder"/>; <paramref name="extra"/> adds options (TLS).</summary>
    public static Task<StorescpProcess> StartAsync(string folder, int port = 0, IEnumerable<string>? extra = null) =>
        StorescpProcess.StartAsync("PACS", folder, ["+uf", "-v", .. extra ?? []], port);

    /// <summary>SOP Instance UIDs of the files received, one entry per reception.</summary>
    public static IReadOnlyList<string> ReceivedUids(this StorescpProcess pacs) => Directory.EnumerateFiles(pacs.Folder)
        .Select(f => DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!.Trim()).ToList();

    /// <summary>A free loopback port (TestNet).</summary>
    public static int FreePort() => TestNet.FreePort();

    /// <summary>Waits until the port accepts connections (TestNet).</summary>
    public static Task WaitForPortAsync(int port, TimeSpan timeout) => TestNet.WaitForPortAsync(port, timeout);
}

/// <summary>DCMTK's storescu as the modality / Orthanc sending into the node.</summary>
public static class StoreScu
{
    /// <summary>Sends every file under <paramref name="folder"/>; returns the exit code and output; <paramref name="extra"/> adds options (TLS, -v).</summary>
    public static (int ExitCode, string Output) Send(int port, string folder, string callingAe = "ORTHANC", string calledAe = "HIPPONODE", IEnumerable<string>? extra = null)
    {
        var (code, o, e) = TestData.Run("storescu", [.. extra ?? [], "-aet", callingAe, "-aec", calledAe, "+sd", "+r", "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), folder],
            TimeSpan.FromMinutes(1));
        return (code, o + e);
    }
}
