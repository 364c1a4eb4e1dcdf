using System.Globalization;
using HippoNode.Analysis;
using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Onnx;

namespace HippoNode.EndToEnd.Tests;

/// <summary>
/// Chest radiographs through the product: Orthanc with our configuration and Lua router, `hipponode serve` as a child
/// process with an UNTRAINED chest model (random weights: the plumbing, not the accuracy). Frontal DX/CR series reach
/// the node, compressed ones decompressed by Orthanc, and the SR and report page come back into Orthanc.
/// </summary>
public sealed class ChestEndToEndTests : IDisposable
{
    private const int OrthancStableAge = 3;
    private readonly string _work = StackNet.TempDir("cxr-e2e");

    public void Dispose() => StackNet.DeleteDir(_work);

    private string Sub(string name) => Path.Combine(_work, name);

    /// <summary>Writes a radiograph made from the shared training set's image; returns its file.</summary>
    private string Radiograph(string folder, string label, int index, RadiographEncoding encoding, bool monochrome1, string view = "PA", string bodyPart = "CHEST",
        string? studyUid = null, string description = "Chest")
    {
        var file = Directory.EnumerateFiles(TestData.Shared("chest-xray-pneumonia", "train", label)).Order(StringComparer.Ordinal).ElementAt(index);
        var img = GrayscaleImage.Load(file);
        var image = new GrayscaleImage(600, 512, ImagePreprocessing.Resample(img.Pixels, img.Width, img.Height, 600, 512));
        var path = Path.Combine(Sub(folder), $"{description.Replace(' ', '_')}.dcm");
        RadiographFactory.Write(new RadiographSpec
        {
            Image = image, Encoding = encoding, Monochrome1 = monochrome1, ViewPosition = view, BodyPart = bodyPart, StudyInstanceUid = studyUid,
            SeriesDescription = description, PatientId = "HN-CXR-" + folder,
        }, path);
        return path;
    }

    private static string JpegLossless(string source, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var (rc, so, se) = TestData.Run("dcmcjpeg", ["+e1", source, target]);
        Assert.True(rc == 0, so + se);
        Assert.True(DicomFile.Open(target).TransferSyntax.IsEncapsulated);
        return target;
    }

    [StackFact("Orthanc", "storescp", "storescu", "dcmcjpeg")]
    public async Task Router_SendsFrontalChestSeriesOnly_AndOrthancDecompressesForTheNode()
    {
        var received = Sub("node");
        Directory.CreateDirectory(received);
        var nodePort = StackNet.FreePort();
        // storescp accepts uncompressed syntaxes only by default, like the node.
        await using var node = ChildProcess.Start("storescp", ["-aet", "HIPPONODE", "-od", received, "-fe", ".dcm", nodePort.ToString(CultureInfo.InvariantCulture)]);
        await StackNet.WaitForPortAsync(nodePort, TimeSpan.FromSeconds(10), "storescp");
        await using var orthanc = await OrthancHost.StartAsync(nodePort, OrthancStableAge);

        var studyUid = DicomUid.Generate();
        var pa = Radiograph("a", "PNEUMONIA", 0, RadiographEncoding.DxWindow, false, studyUid: studyUid, description: "Chest PA");
        Radiograph("a", "PNEUMONIA", 0, RadiographEncoding.DxWindow, false, view: "LL", studyUid: studyUid, description: "Chest LAT");
        Radiograph("a", "NORMAL", 1, RadiographEncoding.DxWindow, false, bodyPart: "HAND", studyUid: studyUid, description: "Hand");
        var compressedSource = Radiograph("b-plain", "NORMAL", 0, RadiographEncoding.DxVoiLutSequence, true, view: "AP");
        var compressed = JpegLossless(compressedSource, Sub("b/cxr.dcm"));
        NodeEndToEndTests.StoreScu(orthanc.DicomPort, Sub("a"));
        StoreScuJpegLossless(orthanc.DicomPort, Sub("b"));

        var idA = await orthanc.StudyIdAsync(studyUid);
        var idB = await orthanc.StudyIdAsync(DicomFile.Open(compressed).Dataset.GetString(DicomTags.StudyInstanceUID)!);
        var decisionA = (await orthanc.WaitForRouterAsync(idA, 1, TimeSpan.FromSeconds(45)))[0];
        Assert.Contains("sent 1 series to hipponode (1 for chest-xray", decisionA, StringComparison.Ordinal);
        Assert.Contains("sent 1 series", (await orthanc.WaitForRouterAsync(idB, 1, TimeSpan.FromSeconds(45)))[0], StringComparison.Ordinal);

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (Directory.GetFiles(received).Length < 2 && DateTime.UtcNow < until) await Task.Delay(200);
        await Task.Delay(500);
        var files = Directory.GetFiles(received).Select(f => DicomFile.Open(f)).ToList();
        Assert.Equal(["Chest PA", "Chest"], files.Select(f => f.Dataset.GetString(DicomTags.SeriesDescription)).OrderByDescending(s => s?.Length));
        Assert.Equal(DicomFile.Open(pa).Dataset.GetString(DicomTags.SOPInstanceUID), files.Single(f => f.Dataset.GetString(DicomTags.SeriesDescription) == "Chest PA").Dataset.GetString(DicomTags.SOPInstanceUID));
        // The JPEG lossless image arrived decompressed, pixel for pixel the image it was compressed from.
        var decompressed = files.Single(f => f.Dataset.GetString(DicomTags.SeriesDescription) == "Chest");
        Assert.False(decompressed.TransferSyntax.IsEncapsulated);
        var original = (DicomElement)DicomFile.Open(compressedSource).Dataset.GetItem(DicomTags.PixelData)!;
        var arrived = (DicomElement)decompressed.Dataset.GetItem(DicomTags.PixelData)!;
        Assert.True(original.Buffer.GetMemory().Span.SequenceEqual(arrived.Buffer.GetMemory().Span), "lossless round trip through Orthanc's transcoding");
    }

