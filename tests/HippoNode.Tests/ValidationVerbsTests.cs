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
