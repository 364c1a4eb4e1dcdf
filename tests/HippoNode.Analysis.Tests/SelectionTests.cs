using HippoNode.Analysis.Selection;
using HippoNode.Dicom;

namespace HippoNode.Analysis.Tests;

public sealed class RulesTests
{
    [Fact]
    public void ShippedRulesLoadAndSayWhatTheyPick()
    {
        var rules = SelectionRules.Default;
        Assert.Equal("hippocampus-crop", rules.Name);
        Assert.Equal(["MR"], rules.Modalities);
        Assert.Equal([DicomUid.MRImageStorage], rules.SopClassUids);
        Assert.Matches(rules.SeriesDescriptionPattern!, "HippoCrop");
        Assert.Matches(rules.SeriesDescriptionPattern!, "hippocampus crop left");
        Assert.DoesNotMatch(rules.SeriesDescriptionPattern!, "T1post");
        Assert.Equal(new IntRange(16, 128), rules.Rows);
        // The copy next to the binaries is the same text as the embedded one.
        var copy = Path.Combine(AppContext.BaseDirectory, "rules", "hippocampus-rules.json");
        Assert.Equal(SelectionRules.DefaultJson(), File.ReadAllText(copy));
    }

    [Theory]
    [InlineData("""{"name":"x","modality":["MR"]}""", "'modality' is not a known key")]
    [InlineData("""{"name":"x","slices":{"min":"8"}}""", "'slices.min' must be an integer, not the string \"8\"")]
    [InlineData("""{"name":"x","slices":{"mini":8}}""", "'slices.mini' is not a known key")]
    [InlineData("""{"name":"x","rows":{"min":64,"max":16}}""", "'rows' has min 64 greater than max 16")]
    [InlineData("""{"name":"x","columns":{"min":0}}""", "'columns.min' must be at least 1")]
    [InlineData("""{"name":"x","seriesDescriptionPattern":"(unclosed"}""", "'seriesDescriptionPattern' is not a valid regular expression")]
    [InlineData("""{"name":"x","modalities":[]}""", "'modalities' is empty")]
    [InlineData("""{"name":"x","modalities":"MR"}""", "'modalities' must be an array of strings")]
    [InlineData("""{"name":"x","sopClassUids":["1.2.840.10008.5.1.4.1.1.4","MR"]}""", "'sopClassUids[1]' 'MR' is not a valid UID")]
    [InlineData("""{"modalities":["MR"]}""", "'name' is required")]
    [InlineData("""[1,2]""", "'(root)' must be a JSON object")]
    [InlineData("""{"name":"x",""", "not valid JSON")]
    public void BadRulesNameTheKey(string json, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => SelectionRules.Parse(json, "my-rules.json"));
        Assert.StartsWith("my-rules.json: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void LeftOutRulesAcceptAnything()
    {
        var rules = SelectionRules.Parse("""{"name":"any", /* comments are allowed */ "slices":{"min":2}}""");
        Assert.Null(rules.Modalities);
        Assert.Null(rules.SeriesDescriptionPattern);
        Assert.Equal(new IntRange(2, null), rules.Slices);
        Assert.True(rules.Slices!.Contains(10_000));
    }
}

public sealed class SelectionTests
{
    private static ScannedSeries Series(string uid, string? description, int slices, int? number = null, string modality = "MR",
        string sopClass = DicomUid.MRImageStorage, int rows = 48, int columns = 36)
    {
        var instances = Enumerable.Range(0, slices).Select(i =>
        {
            var ds = new DicomDataset();
            ds.AddOrUpdate(DicomTags.SeriesInstanceUID, uid);
            ds.AddOrUpdate(DicomTags.SOPClassUID, sopClass);
            ds.AddOrUpdate(DicomTags.Modality, modality);
            if (description is not null) ds.AddOrUpdate(DicomTags.SeriesDescription, description);
            if (number is { } n) ds.AddOrUpdate<int>(DicomTags.SeriesNumber, DicomVR.IS, n);
            ds.AddOrUpdate<ushort>(DicomTags.Rows, DicomVR.US, (ushort)rows);
            ds.AddOrUpdate<ushort>(DicomTags.Columns, DicomVR.US, (ushort)columns);
            return new ScannedInstance($"{uid}-{i}.dcm", ds);
        }).ToList();
        return new ScannedSeries(uid, instances);
    }

