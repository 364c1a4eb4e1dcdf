namespace HippoNode.Datasets.Tests;

public class DatasetSplitterTests
{
    private static readonly string[] Ids = [.. Enumerable.Range(1, 224).Select(i => $"hippocampus_{i:000}")];

    [Fact]
    public void SplitMix64MatchesTheReferenceSequence()
    {
        // Published output of SplitMix64 seeded with 1234567 (Rosetta Code, "Pseudo-random numbers/Splitmix64").
        var rng = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => rng.Next()));
    }

    [Fact]
    public void PartitionsDisjointCoveringAndBalanced()
    {
        var split = DatasetSplitter.Create(Ids, "set", seed: 7, testFraction: 0.15, folds: 5);
        Assert.Equal(34, split.Test.Count); // round(224 · 0.15) = round(33.6)
        var all = split.AllCases.ToList();
        Assert.Equal(Ids.Length, all.Count);
        Assert.Equal(Ids.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));
        Assert.Equal(5, split.Folds.Count);
        Assert.True(split.Folds.Max(f => f.Count) - split.Folds.Min(f => f.Count) <= 1);
        Assert.All(split.Folds.Append(split.Test), l => Assert.Equal(l.Order(StringComparer.Ordinal), l));
        var training = split.TrainingFor(2);
        Assert.Equal(Ids.Length - split.Test.Count - split.Folds[2].Count, training.Count);
        Assert.Empty(training.Intersect(split.Folds[2]));
        Assert.Empty(training.Intersect(split.Test));
    }

    [Fact]
    public void SameSeedSameSplitWhateverTheInputOrder()
    {
        var a = DatasetSplitter.Create(Ids, "set", seed: 42);
        var b = DatasetSplitter.Create(Ids.Reverse(), "set", seed: 42);
        Assert.Equal(a.ToJson(), b.ToJson());
        var c = DatasetSplitter.Create(Ids, "set", seed: 43);
        Assert.NotEqual(a.Test, c.Test);
    }

    [Fact]
    public void JsonRoundTrips()
    {
        var split = DatasetSplitter.Create(Ids.Take(40), "set", seed: 1, testFraction: 0.2, folds: 3);
        var withExclusions = new DatasetSplit
        {
            Dataset = split.Dataset,
            Seed = split.Seed,
            TestFraction = split.TestFraction,
            Test = split.Test,
            Folds = split.Folds,
            Excluded = [new SplitExclusion("x", ["label-without-image: labelsTr/x.nii.gz has no image in imagesTr/"])],
        };
        var json = withExclusions.ToJson();
        Assert.EndsWith("}\n", json);
        Assert.DoesNotContain("\r", json);
        var back = DatasetSplit.Parse(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(8, back.Test.Count);
        Assert.Equal("x", back.Excluded.Single().Id);
        Assert.Throws<FormatException>(() => DatasetSplit.Parse("{\"version\": 99}"));
        Assert.Throws<FormatException>(() => DatasetSplit.Parse("not json"));
    }

    [Fact]
    public void RejectsImpossibleRequests()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Create(Ids, "set", testFraction: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Create(Ids, "set", testFraction: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Create(Ids, "set", folds: 0));
        Assert.Throws<ArgumentException>(() => DatasetSplitter.Create(Ids.Take(3), "set", folds: 5));
    }
}
