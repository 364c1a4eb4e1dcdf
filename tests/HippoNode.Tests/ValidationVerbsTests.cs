using System.Globalization;
using System.Text.Json;
using HippoNode.Commands;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Tests;

/// <summary>The verbs behind the validation plan's quality-flag study: `dataset perturb` and `qa-flag`.</summary>
public sealed class ValidationVerbsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-validation-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string relative) => Path.Combine(_dir, relative);

    private static (int Code, string Out, string Err) Run(Func<string[], TextWriter, TextWriter, int> verb, params string[] args)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = verb(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private void WriteCase(string id, int seed)
    {
        var shape = new VolumeShape(8, 6, 5);
        var image = Volume3D.Create(shape, Spacing3.One);
        var label = Volume3D.Create(shape, Spacing3.One);
        for (var i = 0; i < image.Data.Length; i++)
        {
            image.Data[i] = (i * 13 + seed) % 97;
            label.Data[i] = i % 5 == 0 ? 1 : i % 7 == 0 ? 2 : 0;
        }
        Directory.CreateDirectory(P("data/imagesTr"));
        Directory.CreateDirectory(P("data/labelsTr"));
        NiftiWriter.Write(image, P($"data/imagesTr/{id}.nii.gz"));
        NiftiWriter.Write(label, P($"data/labelsTr/{id}.nii.gz"), NiftiDataType.UInt8);
    }

    [Fact]
    public void DatasetPerturb_WritesEveryListedCase_ImageAndLabelMovedTogether()
    {
        WriteCase("case_1", 1);
        WriteCase("case_2", 2);
        WriteCase("case_3", 3);
        File.WriteAllText(P("cases.txt"), "case_1\ncase_3\n");

        var (code, output, error) = Run(DatasetCommand.Run, "perturb", P("data"), "--kind", "swap-xz", "--cases", P("cases.txt"), "--out", P("out"));

        Assert.True(code == 0, error);
        Assert.Contains("swap-xz: 2 of 2 cases written", output);
        Assert.Equal(["case_1.nii.gz", "case_3.nii.gz"], Directory.GetFiles(P("out/imagesTr")).Select(Path.GetFileName).Order());
        var original = NiftiReader.Read(P("data/labelsTr/case_3.nii.gz")).Volume;
        var image = NiftiReader.Read(P("out/imagesTr/case_3.nii.gz")).Volume;
        var label = NiftiReader.Read(P("out/labelsTr/case_3.nii.gz")).Volume;
        Assert.Equal(new VolumeShape(5, 6, 8), image.Shape);
        Assert.True(image.SameGrid(label));
        Assert.Equal(original[7, 2, 4], label[4, 2, 7]);
    }

    [Fact]
    public void DatasetPerturb_BadInputsAreClear()
    {
        WriteCase("case_1", 1);
        Assert.Contains("known: swap-xz", Assert.Throws<UsageException>(() => Run(DatasetCommand.Run, "perturb", P("data"), "--kind", "spin", "--out", P("o"))).Message);
        Assert.Contains("--out is required", Assert.Throws<UsageException>(() => Run(DatasetCommand.Run, "perturb", P("data"), "--kind", "invert")).Message);
        File.WriteAllText(P("cases.txt"), "case_1\nnope\n");
        var (code, _, error) = Run(DatasetCommand.Run, "perturb", P("data"), "--kind", "invert", "--cases", P("cases.txt"), "--out", P("o"));
        Assert.Equal(1, code);
        Assert.Contains("nope: no image and no label file", error);
        Assert.True(File.Exists(P("o/imagesTr/case_1.nii.gz")), "the readable case is still written");
    }

    [Fact]
    public void QaFlag_PrintsTheCatchOnTheWorstCases_AndWritesJson()
    {
        File.WriteAllText(P("eval.json"), """
            {"cases": [
              {"id": "good", "agreement": 0.95, "ensemble": {"whole": {"dice": 0.91}}},
              {"id": "bad", "agreement": 0.62, "ensemble": {"whole": {"dice": 0.40}}},
              {"id": "quiet", "agreement": 0.93, "ensemble": {"whole": {"dice": 0.55}}}
            ]}
            """);
        var (code, output, error) = Run(QaFlagCommand.Run, "--evaluation", P("eval.json"), "--worst", "2", "--fail-below", "0.7", "--json", P("qa/flag.json"));
        Assert.True(code == 0, error);
        Assert.Contains("flagged: 1 of 3", output);
        Assert.Contains("worst 2 by Dice, flagged: 1 of 2", output);
        Assert.Contains("failures (dice < 0.7): 2, flagged: 1 of 2", output);
        Assert.Contains("missed failure: quiet  dice 0.5500  agreement 0.9300", output);
        Assert.DoesNotContain("false alarm", output);
        using var doc = JsonDocument.Parse(File.ReadAllText(P("qa/flag.json")));
        var report = doc.RootElement.GetProperty("reports")[0];
        Assert.Equal(1, report.GetProperty("worst_flagged").GetInt32());
        Assert.Equal("bad", report.GetProperty("ranked_cases")[0].GetProperty("id").GetString());
    }

    [Fact]
    public void QaFlag_OnAClassificationReport_CountsTheErrorsTheReviewBandCatches_AndWritesJson()
    {
        // Threshold 0.5, margin 1: the band is 0.269-0.731. Errors: b (missed positive, in the band), c (false positive, in
        // the band), d (confident false positive, outside); e is correct but in the band.
        File.WriteAllText(P("cls.json"), """
            {"format": "hipponode-classification-evaluation", "positiveLabel": "PNEUMONIA", "summary": {"threshold": 0.5},
             "cases": [
              {"file": "a", "label": "PNEUMONIA", "probability": 0.9},
              {"file": "b", "label": "PNEUMONIA", "probability": 0.4},
              {"file": "c", "label": "NORMAL", "probability": 0.6},
              {"file": "d", "label": "NORMAL", "probability": 0.95},
              {"file": "e", "label": "NORMAL", "probability": 0.3},
              {"file": "f", "label": "NORMAL", "probability": 0.05}
            ]}
            """);
        var (code, output, error) = Run(QaFlagCommand.Run, "--evaluation", P("cls.json"), "--margin", "1", "--worst", "1", "--json", P("qa/cls.json"));
        Assert.True(code == 0, error);
        Assert.Contains("6 images, threshold 0.5000, review margin 1 log-odds (band 0.2689-0.7311)", output);
        Assert.Contains("errors at the threshold: 3 (1 false negatives, 2 false positives)", output);
        Assert.Contains("flagged for review: 3 of 6 (50.0 %); errors among them 2, correct 1", output);
        Assert.Contains("errors caught: 2 of 3", output);
        Assert.Contains("missed d (negative) probability 0.9500 distance +2.94", output);
        Assert.Contains("worst 1 (most confident errors): 0 of 1 flagged", output);
        Assert.Contains("0.5: 0.378-0.622, 2 of 6 flagged, 2 of 3 errors caught", output);
        Assert.Contains("catching at least two thirds of the errors: 0.5", output);
        using var doc = JsonDocument.Parse(File.ReadAllText(P("qa/cls.json")));
        Assert.Equal(2, doc.RootElement.GetProperty("errorsCaught").GetInt32());
        Assert.Equal("d", doc.RootElement.GetProperty("errorCases")[0].GetProperty("file").GetString());
        Assert.Equal(7, doc.RootElement.GetProperty("sweep").GetArrayLength());

        Assert.Contains("--margin applies to a classification report only", Assert.Throws<UsageException>(() =>
        {
            File.WriteAllText(P("seg.json"), """{"cases":[{"id":"a","agreement":1,"ensemble":{"whole":{"dice":1}}}]}""");
            return Run(QaFlagCommand.Run, "--evaluation", P("seg.json"), "--margin", "2");
        }).Message);
        Assert.Contains("analysed alone", Assert.Throws<UsageException>(() => Run(QaFlagCommand.Run, "--evaluation", P("cls.json"), "--evaluation", P("cls.json"))).Message);
    }

    [Fact]
    public void QaFlag_BadArgumentsAreUsageErrors_BadReportsExitOne()
    {
        Assert.Contains("--evaluation is required", Assert.Throws<UsageException>(() => Run(QaFlagCommand.Run)).Message);
        Assert.Contains("unknown argument", Assert.Throws<UsageException>(() => Run(QaFlagCommand.Run, "--eval", "x")).Message);
        Assert.Contains("not a number", Assert.Throws<UsageException>(() => Run(QaFlagCommand.Run, "--evaluation", "x", "--threshold", "high")).Message);
        Assert.Contains("threshold must lie in [0, 1]", Assert.Throws<UsageException>(() =>
        {
            File.WriteAllText(P("ok.json"), """{"cases":[{"id":"a","agreement":1,"ensemble":{"whole":{"dice":1}}}]}""");
            return Run(QaFlagCommand.Run, "--evaluation", P("ok.json"), "--threshold", "2");
        }).Message);
        File.WriteAllText(P("bad.json"), "[]");
        var (code, _, error) = Run(QaFlagCommand.Run, "--evaluation", P("bad.json"));
        Assert.Equal(1, code);
        Assert.Contains("bad.json: not a hipponode evaluate report", error);
        Assert.Equal(1, Run(QaFlagCommand.Run, "--evaluation", P("missing.json")).Code);
    }
}
