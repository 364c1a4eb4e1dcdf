using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Interop;

/// <summary>Skips with a clear message unless Orthanc (Debian package "orthanc") and the shared data are there.</summary>
public sealed class OrthancFactAttribute : FactAttribute
{
    /// <summary>Where the Debian package installs the server.</summary>
    public static string? OrthancPath =>
        new[] { "/usr/sbin/Orthanc", "/usr/bin/Orthanc" }.FirstOrDefault(File.Exists)
        ?? (TestData.HasTool("Orthanc") ? "Orthanc" : null);

    /// <summary>Sets the skip reason when a prerequisite is missing.</summary>
    public OrthancFactAttribute()
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (OrthancPath is null) Skip = "Orthanc is not installed (apt-get install orthanc; .ci/run does): the test against a real Orthanc is skipped";
    }
}

/// <summary>Our SCU against a real Orthanc, started here with its own configuration and killed at the end.</summary>
public class OrthancTests
{
    [OrthancFact]
    public async Task Send_TestVolumesToOrthanc_EveryInstanceArrives()
    {
        await using var orthanc = await Orthanc.StartAsync();
        var results = await DicomSender.SendAsync("127.0.0.1", orthanc.DicomPort, TestHelpers.Client("ORTHANC"), TestFiles.All).ToListAsync();
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Path}: {r.Status} {r.Error}"));

        var instances = await orthanc.Http.GetFromJsonAsync<string[]>("/instances");
        Assert.Equal(TestFiles.All.Count, instances!.Length);
        var studies = await orthanc.Http.GetFromJsonAsync<string[]>("/studies");
        Assert.Equal(2, studies!.Length);
    }

    [OrthancFact]
    public async Task Echo_ToOrthanc_Succeeds()
    {
        await using var orthanc = await Orthanc.StartAsync();
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", orthanc.DicomPort, TestHelpers.Client("ORTHANC"), [PresentationContextProposal.Verification], CancellationToken.None);
        Assert.Equal(DicomStatus.Success, await a.EchoAsync(CancellationToken.None));
    }

    /// <summary>An Orthanc child process: temp storage, free DICOM and HTTP ports, no authentication, AE ORTHANC.</summary>
    private sealed class Orthanc : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _dir;

        private Orthanc(Process process, string dir, int dicomPort, HttpClient http)
        {
            _process = process;
            _dir = dir;
            DicomPort = dicomPort;
            Http = http;
        }

        public int DicomPort { get; }

        public HttpClient Http { get; }

        public static async Task<Orthanc> StartAsync()
        {
            var dir = TempDir.Create("orthanc");
            var dicomPort = Processes.FreePort();
            var httpPort = Processes.FreePort();
            var config = new Dictionary<string, object>
            {
                ["Name"] = "HippoNodeTest",
                ["StorageDirectory"] = Path.Combine(dir, "storage"),
                ["IndexDirectory"] = Path.Combine(dir, "index"),
                ["HttpPort"] = httpPort,
                ["DicomPort"] = dicomPort,
                ["DicomAet"] = "ORTHANC",
                ["RemoteAccessAllowed"] = false,
                ["AuthenticationEnabled"] = false,
                ["HttpServerEnabled"] = true,
                ["DicomServerEnabled"] = true,
                ["DicomCheckCalledAet"] = true,
                ["Plugins"] = Array.Empty<string>(),
                ["StorageCompression"] = false,
                ["OrthancExplorerEnabled"] = false,
                ["WebDavEnabled"] = false,
            };
            var configPath = Path.Combine(dir, "orthanc.json");
            await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(config));
            var p = TestProcess.Start(OrthancFactAttribute.OrthancPath!, [configPath], out _, out var stderr, workingDirectory: dir);
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
            var orthanc = new Orthanc(p, dir, dicomPort, http);
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                try
                {
                    using var rsp = await http.GetAsync("/system");
                    if (rsp.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                if (p.HasExited || DateTime.UtcNow > until)
                {
                    await orthanc.DisposeAsync();
                    Assert.Fail($"Orthanc did not start: {stderr}");
                }
                await Task.Delay(100);
            }
            await Processes.WaitForPortAsync(dicomPort, TimeSpan.FromSeconds(20));
            return orthanc;
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await TestProcess.StopAsync(_process);
            _process.Dispose();
            TempDir.Delete(_dir);
        }
    }
}
