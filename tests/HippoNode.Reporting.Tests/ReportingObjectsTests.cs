using System.Globalization;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Reporting;
using Xunit.Abstractions;

namespace HippoNode.Reporting.Tests;

/// <summary>SEG, SR and SC over the real HippoCrop series, checked by dicom3tools and DCMTK.</summary>
public sealed class ReportingObjectsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-reporting-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Seg, string Sr, string Sc, DicomDataset SegDs, DicomDataset SrDs) WriteAll(StudyFindings f, ReportingOptions? options = null)
    {
        options ??= new ReportingOptions { DeviceSerialNumber = "TEST-1", InstitutionName = "Test Hospital" };
        var seg = SegmentationWriter.Create(f, options);
        var sr = MeasurementReportWriter.Create(f, seg, options);
        var sc = SecondaryCaptureWriter.Create(f, options);
        string Save(DicomDataset ds, string name)
        {
            var path = Path.Combine(_dir, name);
            new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            return path;
        }
        return (Save(seg, "seg.dcm"), Save(sr, "sr.dcm"), Save(sc, "sc.dcm"), seg, sr);
    }

    /// <summary>Runs dciodvfy; returns its error and warning lines (it reports on stderr).</summary>
    private (List<string> Errors, List<string> Warnings) Dciodvfy(string path)
    {
        var (_, so, se) = TestData.Run("dciodvfy", [path]);
        var lines = (so + "\n" + se).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        var warnings = lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();
        output.WriteLine($"dciodvfy {Path.GetFileName(path)}: {errors.Count} errors, {warnings.Count} warnings");
        foreach (var l in errors.Concat(warnings).Distinct()) output.WriteLine("  " + l);
        return (errors, warnings);
    }

    [SharedDataTheory("dciodvfy", "dcentvfy", "dsrdump", "dcmdump")]
    [InlineData("Study1/13_HCropVolume")]
    [InlineData("Study2/14_HCropVolume")]
    public void RealSeries_SegSrSc_PassDciodvfyDcentvfyAndDcmtk(string series)
    {
        var (slices, paths) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", series));
        var f = TestStudies.Findings(slices);
        var (seg, sr, sc, _, _) = WriteAll(f);

        foreach (var p in new[] { seg, sr, sc }) Assert.Empty(Dciodvfy(p).Errors);

        // dcentvfy: patient, study, series and frame of reference attributes agree over the source files and ours.
        var (_, eo, ee) = TestData.Run("dcentvfy", [.. paths, seg, sr, sc]);
        output.WriteLine("dcentvfy: " + eo + ee);
        Assert.DoesNotContain("Error", eo + ee, StringComparison.Ordinal);

        // The page as PNG next to the objects, for a look (HIPPONODE_KEEP_REPORT=dir keeps it).
        var png = ReportPageRenderer.RenderPng(f, new ReportingOptions());
        if (Environment.GetEnvironmentVariable("HIPPONODE_KEEP_REPORT") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            var name = series.Replace('/', '_');
            File.WriteAllBytes(Path.Combine(keep, name + ".png"), png);
            foreach (var p in new[] { seg, sr, sc }) File.Copy(p, Path.Combine(keep, name + "_" + Path.GetFileName(p)), true);
        }
        output.WriteLine($"typeface: {ReportPageRenderer.TypefaceSource}");

        foreach (var p in new[] { seg, sr, sc })
        {
            var (rc, _, err) = TestData.Run("dcmdump", ["-q", p]);
            Assert.True(rc == 0, $"dcmdump {p}: {err}");
        }
    }

    [SharedDataFact("dsrdump")]
    public void RealSeries_Sr_DsrdumpShowsTid1500TreeWithVolumesOfTheInput()
    {
        var (slices, _) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", "Study1", "13_HCropVolume"));
        var f = TestStudies.Findings(slices, flagged: true);
        var (_, sr, _, segDs, _) = WriteAll(f);
        var (rc, text, err) = TestData.Run("dsrdump", ["+Pc", "+Pu", sr]);
        output.WriteLine(text + err);
        Assert.Equal(0, rc);
        Assert.DoesNotContain("warning", err, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Comprehensive SR Document", text, StringComparison.Ordinal);
        Assert.Contains("Completion Flag     : COMPLETE", text, StringComparison.Ordinal);
        Assert.Contains("Verification Flag   : UNVERIFIED", text, StringComparison.Ordinal);
        Assert.Contains("<CONTAINER:(126000,DCM,\"Imaging Measurement Report\")=SEPARATE>", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod CODE:(121049,DCM,\"Language of Content Item and Descendants\")=(en-US,RFC5646,", text, StringComparison.Ordinal);
        Assert.Contains("<has obs context CODE:(121005,DCM,\"Observer Type\")=(121007,DCM,\"Device\")>", text, StringComparison.Ordinal);
        Assert.Contains("<has obs context UIDREF:(121012,DCM,\"Device Observer UID\")=", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod CODE:(121058,DCM,\"Procedure reported\")=(24590-2,LN,\"MR Brain\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains CONTAINER:(111028,DCM,\"Image Library\")=SEPARATE>", text, StringComparison.Ordinal);
        Assert.Contains("<contains CONTAINER:(126010,DCM,\"Imaging Measurements\")=SEPARATE>", text, StringComparison.Ordinal);
        Assert.Contains("<has obs context TEXT:(112039,DCM,\"Tracking Identifier\")=\"anterior hippocampus\">", text, StringComparison.Ordinal);
        Assert.Contains("<contains CODE:(121071,DCM,\"Finding\")=(5976008,SCT,\"Hippocampus\")>", text, StringComparison.Ordinal);
        var segUid = segDs.GetString(DicomTags.SOPInstanceUID);
        Assert.Contains($"<contains IMAGE:(121191,DCM,\"Referenced Segment\")=(SG image,\"{segUid}\",1)>", text, StringComparison.Ordinal);
        Assert.Contains($"<contains IMAGE:(121191,DCM,\"Referenced Segment\")=(SG image,\"{segUid}\",2)>", text, StringComparison.Ordinal);
        Assert.Contains($"<contains UIDREF:(121232,DCM,\"Source series for segmentation\")=\"{slices[0].GetString(DicomTags.SeriesInstanceUID)}\">", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod TEXT:(111001,DCM,\"Algorithm Name\")=\"HippoNode U-Net ensemble\">", text, StringComparison.Ordinal);
        Assert.Contains("<has concept mod TEXT:(111003,DCM,\"Algorithm Version\")=\"1.0.0\">", text, StringComparison.Ordinal);
        Assert.Contains("<contains NUM:(AGREEMENT,99HIPPONODE,\"Ensemble agreement (mean pairwise Dice)\")=\"0.61\" (1,UCUM,\"no units\")>", text, StringComparison.Ordinal);
        Assert.Contains("<contains CODE:(LOW_AGREEMENT,99HIPPONODE,\"Ensemble agreement below threshold\")=(373066001,SCT,\"Yes\")>", text, StringComparison.Ordinal);
        Assert.Contains("Not for diagnostic use", text, StringComparison.Ordinal);
        foreach (var s in f.Segments)
        {
            var v = DicomDataset.FormatDecimalString(s.VolumeMm3);
            Assert.Contains($"<contains NUM:(118565006,SCT,\"Volume\")=\"{v}\" (mm3,UCUM,\"cubic millimeter\")>", text, StringComparison.Ordinal);
        }

        // Read back with our toolkit: the volumes are the input's, exactly.
        var back = DicomFile.Open(sr).Dataset;
        var volumes = Walk(back).Where(i => i.GetString(DicomTags.ValueType) == "NUM"
                && i.GetSequence(DicomTags.ConceptNameCodeSequence)!.Items[0].GetString(DicomTags.CodeValue) == "118565006")
            .Select(i => double.Parse(i.GetSequence(DicomTags.MeasuredValueSequence)!.Items[0].GetString(DicomTags.NumericValue)!, CultureInfo.InvariantCulture))
            .ToList();
        Assert.Equal([f.Segments[0].VolumeMm3, f.Segments[1].VolumeMm3, f.Segments.Sum(s => s.VolumeMm3)], volumes);

        // Evidence names the SEG and every source image.
        var evidence = back.GetSequence(DicomTags.CurrentRequestedProcedureEvidenceSequence)!.Items.Single().GetSequence(DicomTags.ReferencedSeriesSequence)!.Items;
        Assert.Equal(slices.Count, evidence[0].GetSequence(DicomTags.ReferencedSOPSequence)!.Items.Count);
        Assert.Equal(segUid, evidence[1].GetSequence(DicomTags.ReferencedSOPSequence)!.Items.Single().GetString(DicomTags.ReferencedSOPInstanceUID));
    }

    /// <summary>OHIF labels a TID 1500 measurement only from a Comment (DCM 121106) in its group: each group names its structure there.</summary>
    [SharedDataFact]
    public void RealSeries_Sr_EachMeasurementGroupNamesItsStructureInTheCommentViewersShow()
    {
        var (slices, _) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", "Study2", "14_HCropVolume"));
        var f = TestStudies.Findings(slices);
        var (_, sr, _, _, _) = WriteAll(f);
        static string Concept(DicomDataset item) => item.GetSequence(DicomTags.ConceptNameCodeSequence)!.Items[0].GetString(DicomTags.CodeValue)!;
        var groups = Walk(DicomFile.Open(sr).Dataset)
            .Where(i => i.GetString(DicomTags.ValueType) == "CONTAINER" && Concept(i) == "125007")
            .Select(g => g.GetSequence(DicomTags.ContentSequence)!.Items)
            .ToList();
        Assert.Equal(3, groups.Count);
        var names = new List<string>();
        foreach (var items in groups)
        {
            var tracking = items.Single(i => Concept(i) == "112039").GetString(DicomTags.TextValue);
            var comment = items.Single(i => Concept(i) == "121106");
            Assert.Equal("TEXT", comment.GetString(DicomTags.ValueType));
            Assert.Equal("CONTAINS", comment.GetString(DicomTags.RelationshipType));
            Assert.Equal("DCM", comment.GetSequence(DicomTags.ConceptNameCodeSequence)!.Items[0].GetString(DicomTags.CodingSchemeDesignator));
            Assert.Equal(tracking, comment.GetString(DicomTags.TextValue));
            names.Add(comment.GetString(DicomTags.TextValue)!);
        }
        Assert.Equal([.. f.Segments.Select(s => s.Label), "whole hippocampus"], names);
    }

    [SharedDataFact]
    public void RealSeries_Seg_FramesDecodeToTheLabelMap()
    {
        var (slices, _) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", "Study2", "14_HCropVolume"));
        var f = TestStudies.Findings(slices);
        var (seg, _, _, _, _) = WriteAll(f);
        var ds = DicomFile.Open(seg).Dataset;

        Assert.Equal((ushort)1, ds.GetValue<ushort>(DicomTags.BitsAllocated));
        Assert.Equal(f.Rows, ds.GetValue<int>(DicomTags.Rows));
        Assert.Equal(f.Columns, ds.GetValue<int>(DicomTags.Columns));
        var expectedFrames = f.Segments.Sum(s => f.Labels.Count(l => l.Contains((byte)s.LabelValue)));
        var frames = ds.GetValue<int>(DicomTags.NumberOfFrames);
        // Empty frames may be added so that the packed bits fill an even number of bytes (OHIF needs the exact length).
        Assert.InRange(frames - expectedFrames, 0, 16);
        var pixelData = ((DicomElement)ds.GetItem(DicomTags.PixelData)!).Buffer.GetMemory().ToArray();
        var bits = (long)frames * f.Rows * f.Columns;
        Assert.Equal((bits + 7) / 8, pixelData.Length);
        Assert.Equal(0, pixelData.Length % 2);
        Assert.Equal(expectedFrames, Enumerable.Range(0, frames).Count(i => SegmentationWriter.UnpackFrame(pixelData, f.Rows, f.Columns, i).Contains((byte)1)));

        var byInstance = slices.Select((s, k) => (Uid: s.GetString(DicomTags.SOPInstanceUID)!, k)).ToDictionary(x => x.Uid, x => x.k);
        var perFrame = ds.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items;
        Assert.Equal(frames, perFrame.Count);
        var seen = new HashSet<(int, int)>();
        for (var i = 0; i < frames; i++)
        {
            var segNo = perFrame[i].GetSequence(DicomTags.SegmentIdentificationSequence)!.Items[0].GetValue<int>(DicomTags.ReferencedSegmentNumber);
            var src = perFrame[i].GetSequence(DicomTags.DerivationImageSequence)!.Items[0].GetSequence(DicomTags.SourceImageSequence)!.Items[0];
            var k = byInstance[src.GetString(DicomTags.ReferencedSOPInstanceUID)!];
            Assert.Equal(slices[k].GetStrings(DicomTags.ImagePositionPatient),
                perFrame[i].GetSequence(DicomTags.PlanePositionSequence)!.Items[0].GetStrings(DicomTags.ImagePositionPatient));
            Assert.Equal([(uint)segNo, (uint)(k + 1)], perFrame[i].GetSequence(DicomTags.FrameContentSequence)!.Items[0].GetValues<uint>(DicomTags.DimensionIndexValues));
            var mask = SegmentationWriter.UnpackFrame(pixelData, f.Rows, f.Columns, i);
            var expected = f.Labels[k].Select(v => (byte)(v == f.Segments[segNo - 1].LabelValue ? 1 : 0)).ToArray();
            Assert.Equal(expected, mask);
            Assert.True(seen.Add((segNo, k)));
        }
        // Every voxel of every segment is in some frame.
        Assert.Equal(f.Segments.Sum(s => s.VoxelCount), Enumerable.Range(0, frames).Sum(i => SegmentationWriter.UnpackFrame(pixelData, f.Rows, f.Columns, i).Count(b => b == 1)));

        var refSeries = ds.GetSequence(DicomTags.ReferencedSeriesSequence)!.Items.Single();
        Assert.Equal(slices[0].GetString(DicomTags.SeriesInstanceUID), refSeries.GetString(DicomTags.SeriesInstanceUID));
        Assert.Equal(slices.Count, refSeries.GetSequence(DicomTags.ReferencedInstanceSequence)!.Items.Count);
        Assert.Equal("HippoNode", ds.GetString(DicomTags.Manufacturer));
        Assert.True(ReportingOptions.IsOwnObject(ds));
        Assert.Equal(slices[0].GetString(DicomTags.StudyInstanceUID), ds.GetString(DicomTags.StudyInstanceUID));
        Assert.StartsWith("2.25.", ds.GetString(DicomTags.SOPInstanceUID), StringComparison.Ordinal);
    }

    [SharedDataFact("dciodvfy")]
    public void EmptySegment_IsListedWithoutFrames_AndStillValid()
    {
        var (slices, _) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", "Study1", "13_HCropVolume"));
        var f = TestStudies.Findings(slices, emptyPosterior: true);
        var (seg, sr, _, segDs, _) = WriteAll(f);
        Assert.Equal(2, segDs.GetSequence(DicomTags.SegmentSequence)!.Items.Count);
        var perFrame = segDs.GetSequence(DicomTags.PerFrameFunctionalGroupsSequence)!.Items;
        Assert.All(perFrame, p => Assert.Equal(1, p.GetSequence(DicomTags.SegmentIdentificationSequence)!.Items[0].GetValue<int>(DicomTags.ReferencedSegmentNumber)));
        Assert.Empty(Dciodvfy(seg).Errors);
        Assert.Empty(Dciodvfy(sr).Errors);
    }

    [SharedDataFact("dciodvfy")]
    public void NoVoxelsAtAll_WritesOneEmptyFrame_AndStillValid()
    {
        var (slices, _) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", "Study2", "14_HCropVolume"));
        var f = TestStudies.Findings(slices, empty: true);
        var (seg, _, sc, segDs, _) = WriteAll(f);
        Assert.Equal("1", segDs.GetString(DicomTags.NumberOfFrames));
        var pixels = ((DicomElement)segDs.GetItem(DicomTags.PixelData)!).Buffer.GetMemory().ToArray();
        Assert.All(pixels, b => Assert.Equal(0, b));
        Assert.Empty(Dciodvfy(seg).Errors);
        Assert.Empty(Dciodvfy(sc).Errors);
    }

    [SharedDataFact("dsrdump", "dcmdump")]
    public void ReferenceObjects_DcmqiAndHighdicom_HaveTheTreeShapeOursHas()
    {
        // The reference SR of dcmqi and ours share the TID 1500 skeleton; dsrdump reads both.
        var (slices, _) = TestStudies.ReadSeries(TestData.Shared("TestVolumes", "Study1", "13_HCropVolume"));
        var (_, sr, _, _, _) = WriteAll(TestStudies.Findings(slices));
        var ours = TestData.Run("dsrdump", ["+Pc", sr]).StdOut;
        var dcmqi = TestData.Run("dsrdump", ["+Pc", TestData.Shared("seg-sr-examples", "dcmqi", "sr-example", "sr.dcm")]).StdOut;
        var highdicom = TestData.Run("dsrdump", ["+Pc", TestData.Shared("seg-sr-examples", "highdicom", "sr_document_with_multiple_groups.dcm")]).StdOut;
        foreach (var concept in new[] { "(126000,DCM,\"Imaging Measurement Report\")", "(121049,DCM,", "(121058,DCM,\"Procedure reported\")",
                     "(126010,DCM,\"Imaging Measurements\")", "(125007,DCM,\"Measurement Group\")", "(112039,DCM,\"Tracking Identifier\")",
                     "(112040,DCM,\"Tracking Unique Identifier\")", "(121071,DCM,\"Finding\")" })
        {
            Assert.Contains(concept, ours, StringComparison.Ordinal);
            Assert.Contains(concept, dcmqi, StringComparison.Ordinal);
            Assert.Contains(concept, highdicom, StringComparison.Ordinal);
        }
        Assert.Contains("(121191,DCM,\"Referenced Segment\")", dcmqi, StringComparison.Ordinal);
        Assert.Contains("(121191,DCM,\"Referenced Segment\")", ours, StringComparison.Ordinal);
        Assert.Equal(0, TestData.Run("dcmdump", ["-q", TestData.Shared("seg-sr-examples", "dcmqi", "sr-example", "seg.dcm")]).ExitCode);
        Assert.Equal(0, TestData.Run("dcmdump", ["-q", TestData.Shared("seg-sr-examples", "highdicom", "seg_image_ct_binary.dcm")]).ExitCode);
    }

    internal static IEnumerable<DicomDataset> Walk(DicomDataset ds)
    {
        foreach (var item in ds.GetSequence(DicomTags.ContentSequence)?.Items ?? [])
        {
            yield return item;
            foreach (var child in Walk(item)) yield return child;
        }
    }
}
