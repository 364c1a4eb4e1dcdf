using System.Globalization;
using System.Text.Json;
using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using Xunit.Abstractions;

namespace HippoNode.Analysis.Tests;

/// <summary>The chest X-ray module on DX/CR studies, with an UNTRAINED (random-weight) classifier: the plumbing, not the accuracy.</summary>
public sealed class ChestXrayAnalyzerTests(UntrainedChestModelFixture model, ITestOutputHelper output) : IClassFixture<UntrainedChestModelFixture>
{
    private ChestXrayOptions Options(double? threshold = null) => new() { ModelFolder = model.Folder, Threshold = threshold };

    /// <summary>A study: a PA DX (series 2), a lateral DX (series 3) and an MR series that the rules must pass over.</summary>
    internal static (string Folder, GrayscaleImage Pa, string StudyUid) Study(TempDir tmp, RadiographEncoding encoding = RadiographEncoding.DxVoiLutSequence, bool monochrome1 = true,
        string name = "study", bool lateralOnly = false)
    {
        var folder = tmp[name];
        var studyUid = DicomUid.Generate();
        var pa = TestRadiographs.Phantom();
        if (!lateralOnly)
            RadiographFactory.Write(new RadiographSpec { Image = pa, Encoding = encoding, Monochrome1 = monochrome1, StudyInstanceUid = studyUid, SeriesNumber = 2, SeriesDescription = "Chest PA" },
                Path.Combine(folder, "pa", "1.dcm"));
        RadiographFactory.Write(new RadiographSpec { Image = TestRadiographs.Phantom(300, 352, 0.05), ViewPosition = "LL", StudyInstanceUid = studyUid, SeriesNumber = 3, SeriesDescription = "Chest LAT" },
            Path.Combine(folder, "lat", "1.dcm"));
        SeriesWriter.Save(SeriesWriter.Build(SeriesWriter.Phantom(), SeriesLayout.HippoCrop, "T2_reg", studyUid: studyUid, seriesNumber: 4), Path.Combine(folder, "mr"));
        return (folder, pa, studyUid);
    }

