using System.Net;
using HippoNode.Dicom.Network;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>A <see cref="DicomServer"/> on 127.0.0.1, port 0, storing into a fresh temporary folder; removed on dispose.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(DicomServer server, DicomServerOptions options, string root, FileStoreHandler? files)
    {
        Server = server;
        Options = options;
        Root = root;
        Files = files;
    }

    /// <summary>The server.</summary>
    public DicomServer Server { get; }

    /// <summary>Its options (AE title "HIPPO" unless changed).</summary>
    public DicomServerOptions Options { get; }

    /// <summary>Where instances are filed (ROOT/study/instance.dcm) when the default handler is used.</summary>
    public string Root { get; }

    /// <summary>The default file handler, null when a custom handler was given.</summary>
    public FileStoreHandler? Files { get; }

    /// <summary>The bound port.</summary>
    public int Port => Server.Port;

    /// <summary>The AE title.</summary>
    public string AeTitle => Options.AeTitle;

    /// <summary>Starts a server; <paramref name="configure"/> adjusts the options, <paramref name="handler"/> replaces the file handler.</summary>
    public static async Task<TestServer> StartAsync(Action<DicomServerOptions>? configure = null, IDicomStoreHandler? handler = null, ListLoggerFactory? log = null)
    {
        var root = TempDir.Create("scp");
        var options = new DicomServerOptions
        {
            AeTitle = "HIPPO",
            BindAddress = IPAddress.Loopback,
            Port = 0,
            IncomingDirectory = Path.Combine(root, ".incoming"),
            ArtimTimeout = TimeSpan.FromSeconds(10),
            IdleTimeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        var files = handler is null ? new FileStoreHandler(root) : null;
        var server = new DicomServer(options, handler ?? files!, loggerFactory: log);
        await server.StartAsync(CancellationToken.None);
        return new TestServer(server, options, root, files);
    }

    /// <summary>Every .dcm file filed so far (the incoming folder excluded).</summary>
    public IReadOnlyList<string> StoredFiles() =>
        Directory.EnumerateFiles(Root, "*.dcm", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(Options.IncomingDirectory, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Files left in the incoming folder (should be none once associations are over).</summary>
    public IReadOnlyList<string> IncomingLeftovers() =>
        Directory.Exists(Options.IncomingDirectory) ? Directory.GetFiles(Options.IncomingDirectory) : [];

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        TempDir.Delete(Root);
    }
}

/// <summary>Temporary folders under the system temp path.</summary>
public static class TempDir
{
    /// <summary>A new empty folder.</summary>
    public static string Create(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "hipponode-net-" + prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Removes a folder, ignoring failures.</summary>
    public static void Delete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // a process still writing; the temp folder is cleaned by the OS eventually
        }
    }
}
