using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.IO;

public sealed class SequenceTests
{
    private static readonly DicomTag Outer = DicomTags.ReferencedSeriesSequence;          // (0008,1115)
    private static readonly DicomTag Inner = DicomTags.ReferencedInstanceSequence;        // (0008,114A)
    private static readonly DicomTag Innermost = DicomTags.ReferencedImageSequence;       // (0008,1140)

    public static TheoryData<string, bool> SyntaxAndLengthMode()
    {
        var d = new TheoryData<string, bool>();
        foreach (var s in DicomTestUtil.NativeSyntaxes) { d.Add(s.Uid, false); d.Add(s.Uid, true); }
        return d;
    }

    private static DicomDataset Nested()
    {
        var leaf1 = new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3.1")
            .AddOrUpdate(DicomTags.ReferencedFrameNumber, DicomVR.IS, 1, 2, 3);
        var leaf2 = new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3.22");
        var mid1 = new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPClassUID, DicomVR.UI, DicomUid.CTImageStorage)
            .AddOrUpdate(Innermost, leaf1, leaf2);
        var mid2 = new DicomDataset().AddOrUpdate(Innermost, Array.Empty<DicomDataset>()); // empty sequence
        var top1 = new DicomDataset().AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, "1.2.3")
            .AddOrUpdate(Inner, mid1, mid2);
        var top2 = new DicomDataset(); // empty item
        return DicomTestUtil.NewDataset().AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Nest^Ed").AddOrUpdate(Outer, top1, top2);
    }

    [Theory]
    [MemberData(nameof(SyntaxAndLengthMode))]
    public void NestedSequences_RoundTrip(string uid, bool undefinedLengths)
    {
        var ds = Nested();
        var back = DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.FromUid(uid), new DicomWriteOptions { UndefinedLengthSequences = undefinedLengths });
        DicomTestUtil.AssertSameContent(ds, back);
        var outer = back.GetSequence(Outer)!;
        Assert.Equal(2, outer.Items.Count);
        Assert.Empty(outer.Items[1]);
        var mid = outer.Items[0].GetSequence(Inner)!;
        Assert.Equal(2, mid.Items.Count);
        Assert.Empty(mid.Items[1].GetSequence(Innermost)!.Items);
        var leaves = mid.Items[0].GetSequence(Innermost)!.Items;
        Assert.Equal("1.2.3.22", leaves[1].GetString(DicomTags.ReferencedSOPInstanceUID));
        Assert.Equal([1, 2, 3], leaves[0].GetValues<int>(DicomTags.ReferencedFrameNumber));
        Assert.Same(mid.Items[0], leaves[0].Parent);
        Assert.Same(back, outer.Items[0].Parent);
    }

    [Fact]
    public void DefinedLengths_AreExact_AndUndefinedUseDelimiters()
    {
        var item = new DicomDataset().AddOrUpdate(DicomTags.CodeValue, DicomVR.SH, "AB");
        var ds = new DicomDataset().AddOrUpdate(DicomTags.ConceptNameCodeSequence, item);
        var defined = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian);
        var expected = new DicomBytes()
            .ExplicitHeader(0x0040, 0xA043, "SQ", 18).Item(10).ExplicitText(0x0008, 0x0100, "SH", "AB").ToArray();
        Assert.Equal(expected, defined);

        var undefined = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = true });
        var expectedU = new DicomBytes()
            .ExplicitHeader(0x0040, 0xA043, "SQ", 0xFFFFFFFF).Item().ExplicitText(0x0008, 0x0100, "SH", "AB").ItemDelimiter().SequenceDelimiter().ToArray();
        Assert.Equal(expectedU, undefined);

        var w = new DicomWriter(Stream.Null, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(defined.Length, w.DatasetLength(ds));
        var wu = new DicomWriter(Stream.Null, DicomTransferSyntax.ExplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = true });
        Assert.Equal(undefined.Length, wu.DatasetLength(ds));
    }

    [Fact]
    public void MixedDefinedAndUndefinedLengths_HandBuilt_Parse_AndRewriteIdentically()
    {
        // SQ undefined > item defined > SQ defined > item undefined > element; then a sibling element.
        var leaf = new DicomBytes().ExplicitText(0x0008, 0x1155, "UI", "1.2").ToArray(); // "1.2" + pad
        var innerItem = new DicomBytes().Item().Raw(leaf).ItemDelimiter().ToArray();
        var innerSq = new DicomBytes().ExplicitHeader(0x0008, 0x1140, "SQ", (uint)innerItem.Length).Raw(innerItem).ToArray();
        var outerItemBody = new DicomBytes().ExplicitText(0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.2").Raw(innerSq).ToArray();
        var bytes = new DicomBytes()
            .ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item((uint)outerItemBody.Length).Raw(outerItemBody).SequenceDelimiter()
            .ExplicitText(0x0010, 0x0010, "PN", "Doe").ToArray();

        foreach (var seekable in new[] { true, false })
        {
            var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian, seekable);
            var leafItem = ds.GetSequence(Outer)!.Items.Single().GetSequence(Innermost)!.Items.Single();
            Assert.Equal("1.2", leafItem.GetString(DicomTags.ReferencedSOPInstanceUID));
            Assert.Equal("Doe", ds.GetString(DicomTags.PatientName));

            // Written back all-defined and all-undefined, the structure survives, and a second rewrite is a fixed point.
            foreach (var undefined in new[] { false, true })
            {
                var opts = new DicomWriteOptions { UndefinedLengthSequences = undefined };
                var once = DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian, opts);
                var again = DicomTestUtil.Decode(once, DicomTransferSyntax.ExplicitVRLittleEndian);
                DicomTestUtil.AssertSameContent(ds, again);
                Assert.Equal(once, DicomTestUtil.Encode(again, DicomTransferSyntax.ExplicitVRLittleEndian, opts));
            }
        }
    }

    [Fact]
    public void AllDefinedLengths_HandBuilt_RewriteByteIdentically()
    {
        var itemBody = new DicomBytes().ExplicitText(0x0008, 0x0100, "SH", "T-D1100").ExplicitText(0x0008, 0x0102, "SH", "SRT").ToArray();
        var bytes = new DicomBytes()
            .ExplicitText(0x0008, 0x0060, "CS", "CT")
            .ExplicitHeader(0x0040, 0xA043, "SQ", (uint)(8 + itemBody.Length)).Item((uint)itemBody.Length).Raw(itemBody)
            .ToArray();
        var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(bytes, DicomTestUtil.Encode(ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }

    [Fact]
    public void ItemDelimiterMissingBeforeSequenceDelimiter_IsReadLeniently()
    {
        var bytes = new DicomBytes()
            .ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item().ExplicitText(0x0020, 0x000E, "UI", "1.2").SequenceDelimiter()
            .ExplicitText(0x0010, 0x0010, "PN", "After").ToArray();
        var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        Assert.Single(ds.GetSequence(Outer)!.Items);
        Assert.Equal("After", ds.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void UndefinedLengthUN_IsReadAsImplicitVRSequence()
    {
        // PS3.5 §6.2.2: a UN of undefined length holds an Implicit VR Little Endian sequence.
        var bytes = new DicomBytes()
            .ExplicitHeader(0x0008, 0x1115, "UN", 0xFFFFFFFF).Item()
            .Implicit(0x0020, 0x000E, "1.2\0"u8.ToArray()).ItemDelimiter().SequenceDelimiter()
            .ExplicitText(0x0010, 0x0010, "PN", "After").ToArray();
        var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        var item = ds.GetSequence(Outer)!.Items.Single();
        Assert.Equal("1.2", item.GetString(DicomTags.SeriesInstanceUID));
        Assert.Equal(DicomVR.UI, item[DicomTags.SeriesInstanceUID]!.VR);
        Assert.Equal("After", ds.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void ImplicitVR_UndefinedLengthSequence_AndStrayItemDelimiter()
    {
        var bytes = new DicomBytes()
            .ImplicitHeader(0x0008, 0x1115, 0xFFFFFFFF).Item().Implicit(0x0020, 0x000E, "1.2\0"u8.ToArray()).ItemDelimiter().SequenceDelimiter()
            .ItemDelimiter() // stray, at top level: skipped as DCMTK does
            .Implicit(0x0010, 0x0010, "Doe "u8.ToArray()).ToArray();
        var ds = DicomTestUtil.Decode(bytes, DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Equal("1.2", ds.GetSequence(Outer)!.Items.Single().GetString(DicomTags.SeriesInstanceUID));
        Assert.Equal("Doe", ds.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Clone_IsDeep_ForSequences()
    {
        var ds = Nested();
        var copy = ds.Clone();
        DicomTestUtil.AssertSameContent(ds, copy);
        copy.GetSequence(Outer)!.Items[0].AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, "9.9");
        Assert.Equal("1.2.3", ds.GetSequence(Outer)!.Items[0].GetString(DicomTags.SeriesInstanceUID));
    }

    [Fact]
    public void MaxDepth_AllowsExactlyThatManyLevels()
    {
        static byte[] Nest(int levels)
        {
            var b = new DicomBytes();
            for (var i = 0; i < levels; i++) b.ExplicitHeader(0x0008, 0x1115, "SQ", 0xFFFFFFFF).Item();
            for (var i = 0; i < levels; i++) b.ItemDelimiter().SequenceDelimiter();
            return b.ToArray();
        }
        var ok = DicomTestUtil.Decode(Nest(DicomReadOptions.Default.MaxDepth), DicomTransferSyntax.ExplicitVRLittleEndian);
        var depth = 0;
        for (var d = ok; d.GetSequence(Outer) is { } sq; d = sq.Items[0]) depth++;
        Assert.Equal(DicomReadOptions.Default.MaxDepth, depth);
        Assert.Throws<DicomParseException>(() => DicomTestUtil.Decode(Nest(DicomReadOptions.Default.MaxDepth + 1), DicomTransferSyntax.ExplicitVRLittleEndian));
        Assert.Throws<DicomParseException>(() => DicomTestUtil.Decode(Nest(5), DicomTransferSyntax.ExplicitVRLittleEndian, options: new DicomReadOptions { MaxDepth = 4 }));
    }
}
