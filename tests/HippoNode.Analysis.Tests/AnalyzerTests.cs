using System.Text.Json;
using HippoNode.Analysis.Outputs;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Reporting;
using HippoNode.Segmentation.Inference;
using Xunit.Abstractions;

namespace HippoNode.Analysis.Tests;

public sealed class AnalyzerTests(TinyModelFixture model, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private AnalysisOptions Options(string? rules = null) => new()
    {
        ModelFolder = model.Folder,
        Rules = rules is null ? Selection.SelectionRules.Default : Selection.SelectionRules.Parse(rules),
    };

    /// <summary>Minimal stand-ins for the report writers: they copy what a real writer must copy, so the analysis's own checks and saving can be tested.</summary>
    private static Func<StudyFindings, ReportingOptions, IReadOnlyList<ReportObject>> FakeWriters(List<StudyFindings> seen, Action<DicomDataset>? tamper = null) =>
        (findings, settings) =>
        {
            seen.Add(findings);
            return [.. new[] { "seg.dcm", "sr.dcm", "sc.dcm" }.Select(name =>
            {
                var src = findings.SourceSlices[0];
                var ds = new DicomDataset();
                ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUid.SecondaryCaptureImageStorage);
                ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomUid.Generate());
                ds.AddOrUpdate(DicomTags.SeriesInstanceUID, DicomUid.Generate());
                foreach (var tag in new[] { DicomTags.StudyInstanceUID, DicomTags.PatientID, DicomTags.FrameOfReferenceUID })
                    ds.AddOrUpdate(tag, src.GetString(tag)!);
                tamper?.Invoke(ds);
                return new ReportObject(name, ds);
            })];
        };

    private static string WriteStudy(TempDir tmp, Volume3D volume, SeriesLayout layout, string description = "HippoCrop", bool quantise = false)
    {
        var study = tmp["study"];
        var studyUid = DicomUid.Generate();
        SeriesWriter.Save(SeriesWriter.Build(volume, layout, description, studyUid: studyUid, seriesNumber: 5, quantise: quantise), Path.Combine(study, "crop"));
        // A second, full-size series of the same study that the rules must skip.
        var big = SeriesWriter.Phantom(new VolumeShape(140, 150, 3));
        for (var n = 0; n < big.Data.Length; n++) big.Data[n] = n % 1000;
        SeriesWriter.Save(SeriesWriter.Build(big, SeriesLayout.HippoCrop, "T2_reg", studyUid: studyUid, seriesNumber: 2), Path.Combine(study, "t2"));
        File.WriteAllText(Path.Combine(study, "README.txt"), "not DICOM");
        return study;
    }

    private static JsonElement ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    [SharedDataTheory]
    [InlineData("Study1", 35, 51, 32)]
    [InlineData("Study2", 36, 48, 35)]
    public async Task TestVolumesStudyIsAnalysedOnTheHippoCrop(string study, int columns, int rows, int slices)
    {
        using var tmp = new TempDir();
        using var analyzer = new StudyAnalyzer(Options());
        var result = await analyzer.AnalyzeAsync(TestData.Shared("TestVolumes", study), tmp.Path);

        Assert.Equal(AnalysisStatus.Completed, result.Status);
        var chosen = Assert.Single(result.Series, s => s.Chosen);
        Assert.Equal("HippoCrop", chosen.SeriesDescription);
        Assert.Equal(5, result.Series.Count);
        Assert.Equal(["anterior", "posterior", "whole"], result.VolumesMm3.Keys.Order());
        Assert.Equal(result.VolumesMm3["anterior"] + result.VolumesMm3["posterior"], result.VolumesMm3["whole"], 6);
        Assert.Equal(["scan", "select", "volume", "model", "inference", "outputs"], result.Stages.Select(s => s.Stage));
        Assert.Equal(["seg.dcm", "sr.dcm", "sc.dcm"], result.OutputFiles.Select(Path.GetFileName));
        output.WriteLine($"{study} (tiny random model): {StudyAnalyzer.FormatVolumes(result.VolumesMm3)}; agreement {result.Agreement:0.###}");

        var json = ReadJson(result.ResultJson);
        Assert.Equal("completed", json.GetProperty("status").GetString());
        Assert.Equal(result.StudyInstanceUid, json.GetProperty("studyInstanceUid").GetString());
        Assert.Equal(chosen.SeriesInstanceUid, json.GetProperty("selection").GetProperty("chosenSeriesInstanceUid").GetString());
        Assert.Equal(5, json.GetProperty("selection").GetProperty("series").GetArrayLength());
        var geometry = json.GetProperty("geometry");
        Assert.Equal($"i = {columns - 1} - column, j = {rows - 1} - row, k = slice", geometry.GetProperty("modelAxes").GetString());
        Assert.Equal([columns, rows, slices], geometry.GetProperty("modelSize").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1.0, geometry.GetProperty("sliceSpacing").GetDouble());
        Assert.Equal(result.VolumesMm3["whole"], json.GetProperty("volumesMm3").GetProperty("whole").GetDouble(), 3);
        var quality = json.GetProperty("quality");
        Assert.Equal(result.Agreement!.Value, quality.GetProperty("agreement").GetDouble(), 5);
        Assert.Equal(result.Agreement!.Value, quality.GetProperty("pairs")[0].GetProperty("dice").GetDouble(), 5); // two members: one pair
        Assert.Equal(result.QualityFlagged, quality.GetProperty("flagged").GetBoolean());
        Assert.Equal(2, json.GetProperty("segments").GetArrayLength());
        Assert.Equal("255549009", json.GetProperty("segments")[0].GetProperty("typeModifier").GetProperty("value").GetString());
    }

    [SharedDataFact("dciodvfy", "dcentvfy")]
    public async Task RealWritersOutputsAreValidAndBelongToTheSourceStudy()
    {
        using var tmp = new TempDir();
        using var analyzer = new StudyAnalyzer(Options());
        var folder = TestData.Shared("TestVolumes", "Study1");
        var result = await analyzer.AnalyzeAsync(folder, tmp.Path);
        var sources = Directory.GetFiles(Path.Combine(folder, "13_HCropVolume"));
        var source = DicomFile.Open(sources[0]).Dataset;
        foreach (var f in result.OutputFiles)
        {
            var (_, so, se) = TestData.Run("dciodvfy", [f]);
            var errors = (so + se).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 0, $"{Path.GetFileName(f)}: {string.Join("; ", errors)}");
            var ds = DicomFile.Open(f).Dataset;
            Assert.Equal(source.GetString(DicomTags.StudyInstanceUID), ds.GetString(DicomTags.StudyInstanceUID));
            Assert.Equal(source.GetString(DicomTags.PatientID), ds.GetString(DicomTags.PatientID));
            Assert.StartsWith(AnalysisOptions.OutputUidRoot + ".", ds.GetString(DicomTags.SOPInstanceUID));
        }
        var seg = DicomFile.Open(result.OutputFiles[0]).Dataset;
        Assert.Equal(source.GetString(DicomTags.FrameOfReferenceUID), seg.GetString(DicomTags.FrameOfReferenceUID));
        var (_, eo, ee) = TestData.Run("dcentvfy", [.. sources, .. result.OutputFiles]);
        Assert.DoesNotContain("Error", eo + ee, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public async Task NiftiAndDicomOfTheSameVolumeGiveTheSameResult()
    {
        // A test-split case (never trained on) as NIfTI, and the same voxels written as a DICOM series in the
        // TestVolumes layout (IOP 1\0\0\0\1\0, columns and rows reversed against i and j). MSD images are float32, so
        // the DICOM copy stores them as 16-bit integers with a rescale slope, as a scanner would: nearly, not exactly, equal.
        var id = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestData.RepoRoot, "models", "hippocampus", "split.json")))
            .RootElement.GetProperty("test")[0].GetString()!;
        var nifti = NiftiReader.Read(TestData.Shared("hippocampus", "imagesTr", id + ".nii.gz")).Volume;
        using var tmp = new TempDir();
        var study = WriteStudy(tmp, nifti, SeriesLayout.HippoCrop, quantise: true);
        var (min, max) = nifti.Range();
        var quantum = (max - min) / 65000.0;

        using var loaded = SegmentationModel.Load(model.Folder);
        var direct = loaded.Segment(nifti);
        var seen = new List<StudyFindings>();
        using var analyzer = new StudyAnalyzer(Options(), loaded) { ReportWriters = FakeWriters(seen), WritersAvailable = true };
        var result = await analyzer.AnalyzeAsync(study, tmp["out"]);

        foreach (var v in direct.Volumes)
        {
            output.WriteLine($"{id} {v.Structure}: NIfTI {v.VolumeMm3:0.0} mm3, DICOM {result.VolumesMm3[v.Structure]:0.0} mm3");
            Assert.True(Math.Abs(result.VolumesMm3[v.Structure] - v.VolumeMm3) <= 0.01 * Math.Max(v.VolumeMm3, 1), v.Structure);
        }
        Assert.True(direct.VolumeMm3("whole") > 0, "the comparison needs a non-empty segmentation");
        Assert.Equal(direct.Agreement, result.Agreement!.Value, 9);

        // The label map handed to the writers, per source slice and row-major, is the NIfTI label map read through the
        // layout the test wrote: the inverse mapping puts every label on the pixel it came from (up to the few voxels the
        // 16-bit storage may tip over), and every pixel holds its NIfTI voxel's value.
        var findings = Assert.Single(seen);
        var differing = 0;
        var (columns, rows) = (findings.Columns, findings.Rows);
        Assert.Equal((nifti.Shape.Y, nifti.Shape.X), (rows, columns));
        Assert.Equal(nifti.Shape.Z, findings.Labels.Count);
        for (var s = 0; s < findings.Labels.Count; s++)
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < columns; c++)
                {
                    var (i, j, k) = SeriesLayout.HippoCrop.ModelIndex(nifti.Shape, c, r, s);
                    if (direct.Labels[nifti.Index(i, j, k)] != findings.Labels[s][r * columns + c]) differing++;
                    Assert.True(Math.Abs(nifti[i, j, k] - findings.Pixels[s][r * columns + c]) <= quantum, $"pixel ({c}, {r}, {s})");
                }
        output.WriteLine($"{differing} of {nifti.VoxelCount} labels differ; quantum {quantum:0.#####}");
        Assert.True(differing <= nifti.VoxelCount / 1000, $"{differing} labels differ");
    }

    [Fact]
    public async Task OutputsAreSavedAndChecked()
    {
        using var tmp = new TempDir();
        var study = WriteStudy(tmp, SeriesWriter.Phantom(new VolumeShape(20, 24, 18)), SeriesLayout.All[3]);
        var seen = new List<StudyFindings>();
        using var analyzer = new StudyAnalyzer(Options()) { ReportWriters = FakeWriters(seen), WritersAvailable = true };
        var result = await analyzer.AnalyzeAsync(study, tmp["out"]);

        Assert.Equal(["seg.dcm", "sr.dcm", "sc.dcm"], result.OutputFiles.Select(Path.GetFileName));
        foreach (var f in result.OutputFiles) Assert.Equal(result.StudyInstanceUid, DicomFile.Open(f).Dataset.GetString(DicomTags.StudyInstanceUID));
        Assert.DoesNotContain(result.Warnings, w => w.Contains("writers", StringComparison.Ordinal));
        var findings = Assert.Single(seen);
        Assert.Equal(findings.Labels.Count, findings.SourceSlices.Count);
        Assert.All(findings.Labels, l => Assert.Equal(findings.Rows * findings.Columns, l.Length));
        // Source slices in spatial order: positions ascend along the normal of the image plane.
        var iop = findings.SourceSlices[0].GetValues<double>(DicomTags.ImageOrientationPatient);
        double[] normal = [iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5], iop[0] * iop[4] - iop[1] * iop[3]];
        var along = findings.SourceSlices.Select(s => s.GetValues<double>(DicomTags.ImagePositionPatient).Zip(normal).Sum(p => p.First * p.Second)).ToList();
        Assert.Equal(along.Order(), along);
        Assert.Equal(20, along.Count);
        Assert.Equal(2, findings.Segments.Count);
        Assert.Equal([1, 2], findings.Segments.Select(s => s.Number));
        Assert.Equal(findings.Labels.Sum(l => l.Count(v => v == 2)), findings.Segments[1].VoxelCount);
        Assert.Equal(result.VolumesMm3["whole"], findings.Structures.Single(s => s.Name == "whole hippocampus").VolumeMm3, 6);
        Assert.Equal(["seg.dcm", "sr.dcm", "sc.dcm"], ReadJson(result.ResultJson).GetProperty("outputs").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task AWriterThatChangesTheStudyIsRefused()
    {
        using var tmp = new TempDir();
        var study = WriteStudy(tmp, SeriesWriter.Phantom(new VolumeShape(20, 24, 18)), SeriesLayout.HippoCrop);
        using var analyzer = new StudyAnalyzer(Options())
        {
            ReportWriters = FakeWriters([], ds => ds.AddOrUpdate(DicomTags.StudyInstanceUID, "1.2.3")),
            WritersAvailable = true,
        };
        var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(study, tmp["out"]));
        Assert.Contains("seg.dcm has a StudyInstanceUID that differs", ex.Message);
        Assert.False(File.Exists(tmp["out/seg.dcm"]));
        var json = ReadJson(tmp["out/result.json"]);
        Assert.Equal("failed", json.GetProperty("status").GetString());
        Assert.Equal(ex.Message, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task NoEligibleSeriesEndsWithAResultNotACrash()
    {
        using var tmp = new TempDir();
        var study = WriteStudy(tmp, SeriesWriter.Phantom(new VolumeShape(20, 24, 18)), SeriesLayout.HippoCrop, description: "T1post");
        // The model folder does not even need to exist: nothing is segmented.
        using var analyzer = new StudyAnalyzer(new AnalysisOptions { ModelFolder = tmp["no-model"] });
        var result = await analyzer.AnalyzeAsync(study, tmp["out"]);

        Assert.Equal(AnalysisStatus.NoEligibleSeries, result.Status);
        Assert.Null(result.ChosenSeriesInstanceUid);
        Assert.Empty(result.OutputFiles);
        Assert.Empty(result.VolumesMm3);
        Assert.Equal(2, result.Series.Count);
        Assert.All(result.Series, s => Assert.StartsWith("skipped: ", s.Reason));
        Assert.Contains(result.Warnings, w => w.Contains("1 file(s) skipped", StringComparison.Ordinal));
        var json = ReadJson(result.ResultJson);
        Assert.Equal("no-eligible-series", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("selection").GetProperty("chosenSeriesInstanceUid").ValueKind);
        Assert.Contains("README.txt", json.GetProperty("selection").GetProperty("skippedFiles")[0].GetString());
        Assert.Equal(["result.json"], Directory.GetFiles(tmp["out"]).Select(Path.GetFileName));
    }

    [Fact]
    public async Task MissingModelIsAClearError()
    {
        using var tmp = new TempDir();
        var study = WriteStudy(tmp, SeriesWriter.Phantom(new VolumeShape(20, 24, 18)), SeriesLayout.HippoCrop);
        using var analyzer = new StudyAnalyzer(new AnalysisOptions { ModelFolder = tmp["no-model"] });
        var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(study, tmp["out"]));
        Assert.Contains("has no model.json", ex.Message);
    }

    [Fact]
    public async Task ObliqueSeriesIsRefused()
    {
        var t = 30 * Math.PI / 180;
        var tilted = Volume3D.Create(new VolumeShape(20, 24, 18), Spacing3.One,
            AffineMatrix.FromRowMajor([1, 0, 0, 0, 0, Math.Cos(t), -Math.Sin(t), 0, 0, Math.Sin(t), Math.Cos(t), 0]));
        for (var n = 0; n < tilted.Data.Length; n++) tilted.Data[n] = n % 500;
        using var tmp = new TempDir();
        var study = WriteStudy(tmp, tilted, SeriesLayout.HippoCrop);
        using var analyzer = new StudyAnalyzer(Options());
        var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(study, tmp["out"]));
        Assert.Contains("'HippoCrop'", ex.Message);
        Assert.Contains("is oblique: its voxel axes lie up to 30 degrees", ex.Message);

        // Allowed with a larger threshold.
        using var lenient = new StudyAnalyzer(new AnalysisOptions { ModelFolder = model.Folder, MaxObliquityDegrees = 35 });
        Assert.Equal(AnalysisStatus.Completed, (await lenient.AnalyzeAsync(study, tmp["out2"])).Status);
    }

    [Fact]
    public async Task SeveralStudiesInOneFolderAreRefused()
    {
        using var tmp = new TempDir();
        SeriesWriter.Save(SeriesWriter.Build(SeriesWriter.Phantom(), SeriesLayout.HippoCrop), tmp["a"]);
        SeriesWriter.Save(SeriesWriter.Build(SeriesWriter.Phantom(), SeriesLayout.HippoCrop), tmp["b"]);
        using var analyzer = new StudyAnalyzer(Options());
        var ex = await Assert.ThrowsAsync<AnalysisException>(() => analyzer.AnalyzeAsync(tmp.Path, tmp["out"]));
        Assert.Contains("holds 2 studies", ex.Message);
    }
}
