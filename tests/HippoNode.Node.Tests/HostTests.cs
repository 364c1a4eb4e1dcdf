using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Demo;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HippoNode.Node.Tests;

/// <summary>Configuration, startup recovery of the spool, one node per storage folder, and the demo.</summary>
public sealed class HostTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ShippedAppSettings_BindToValidDefaults()
    {
        var config = new ConfigurationBuilder().AddJsonFile(Path.Combine(TestData.RepoRoot, "src", "HippoNode", "appsettings.json")).Build();
        var o = config.GetSection(NodeOptions.Section).Get<NodeOptions>()!;
        Assert.Empty(o.Problems());
        Assert.Equal(("HIPPONODE", 11112, "127.0.0.1"), (o.AeTitle, o.Port, o.BindAddress));
        Assert.Equal(("ORTHANC", "127.0.0.1", 4242), (o.Pacs.AeTitle, o.Pacs.Host, o.Pacs.Port));
        Assert.Equal(["ORTHANC"], o.AllowedCallers);
        Assert.Equal((10.0, "models/hippocampus", 0.8), (o.StableSeconds, o.Analysis.ModelFolder, o.Analysis.AgreementThreshold));
        Assert.Null(o.Analysis.RulesFile);
        Assert.Equal("http://127.0.0.1:8080", o.Http.Url);
        Assert.Equal(("models/chest-xray", 2.0), (o.ChestXray.ModelFolder, o.ChestXray.ReviewMargin));
        Assert.Contains(new NodeOptions { ChestXray = { ReviewMargin = -1 } }.Problems(), p => p.Contains("ReviewMargin", StringComparison.Ordinal));
    }

    [Fact]
    public void EnvironmentAndCommandLine_OverrideTheFile_InThatOrder()
    {
        var file = _dir.Sub("extra.json");
        File.WriteAllText(file, """{ "HippoNode": { "Port": 2000, "Pacs": { "Host": "pacs.file", "Port": 5000 }, "StableSeconds": 3 } }""");
        Environment.SetEnvironmentVariable("HippoNode__Pacs__Host", "pacs.env");
        Environment.SetEnvironmentVariable("HippoNode__StableSeconds", "4");
        try
        {
            var builder = NodeHost.CreateBuilder(["--config", file, "--port", "3000", "--HippoNode:StableSeconds=5", "--storage", _dir.Sub("s")]);
            var o = builder.Configuration.GetSection(NodeOptions.Section).Get<NodeOptions>()!;
            Assert.Equal(3000, o.Port);            // command line (short switch) over the file
            Assert.Equal("pacs.env", o.Pacs.Host); // environment over the file
            Assert.Equal(5000, o.Pacs.Port);       // the --config file over appsettings.json
            Assert.Equal(5.0, o.StableSeconds);    // command line over environment
            Assert.Equal(_dir.Sub("s"), o.StorageRoot);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HippoNode__Pacs__Host", null);
            Environment.SetEnvironmentVariable("HippoNode__StableSeconds", null);
        }
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://10.1.2.3:8080")]
    [InlineData("http://example.org:8080")]
    [InlineData("https://127.0.0.1:8080")]
    public async Task HttpOnAnythingButLoopback_RefusesToStart(string url)
    {
        var settings = TestNode.Settings(_dir.Sub("s"), 4242);
        settings["HippoNode:Http:Url"] = url;
        using var host = TestNode.Build(settings, new CopyRunner());
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("loopback", ex.Message);
    }

    [Fact]
    public async Task Startup_RegistersSpooledFilesWithoutRecord_ClearsIncoming_AndTheStudyIsAnalysed()
    {
        var storage = _dir.Sub("node");
        // What a kill between filing and recording leaves: files in the spool, none in the database; and a half-received file.
        var study = SyntheticStudy.Write(Path.Combine(storage, "studies", "x"));
        Directory.CreateDirectory(Path.Combine(storage, "incoming"));
        File.WriteAllText(Path.Combine(storage, "incoming", "abc.part"), "half");
        File.WriteAllText(Path.Combine(storage, "studies", "x", "junk.dcm"), "not dicom");

        await using var node = await TestNode.StartAsync(storage, StoreScp.FreePort(), new CopyRunner());
        var job = await node.WaitForJobAsync(j => j.State is JobState.Sending or JobState.Done);
        Assert.Equal(study, job.StudyInstanceUid);
        Assert.Equal(SyntheticStudy.Slices, job.Instances);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storage, "incoming")));
        Assert.True(File.Exists(Path.Combine(storage, "rejected", "junk.dcm")));
    }

    [Fact]
    public async Task SecondNodeOnTheSameStorage_RefusesToStart()
    {
        var storage = _dir.Sub("node");
        await using var first = await TestNode.StartAsync(storage, StoreScp.FreePort(), new CopyRunner());
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestNode.StartAsync(storage, StoreScp.FreePort(), new CopyRunner()));
        Assert.Contains("Another HippoNode", ex.Message);
    }

    [Fact]
    public async Task Demo_WithTheSyntheticStudy_PrintsWhereTheResultsWentAndTheVolume()
    {
        var output = new StringWriter();
        var options = new DemoOptions { Synthetic = true, Chest = false, WorkFolder = _dir.Sub("demo"), Runner = new CopyRunner(), Timeout = TimeSpan.FromSeconds(60) };
        var code = await NodeDemo.RunAsync(options, output, CancellationToken.None);
        var text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("synthetic HippoCrop series", text);
        Assert.Contains("volume whole:", text);
        var pacsLines = text.Split('\n').Where(l => l.Contains("-> PACS ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, pacsLines.Count);
        foreach (var line in pacsLines)
        {
            var path = line[(line.IndexOf("-> PACS ", StringComparison.Ordinal) + 8)..].Trim();
            Assert.True(File.Exists(path), line);
            Assert.Equal("HippoNode", DicomFile.Open(path).Dataset.GetString(DicomTags.Manufacturer));
        }
    }

    [Fact]
    public void SyntheticStudy_IsAReadableHippoCropLikeSeries()
    {
        var folder = _dir.Sub("syn");
        var study = SyntheticStudy.Write(folder);
        var files = Directory.GetFiles(folder);
        Assert.Equal(SyntheticStudy.Slices, files.Length);
        var ds = DicomFile.Open(files[0]).Dataset;
        Assert.Equal((study, "HippoCrop", "MR"), (ds.GetString(DicomTags.StudyInstanceUID), ds.GetString(DicomTags.SeriesDescription), ds.GetString(DicomTags.Modality)));
        Assert.Equal(SyntheticStudy.Rows * SyntheticStudy.Columns * 2, ((DicomElement)ds.GetItem(DicomTags.PixelData)!).Buffer.GetMemory().Length);
    }
}
