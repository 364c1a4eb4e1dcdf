using System.Text.Json;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Datasets.Tests;

public sealed class DatasetCuratorTests : IDisposable
{
    private readonly SyntheticDataset _set = new();

    public void Dispose() => _set.Dispose();

    private void BuildEveryProblem()
    {
        for (var i = 0; i < 8; i++) _set.Add($"case_{i:00}", SyntheticDataset.Image(i), SyntheticDataset.Label(i));
        _set.Add("img_only", SyntheticDataset.Image(20), null);
        _set.Add("lab_only", null, SyntheticDataset.Label(21));
        _set.Add("shape_mismatch", SyntheticDataset.Image(22), SyntheticDataset.Label(22, new VolumeShape(6, 7, 4)));
        _set.Add("affine_mismatch", SyntheticDataset.Image(23), SyntheticDataset.Label(23, affine: SyntheticDataset.Affine(0.5)));
        _set.Add("affine_within_tolerance", SyntheticDataset.Image(24), SyntheticDataset.Label(24, affine: SyntheticDataset.Affine(2e-4)));
        var odd = SyntheticDataset.Label(25);
        odd.Data[0] = 3;
        odd.Data[1] = 1.5f;
        _set.Add("bad_values", SyntheticDataset.Image(25), odd, NiftiDataType.Float32);
        _set.Add("empty_label", SyntheticDataset.Image(26), Volume3D.Create(SyntheticDataset.Crop, Spacing3.One, SyntheticDataset.Affine()));
        var big = new VolumeShape(30, 30, 30);
        _set.Add("big", SyntheticDataset.Image(27, big), SyntheticDataset.Label(27, big));
        _set.Add("float_label", SyntheticDataset.Image(28), SyntheticDataset.Label(28), NiftiDataType.Float32);
        _set.Add("copy_of_case_03", SyntheticDataset.Image(3), SyntheticDataset.Label(29));
        _set.Add("broken", SyntheticDataset.Image(30), SyntheticDataset.Label(30));
        var broken = Path.Combine(_set.Images, "broken.nii.gz");
        File.WriteAllBytes(broken, File.ReadAllBytes(broken)[..40]);
        _set.Add("twice", SyntheticDataset.Image(31), SyntheticDataset.Label(31));
        NiftiWriter.Write(SyntheticDataset.Label(31), Path.Combine(_set.Labels, "twice.nii"), NiftiDataType.UInt8);
        File.WriteAllText(Path.Combine(_set.Images, "._case_00.nii.gz"), "AppleDouble junk");
        File.WriteAllText(Path.Combine(_set.Labels, "README.txt"), "not an image");
    }

    [Fact]
    public void FindsEveryKindOfProblemAndGoesOn()
    {
        BuildEveryProblem();
        var report = DatasetCurator.Check(_set.Root);
        var kinds = report.Cases.ToDictionary(c => c.Id, c => c.Issues.Select(i => i.Kind).ToArray());

        Assert.Equal([CaseIssueKind.ImageWithoutLabel], kinds["img_only"]);
        Assert.Equal([CaseIssueKind.LabelWithoutImage], kinds["lab_only"]);
        Assert.Equal([CaseIssueKind.ShapeMismatch], kinds["shape_mismatch"]);
        Assert.Equal([CaseIssueKind.AffineMismatch], kinds["affine_mismatch"]);
        Assert.Equal([CaseIssueKind.UnexpectedLabelValues], kinds["bad_values"]);
        Assert.Equal([CaseIssueKind.EmptyLabel], kinds["empty_label"]);
        Assert.Equal([CaseIssueKind.SizeOutlier], kinds["big"]);
        Assert.Equal([CaseIssueKind.Unreadable], kinds["broken"]);
        Assert.Equal([CaseIssueKind.DuplicateFile], kinds["twice"]);
        Assert.Equal([CaseIssueKind.DuplicateContent], kinds["copy_of_case_03"]);

        string[] clean = [.. Enumerable.Range(0, 8).Select(i => $"case_{i:00}"), "affine_within_tolerance", "float_label"];
        Assert.Equal(clean.Order(StringComparer.Ordinal), report.CleanIds);

        var details = report.Cases.ToDictionary(c => c.Id, c => string.Join(" | ", c.Issues));
        Assert.Contains("3 (1 voxels)", details["bad_values"]);
        Assert.Contains("1.5 (1 voxels)", details["bad_values"]);
        Assert.Contains("30x30x30", details["big"]);
        Assert.Contains("imagesTr/broken.nii.gz: truncated header", details["broken"]);
        Assert.Contains("case_03", details["copy_of_case_03"]);
        Assert.Contains("image 6x7x5, label 6x7x4", details["shape_mismatch"]);
        Assert.Contains(report.Cases.Single(c => c.Id == "float_label").Notes, n => n.Contains("Float32"));

        Assert.Equal(["imagesTr/._case_00.nii.gz", "labelsTr/README.txt"], report.IgnoredFiles);
        Assert.Equal(SyntheticDataset.Crop.VoxelCount, report.MedianVoxelCount);
        Assert.Equal(clean.Length, report.Clean.Count);
        Assert.Equal(report.Cases.Count, report.Clean.Count + report.Excluded.Count);
        Assert.Equal(1, report.CountByKind[CaseIssueKind.Unreadable]);
    }

    [Fact]
    public void TextAndJsonReportsNameEveryExcludedCase()
    {
        BuildEveryProblem();
        var report = DatasetCurator.Check(_set.Root);
        var text = new StringWriter();
        report.WriteText(text);
        foreach (var c in report.Excluded)
        {
            Assert.Contains(c.Id, text.ToString());
            foreach (var i in c.Issues) Assert.Contains($"{i.Code}: {i.Detail}", text.ToString());
        }
        Assert.Contains($"clean pairs: {report.Clean.Count}", text.ToString());

        using var ms = new MemoryStream();
        report.WriteJson(ms);
        using var doc = JsonDocument.Parse(ms.ToArray());
        var root = doc.RootElement;
        Assert.Equal(report.Clean.Count, root.GetProperty("counts").GetProperty("clean").GetInt32());
        Assert.Equal(report.Excluded.Select(c => c.Id), root.GetProperty("excluded").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        Assert.Equal(report.CleanIds, root.GetProperty("clean").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void MissingFoldersAreErrors()
    {
        Assert.Throws<DirectoryNotFoundException>(() => DatasetCurator.Check(Path.Combine(_set.Root, "nope")));
        Directory.Delete(_set.Labels);
        var ex = Assert.Throws<DirectoryNotFoundException>(() => DatasetCurator.Check(_set.Root));
        Assert.Contains("labelsTr", ex.Message);
    }

    [Theory]
    [InlineData("hippocampus_001.nii.gz", "hippocampus_001")]
    [InlineData("a.nii", "a")]
    [InlineData("A.NII.GZ", "A")]
    [InlineData("._hippocampus_001.nii.gz", null)]
    [InlineData("notes.txt", null)]
    [InlineData("x.nii.gz.bak", null)]
    public void CaseIds(string file, string? id) => Assert.Equal(id, DatasetCurator.CaseId(file));
}
