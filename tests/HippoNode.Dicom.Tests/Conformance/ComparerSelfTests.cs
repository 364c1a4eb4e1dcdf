using System.Text;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>
/// The conformance tests are only as good as their comparison: these show that <see cref="DumpComparer"/> and
/// <see cref="DatasetDiff"/> agree on a faithful reading and catch each kind of difference (so the conformance tests
/// can fail), using a small synthetic file with every kind of value.
/// </summary>
public sealed class ComparerSelfTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("hipponode-comparer-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static readonly DicomTag PrivateCreator = new(0x0009, 0x0010);
    private static readonly DicomTag PrivateLong = new(0x0009, 0x1001);

    /// <summary>A data set with text (non-ASCII, control characters, markup characters), numbers of each width, tags, bytes, words and nested sequences.</summary>
    private static DicomDataset Sample()
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100");
        ds.AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL");
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.SecondaryCaptureImageStorage);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3.4.5");
        ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Müller^Jörg");
        ds.AddOrUpdate(DicomTags.PatientComments, DicomVR.LT, "line one\r\nline <two> & \"three\"\tend");
        ds.AddOrUpdate(DicomTags.SliceThickness, DicomVR.DS, "1.25");
        ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)512);
        ds.AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)3);
        ds.AddOrUpdate(DicomTags.SmallestImagePixelValue, DicomVR.SS, (short)-1024);
        ds.AddOrUpdate(DicomTags.ReferencedFrameNumber, DicomVR.IS, "1", "2");
        ds.AddOrUpdate(DicomTags.FrameIncrementPointer, DicomTags.FrameTime, DicomTags.SliceLocation);
        ds.AddOrUpdate(DicomTags.RecommendedDisplayFrameRateInFloat, DicomVR.FL, 0.1f, -3.5e-7f);
        ds.AddOrUpdate(DicomTags.PatientWeight, DicomVR.DS, "80");
        ds.AddOrUpdate(DicomTags.ExaminedBodyThickness, DicomVR.FL, 12.75f);
        ds.AddOrUpdate(new DicomTag(0x0018, 0x9087), DicomVR.FD, 0.026228787661969979, 1e300, -1e-300, double.MaxValue, double.Epsilon, 0.0);
        ds.AddOrUpdate(DicomTags.PixelPaddingRangeLimit, DicomVR.SL, -70000); // not its VR, which the comparison must not care about
        ds.AddOrUpdate(PrivateCreator, DicomVR.LO, "HIPPO TEST");
        ds.AddOrUpdate(PrivateLong, DicomVR.UL, 4000000000u);
        ds.AddOrUpdate(DicomTags.RedPaletteColorLookupTableData, DicomVR.OW, new byte[] { 0x34, 0x12, 0xFF, 0x00, 0x01, 0x80 });
        ds.AddOrUpdate(DicomTags.ICCProfile, DicomVR.OB, new byte[] { 0, 1, 2, 0xFE, 0xFF, 0x7F });
        var inner = new DicomDataset().AddOrUpdate(DicomTags.CodeValue, DicomVR.SH, "T-A0100").AddOrUpdate(DicomTags.CodeMeaning, DicomVR.LO, "Brain");
        var item1 = new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3").AddOrUpdate(DicomTags.AnatomicRegionSequence, inner);
        var item2 = new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3.4");
        ds.AddOrUpdate(DicomTags.ReferencedImageSequence, item1, item2);
        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, new byte[512 * 3 * 2]);
        return ds;
    }

    private (DicomFile File, DumpFile Dump) WriteAndDump(DicomDataset ds, DicomTransferSyntax syntax)
    {
        var path = Path.Combine(_tmp, Guid.NewGuid().ToString("N") + ".dcm");
        new DicomFile(ds, syntax).Save(path);
        var dump = DcmtkDump.Dump(path);
        Assert.True(dump.ExitCode == 0 && dump.StdErr.Length == 0, $"dcmdump: {dump.StdErr}");
        return (DicomFile.Open(path), dump);
    }

    [ToolFact("dcmdump")]
    public void A_faithful_reading_compares_equal_in_every_native_syntax()
    {
        foreach (var syntax in new[] { DicomTransferSyntax.ExplicitVRLittleEndian, DicomTransferSyntax.ExplicitVRBigEndian, DicomTransferSyntax.DeflatedExplicitVRLittleEndian })
        {
            var (file, dump) = WriteAndDump(Sample(), syntax);
            Assert.Empty(DumpComparer.Compare(file, dump));
            Assert.Empty(DatasetDiff.Compare(Sample(), file.Dataset, viaImplicit: false));
        }
        var (implicitFile, implicitDump) = WriteAndDump(Sample(), DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Empty(DumpComparer.Compare(implicitFile, implicitDump));
        Assert.Empty(DatasetDiff.Compare(Sample(), implicitFile.Dataset, viaImplicit: true));
    }

    public static TheoryData<string> Mutations() => new(MutationsByName.Keys);

    private static readonly Dictionary<string, Action<DicomDataset>> MutationsByName = new()
    {
        ["one byte of a string"] = ds => ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Müller^Jorg"),
        ["a control character"] = ds => ds.AddOrUpdate(DicomTags.PatientComments, DicomVR.LT, "line one\nline <two> & \"three\"\tend"),
        ["one more value"] = ds => ds.AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL", "X"),
        ["a US value"] = ds => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)513),
        ["an SS sign"] = ds => ds.AddOrUpdate(DicomTags.SmallestImagePixelValue, DicomVR.SS, (short)1024),
        ["an FL value"] = ds => ds.AddOrUpdate(DicomTags.ExaminedBodyThickness, DicomVR.FL, 12.76f),
        ["an FD value"] = ds => ds.AddOrUpdate(new DicomTag(0x0018, 0x9087), DicomVR.FD, 0.026228787661969979, 1.00000000000001e300, -1e-300, double.MaxValue, double.Epsilon, 0.0),
        ["an AT value"] = ds => ds.AddOrUpdate(DicomTags.FrameIncrementPointer, DicomTags.FrameTime, DicomTags.SliceThickness),
        ["a private UL"] = ds => ds.AddOrUpdate(PrivateLong, DicomVR.UL, 4000000001u),
        ["an OW word"] = ds => ds.AddOrUpdate(DicomTags.RedPaletteColorLookupTableData, DicomVR.OW, new byte[] { 0x34, 0x12, 0xFF, 0x01, 0x01, 0x80 }),
        ["an OB byte"] = ds => ds.AddOrUpdate(DicomTags.ICCProfile, DicomVR.OB, new byte[] { 0, 1, 2, 0xFE, 0xFF, 0x7E }),
        ["a VR"] = ds => ds.AddOrUpdate(DicomTags.SliceThickness, DicomVR.IS, "1"),
        ["a length"] = ds => ds.AddOrUpdate(DicomTags.ICCProfile, DicomVR.OB, new byte[] { 0, 1, 2, 0xFE, 0xFF, 0x7F, 0, 0 }),
        ["a missing element"] = ds => ds.Remove(DicomTags.PatientWeight),
        ["an extra element"] = ds => ds.AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "X"),
        ["an element deep in a sequence"] = ds => ds.GetSequence(DicomTags.ReferencedImageSequence)!.Items[0]
            .GetSequence(DicomTags.AnatomicRegionSequence)!.Items[0].AddOrUpdate(DicomTags.CodeMeaning, DicomVR.LO, "Brains"),
        ["an item"] = ds => ds.GetSequence(DicomTags.ReferencedImageSequence)!.Items.RemoveAt(1),
        ["a pixel"] = ds =>
        {
            var pixels = new byte[512 * 3 * 2];
            pixels[^1] = 1;
            ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, pixels);
        },
    };

    [ToolTheory("dcmdump")]
    [MemberData(nameof(Mutations))]
    public void Each_kind_of_difference_is_reported(string mutation)
    {
        var (file, dump) = WriteAndDump(Sample(), DicomTransferSyntax.ExplicitVRLittleEndian);
        var changed = new DicomFile(file.FileMetaInformation, file.Dataset.Clone(), file.TransferSyntax);
        MutationsByName[mutation](changed.Dataset);
        Assert.NotEmpty(DumpComparer.Compare(changed, dump));
        Assert.NotEmpty(DatasetDiff.Compare(file.Dataset, changed.Dataset, viaImplicit: false));
    }

    [ToolFact("dcmdump")]
    public void Sequence_lengths_are_checked_against_the_writer()
    {
        // A defined-length sequence whose stated length is not what its items take must be reported.
        var (file, dump) = WriteAndDump(Sample(), DicomTransferSyntax.ExplicitVRLittleEndian);
        var sq = dump.Dataset.Single(n => n.Tag == DicomTags.ReferencedImageSequence);
        var wrong = new DumpNode { Tag = sq.Tag, VR = sq.VR, Value = sq.Value, Length = sq.Length + 2, VM = sq.VM, LineNumber = sq.LineNumber };
        wrong.Children.AddRange(sq.Children);
        dump.Dataset[dump.Dataset.IndexOf(sq)] = wrong;
        Assert.Contains(DumpComparer.Compare(file, dump), d => d.Contains("sequence length", StringComparison.Ordinal));
        Assert.Empty(DumpComparer.Compare(file, dump, compareSequenceLengths: false));
    }

    [Fact]
    public void Dump_lines_parse_into_tag_vr_value_length_and_vm()
    {
        var n = DcmtkDump.ParseLine("    (0008,0008) CS [ORIGINAL\\PRIMARY#1]                     #  18, 2 ImageType", 1, out var indent)!;
        Assert.Equal(4, indent);
        Assert.Equal(DicomTags.ImageType, n.Tag);
        Assert.Equal("CS", n.VR);
        Assert.Equal("[ORIGINAL\\PRIMARY#1]", n.Value);
        Assert.Equal(18, n.Length);
        Assert.Equal(2, n.VM);
        var sq = DcmtkDump.ParseLine("(0040,a730) SQ (Sequence with undefined length #=3)     # u/l, 1 ContentSequence", 1, out _)!;
        Assert.Null(sq.Length);
        Assert.True(sq.IsSequence);
        var priv = DcmtkDump.ParseLine("(0009,1001) LO [GE_GENESIS_FF]                          #  14, 1 Unknown Tag & Data", 1, out _)!;
        Assert.Equal(14, priv.Length);
        Assert.Null(DcmtkDump.ParseLine("# Dicom-Data-Set", 1, out _));
    }

    [Fact]
    public void Quoted_strings_come_back_as_their_bytes()
    {
        Assert.Equal(Encoding.Latin1.GetBytes("Riesmeier^Jörg"), DcmtkDump.UnquoteString("[Riesmeier^J&#246;rg]"));
        Assert.Equal("a\r\nb<&>\"'"u8.ToArray(), DcmtkDump.UnquoteString("[a&#13;&#10;b&lt;&amp;&gt;&quot;&apos;]"));
        Assert.Throws<FormatException>(() => DcmtkDump.UnquoteString("no brackets"));
    }
}

/// <summary>A theory that skips when a named peer tool is missing (no shared data needed).</summary>
public sealed class ToolTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips when any of <paramref name="tools"/> is absent.</summary>
    public ToolTheoryAttribute(params string[] tools)
    {
        if (tools.FirstOrDefault(t => !TestData.HasTool(t)) is { } missing) Skip = $"{missing} not on PATH (.ci/run installs it)";
    }
}
