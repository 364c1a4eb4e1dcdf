namespace HippoNode.Datasets.Tests;

/// <summary>The curation of the real MSD Hippocampus set in ../shared/data, and the committed split made from it.</summary>
public class HippocampusSplitTests
{
    private static readonly Lazy<CurationReport> Report = new(() => DatasetCurator.Check(TestData.Shared("hippocampus")));

    private static string SplitPath => Path.Combine(TestData.RepoRoot, "models", "hippocampus", "split.json");

    [SharedDataFact]
    public void CurationFindsTheDeliberateProblems()
    {
        var r = Report.Value;
        var excluded = r.Excluded.ToDictionary(c => c.Id, c => c.Issues.Select(i => i.Kind).ToArray());
        Assert.Equal([CaseIssueKind.ImageWithoutLabel], excluded["hippocampus_118"]);
        Assert.Equal([CaseIssueKind.LabelWithoutImage, CaseIssueKind.DuplicateContent], excluded["hippocampus_010"]);
        Assert.Equal([CaseIssueKind.LabelWithoutImage, CaseIssueKind.SizeOutlier], excluded["hippocampus_281"]);
        Assert.Equal(3, excluded.Count);
        Assert.Equal(224, r.Clean.Count);
        Assert.Equal(225, r.ImageFiles);
        Assert.Equal(226, r.LabelFiles);
    }

    [SharedDataFact]
    public void CommittedSplitIsConsistentWithTheCurrentCuration()
    {
        Assert.True(File.Exists(SplitPath), $"{SplitPath} is missing: run hipponode dataset split (see models/hippocampus/README-split.md)");
        var split = DatasetSplit.Load(SplitPath);
        var clean = Report.Value.CleanIds.ToHashSet(StringComparer.Ordinal);

        var listed = split.AllCases.ToList();
        Assert.All(listed, id => Assert.Contains(id, clean));
        Assert.Equal(listed.Count, listed.Distinct().Count()); // test and folds are disjoint, no fold repeats a case
        Assert.Equal(clean.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal)); // together they cover every clean pair

        var expectedTest = (int)Math.Round(clean.Count * split.TestFraction, MidpointRounding.AwayFromZero);
        Assert.Equal(expectedTest, split.Test.Count);
        Assert.InRange(split.Test.Count / (double)clean.Count, 0.13, 0.17);
        Assert.Equal(5, split.Folds.Count);
        Assert.True(split.Folds.Max(f => f.Count) - split.Folds.Min(f => f.Count) <= 1, "fold sizes differ by more than one");

        Assert.Equal(Report.Value.Excluded.Select(c => c.Id), split.Excluded.Select(e => e.Id));
    }

    [SharedDataFact]
    public void RerunningTheProcedureReproducesTheCommittedFile()
    {
        var committed = DatasetSplit.Load(SplitPath);
        var again = DatasetSplitter.Create(Report.Value, committed.Seed, committed.TestFraction, committed.Folds.Count);
        Assert.Equal(File.ReadAllText(SplitPath).ReplaceLineEndings("\n"), again.ToJson());
    }
}
