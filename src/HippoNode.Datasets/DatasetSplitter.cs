namespace HippoNode.Datasets;

/// <summary>Makes the fixed, seeded test / cross-validation split of the clean cases.</summary>
public static class DatasetSplitter
{
    /// <summary>The default seed of the committed hippocampus split.</summary>
    public const long DefaultSeed = 20261123;

    /// <summary>The default share of clean cases held out for testing.</summary>
    public const double DefaultTestFraction = 0.15;

    /// <summary>The default number of cross-validation folds.</summary>
    public const int DefaultFolds = 5;

    /// <summary>The procedure in one sentence, recorded in split.json.</summary>
    public const string ProcedureDescription =
        "clean case ids sorted ordinally; Fisher-Yates shuffle driven by SplitMix64(seed); the first round(n * testFraction) " +
        "shuffled ids are the test set; the rest are dealt round-robin into the folds; every list sorted ordinally";

    /// <summary>Splits the clean pairs of <paramref name="report"/>, recording its exclusions.</summary>
    public static DatasetSplit Create(CurationReport report, long seed = DefaultSeed, double testFraction = DefaultTestFraction, int folds = DefaultFolds)
    {
        ArgumentNullException.ThrowIfNull(report);
        var split = Create(report.CleanIds, Path.GetFileName(report.Root.TrimEnd('/', '\\')), seed, testFraction, folds);
        return new DatasetSplit
        {
            Dataset = split.Dataset,
            Seed = split.Seed,
            TestFraction = split.TestFraction,
            Test = split.Test,
            Folds = split.Folds,
            Excluded = [.. report.Excluded.Select(c => new SplitExclusion(c.Id, [.. c.Issues.Select(i => i.ToString())]))],
        };
    }

    /// <summary>Splits <paramref name="caseIds"/> (order does not matter: they are sorted first) into a test list and <paramref name="folds"/> folds.</summary>
    public static DatasetSplit Create(IEnumerable<string> caseIds, string dataset, long seed = DefaultSeed, double testFraction = DefaultTestFraction, int folds = DefaultFolds)
    {
        ArgumentNullException.ThrowIfNull(caseIds);
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(testFraction >= 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction is in [0, 1)");
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 1);

        // Sorting first makes the result independent of directory enumeration order.
        var ids = caseIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var testCount = (int)Math.Round(ids.Length * testFraction, MidpointRounding.AwayFromZero);
        if (ids.Length - testCount < folds) throw new ArgumentException($"{ids.Length} cases leave {ids.Length - testCount} for {folds} folds: too few", nameof(caseIds));

        var rng = new SplitMix64(unchecked((ulong)seed));
        for (var i = ids.Length - 1; i > 0; i--)
        {
            var j = rng.NextBelow(i + 1);
            (ids[i], ids[j]) = (ids[j], ids[i]);
        }

        var test = ids[..testCount].Order(StringComparer.Ordinal).ToList();
        var foldLists = Enumerable.Range(0, folds).Select(_ => new List<string>()).ToList();
        for (var i = testCount; i < ids.Length; i++) foldLists[(i - testCount) % folds].Add(ids[i]);

        return new DatasetSplit
        {
            Dataset = dataset,
            Seed = seed,
            TestFraction = testFraction,
            Test = test,
            Folds = [.. foldLists.Select(f => (IReadOnlyList<string>)[.. f.Order(StringComparer.Ordinal)])],
        };
    }
}
