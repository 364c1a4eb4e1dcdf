using System.Globalization;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Reporting;
using SkiaSharp;
using Xunit.Abstractions;

namespace HippoNode.Reporting.Tests;

/// <summary>The chest X-ray SR and report page over a synthetic DX source, checked by dicom3tools and DCMTK and by reading the page back.</summary>
public sealed class ChestXrayObjectsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-cxr-reporting-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A DX For Presentation header as a scanner sends it (no pixel data: the writers never need it).</summary>
    internal static DicomDataset DxSource(int rows, int columns)
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100")
            .AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.DigitalXRayImageStorageForPresentation)
            .AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.StudyDate, DicomVR.DA, "20260102")
            .AddOrUpdate(DicomTags.StudyTime, DicomVR.TM, "101500")
            .AddOrUpdate(DicomTags.AccessionNumber, DicomVR.SH, "CXR0001")
            .AddOrUpdate(DicomTags.StudyDescription, DicomVR.LO, "Chest PA")
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Test^Chest")
            .AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "CXR-1")
            .AddOrUpdate(DicomTags.PatientBirthDate, DicomVR.DA, "")
            .AddOrUpdate(DicomTags.PatientSex, DicomVR.CS, "F")
            .AddOrUpdate(DicomTags.Modality, DicomVR.CS, "DX")
            .AddOrUpdate(DicomTags.ViewPosition, DicomVR.CS, "PA")
            .AddOrUpdate(DicomTags.BodyPartExamined, DicomVR.CS, "CHEST")
            .AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)rows)
            .AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)columns);
        return ds;
    }

    /// <summary>A gradient radiograph with a heat blob centred at (0.3 columns, 0.4 rows).</summary>
    internal static ClassificationFindings Findings(double probability = 0.83, bool untrained = false, bool noHeat = false, int rows = 300, int columns = 256,
        (double Low, double High)? reviewBand = null)
    {
        var display = new float[rows * columns];
        var heat = new float[rows * columns];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                display[r * columns + c] = (float)(0.2 + 0.6 * r / rows);
                double dx = (c - 0.3 * columns) / (0.12 * columns), dy = (r - 0.4 * rows) / (0.12 * rows);
                heat[r * columns + c] = noHeat ? 0 : (float)Math.Exp(-(dx * dx + dy * dy));
            }
        return new ClassificationFindings
        {
            Source = DxSource(rows, columns),
            Rows = rows,
            Columns = columns,
            Display = display,
            Heat = heat,
            Probability = probability,
            Threshold = 0.42,
            ThresholdSource = "Youden's J on validation",
            Algorithm = new AlgorithmInfo("chest-xray-test", "1.2.3", "Artificial Intelligence", 1),
            Untrained = untrained,
            ReviewBand = reviewBand,
            Uncertain = reviewBand is { } b && probability > b.Low && probability < b.High,
            PixelSpacing = (0.5, 0.5, "Imager Pixel Spacing"),
            DisplayPipeline = "window 2048/4096 (LINEAR)",
            ContentTime = new DateTimeOffset(2026, 1, 2, 11, 0, 0, TimeSpan.Zero),
        };
    }

    private string Save(DicomDataset ds, string name)
    {
        var path = Path.Combine(_dir, name);
        new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    private List<string> DciodvfyErrors(string path)
    {
        var (_, so, se) = TestData.Run("dciodvfy", [path]);
        var lines = (so + "\n" + se).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var l in lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal)).Distinct())
            output.WriteLine($"  {Path.GetFileName(path)}: {l}");
        return [.. lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal))];
    }

    [ToolFact("dciodvfy", "dsrdump", "dcmdump")]
    public void SrAndSc_PassDciodvfy_AndTheSrCarriesProbabilityThresholdDecisionAndAlgorithm()
    {
        var f = Findings();
        var options = ReportingOptions.ChestXray;
        var sr = Save(ClassificationReportWriter.Create(f, options), "sr.dcm");
        using var page = ChestXrayPageRenderer.Render(f, options);
        var sc = Save(SecondaryCaptureWriter.Create(f.Source, f.ContentTime, options, page, "Chest X-ray report page"), "sc.dcm");

        Assert.Empty(DciodvfyErrors(sr));
        Assert.Empty(DciodvfyErrors(sc));
        foreach (var p in new[] { sr, sc }) Assert.Equal(0, TestData.Run("dcmdump", ["-q", p]).ExitCode);

        var (rc, text, err) = TestData.Run("dsrdump", ["+Pc", "+Pl", sr]);
        output.WriteLine(text + err);
        Assert.Equal(0, rc);
        Assert.DoesNotContain("warning", err, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<CONTAINER:(126000,DCM,\"Imaging Measurement Report\")=SEPARATE>", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod CODE:(121058,DCM,\"Procedure reported\")=(399208008,SCT,\"Plain chest X-ray\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains CODE:(121071,DCM,\"Finding\")=(233604007,SCT,\"Pneumonia\")>", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod CODE:(363698007,SCT,\"Finding Site\")=(39607008,SCT,\"Lung structure\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains NUM:(PNEUMONIA_PROB,99HIPPONODE,\"Pneumonia probability (classifier output)\")=\"0.83\" (1,UCUM,\"no units\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains NUM:(DECISION_THR,99HIPPONODE,\"Classifier decision threshold\")=\"0.42\" (1,UCUM,\"no units\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains CODE:(233604007,SCT,\"Pneumonia\")=(52101004,SCT,\"Present\")>", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod TEXT:(111001,DCM,\"Algorithm Name\")=\"chest-xray-test\">", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod TEXT:(111003,DCM,\"Algorithm Version\")=\"1.2.3\">", text, StringComparison.Ordinal);
        Assert.Contains("<inferred from SCOORD:=(POLYLINE,", text, StringComparison.Ordinal);
        Assert.Contains("Not for diagnostic use", text, StringComparison.Ordinal);
        Assert.DoesNotContain("UNTRAINED", text, StringComparison.Ordinal);

        // The evidence and the library name the source radiograph; the objects carry its study and our manufacturer.
        var back = DicomFile.Open(sr).Dataset;
        var evidence = back.GetSequence(DicomTags.CurrentRequestedProcedureEvidenceSequence)!.Items.Single().GetSequence(DicomTags.ReferencedSeriesSequence)!.Items.Single();
        Assert.Equal(f.Source.GetString(DicomTags.SOPInstanceUID), evidence.GetSequence(DicomTags.ReferencedSOPSequence)!.Items.Single().GetString(DicomTags.ReferencedSOPInstanceUID));
        Assert.Equal("HippoNode CXR SR", back.GetString(DicomTags.SeriesDescription));
        Assert.True(ReportingOptions.IsOwnObject(back));
        Assert.Equal(f.Source.GetString(DicomTags.StudyInstanceUID), DicomFile.Open(sc).Dataset.GetString(DicomTags.StudyInstanceUID));
        Assert.Equal("HippoNode CXR Report", DicomFile.Open(sc).Dataset.GetString(DicomTags.SeriesDescription));
    }

    [ToolFact("dciodvfy", "dsrdump")]
    public void NegativeUntrained_SaysAbsentAndUntrained_AndNoHeatOutlinesTheWholeImage()
    {
        var f = Findings(probability: 0.1, untrained: true, noHeat: true);
        var sr = Save(ClassificationReportWriter.Create(f, ReportingOptions.ChestXray), "sr.dcm");
        Assert.Empty(DciodvfyErrors(sr));
        var text = TestData.Run("dsrdump", ["+Pc", "+Pl", sr]).StdOut;
        Assert.Contains("<contains CODE:(233604007,SCT,\"Pneumonia\")=(2667000,SCT,\"Absent\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains CODE:(UNTRAINED_MODEL,99HIPPONODE,\"Model with untrained (random) weights\")=(373066001,SCT,\"Yes\")>", text, StringComparison.Ordinal);
        Assert.Contains("UNTRAINED MODEL: random weights", text, StringComparison.Ordinal);
        Assert.Contains("<inferred from SCOORD:=(POLYLINE,0/0,256/0,256/300,0/300,0/0)>", text, StringComparison.Ordinal);
    }

    [ToolFact("dciodvfy", "dsrdump")]
    public void ProbabilityInTheReviewBand_SrStatesTheBandAndUncertain_AndThePageShowsABanner()
    {
        var f = Findings(probability: 0.5, reviewBand: (0.2, 0.7));
        var sure = Findings(probability: 0.9, reviewBand: (0.2, 0.7));
        Assert.True(f.Uncertain);
        Assert.False(sure.Uncertain);
        var sr = Save(ClassificationReportWriter.Create(f, ReportingOptions.ChestXray), "sr.dcm");
        Assert.Empty(DciodvfyErrors(sr));
        var text = TestData.Run("dsrdump", ["+Pc", "+Pl", sr]).StdOut;
        Assert.Contains("<contains NUM:(REVIEW_LOW,99HIPPONODE,\"Review band lower probability\")=\"0.2\"", text, StringComparison.Ordinal);
        Assert.Contains("<contains NUM:(REVIEW_HIGH,99HIPPONODE,\"Review band upper probability\")=\"0.7\"", text, StringComparison.Ordinal);
        Assert.Contains("<contains CODE:(UNCERTAIN,99HIPPONODE,\"Probability within the review band\")=(373066001,SCT,\"Yes\")>", text, StringComparison.Ordinal);
        Assert.Contains("UNCERTAIN: the probability lies within the review band", text, StringComparison.Ordinal);
        var sureText = TestData.Run("dsrdump", ["+Pc", "+Pl", Save(ClassificationReportWriter.Create(sure, ReportingOptions.ChestXray), "sure.dcm")]).StdOut;
        Assert.Contains("<contains CODE:(UNCERTAIN,99HIPPONODE,\"Probability within the review band\")=(373067005,SCT,\"No\")>", sureText, StringComparison.Ordinal);
        Assert.DoesNotContain("UNCERTAIN: the probability", sureText, StringComparison.Ordinal);

        // The banner: an amber band across the page under the header lines, only on the uncertain page.
        using var page = ChestXrayPageRenderer.Render(f, ReportingOptions.ChestXray);
        using var plain = ChestXrayPageRenderer.Render(sure, ReportingOptions.ChestXray);
        static int Amber(SKBitmap b) => Enumerable.Range(0, b.Height).Sum(y => Enumerable.Range(0, b.Width).Count(x =>
        {
            var c = b.GetPixel(x, y);
            return c.Red == 140 && c.Green == 90 && c.Blue == 0;
        }));
        Assert.True(Amber(page) > 10_000, $"{Amber(page)} amber pixels");
        Assert.Equal(0, Amber(plain));
    }

    [Fact]
    public void HotRegion_OutlinesTheBlobAboveHalfItsMaximum()
    {
        var f = Findings();
        var outline = ClassificationReportWriter.HotRegion(f)!;
        var xs = outline.Where((_, i) => i % 2 == 0).ToArray();
        var ys = outline.Where((_, i) => i % 2 == 1).ToArray();
        Assert.Equal((xs[0], ys[0]), (xs[^1], ys[^1]));
        // exp(-d²) >= 0.5 where d <= sqrt(ln 2) = 0.8326 radii of 0.12 of the size around (0.3, 0.4).
        var rx = Math.Sqrt(Math.Log(2)) * 0.12 * f.Columns;
        var ry = Math.Sqrt(Math.Log(2)) * 0.12 * f.Rows;
        Assert.InRange(xs.Min(), 0.3 * f.Columns - rx - 3, 0.3 * f.Columns - rx + 3);
        Assert.InRange(xs.Max(), 0.3 * f.Columns + rx - 3, 0.3 * f.Columns + rx + 3);
        Assert.InRange(ys.Min(), 0.4 * f.Rows - ry - 3, 0.4 * f.Rows - ry + 3);
        Assert.InRange(ys.Max(), 0.4 * f.Rows + ry - 3, 0.4 * f.Rows + ry + 3);
    }

    [Fact]
    public void Page_OverlaysColourOnlyWhereThereIsEvidence_AndShowsTheRadiographUnchangedElsewhere()
    {
        var f = Findings();
        using var page = ChestXrayPageRenderer.Render(f, ReportingOptions.ChestXray);
        var (left, right) = ChestXrayPageRenderer.ImageRects(f);
        SKColor At(SKRect r, double u, double v) => page.GetPixel((int)(r.Left + u * r.Width), (int)(r.Top + v * r.Height));

        var plainLeft = At(left, 0.8, 0.9);
        var plainRight = At(right, 0.8, 0.9);
        var hotLeft = At(left, 0.3, 0.4);
        var hotRight = At(right, 0.3, 0.4);
        output.WriteLine($"plain {plainLeft} / {plainRight}; hot {hotLeft} / {hotRight}; typeface {ReportFonts.Source}");
        Assert.Equal(hotLeft.Red, hotLeft.Blue);                    // the radiograph is gray
        Assert.Equal(plainLeft, plainRight);                        // no evidence: the overlay leaves the radiograph as it is
        Assert.True(hotRight.Red > hotRight.Blue + 60, "the maximum of the heat map is drawn red");
        Assert.True(Math.Abs(hotRight.Red - hotLeft.Red) > 40, "the overlay changes the hot spot");
    }

    [Fact]
    public void HeatColour_RunsBlueToRed_AndAlphaIsZeroWithoutEvidence()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)255), ChestXrayPageRenderer.HeatColour(0));
        Assert.Equal(((byte)0, (byte)255, (byte)0), ChestXrayPageRenderer.HeatColour(0.5));
        Assert.Equal(((byte)255, (byte)0, (byte)0), ChestXrayPageRenderer.HeatColour(1));
        Assert.Equal(0, ChestXrayPageRenderer.HeatAlpha(0));
        Assert.True(ChestXrayPageRenderer.HeatAlpha(1) > ChestXrayPageRenderer.HeatAlpha(0.5));
    }

    [Fact]
    public void Charts_AreReadablePngs()
    {
        var roc = EvaluationCharts.RocPng([(0, 0), (0.1, 0.7), (0.3, 0.9), (1, 1)], 0.91, (0.1, 0.7), "ROC");
        var confusion = EvaluationCharts.ConfusionPng(70, 10, 90, 30, "NORMAL", "PNEUMONIA", "confusion");
        var reliability = EvaluationCharts.ReliabilityPng([(0.1, 0.05, 20), (0.5, 0.55, 10), (0.9, 0.8, 30)], 0.04, "reliability");
        foreach (var png in new[] { roc, confusion, reliability })
        {
            using var bmp = SKBitmap.Decode(png);
            Assert.Equal((640, 640), (bmp.Width, bmp.Height));
        }
        if (Environment.GetEnvironmentVariable("HIPPONODE_KEEP_REPORT") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.WriteAllBytes(Path.Combine(keep, "cxr-roc.png"), roc);
            File.WriteAllBytes(Path.Combine(keep, "cxr-confusion.png"), confusion);
            File.WriteAllBytes(Path.Combine(keep, "cxr-reliability.png"), reliability);
            File.WriteAllBytes(Path.Combine(keep, "cxr-page.png"), ChestXrayPageRenderer.RenderPng(Findings(), ReportingOptions.ChestXray));
            File.WriteAllBytes(Path.Combine(keep, "cxr-page-untrained.png"), ChestXrayPageRenderer.RenderPng(Findings(0.2, untrained: true), ReportingOptions.ChestXray));
            File.WriteAllBytes(Path.Combine(keep, "cxr-page-uncertain.png"), ChestXrayPageRenderer.RenderPng(Findings(0.5, reviewBand: (0.2, 0.7)), ReportingOptions.ChestXray));
        }
        _ = CultureInfo.InvariantCulture;
    }
}