    [StackFact("Orthanc", "dicomweb", "storescu", "dcmcjpeg")]
    public async Task ChestStudies_ComeBackWithSrAndReport_TheCompressedOneToo_AndTheProbabilityIsAnalyzes()
    {
        var model = Sub("untrained-model");
        ClassifierFolderWriter.WriteUntrained(model);
        var nodePort = StackNet.FreePort();
        await using var orthanc = await OrthancHost.StartAsync(nodePort, OrthancStableAge);
        await using var node = await NodeProcess.StartAsync(nodePort, orthanc.DicomPort, extraArgs: ["--chest-model", model]);

        var plain = Radiograph("plain", "PNEUMONIA", 1, RadiographEncoding.DxVoiLutSequence, true);
        var compressedSource = Radiograph("source", "NORMAL", 2, RadiographEncoding.DxWindow, false, view: "AP");
        var compressed = JpegLossless(compressedSource, Sub("compressed/cxr.dcm"));
        NodeEndToEndTests.StoreScu(orthanc.DicomPort, Sub("plain"));
        StoreScuJpegLossless(orthanc.DicomPort, Sub("compressed"));

        foreach (var (sent, uncompressed) in new[] { (plain, plain), (compressed, compressedSource) })
        {
            var uid = DicomFile.Open(sent).Dataset.GetString(DicomTags.StudyInstanceUID)!;
            var id = await orthanc.StudyIdAsync(uid);
            var results = await WaitForChestResultsAsync(orthanc, id, DateTime.UtcNow + TimeSpan.FromSeconds(90));
            var sr = await NodeEndToEndTests.DownloadAsync(orthanc, results["HippoNode CXR SR"][0]);
            var sc = await NodeEndToEndTests.DownloadAsync(orthanc, results["HippoNode CXR Report"][0]);
            Assert.Equal(uid, sr.GetString(DicomTags.StudyInstanceUID));
            Assert.Equal("RGB", sc.GetString(DicomTags.PhotometricInterpretation));

            // The SR's probability is what `hipponode analyze --module chest-xray` says of the uncompressed study.
            var srProbability = Probability(sr);
            var outDir = Sub("analyze-" + Path.GetFileName(Path.GetDirectoryName(uncompressed)));
            using var analyzer = new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = model });
            var expected = await analyzer.AnalyzeAsync(Path.GetDirectoryName(uncompressed)!, outDir);
            Assert.Equal(AnalysisStatus.Completed, expected.Status);
            Assert.Equal(expected.Measurements["probability"], srProbability, 5);

            var job = await node.WaitForJobAsync(uid, j => j.GetProperty("state").GetString() == "done", TimeSpan.FromSeconds(30), "chest job done");
            var modules = job.GetProperty("modules").EnumerateArray().ToList();
            Assert.Equal("completed", modules.Single(m => m.GetProperty("module").GetString() == "chest-xray").GetProperty("status").GetString());
            Assert.Equal("not-applicable", modules.Single(m => m.GetProperty("module").GetString() == "hippocampus").GetProperty("status").GetString());
        }
        Assert.Contains(node.Lines, l => l.Contains("module chest-xray", StringComparison.Ordinal));
    }

    /// <summary>storescu proposing JPEG lossless (-xs), as a modality that sends compressed images does; Orthanc keeps them compressed.</summary>
    private static void StoreScuJpegLossless(int port, string folder)
    {
        var (code, stdout, stderr) = TestData.Run("storescu", ["-aec", "ORTHANC", "-aet", "SCANNER", "-xs", "+sd", "+r", "127.0.0.1",
            port.ToString(CultureInfo.InvariantCulture), folder], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"storescu -xs {folder} failed: {stdout}{stderr}");
    }

    private static double Probability(DicomDataset sr)
    {
        foreach (var item in Walk(sr))
        {
            if (item.GetString(DicomTags.ValueType) == "NUM"
                && item.GetSequence(DicomTags.ConceptNameCodeSequence)!.Items[0].GetString(DicomTags.CodeValue) == "PNEUMONIA_PROB")
                return double.Parse(item.GetSequence(DicomTags.MeasuredValueSequence)!.Items[0].GetString(DicomTags.NumericValue)!, CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException("the SR has no pneumonia probability");
    }

    private static IEnumerable<DicomDataset> Walk(DicomDataset ds)
    {
        foreach (var item in ds.GetSequence(DicomTags.ContentSequence)?.Items ?? [])
        {
            yield return item;
            foreach (var child in Walk(item)) yield return child;
        }
    }

    private static async Task<Dictionary<string, List<string>>> WaitForChestResultsAsync(OrthancHost orthanc, string studyId, DateTime deadline)
    {
        while (true)
        {
            var found = new Dictionary<string, List<string>>();
            foreach (var series in (await orthanc.GetJsonAsync($"/studies/{studyId}/series")).EnumerateArray())
            {
                var description = series.GetProperty("MainDicomTags").TryGetProperty("SeriesDescription", out var d) ? d.GetString() : null;
                if (description is "HippoNode CXR SR" or "HippoNode CXR Report")
                    found[description] = [.. series.GetProperty("Instances").EnumerateArray().Select(i => i.GetString()!)];
            }
            if (found.Count == 2) return found;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Orthanc study {studyId} holds only [{string.Join(", ", found.Keys)}] of our chest SR and report at the deadline");
            await Task.Delay(250);
        }
    }
}
