using System.Text.Json;
using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Onnx;

namespace HippoNode.EndToEnd.Tests;

public partial class StackScriptsTests
{
    /// <summary>
    /// The chest X-ray results in the real OHIF: the stack with the node (UNTRAINED chest model, passed to the node through
    /// its environment), one chest DX sent with send_volume.sh, and OHIF showing the report page and opening the SR,
    /// which it draws on the radiograph with the probability as its label.
    /// </summary>
    [OhifFact]
    public async Task StartStack_WithTheNode_OhifShowsTheChestReportPageAndOpensTheSr()
    {
        var dir = StackNet.TempDir("ohif-cxr");
        var env = StackEnvironment(dir, OhifFactAttribute.OhifDist);
        env["ORTHANC_STABLE_AGE"] = "3";
        env["HIPPONODE_HTTP_URL"] = $"http://127.0.0.1:{StackNet.FreePort()}";
        env["HIPPONODE_CMD"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "hipponode.dll")}";
        var model = Path.Combine(dir, "untrained-chest-model");
        ClassifierFolderWriter.WriteUntrained(model);
        env["HippoNode__ChestXray__ModelFolder"] = model;
        var shots = Path.Combine(dir, "shots");
        try
        {
            var file = Directory.EnumerateFiles(TestData.Shared("chest-xray-pneumonia", "train", "PNEUMONIA")).Order(StringComparer.Ordinal).First();
            var img = GrayscaleImage.Load(file);
            var study = Path.Combine(dir, "cxr");
            RadiographFactory.Write(new RadiographSpec
            {
                Image = new GrayscaleImage(512, 512, ImagePreprocessing.Resample(img.Pixels, img.Width, img.Height, 512, 512)),
                Encoding = RadiographEncoding.DxVoiLutSequence, Monochrome1 = true, ViewPosition = "AP", SeriesDescription = "Chest AP",
            }, Path.Combine(study, "cxr.dcm"));
            var uid = DicomFile.Open(Path.Combine(study, "cxr.dcm")).Dataset.GetString(DicomTags.StudyInstanceUID)!;

            var start = Script("start_stack.sh", env);
            Assert.True(start.ExitCode == 0, start.Output);
            Assert.Equal(0, Script("send_volume.sh", env, study).ExitCode);
            using var orthanc = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{env["ORTHANC_HTTP_PORT"]}") };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (true)
            {
                var series = JsonDocument.Parse(await orthanc.GetStringAsync($"/dicom-web/studies/{uid}/series")).RootElement;
                var modalities = series.EnumerateArray().Select(e => e.GetProperty("00080060").GetProperty("Value")[0].GetString()).ToList();
                if (modalities.Contains("SR") && modalities.Contains("OT")) break;
                Assert.True(DateTime.UtcNow < deadline, $"our chest results did not reach Orthanc: series {string.Join(", ", modalities)}");
                await Task.Delay(500);
            }

            var shot = Script("ohif_screenshot.sh", env, "--study", uid, "--sr", "HippoNode CXR SR", "--out", shots,
                "--base", $"http://127.0.0.1:{env["OHIF_PORT"]}", "--timeout", "60", "--settle", "4");
            if (Environment.GetEnvironmentVariable("HIPPONODE_KEEP_SCREENSHOTS") is { Length: > 0 } keep)
                foreach (var f in Directory.GetFiles(shots)) File.Copy(f, Path.Combine(Directory.CreateDirectory(keep).FullName, "cxr-" + Path.GetFileName(f)), true);
            Assert.True(shot.ExitCode == 0, shot.Output);
            var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(shots, "summary.json"))).RootElement;
            Assert.True(summary.GetProperty("viewerLoaded").GetBoolean());
            Assert.Contains("HippoNode CXR Report", summary.GetProperty("studyBrowser").GetString(), StringComparison.Ordinal);
            Assert.Contains("HippoNode CXR SR", summary.GetProperty("studyBrowser").GetString(), StringComparison.Ordinal);
            var sr = summary.GetProperty("sr");
            Assert.True(sr.GetProperty("loaded").GetBoolean(), sr.ToString());
            Assert.Contains("Pneumonia probability", sr.GetProperty("viewportText").GetString(), StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(shots, "03-sr.png")).Length > 10_000);
        }
        finally
        {
            Script("stop_stack.sh", env);
            StackNet.DeleteDir(dir);
        }
    }
}