    [Fact]
    public void EverySeriesGetsADecisionAndEveryFailedRuleIsNamed()
    {
        ScannedSeries[] all =
        [
            Series("1.1", "T1post", 22, 12, rows: 512, columns: 512),
            Series("1.2", "HippoCrop", 32),
            Series("1.3", "dT1", 24, 32500, sopClass: DicomUid.SecondaryCaptureImageStorage, rows: 512, columns: 512),
            Series("1.4", "HippoCrop", 32, modality: "CT"),
        ];
        var (decisions, chosen) = SeriesSelector.Select(all, SelectionRules.Default);
        Assert.Equal("1.2", chosen!.SeriesInstanceUid);
        Assert.Equal(["1.1", "1.2", "1.3", "1.4"], decisions.Select(d => d.SeriesInstanceUid));
        Assert.Equal([false, true, false, false], decisions.Select(d => d.Chosen));
        Assert.Equal("chosen: the only series that meets the rules", decisions[1].Reason);
        Assert.Contains("description 'T1post' does not match", decisions[0].Reason);
        Assert.Contains("rows 512 outside 16..128", decisions[0].Reason);
        Assert.Contains("columns 512 outside 16..128", decisions[0].Reason);
        Assert.Contains("SOP class SecondaryCaptureImageStorage (1.2.840.10008.5.1.4.1.1.7) is not one of [MRImageStorage", decisions[2].Reason);
        Assert.Contains("modality CT is not one of [MR]", decisions[3].Reason);
        Assert.StartsWith("skipped: ", decisions[3].Reason);
    }

    [Fact]
    public void TieBreakPrefersMostSlicesThenHighestNumberThenLowestUid()
    {
        var fewer = Series("1.9", "HippoCrop", 20, 99);
        var moreLow = Series("1.5", "HippoCrop", 24, 3);
        var moreHigh = Series("1.7", "HippoCrop", 24, 7);
        Assert.Same(moreHigh, SeriesSelector.Select([fewer, moreLow, moreHigh], SelectionRules.Default).Chosen);

        var noNumber = Series("1.8", "HippoCrop", 24);
        Assert.Same(moreLow, SeriesSelector.Select([noNumber, moreLow], SelectionRules.Default).Chosen);

        var twinA = Series("1.10", "HippoCrop", 24, 7);
        var twinB = Series("1.2", "HippoCrop", 24, 7);
        var (decisions, chosen) = SeriesSelector.Select([twinB, twinA], SelectionRules.Default);
        Assert.Same(twinA, chosen); // "1.10" < "1.2" in ordinal order
        Assert.Contains("tie-break", decisions.Single(d => d.Chosen).Reason);
        Assert.Contains("eligible, not chosen", decisions.Single(d => !d.Chosen).Reason);
    }

    [Fact]
    public void MultiFrameIsNeverChosen()
    {
        var s = Series("1.1", "HippoCrop", 20);
        foreach (var i in s.Instances) i.Header.AddOrUpdate<int>(DicomTags.NumberOfFrames, DicomVR.IS, 40);
        var (decisions, chosen) = SeriesSelector.Select([new ScannedSeries("1.1", s.Instances)], SelectionRules.Default);
        Assert.Null(chosen);
        Assert.Contains("multi-frame", decisions[0].Reason);
    }

    [Fact]
    public void OwnResultSeriesIsNeverChosen()
    {
        var s = Series("1.1", "HippoCrop", 20);
        foreach (var i in s.Instances) i.Header.AddOrUpdate(DicomTags.Manufacturer, "HippoNode");
        var (decisions, chosen) = SeriesSelector.Select([new ScannedSeries("1.1", s.Instances)], SelectionRules.Default);
        Assert.Null(chosen);
        Assert.Contains("a HippoNode result series", decisions[0].Reason);
    }

    [SharedDataTheory]
    [InlineData("Study1", 5)]
    [InlineData("Study2", 5)]
    public void TestVolumesHippoCropIsChosen(string study, int seriesCount)
    {
        var scan = StudyScanner.Scan(TestData.Shared("TestVolumes", study), default);
        Assert.Empty(scan.SkippedFiles);
        Assert.Single(scan.StudyInstanceUids);
        var (decisions, chosen) = SeriesSelector.Select(scan.Series, SelectionRules.Default);
        Assert.Equal(seriesCount, decisions.Count);
        Assert.Equal("HippoCrop", chosen!.Description);
        Assert.Single(decisions, d => d.Chosen);
        foreach (var d in decisions.Where(d => !d.Chosen)) Assert.StartsWith("skipped: ", d.Reason);
        if (study == "Study2")
        {
            var dT1 = decisions.Single(d => d.SeriesDescription == "dT1");
            Assert.Contains("SOP class SecondaryCaptureImageStorage", dT1.Reason);
        }
    }
}
