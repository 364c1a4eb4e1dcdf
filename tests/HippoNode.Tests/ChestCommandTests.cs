using System.Text.Json;
using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Commands;
using HippoNode.Dicom;
using HippoNode.Node.Demo;
using HippoNode.Onnx;
using SkiaSharp;
using Xunit.Abstractions;

namespace HippoNode.Tests;

/// <summary>The verbs around the chest X-ray module: evaluate (images and DICOM), rules test, analyze --module, demo with both modules.</summary>
public sealed class ChestCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-cli-cxr-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Sub(string name) => Path.Combine(_dir, name);

    /// <summary>An UNTRAINED model (random weights): the verbs' plumbing, never their accuracy.</summary>
    private string Model()
    {
        var folder = Sub("model");
        if (!Directory.Exists(folder)) ClassifierFolderWriter.WriteUntrained(folder);
        return folder;
    }

    private static GrayscaleImage Image(int i) => RadiographFactory.ChestPhantom(120 + 7 * i, 140 + 5 * i);

    private static void SaveEncoded(GrayscaleImage image, string path, SKEncodedImageFormat format)
    {
        using var bmp = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
            {
                var g = (byte)Math.Round(image.Pixels[y * image.Width + x] * 255);
                bmp.SetPixel(x, y, new SKColor(g, g, g));
            }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bmp.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    private (int Code, string Out, string Err) Evaluate(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = EvaluateCommand.Run(args, o, e);
        output.WriteLine(o.ToString() + e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Evaluate_ImageFolders_WritesProbabilitiesSummaryAndCharts()
    {
        for (var i = 0; i < 3; i++) SaveEncoded(Image(i), Sub($"images/NORMAL/n{i}.png"), SKEncodedImageFormat.Png);
        for (var i = 0; i < 4; i++) SaveEncoded(Image(i + 3), Sub($"images/PNEUMONIA/p{i}.jpeg"), SKEncodedImageFormat.Jpeg);
        var json = Sub("eval/report.json");

        var (code, stdout, _) = Evaluate("--model", Model(), "--images", Sub("images"), "--json", json);
        Assert.Equal(0, code);
        Assert.Contains("UNTRAINED", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        var summary = root.GetProperty("summary");
        foreach (var key in new[] { "accuracy", "auroc", "sensitivity", "specificity", "ppv", "npv" }) Assert.True(summary.TryGetProperty(key, out _), key);
        Assert.Equal((7, 4, 3), (summary.GetProperty("count").GetInt32(), summary.GetProperty("positives").GetInt32(), summary.GetProperty("negatives").GetInt32()));

        // The summary is what the per-image probabilities say at the stored threshold.
        var threshold = summary.GetProperty("threshold").GetDouble();
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => (Label: c.GetProperty("label").GetString(), P: c.GetProperty("probability").GetDouble())).ToList();
        var tp = cases.Count(c => c.Label == "PNEUMONIA" && c.P >= threshold);
        var tn = cases.Count(c => c.Label == "NORMAL" && c.P < threshold);
        Assert.Equal(tp, summary.GetProperty("tp").GetInt32());
        Assert.Equal(tn, summary.GetProperty("tn").GetInt32());
        Assert.Equal((tp + tn) / 7.0, summary.GetProperty("accuracy").GetDouble(), 5);
        var scored = cases.Select(c => new ScoredCase(c.Label == "PNEUMONIA", c.P)).ToList();
        Assert.Equal(BinaryMetrics.Auroc(scored), summary.GetProperty("auroc").GetDouble(), 4);

        // Each image classified as the node would: the PNG path gives the model's own probability for that image.
        using var model = ClassifierModel.Load(Model());
        var n0 = cases[0];
        Assert.Equal(model.Classify(GrayscaleImage.Load(Sub("images/NORMAL/n0.png"))).Probability, n0.P, 5);
        foreach (var chart in new[] { "report.roc.png", "report.confusion.png", "report.reliability.png" })
            Assert.NotNull(SKBitmap.Decode(Sub("eval/" + chart)));
    }

    [Fact]
    public void Evaluate_WithPerturb_ClassifiesTheFaultyImage_AndTheReportSaysWhichFault()
    {
        SaveEncoded(Image(0), Sub("images/NORMAL/n0.png"), SKEncodedImageFormat.Png);
        SaveEncoded(Image(1), Sub("images/PNEUMONIA/p0.png"), SKEncodedImageFormat.Png);
        var (code, stdout, _) = Evaluate("--model", Model(), "--images", Sub("images"), "--json", Sub("eval/inverted.json"), "--perturb", "invert");
        Assert.Equal(0, code);
        Assert.Contains("every image perturbed: invert", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Sub("eval/inverted.json")));
        Assert.Equal("invert", doc.RootElement.GetProperty("perturbation").GetString());
        var n0 = doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("file").GetString()!.EndsWith("n0.png", StringComparison.Ordinal));
        using var model = ClassifierModel.Load(Model());
        var image = GrayscaleImage.Load(Sub("images/NORMAL/n0.png"));
        Assert.Equal(model.Classify(ImagePerturbation.Apply(image, "invert")).Probability, n0.GetProperty("probability").GetDouble(), 5);
        Assert.NotEqual(Math.Round(model.Classify(image).Probability, 6), n0.GetProperty("probability").GetDouble());

        Assert.Contains("--perturb 'blur' is not one of invert", Assert.Throws<UsageException>(() =>
            Evaluate("--model", Model(), "--images", Sub("images"), "--json", Sub("eval/x.json"), "--perturb", "blur")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_DicomWithALabelList_ClassifiesThroughTheDicomPipeline()
    {
        var lines = new List<string> { "path,label" };
        for (var i = 0; i < 4; i++)
        {
            var label = i % 2 == 0 ? "NORMAL" : "PNEUMONIA";
            RadiographFactory.Write(new RadiographSpec { Image = Image(i), Encoding = i < 2 ? RadiographEncoding.DxWindow : RadiographEncoding.DxVoiLutSequence, Monochrome1 = i % 2 == 1 },
                Sub($"dicom/img{i}.dcm"));
            lines.Add($"img{i}.dcm,{label}");
        }
        File.WriteAllLines(Sub("labels.csv"), lines);
        var (code, _, _) = Evaluate("--model", Model(), "--images", Sub("dicom"), "--labels", Sub("labels.csv"), "--json", Sub("dcm.json"));
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(Sub("dcm.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(4, cases.Count);
        using var model = ClassifierModel.Load(Model());
        // MONOCHROME1 with a VOI LUT gives the probability of the image it was made from.
        Assert.Equal(model.Classify(Image(3)).Probability, cases[3].GetProperty("probability").GetDouble(), 3);

        File.WriteAllLines(Sub("bad.csv"), ["img0.dcm,MAYBE"]);
        var (bad, _, err) = Evaluate("--model", Model(), "--images", Sub("dicom"), "--labels", Sub("bad.csv"), "--json", Sub("bad.json"));
        Assert.Equal(1, bad);
        Assert.Contains("label 'MAYBE' is not one of the model's", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_WithASegmentationFolder_StaysTheHippocampusEvaluation()
    {
        var ex = Assert.Throws<UsageException>(() => EvaluateCommand.Run(
            ["--model", Path.Combine(TestData.RepoRoot, "models", "hippocampus"), "--images", _dir, "--json", Sub("x.json")], TextWriter.Null, TextWriter.Null));
        Assert.Contains("--labels is required", ex.Message, StringComparison.Ordinal);
    }

    private static (string Folder, string StudyUid) BothStudy(string folder, bool lateral = false)
    {
        var uid = SyntheticStudy.Write(Path.Combine(folder, "mr"));
        RadiographFactory.Write(new RadiographSpec { Image = Image(2), StudyInstanceUid = uid, ViewPosition = lateral ? "LL" : "PA" }, Path.Combine(folder, "cxr", "1.dcm"));
        return (folder, uid);
    }

    [Fact]
    public async Task RulesTest_ExplainsEachModulesChoice_AndExit3WhenNoneApplies()
    {
        var (both, _) = BothStudy(Sub("both"));
        var o = new StringWriter();
        Assert.Equal(0, await RulesCommand.RunAsync(["test", both], o, TextWriter.Null, CancellationToken.None));
        var text = o.ToString();
        output.WriteLine(text);
        Assert.Contains("module hippocampus (rules 'hippocampus-crop'): applies", text, StringComparison.Ordinal);
        Assert.Contains("module chest-xray (rules 'chest-xray-frontal'): applies", text, StringComparison.Ordinal);
        Assert.Contains("chosen: image", text, StringComparison.Ordinal);

        RadiographFactory.Write(new RadiographSpec { Image = Image(2), ViewPosition = "LL" }, Sub("lat/1.dcm"));
        var lat = new StringWriter();
        Assert.Equal(3, await RulesCommand.RunAsync(["test", Sub("lat")], lat, TextWriter.Null, CancellationToken.None));
        Assert.Contains("no module applies", lat.ToString(), StringComparison.Ordinal);
        Assert.Contains("view position LL is not one of [PA, AP]", lat.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnalyzeChestModule_WritesSrScAndResultJson()
    {
        var (both, uid) = BothStudy(Sub("both"));
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await AnalyzeCommand.RunAsync([both, "--out", Sub("out"), "--module", "chest-xray", "--model", Model()], o, e, CancellationToken.None);
        output.WriteLine(o.ToString() + e);
        Assert.Equal(0, code);
        Assert.Contains("pneumonia probability", o.ToString(), StringComparison.Ordinal);
        Assert.Equal(["result.json", "sc.dcm", "sr.dcm"], Directory.GetFiles(Sub("out")).Select(Path.GetFileName).Order());
        Assert.Equal(uid, HippoNode.Dicom.IO.DicomFile.Open(Sub("out/sr.dcm")).Dataset.GetString(DicomTags.StudyInstanceUID));
    }

    [SharedDataFact]
    public async Task Demo_ShowsBothModules_AndSaysTheChestModelIsUntrained()
    {
        var o = new StringWriter();
        var code = await DemoCommand.RunAsync(["--synthetic", "--out", Sub("demo"), "--chest-model", Sub("no-trained-model"), "--timeout", "120"], o, TextWriter.Null, CancellationToken.None);
        var text = o.ToString();
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("WARNING: no trained chest X-ray model", text, StringComparison.Ordinal);
        Assert.Contains("module hippocampus: completed: volumes", text, StringComparison.Ordinal);
        Assert.Contains("module chest-xray: completed: pneumonia probability", text, StringComparison.Ordinal);
        Assert.Contains("(UNTRAINED model)", text, StringComparison.Ordinal);
        Assert.Equal(5, text.Split('\n').Count(l => l.Contains("-> PACS ", StringComparison.Ordinal) && !l.Contains("(not stored)", StringComparison.Ordinal)));
    }
}
