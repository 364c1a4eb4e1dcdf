using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.EndToEnd.Tests;

/// <summary>
/// orthanc/orthanc.json and orthanc/hipponode-router.lua in a real Orthanc, with DCMTK storescp playing the node:
/// stable studies' HippoCrop series reach the node once, our own output never does.
/// </summary>
public class OrthancRouterTests
{
    // Short for the test, long enough that a study is not "stable" in a pause between two storescu files on a busy machine.
    private const int StableAgeSeconds = 3;
    private static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(45);

    [StackFact("Orthanc", "storescp", "storescu", "dcmodify", "bash")]
    public async Task StableStudies_SendOnlyTheirHippoCropSeries_Once_AndNeverOurOwnOutput()
    {
        var work = StackNet.TempDir("router");
        var received = Path.Combine(work, "node");
        Directory.CreateDirectory(received);
        var nodePort = StackNet.FreePort();
        await using var node = ChildProcess.Start("storescp", ["-aet", "HIPPONODE", "-od", received, "-fe", ".dcm", nodePort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await StackNet.WaitForPortAsync(nodePort, TimeSpan.FromSeconds(10), "storescp");
        await using var orthanc = await OrthancHost.StartAsync(nodePort, StableAgeSeconds);
        try
        {
            var study1 = TestData.Shared("TestVolumes", "Study1");
            var study2 = TestData.Shared("TestVolumes", "Study2");
            var expected = Directory.GetFiles(Path.Combine(study1, "13_HCropVolume"))
                .Concat(Directory.GetFiles(Path.Combine(study2, "14_HCropVolume")))
                .Select(f => DicomFile.Open(f).Dataset.GetString(DicomTags.SOPInstanceUID)!)
                .ToHashSet();
            var uid1 = StudyUid(study1);
            var uid2 = StudyUid(study2);

            Send(orthanc, study1, study2);
            var id1 = await orthanc.StudyIdAsync(uid1);
            var id2 = await orthanc.StudyIdAsync(uid2);
            var first1 = (await orthanc.WaitForRouterAsync(id1, 1, RouteTimeout))[0];
            Assert.True(first1.Contains("sent 1 series", StringComparison.Ordinal), first1);
            var first2 = (await orthanc.WaitForRouterAsync(id2, 1, RouteTimeout))[0];
            Assert.True(first2.Contains("sent 1 series", StringComparison.Ordinal), first2);

            var got = await WaitForFilesAsync(received, expected.Count);
            var datasets = got.Select(f => DicomFile.Open(f).Dataset).ToList();
            Assert.Equal(expected, datasets.Select(d => d.GetString(DicomTags.SOPInstanceUID)!).ToHashSet());
            Assert.All(datasets, d => Assert.Equal("HippoCrop", d.GetString(DicomTags.SeriesDescription)?.Trim()));

            // The routing record that keeps the next stable event from sending the series again.
            var hippoCropSeries = DicomFile.Open(Directory.GetFiles(Path.Combine(study1, "13_HCropVolume"))[0]).Dataset.GetString(DicomTags.SeriesInstanceUID);
            Assert.Equal(hippoCropSeries, (await orthanc.Http.GetStringAsync($"/studies/{id1}/metadata/HippoNodeRouted")).Trim());

            // Our output arrives in the same study: a HippoNode-made object that even keeps the HippoCrop description.
            // The study becomes stable again; neither that object nor the already sent series may go out.
            var ours = Path.Combine(work, "ours");
            Directory.CreateDirectory(ours);
            var copy = Path.Combine(ours, "ours.dcm");
            File.Copy(Directory.GetFiles(Path.Combine(study1, "13_HCropVolume"))[0], copy);
            var modify = TestData.Run("dcmodify", ["-nb", "-gse", "-gin", "-i", "(0008,0070)=HippoNode", copy]);
            Assert.True(modify.ExitCode == 0, modify.StdErr);
            Send(orthanc, ours);

            var decision = (await orthanc.WaitForRouterAsync(id1, 2, RouteTimeout))[1];
            Assert.Contains("nothing to send (holds HippoNode output)", decision, StringComparison.Ordinal);
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(expected.Count, Directory.GetFiles(received).Length);
            Assert.Equal(2, (await orthanc.GetJsonAsync("/jobs")).GetArrayLength());
        }
        finally
        {
            StackNet.DeleteDir(work);
        }
    }

    [StackFact("Orthanc", "dicomweb", "storescu", "bash")]
    public async Task OurConfiguration_ServesTheStudyOverDicomWeb()
    {
        await using var orthanc = await OrthancHost.StartAsync(StackNet.FreePort(), stableAgeSeconds: 60);
        var hippoCrop = TestData.Shared("TestVolumes", "Study1", "13_HCropVolume");
        Send(orthanc, hippoCrop);
        var uid = StudyUid(TestData.Shared("TestVolumes", "Study1"));

        // What OHIF asks first: QIDO-RS studies, then series metadata.
        var studies = await orthanc.GetJsonAsync($"/dicom-web/studies?StudyInstanceUID={uid}");
        Assert.Equal(uid, studies[0].GetProperty("0020000D").GetProperty("Value")[0].GetString());
        var series = await orthanc.GetJsonAsync($"/dicom-web/studies/{uid}/series");
        Assert.Equal("HippoCrop", series[0].GetProperty("0008103E").GetProperty("Value")[0].GetString());
        var seriesUid = series[0].GetProperty("0020000E").GetProperty("Value")[0].GetString();
        var metadata = await orthanc.GetJsonAsync($"/dicom-web/studies/{uid}/series/{seriesUid}/metadata");
        Assert.Equal(Directory.GetFiles(hippoCrop).Length, metadata.GetArrayLength());
    }

    private static string StudyUid(string studyFolder) =>
        DicomFile.Open(Directory.EnumerateFiles(studyFolder, "*", SearchOption.AllDirectories).First()).Dataset.GetString(DicomTags.StudyInstanceUID)!;

    /// <summary>Sends with deploy_scripts/send_volume.sh, the way users do.</summary>
    private static void Send(OrthancHost orthanc, params string[] paths)
    {
        var script = Path.Combine(StackTools.Scripts, "send_volume.sh");
        var psiEnv = new Dictionary<string, string> { ["ORTHANC_DICOM_PORT"] = orthanc.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var r = RunWithEnv("bash", [script, .. paths], psiEnv);
        Assert.True(r.ExitCode == 0, $"send_volume.sh failed:\n{r.Output}");
    }

    private static (int ExitCode, string Output) RunWithEnv(string file, IEnumerable<string> args, Dictionary<string, string> env)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static async Task<string[]> WaitForFilesAsync(string dir, int count)
    {
        var until = DateTime.UtcNow + RouteTimeout;
        while (true)
        {
            var files = Directory.GetFiles(dir);
            if (files.Length >= count)
            {
                // storescp renames nothing: a file is complete when the next one started; give the last one a moment.
                await Task.Delay(300);
                return Directory.GetFiles(dir);
            }
            if (DateTime.UtcNow > until) Assert.Fail($"the node received {files.Length} of {count} instances within {RouteTimeout.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }
}
