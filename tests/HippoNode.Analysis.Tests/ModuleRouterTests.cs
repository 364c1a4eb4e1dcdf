using System.Text.Json;
using HippoNode.Analysis.ChestXray;
using HippoNode.Analysis.Modules;
using HippoNode.Dicom;
using Xunit.Abstractions;

namespace HippoNode.Analysis.Tests;

/// <summary>Each study goes to every module whose rules match; the modules run independently; a study without any match is "no module applies".</summary>
public sealed class ModuleRouterTests(TinyModelFixture hippocampusModel, UntrainedChestModelFixture chestModel, ITestOutputHelper output)
    : IClassFixture<TinyModelFixture>, IClassFixture<UntrainedChestModelFixture>
{
    private ModuleRouter Router(string? chestModelFolder = null) => new(
    [
        new StudyAnalyzer(new AnalysisOptions { ModelFolder = hippocampusModel.Folder }),
        new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = chestModelFolder ?? chestModel.Folder }),
    ]);

    /// <summary>One study holding a HippoCrop MR series and a PA chest DX (a study with both).</summary>
    private static string BothStudy(TempDir tmp)
    {
        var (folder, _, studyUid) = ChestXrayAnalyzerTests.Study(tmp, name: "both");
        SeriesWriter.Save(SeriesWriter.Build(SeriesWriter.Phantom(new Imaging.VolumeShape(20, 24, 18)), SeriesLayout.HippoCrop, "HippoCrop", studyUid: studyUid, seriesNumber: 9),
            Path.Combine(folder, "crop"));
        return folder;
    }

    private static JsonElement ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task StudyWithBoth_RunsBothModules_EachIntoItsOwnFolder()
    {
        using var tmp = new TempDir();
        using var router = Router();
        var result = await router.AnalyzeAsync(BothStudy(tmp), tmp["out"]);
        output.WriteLine(result.Summary);

        Assert.Equal(AnalysisStatus.Completed, result.Status);
        Assert.Equal("study", result.Module);
        Assert.Equal(["hippocampus", "chest-xray"], result.Modules.Select(m => m.Module));
        Assert.All(result.Modules, m => Assert.Equal(ModuleStatus.Completed, m.Status));
        Assert.Equal(["hippocampus/seg.dcm", "hippocampus/sr.dcm", "hippocampus/sc.dcm", "chest-xray/sr.dcm", "chest-xray/sc.dcm"],
            result.OutputFiles.Select(f => Path.GetRelativePath(tmp["out"], f)));
        Assert.NotEmpty(result.VolumesMm3);
        Assert.Contains("hippocampus: volumes", result.Summary, StringComparison.Ordinal);
        Assert.Contains("chest-xray: pneumonia probability", result.Summary, StringComparison.Ordinal);
        Assert.Contains(result.Stages, s => s.Stage == "chest-xray:inference");
        Assert.Contains(result.Stages, s => s.Stage == "hippocampus:inference");
        // Each series is chosen by the module it belongs to, and the reason says what every module thought.
        var crop = result.Series.Single(s => s.SeriesDescription == "HippoCrop");
        Assert.True(crop.Chosen);
        Assert.Contains("hippocampus: chosen", crop.Reason, StringComparison.Ordinal);
        Assert.Contains("chest-xray: skipped: modality MR", crop.Reason, StringComparison.Ordinal);

        var json = ReadJson(result.ResultJson);
        Assert.Equal("hipponode-study-result", json.GetProperty("format").GetString());
        Assert.Equal("completed", json.GetProperty("status").GetString());
        var modules = json.GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal("hippocampus/result.json", modules[0].GetProperty("result").GetString());
        Assert.Equal("chest-xray/result.json", modules[1].GetProperty("result").GetString());
        Assert.Equal("hippocampus", ReadJson(tmp["out/hippocampus/result.json"]).GetProperty("module").GetString());
        Assert.Equal("chest-xray", ReadJson(tmp["out/chest-xray/result.json"]).GetProperty("module").GetString());
    }

    [Fact]
    public async Task OneModuleFailing_DoesNotStopTheOther()
    {
        using var tmp = new TempDir();
        using var router = Router(chestModelFolder: tmp["missing-model"]);
        var result = await router.AnalyzeAsync(BothStudy(tmp), tmp["out"]);

        Assert.Equal(AnalysisStatus.Completed, result.Status);
        var hippo = result.Modules.Single(m => m.Module == "hippocampus");
        var chest = result.Modules.Single(m => m.Module == "chest-xray");
        Assert.Equal(ModuleStatus.Completed, hippo.Status);
        Assert.Equal(ModuleStatus.Failed, chest.Status);
        Assert.Contains("has no model.json", chest.Error, StringComparison.Ordinal);
        Assert.Equal(3, result.OutputFiles.Count);
        Assert.Contains(result.Warnings, w => w.StartsWith("chest-xray failed:", StringComparison.Ordinal));
        var json = ReadJson(result.ResultJson);
        Assert.Equal("partial", json.GetProperty("status").GetString());
        Assert.Equal("failed", json.GetProperty("modules")[1].GetProperty("status").GetString());
        Assert.Equal("failed", ReadJson(tmp["out/chest-xray/result.json"]).GetProperty("status").GetString());
    }

    [Fact]
    public async Task EveryApplicableModuleFailing_IsAFailedStudy()
    {
        using var tmp = new TempDir();
        var (study, _, _) = ChestXrayAnalyzerTests.Study(tmp);
        using var router = Router(chestModelFolder: tmp["missing-model"]);
        var result = await router.AnalyzeAsync(study, tmp["out"]);
        Assert.Equal(AnalysisStatus.Failed, result.Status);
        Assert.StartsWith("chest-xray failed: model folder", result.Summary, StringComparison.Ordinal);
        Assert.Equal("failed", ReadJson(result.ResultJson).GetProperty("status").GetString());
    }

    [Fact]
    public async Task StudyWithNeither_IsNoModuleApplies_AndNothingButResultJsonIsWritten()
    {
        using var tmp = new TempDir();
        var (study, _, _) = ChestXrayAnalyzerTests.Study(tmp, lateralOnly: true);
        using var router = Router();
        var result = await router.AnalyzeAsync(study, tmp["out"]);

        Assert.Equal(AnalysisStatus.NoEligibleSeries, result.Status);
        Assert.Equal("no module applies", result.Summary);
        Assert.All(result.Modules, m => Assert.Equal(ModuleStatus.NotApplicable, m.Status));
        Assert.Empty(result.OutputFiles);
        Assert.Equal(["result.json"], Directory.EnumerateFileSystemEntries(tmp["out"]).Select(Path.GetFileName));
        Assert.Equal("no-module-applies", ReadJson(result.ResultJson).GetProperty("status").GetString());
        var lat = result.Series.Single(s => s.SeriesDescription == "Chest LAT");
        Assert.Contains("hippocampus: skipped: modality DX is not one of [MR]", lat.Reason, StringComparison.Ordinal);
        Assert.Contains("chest-xray: skipped: view position LL is not one of [PA, AP]", lat.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_SaysPerModuleWhichSeriesWouldBeTakenAndWhy_WithoutRunningAnything()
    {
        using var tmp = new TempDir();
        using var router = Router(chestModelFolder: tmp["no-model-needed"]);
        var routing = await router.ExplainAsync(BothStudy(tmp));
        Assert.True(routing.AnyApplies);
        Assert.Equal(["hippocampus", "chest-xray"], routing.Modules.Select(m => m.Module));
        Assert.Equal(["hippocampus-crop", "chest-xray-frontal"], routing.Modules.Select(m => m.Rules));
        Assert.Equal("HippoCrop", routing.Modules[0].Series.Single(s => s.Chosen).SeriesDescription);
        Assert.Equal("Chest PA", routing.Modules[1].Series.Single(s => s.Chosen).SeriesDescription);
        Assert.False(Directory.Exists(tmp["no-model-needed"]));
    }

    [Fact]
    public async Task NoDicomAtAll_FailsTheStudy()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp["empty"]);
        File.WriteAllText(tmp["empty/readme.txt"], "nothing");
        using var router = Router();
        await Assert.ThrowsAsync<AnalysisException>(() => router.AnalyzeAsync(tmp["empty"], tmp["out"]));
        _ = DicomUid.Generate();
    }
}