    private static JsonElement ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task FrontalImageIsClassified_AndTheResultIsTheClassifiersOnTheImageTheDicomWasMadeFrom()
    {
        using var tmp = new TempDir();
        var (study, pa, studyUid) = Study(tmp);
        using var analyzer = new ChestXrayAnalyzer(Options());
        var result = await analyzer.AnalyzeAsync(study, tmp["out"]);

        Assert.Equal(AnalysisStatus.Completed, result.Status);
        Assert.Equal("chest-xray", result.Module);
        Assert.Equal(studyUid, result.StudyInstanceUid);
        var chosen = Assert.Single(result.Series, s => s.Chosen);
        Assert.Equal("Chest PA", chosen.SeriesDescription);
        Assert.Contains("view position LL is not one of [PA, AP]", result.Series.Single(s => s.SeriesDescription == "Chest LAT").Reason, StringComparison.Ordinal);
        Assert.Contains("modality MR is not one of [DX, CR]", result.Series.Single(s => s.SeriesDescription == "T2_reg").Reason, StringComparison.Ordinal);
        Assert.Equal(["sr.dcm", "sc.dcm"], result.OutputFiles.Select(Path.GetFileName));
        Assert.Contains(result.Warnings, w => w.Contains("UNTRAINED", StringComparison.Ordinal));

        // The DICOM path (MONOCHROME1, 12 bits, VOI LUT) gives the classifier what the image itself gives it.
        using var direct = ClassifierModel.Load(model.Folder);
        var expected = direct.Classify(pa);
        var probability = result.Measurements["probability"];
        output.WriteLine($"{result.Summary}; direct on the source image: {expected.Probability:F6}; stages {string.Join(", ", result.Stages.Select(s => $"{s.Stage} {s.Duration.TotalMilliseconds:F0} ms"))}");
        Assert.Equal(expected.Probability, probability, 3);

        var json = ReadJson(result.ResultJson);
        Assert.Equal("chest-xray", json.GetProperty("module").GetString());
        Assert.Equal("completed", json.GetProperty("status").GetString());
        var c = json.GetProperty("classification");
        Assert.Equal(probability, c.GetProperty("probability").GetDouble(), 6);
        Assert.Equal(0.5, c.GetProperty("threshold").GetDouble());
        Assert.Equal(probability >= 0.5 ? "PNEUMONIA" : "NORMAL", c.GetProperty("decision").GetString());
        Assert.Equal([8, 8], c.GetProperty("heatMap").GetProperty("grid").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(c.GetProperty("heatMap").GetProperty("logitDeviation").GetDouble() < 1e-3);
        var image = json.GetProperty("image");
        Assert.Equal("MONOCHROME1", image.GetProperty("photometricInterpretation").GetString());
        Assert.True(image.GetProperty("inverted").GetBoolean());
        Assert.StartsWith("VOI LUT Sequence", image.GetProperty("voiLut").GetString(), StringComparison.Ordinal);
        Assert.True(json.GetProperty("model").GetProperty("untrained").GetBoolean());

        // The SR carries the same probability and the decision; both objects belong to the source study and are ours.
        var sr = DicomFile.Open(result.OutputFiles[0]).Dataset;
        var nums = ReportingObjectsWalk(sr).Where(i => i.GetString(DicomTags.ValueType) == "NUM").ToList();
        var srProbability = double.Parse(nums[0].GetSequence(DicomTags.MeasuredValueSequence)!.Items[0].GetString(DicomTags.NumericValue)!, CultureInfo.InvariantCulture);
        Assert.Equal(probability, srProbability, 6);
        foreach (var f in result.OutputFiles)
        {
            var ds = DicomFile.Open(f).Dataset;
            Assert.Equal(studyUid, ds.GetString(DicomTags.StudyInstanceUID));
            Assert.Equal("HippoNode", ds.GetString(DicomTags.Manufacturer));
        }
    }

    [ToolFact("dciodvfy")]
    public async Task Outputs_PassDciodvfy()
    {
        using var tmp = new TempDir();
        var (study, _, _) = Study(tmp, RadiographEncoding.DxWindow, monochrome1: false);
        using var analyzer = new ChestXrayAnalyzer(Options());
        var result = await analyzer.AnalyzeAsync(study, tmp["out"]);
        foreach (var f in result.OutputFiles)
        {
            var (_, so, se) = TestData.Run("dciodvfy", [f]);
            var errors = (so + se).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
            output.WriteLine($"{Path.GetFileName(f)}: {errors.Count} errors");
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task Monochrome1AndMonochrome2CodingsOfOneImage_GiveTheSameProbability()
    {
        using var tmp = new TempDir();
        using var analyzer = new ChestXrayAnalyzer(Options());
        var a = await analyzer.AnalyzeAsync(Study(tmp, RadiographEncoding.DxWindow, false, "m2").Folder, tmp["o2"]);
        var b = await analyzer.AnalyzeAsync(Study(tmp, RadiographEncoding.CrModalityLut, true, "m1").Folder, tmp["o1"]);
        Assert.Equal(a.Measurements["probability"], b.Measurements["probability"], 3);
    }

    [Fact]
    public async Task ConfiguredThreshold_DecidesInsteadOfTheModels()
    {
        using var tmp = new TempDir();
        var study = Study(tmp).Folder;
        using var low = new ChestXrayAnalyzer(Options(threshold: 0.0001));
        using var high = new ChestXrayAnalyzer(Options(threshold: 0.9999));
        var positive = await low.AnalyzeAsync(study, tmp["low"]);
        var negative = await high.AnalyzeAsync(study, tmp["high"]);
        Assert.Equal(1, positive.Measurements["positive"]);
        Assert.Equal(0, negative.Measurements["positive"]);
        Assert.Equal("set in the node's configuration", ReadJson(negative.ResultJson).GetProperty("classification").GetProperty("thresholdSource").GetString());
    }

    [Fact]
    public async Task ProbabilityInTheReviewBand_IsFlaggedForReview_InResultJsonSrAndSummary_AndOutsideTheBandItIsNot()
    {
        using var tmp = new TempDir();
        var (study, pa, _) = Study(tmp);
        using var direct = ClassifierModel.Load(model.Folder);
        var p = direct.Classify(pa).Probability;
        // The threshold at the image's own probability (distance 0), 3 log-odds below it (outside the default margin of 2),
        // and at the image's probability with the flag turned off.
        var far = 1 / (1 + Math.Exp(-(ReviewBand.Logit(p) - 3)));
        using var near = new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = model.Folder, Threshold = p });
        using var away = new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = model.Folder, Threshold = far });
        using var off = new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = model.Folder, Threshold = p, ReviewMargin = 0 });
        var flagged = await near.AnalyzeAsync(study, tmp["near"]);
        var clear = await away.AnalyzeAsync(study, tmp["away"]);
        var unflagged = await off.AnalyzeAsync(study, tmp["off"]);

        Assert.True(flagged.QualityFlagged);
        Assert.Equal(1, flagged.Measurements[ChestXrayAnalyzer.ReviewFlaggedMeasurement]);
        Assert.Contains(flagged.Warnings, w => w.Contains("within the review band", StringComparison.Ordinal));
        Assert.Contains("flagged for review", flagged.Summary, StringComparison.Ordinal);
        var review = ReadJson(flagged.ResultJson).GetProperty("classification").GetProperty("review");
        Assert.True(review.GetProperty("flagged").GetBoolean());
        Assert.Equal(ReviewBand.DefaultMargin, review.GetProperty("margin").GetDouble());
        Assert.InRange(p, review.GetProperty("low").GetDouble(), review.GetProperty("high").GetDouble());
        Assert.Equal("YES", SrFlag(flagged));
        Assert.Contains(ReportingObjectsWalk(DicomFile.Open(flagged.OutputFiles[0]).Dataset),
            i => i.GetString(DicomTags.TextValue)?.StartsWith("UNCERTAIN", StringComparison.Ordinal) == true);

        Assert.False(clear.QualityFlagged);
        Assert.Equal(0, clear.Measurements[ChestXrayAnalyzer.ReviewFlaggedMeasurement]);
        Assert.DoesNotContain(clear.Warnings, w => w.Contains("review band", StringComparison.Ordinal));
        var clearReview = ReadJson(clear.ResultJson).GetProperty("classification").GetProperty("review");
        Assert.False(clearReview.GetProperty("flagged").GetBoolean());
        Assert.Equal(3, clearReview.GetProperty("distance").GetDouble(), 2);
        Assert.Equal("NO", SrFlag(clear));

        Assert.False(unflagged.QualityFlagged);
        Assert.StartsWith("off", ReadJson(unflagged.ResultJson).GetProperty("classification").GetProperty("review").GetProperty("rule").GetString(), StringComparison.Ordinal);
        Assert.Null(SrFlag(unflagged));
    }

    /// <summary>The SR's "probability within the review band" answer ("YES" or "NO"), or null when the SR has none.</summary>
    private static string? SrFlag(StudyAnalysisResult result)
    {
        var sr = DicomFile.Open(result.OutputFiles[0]).Dataset;
        var item = ReportingObjectsWalk(sr).FirstOrDefault(i =>
            i.GetSequence(DicomTags.ConceptNameCodeSequence)?.Items[0].GetString(DicomTags.CodeValue) == "UNCERTAIN");
        var answer = item?.GetSequence(DicomTags.ConceptCodeSequence)?.Items[0].GetString(DicomTags.CodeMeaning);
        return answer?.ToUpperInvariant();
    }

    [Fact]
    public async Task NoFrontalChestImage_IsNoEligibleSeries_WithTheReasonPerSeries()
    {
        using var tmp = new TempDir();
        var (study, _, _) = Study(tmp, lateralOnly: true);
        using var analyzer = new ChestXrayAnalyzer(Options());
        var result = await analyzer.AnalyzeAsync(study, tmp["out"]);
        Assert.Equal(AnalysisStatus.NoEligibleSeries, result.Status);
        Assert.Empty(result.OutputFiles);
        Assert.All(result.Series, s => Assert.StartsWith("skipped: ", s.Reason, StringComparison.Ordinal));
        Assert.Equal("no-eligible-series", ReadJson(result.ResultJson).GetProperty("status").GetString());
        Assert.Equal(["result.json"], Directory.GetFiles(tmp["out"]).Select(Path.GetFileName));
    }

    [Fact]
    public async Task MissingModel_FailsWithAMessageThatSaysWhatToDo_AndResultJsonSaysFailed()
    {
        using var tmp = new TempDir();
        var (study, _, _) = Study(tmp);
        using var analyzer = new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = tmp["no-model"] });
        var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(study, tmp["out"]));
        Assert.Contains("has no model.json; train the chest X-ray classifier", ex.Message, StringComparison.Ordinal);
        var json = ReadJson(tmp["out/result.json"]);
        Assert.Equal("failed", json.GetProperty("status").GetString());
        Assert.Equal(ex.Message, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ManifestThatDoesNotDescribeTheOnnxHead_IsRefused()
    {
        using var tmp = new TempDir();
        var folder = tmp["model"];
        ClassifierFolderWriterCopy(model.Folder, folder);
        var json = File.ReadAllText(Path.Combine(folder, "model.json"));
        // Another head's weights: the CAM would explain a different logit than the network's.
        var doc = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        doc["cam"]!["bias"] = 5.0;
        File.WriteAllText(Path.Combine(folder, "model.json"), doc.ToJsonString());
        using var analyzer = new ChestXrayAnalyzer(new ChestXrayOptions { ModelFolder = folder });
        var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(Study(tmp).Folder, tmp["out"]));
        Assert.Contains("does not belong to this ONNX file", ex.Message, StringComparison.Ordinal);
    }

    private static void ClassifierFolderWriterCopy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    internal static IEnumerable<DicomDataset> ReportingObjectsWalk(DicomDataset ds)
    {
        foreach (var item in ds.GetSequence(DicomTags.ContentSequence)?.Items ?? [])
        {
            yield return item;
            foreach (var child in ReportingObjectsWalk(item)) yield return child;
        }
    }
}
