using System.Text.Json;
using HippoNode.Dicom;
using HippoNode.Imaging;

namespace HippoNode.Analysis.Tests;

public sealed class CommandLineTests(TinyModelFixture model, Xunit.Abstractions.ITestOutputHelper log) : IClassFixture<TinyModelFixture>
{
    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = await AnalyzeCommandLine.Parse(args).ExecuteAsync(o, e, default);
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData(new[] { "--out", "x" }, "STUDY_DIR is required")]
    [InlineData(new[] { "study" }, "--out DIR is required")]
    [InlineData(new[] { "study", "--out" }, "--out needs a value")]
    [InlineData(new[] { "study", "--out", "x", "--colour", "red" }, "unknown option --colour")]
    [InlineData(new[] { "a", "b", "--out", "x" }, "one study folder only")]
    [InlineData(new[] { "a", "--out", "x", "--agreement-threshold", "high" }, "--agreement-threshold 'high' is not a number")]
    public void BadArgumentsAreUsageErrors(string[] args, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => AnalyzeCommandLine.Parse(args)).Message);

    [Fact]
    public async Task BadOptionValuesAreUsageErrors()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["rules.json"], """{"name":"x","slices":{"max":"many"}}""");
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Run(tmp.Path, "--out", tmp["out"], "--rules", tmp["rules.json"]));
        Assert.Contains("'slices.max' must be an integer", ex.Message);
        ex = await Assert.ThrowsAsync<ArgumentException>(() => Run(tmp.Path, "--out", tmp["out"], "--agreement-threshold", "1.5"));
        Assert.Contains("AgreementThreshold must lie in [0, 1]", ex.Message);
    }

    [SharedDataFact]
    public async Task AnalyzePrintsTheChoiceAndTheVolumes()
    {
        using var tmp = new TempDir();
        var (code, stdout, stderr) = await Run(TestData.Shared("TestVolumes", "Study2"), "--out", tmp.Path, "--model", model.Folder);
        log.WriteLine(stdout);
        Assert.True(code == 0, stderr);
        Assert.Contains("  chosen:  'HippoCrop' MR 35 instances", stdout);
        Assert.Contains("  skipped: 'dT1' MR 24 instances", stdout);
        Assert.Contains("(SOP class SecondaryCaptureImageStorage", stdout);
        Assert.Matches(@"volumes: anterior \d+\.\d mm3, posterior \d+\.\d mm3, whole \d+\.\d mm3", stdout);
        Assert.Contains("result.json", stdout);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "result.json")));
    }

    [Fact]
    public async Task NoEligibleSeriesExitsWithThree()
    {
        using var tmp = new TempDir();
        SeriesWriter.Save(SeriesWriter.Build(SeriesWriter.Phantom(new VolumeShape(20, 20, 20)), SeriesLayout.HippoCrop, "FLAIR"), tmp["study"]);
        var (code, stdout, _) = await Run(tmp["study"], "--out", tmp["out"], "--model", tmp["nothing-here"]);
        Assert.Equal(AnalyzeCommandLine.ExitNoEligibleSeries, code);
        Assert.Contains("skipped: 'FLAIR'", stdout);
        Assert.Contains("no eligible series under rules 'hippocampus-crop'", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(tmp["out/result.json"]));
        Assert.Equal("no-eligible-series", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task CustomRulesFileIsUsed()
    {
        using var tmp = new TempDir();
        SeriesWriter.Save(SeriesWriter.Build(SeriesWriter.Phantom(new VolumeShape(20, 20, 20)), SeriesLayout.HippoCrop, "FLAIR"), tmp["study"]);
        File.WriteAllText(tmp["rules.json"], """{"name":"flair","seriesDescriptionPattern":"^FLAIR$"}""");
        var (code, stdout, stderr) = await Run(tmp["study"], "--out", tmp["out"], "--model", model.Folder, "--rules", tmp["rules.json"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("chosen:  'FLAIR'", stdout);
    }

    [Fact]
    public async Task BrokenSeriesExitsWithOneAndNamesIt()
    {
        using var tmp = new TempDir();
        var slices = SeriesWriter.Build(SeriesWriter.Phantom(new VolumeShape(20, 20, 20)), SeriesLayout.HippoCrop, "HippoCrop");
        slices.RemoveAt(10);
        SeriesWriter.Save(slices, tmp["study"]);
        var (code, _, stderr) = await Run(tmp["study"], "--out", tmp["out"], "--model", model.Folder);
        Assert.Equal(AnalyzeCommandLine.ExitFailed, code);
        Assert.Contains("hipponode analyze: series 'HippoCrop' (", stderr);
        Assert.Contains("has missing slices", stderr);
    }
}
