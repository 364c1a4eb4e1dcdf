namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>DCMTK storescp as AE STORESCP, storing into a temporary folder it owns (removed on dispose).</summary>
public static class Storescp
{
    /// <summary>Starts storescp with <paramref name="extra"/> options (transfer syntax, TLS).</summary>
    public static Task<StorescpProcess> StartAsync(string[] extra) =>
        StorescpProcess.StartAsync("STORESCP", TempDir.Create("storescp"), ["-dhl", .. extra], ownsFolder: true);
}
