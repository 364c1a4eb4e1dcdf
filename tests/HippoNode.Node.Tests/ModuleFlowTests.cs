using System.Text.Json;
using HippoNode.Analysis.ChestXray;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Node.Demo;
using HippoNode.Node.Storage;
using HippoNode.Node.Tests.Support;
using HippoNode.Onnx;

namespace HippoNode.Node.Tests;

/// <summary>
/// The node with its real analysis modules (the committed hippocampus model, an UNTRAINED chest X-ray model made here):
/// DCMTK storescu sends studies in, the jobs name their modules, and the results arrive in a real storescp.
/// </summary>
public sealed class ModuleFlowTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ModuleFlowTests() => ClassifierFolderWriter.WriteUntrained(ChestModel);

    public void Dispose() => _dir.Dispose();

    private string ChestModel => _dir.Sub("untrained-chest-model");

    private static string HippocampusModel => Path.Combine(TestData.RepoRoot, "models", "hippocampus");

    private Task<TestNode> StartAsync(int pacsPort, string? chestModel = null, bool acceptCompressed = false) =>
        TestNode.StartAsync(_dir.Sub("node"), pacsPort, null, s =>
        {
            s["HippoNode:Analysis:ModelFolder"] = HippocampusModel;
            s["HippoNode:ChestXray:ModelFolder"] = chestModel ?? ChestModel;
            s["HippoNode:AcceptCompressed"] = acceptCompressed ? "true" : "false";
        });

    private string ChestStudy(string name, string? studyUid = null, string view = "PA")
    {
        var folder = _dir.Sub(name);
        RadiographFactory.Write(new RadiographSpec
        {
            Image = RadiographFactory.ChestPhantom(256, 288), Encoding = RadiographEncoding.DxVoiLutSequence, Monochrome1 = true, ViewPosition = view,
            StudyInstanceUid = studyUid, SeriesDescription = "Chest " + view,
        }, Path.Combine(folder, "cxr.dcm"));
        return folder;
    }

    private static void Send(int port, string folder)
    {
        var (code, output) = StoreScu.Send(port, folder);
        Assert.True(code == 0, "storescu failed: " + output);
    }

    [ToolFact("storescu", "storescp")]
    public async Task BrainAndChestStudies_EachGoesToItsModule_AndTheResultsReachThePacs()
    {
        Assert.True(File.Exists(Path.Combine(HippocampusModel, "model.json")), "the committed hippocampus model is part of the repository");
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        await using var node = await StartAsync(pacs.Port);
        var brainUid = SyntheticStudy.Write(_dir.Sub("brain"));
        Send(node.DicomPort, _dir.Sub("brain"));
        Send(node.DicomPort, ChestStudy("chest"));

        var brain = await node.WaitForJobAsync(j => j.StudyInstanceUid == brainUid && j.State == JobState.Done, TimeSpan.FromSeconds(90));
        var chest = await node.WaitForJobAsync(j => j.StudyInstanceUid != brainUid && j.State == JobState.Done, TimeSpan.FromSeconds(90));

        Assert.Equal(["hippocampus:completed", "chest-xray:not-applicable"], brain.Modules.Select(m => $"{m.Module}:{m.Status}"));
        Assert.Equal(["hippocampus:not-applicable", "chest-xray:completed"], chest.Modules.Select(m => $"{m.Module}:{m.Status}"));
        Assert.NotEmpty(brain.VolumesMm3);
        Assert.Equal(3, brain.Outputs.Count);
        Assert.Equal(2, chest.Outputs.Count);
        var cxr = chest.Modules.Single(m => m.Module == "chest-xray");
        Assert.Contains("UNTRAINED", cxr.Summary, StringComparison.Ordinal);
        Assert.InRange(cxr.Measurements["probability"], 0, 1);
        Assert.Contains(chest.Stages, s => s.Stage == "chest-xray:inference");

        // Everything we produced reached the PACS, once, as ours.
        Assert.Equal(brain.Outputs.Concat(chest.Outputs).Select(o => o.SopInstanceUid).Order(), pacs.ReceivedUids().Order());
        var descriptions = Directory.EnumerateFiles(pacs.Folder).Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SeriesDescription)).Order().ToList();
        Assert.Equal(["HippoNode CXR Report", "HippoNode CXR SR", "HippoNode Report", "HippoNode SEG", "HippoNode SR"], descriptions);

        // The status endpoint names the modules.
        using var http = new HttpClient { BaseAddress = new Uri(node.HttpUrl!) };
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"/jobs/{chest.Id}"));
        var modules = doc.RootElement.GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal("chest-xray", modules[1].GetProperty("module").GetString());
        Assert.Equal("completed", modules[1].GetProperty("status").GetString());
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("hipponode_module_runs_total{module=\"chest-xray\",outcome=\"completed\"} 1", metrics, StringComparison.Ordinal);
    }

    [ToolFact("storescu", "storescp")]
    public async Task ChestProbabilityInTheReviewBand_FlagsTheJob_AndMetricsCountItByModule()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        // The threshold at the phantom's own probability: the result lies in the review band whatever the random weights give.
        double probability;
        using (var direct = HippoNode.Classification.ClassifierModel.Load(ChestModel))
            probability = direct.Classify(RadiographFactory.ChestPhantom(256, 288)).Probability;
        await using var node = await TestNode.StartAsync(_dir.Sub("node"), pacs.Port, null, s =>
        {
            s["HippoNode:Analysis:ModelFolder"] = HippocampusModel;
            s["HippoNode:ChestXray:ModelFolder"] = ChestModel;
            s["HippoNode:ChestXray:Threshold"] = probability.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        });
        Send(node.DicomPort, ChestStudy("chest"));
        var job = await node.WaitForJobAsync(j => j.State == JobState.Done, TimeSpan.FromSeconds(90));

        Assert.True(job.QualityFlagged);
        var cxr = job.Modules.Single(m => m.Module == "chest-xray");
        Assert.Equal(1, cxr.Measurements[ChestXrayAnalyzer.ReviewFlaggedMeasurement]);
        Assert.Contains("flagged for review", cxr.Summary, StringComparison.Ordinal);
        Assert.Equal(2, job.Outputs.Count);

        using var http = new HttpClient { BaseAddress = new Uri(node.HttpUrl!) };
        using (var doc = JsonDocument.Parse(await http.GetStringAsync($"/jobs/{job.Id}")))
            Assert.True(doc.RootElement.GetProperty("qualityFlagged").GetBoolean());
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("hipponode_module_quality_flagged_total{module=\"chest-xray\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("hipponode_results_quality_flagged_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("hipponode_classification_probability_count{module=\"chest-xray\"} 1", metrics, StringComparison.Ordinal);
        var sum = metrics.Split('\n').Single(l => l.StartsWith("hipponode_classification_probability_sum{module=\"chest-xray\"}", StringComparison.Ordinal));
        Assert.Equal(cxr.Measurements["probability"], double.Parse(sum.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 9);
        var positives = cxr.Measurements["positive"] > 0 ? 1 : 0;
        if (positives == 1) Assert.Contains("hipponode_classification_positive_total{module=\"chest-xray\"} 1", metrics, StringComparison.Ordinal);
        else Assert.DoesNotContain("hipponode_classification_positive_total{module=\"chest-xray\"} 1", metrics, StringComparison.Ordinal);
    }

    [ToolFact("storescu", "storescp")]
    public async Task StudyWithNeither_IsSkippedAsNoModuleApplies_AndNothingIsSent()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        await using var node = await StartAsync(pacs.Port);
        Send(node.DicomPort, ChestStudy("lateral", view: "LL"));
        var job = await node.WaitForJobAsync(j => j.State == JobState.Skipped);
        Assert.StartsWith("no module applies: ", job.SkipReason, StringComparison.Ordinal);
        Assert.Contains("chest-xray: skipped: view position LL is not one of [PA, AP]", job.SkipReason, StringComparison.Ordinal);
        Assert.All(job.Modules, m => Assert.Equal("not-applicable", m.Status));
        Assert.Empty(job.Outputs);
        await Task.Delay(500);
        Assert.Empty(pacs.ReceivedUids());
        var log = string.Join('\n', Directory.EnumerateFiles(_dir.Sub("node/logs")).Select(f =>
        {
            using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(s).ReadToEnd();
        }));
        Assert.Contains("no module applies", log, StringComparison.Ordinal);
    }

    [ToolFact("storescu", "storescp")]
    public async Task ChestModuleFailing_DoesNotStopTheHippocampusResults()
    {
        await using var pacs = await StoreScp.StartAsync(_dir.Sub("pacs"));
        await using var node = await StartAsync(pacs.Port, chestModel: _dir.Sub("no-such-model"));
        var studyUid = SyntheticStudy.Write(_dir.Sub("both"));
        ChestStudy("both-chest", studyUid);
        Send(node.DicomPort, _dir.Sub("both"));
        Send(node.DicomPort, _dir.Sub("both-chest"));

        var job = await node.WaitForJobAsync(j => j.State == JobState.Done, TimeSpan.FromSeconds(90));
        Assert.Equal(SyntheticStudy.Slices + 1, job.Instances);
        Assert.Equal("completed", job.Modules.Single(m => m.Module == "hippocampus").Status);
        var chest = job.Modules.Single(m => m.Module == "chest-xray");
        Assert.Equal("failed", chest.Status);
        Assert.Contains("has no model.json", chest.Error, StringComparison.Ordinal);
        Assert.StartsWith("chest-xray: model folder", job.Error, StringComparison.Ordinal);
        Assert.Equal(3, job.Outputs.Count);
        Assert.Equal(job.Outputs.Select(o => o.SopInstanceUid).Order(), pacs.ReceivedUids().Order());
    }

    /// <summary>Sends with our SCU, which proposes a compressed file in its own syntax only (as a PACS without transcoding would).</summary>
    private static async Task<List<HippoNode.Dicom.Network.DicomStoreResult>> SendAsIsAsync(int port, string folder)
    {
        var results = new List<HippoNode.Dicom.Network.DicomStoreResult>();
        await foreach (var r in HippoNode.Dicom.Network.DicomSender.SendAsync("127.0.0.1", port,
            new HippoNode.Dicom.Network.DicomClientOptions { CallingAeTitle = "ORTHANC", CalledAeTitle = "HIPPONODE" }, HippoNode.Dicom.Network.DicomSender.EnumerateFiles([folder])))
            results.Add(r);
        return results;
    }

    [ToolFact("dcmcjpeg")]
    public async Task CompressedImages_AreRefusedAtTheAssociation_UnlessAcceptCompressed()
    {
        var plain = ChestStudy("plain");
        Directory.CreateDirectory(_dir.Sub("jpeg"));
        var (rc, so, se) = TestData.Run("dcmcjpeg", ["+e1", Path.Combine(plain, "cxr.dcm"), _dir.Sub("jpeg/cxr.dcm")]);
        Assert.True(rc == 0, so + se);

        await using (var node = await StartAsync(StoreScp.FreePort()))
        {
            // Refused at the association: the sender learns it at once (a PACS that can transcode sends it uncompressed instead).
            var refused = Assert.Single(await SendAsIsAsync(node.DicomPort, _dir.Sub("jpeg")));
            Assert.False(refused.Succeeded);
            Assert.Equal(0, Convert.ToInt32(await node.Db.QueryScalarAsync("SELECT COUNT(*) FROM instances"), System.Globalization.CultureInfo.InvariantCulture));
            // The same image uncompressed is taken.
            Assert.True(Assert.Single(await SendAsIsAsync(node.DicomPort, plain)).Succeeded);
        }
        Directory.Delete(_dir.Sub("node"), recursive: true);
        await using (var node = await StartAsync(StoreScp.FreePort(), acceptCompressed: true))
        {
            Assert.True(Assert.Single(await SendAsIsAsync(node.DicomPort, _dir.Sub("jpeg"))).Succeeded);
            // Accepted and kept, but the chest module cannot decode it: the job fails with the reason, naming the syntax.
            var job = await node.WaitForJobAsync(j => j.State == JobState.Failed, TimeSpan.FromSeconds(60));
            Assert.Contains("is compressed (JPEG", job.Error, StringComparison.Ordinal);
            Assert.Contains("Orthanc transcodes", job.Error, StringComparison.Ordinal);
        }
    }
}
