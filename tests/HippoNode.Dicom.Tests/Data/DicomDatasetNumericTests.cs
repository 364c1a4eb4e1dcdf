using HippoNode.Dicom.Tests.IO;

namespace HippoNode.Dicom.Tests.Data;

public sealed class DicomDatasetNumericTests
{
    // Tags whose dictionary VR is the one under test, so Implicit VR reads them back with that VR.
    private static readonly DicomTag UsTag = new(0x0028, 0x0010);   // Rows
    private static readonly DicomTag SsTag = new(0x0018, 0x9219);   // TagAngleSecondAxis
    private static readonly DicomTag SlTag = new(0x0018, 0x6020);   // ReferencePixelX0
    private static readonly DicomTag FlTag = new(0x0008, 0x9459);   // RecommendedDisplayFrameRateInFloat
    private static readonly DicomTag FdTag = new(0x0018, 0x9087);   // DiffusionBValue
    private static readonly DicomTag SvTag = new(0x0072, 0x0082);   // SelectorSVValue
    private static readonly DicomTag UvTag = new(0x0072, 0x0083);   // SelectorUVValue
    private static readonly DicomTag OvTag = new(0x0072, 0x0081);   // SelectorOVValue
    private static readonly DicomTag OdTag = new(0x0066, 0x0022);   // DoublePointCoordinatesData
    private static readonly DicomTag OlTag = new(0x0066, 0x0040);   // LongPrimitivePointIndexList
    private static readonly DicomTag OfTag = new(0x0018, 0x1638);   // VerticesOfThePolygonalOutline
    private static readonly DicomTag OwTag = new(0x0028, 0x1201);   // RedPaletteColorLookupTableData
    private static readonly DicomTag AtTag = new(0x0020, 0x9165);   // DimensionIndexPointer

    [Fact]
    public void TestTags_HaveTheDictionaryVRsTheTestsAssume()
    {
        (DicomTag Tag, DicomVR VR)[] expected =
        [
            (UsTag, DicomVR.US), (SsTag, DicomVR.SS), (SlTag, DicomVR.SL), (FlTag, DicomVR.FL), (FdTag, DicomVR.FD),
            (SvTag, DicomVR.SV), (UvTag, DicomVR.UV), (OvTag, DicomVR.OV), (OdTag, DicomVR.OD), (OlTag, DicomVR.OL),
            (OfTag, DicomVR.OF), (OwTag, DicomVR.OW), (AtTag, DicomVR.AT), (new DicomTag(0x0008, 0x1161), DicomVR.UL),
        ];
        foreach (var (tag, vr) in expected) Assert.True(DicomDictionary.ImplicitVR(tag) == vr, $"{tag}: {DicomDictionary.ImplicitVR(tag).Code()} not {vr.Code()}");
    }

    public static TheoryData<string> Syntaxes => DicomTestUtil.NativeSyntaxUids;

    private static DicomDataset RoundTrip(DicomDataset ds, string uid) => DicomTestUtil.RoundTrip(ds, DicomTransferSyntax.FromUid(uid));

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void Integers_RoundTrip_ThroughWriteAndRead(string uid)
    {
        var ul = new DicomTag(0x0008, 0x1161); // SimpleFrameList
        var ds = DicomTestUtil.NewDataset()
            .AddOrUpdate(UsTag, DicomVR.US, (ushort)0, (ushort)1, ushort.MaxValue)
            .AddOrUpdate(SsTag, DicomVR.SS, short.MinValue, (short)-1, short.MaxValue)
            .AddOrUpdate(ul, DicomVR.UL, 0u, 0x01020304u, uint.MaxValue)
            .AddOrUpdate(SlTag, DicomVR.SL, int.MinValue, -2, int.MaxValue)
            .AddOrUpdate(SvTag, DicomVR.SV, long.MinValue, -3L, long.MaxValue)
            .AddOrUpdate(UvTag, DicomVR.UV, 0UL, 0x0102030405060708UL, ulong.MaxValue)
            .AddOrUpdate(OvTag, DicomVR.OV, 0x1122334455667788UL, 42UL)
            .AddOrUpdate(OlTag, DicomVR.OL, 7u, 0xDEADBEEFu)
            .AddOrUpdate(OwTag, DicomVR.OW, (ushort)0x0102, (ushort)0xFFFE);
        var back = RoundTrip(ds, uid);
        DicomTestUtil.AssertSameContent(ds, back);
        Assert.Equal([(ushort)0, (ushort)1, ushort.MaxValue], back.GetValues<ushort>(UsTag));
        Assert.Equal([short.MinValue, (short)-1, short.MaxValue], back.GetValues<short>(SsTag));
        Assert.Equal([0u, 0x01020304u, uint.MaxValue], back.GetValues<uint>(ul));
        Assert.Equal([int.MinValue, -2, int.MaxValue], back.GetValues<int>(SlTag));
        Assert.Equal([long.MinValue, -3L, long.MaxValue], back.GetValues<long>(SvTag));
        Assert.Equal([0UL, 0x0102030405060708UL, ulong.MaxValue], back.GetValues<ulong>(UvTag));
        Assert.Equal([0x1122334455667788UL, 42UL], back.GetValues<ulong>(OvTag));
        Assert.Equal([7u, 0xDEADBEEFu], back.GetValues<uint>(OlTag));
        Assert.Equal([(ushort)0x0102, (ushort)0xFFFE], back.GetValues<ushort>(OwTag));
        Assert.Equal(3, Assert.IsType<DicomElement>(back[UsTag]).ValueMultiplicity);
        Assert.Equal(1, Assert.IsType<DicomElement>(back[OvTag]).ValueMultiplicity);
    }

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void Floats_RoundTrip_ThroughWriteAndRead(string uid)
    {
        var ds = DicomTestUtil.NewDataset()
            .AddOrUpdate(FlTag, DicomVR.FL, 1.5f, -0.0f, float.MaxValue, float.Epsilon, float.NegativeInfinity)
            .AddOrUpdate(FdTag, DicomVR.FD, Math.PI, -1e-300, double.MaxValue)
            .AddOrUpdate(OfTag, DicomVR.OF, 0.25f, -8f)
            .AddOrUpdate(OdTag, DicomVR.OD, Math.E, 1e300);
        var back = RoundTrip(ds, uid);
        DicomTestUtil.AssertSameContent(ds, back);
        Assert.Equal([1.5f, -0.0f, float.MaxValue, float.Epsilon, float.NegativeInfinity], back.GetValues<float>(FlTag));
        Assert.Equal([Math.PI, -1e-300, double.MaxValue], back.GetValues<double>(FdTag));
        Assert.Equal([0.25f, -8f], back.GetValues<float>(OfTag));
        Assert.Equal([Math.E, 1e300], back.GetValues<double>(OdTag));
        Assert.Equal(1.5, back.GetValue<double>(FlTag)); // widening works across types
    }

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void AttributeTags_RoundTrip(string uid)
    {
        var ds = DicomTestUtil.NewDataset().AddOrUpdate(AtTag, DicomTags.PixelData, new DicomTag(0x0020, 0x9157), new DicomTag(0xFFFE, 0x0001));
        Assert.Equal(DicomVR.AT, ds[AtTag]!.VR);
        Assert.Equal(new byte[] { 0xE0, 0x7F, 0x10, 0x00, 0x20, 0x00, 0x57, 0x91, 0xFE, 0xFF, 0x01, 0x00 }, DicomTestUtil.Bytes(ds, AtTag));
        var back = RoundTrip(ds, uid);
        Assert.Equal([DicomTags.PixelData, new DicomTag(0x0020, 0x9157), new DicomTag(0xFFFE, 0x0001)], back.GetTags(AtTag));
        Assert.Equal(3, Assert.IsType<DicomElement>(back[AtTag]).ValueMultiplicity);
        Assert.Empty(back.GetTags(UsTag));
    }

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void IntegerAndDecimalStrings_RoundTrip(string uid)
    {
        var ds = DicomTestUtil.NewDataset()
            .AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, 2147483647)
            .AddOrUpdate(DicomTags.ImagePositionPatient, DicomVR.DS, -125.5, 1.0 / 3.0, 1e-20);
        var back = RoundTrip(ds, uid);
        Assert.Equal(int.MaxValue, back.GetValue<int>(DicomTags.InstanceNumber));
        var pos = back.GetValues<double>(DicomTags.ImagePositionPatient);
        Assert.Equal(3, pos.Length);
        Assert.Equal(-125.5, pos[0]);
        Assert.Equal(1.0 / 3.0, pos[1], 1e-13); // 16 characters hold 14 decimals
        Assert.Equal(1e-20, pos[2], 1e-30);
    }

    [Fact]
    public void BinaryValues_AreStoredLittleEndian()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(UsTag, DicomVR.US, (ushort)0x0102)
            .AddOrUpdate(new DicomTag(0x0008, 0x1161), DicomVR.UL, 0x01020304u)
            .AddOrUpdate(FdTag, DicomVR.FD, 1.0);
        Assert.Equal(new byte[] { 2, 1 }, DicomTestUtil.Bytes(ds, UsTag));
        Assert.Equal(new byte[] { 4, 3, 2, 1 }, DicomTestUtil.Bytes(ds, new DicomTag(0x0008, 0x1161)));
        Assert.Equal(BitConverter.GetBytes(1.0), DicomTestUtil.Bytes(ds, FdTag));
    }

    [Fact]
    public void Setter_RejectsValuesOutOfRangeForTheVR_AndNonNumericVRs()
    {
        var ds = new DicomDataset();
        Assert.Throws<OverflowException>(() => ds.AddOrUpdate(UsTag, DicomVR.US, 70000));
        Assert.Throws<OverflowException>(() => ds.AddOrUpdate(UsTag, DicomVR.US, -1));
        Assert.Throws<ArgumentException>(() => ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, 1));
        Assert.False(ds.Contains(UsTag));
    }

    [Fact]
    public void GetValues_OfTextVR_ThrowsDicomException_AbsentIsEmpty()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "X");
        Assert.Throws<DicomException>(() => ds.GetValues<int>(DicomTags.PatientName));
        Assert.Empty(ds.GetValues<int>(DicomTags.Rows));
        Assert.False(ds.TryGetValue<int>(DicomTags.Rows, out _));
    }

    [Fact]
    public void TrailingPartialValue_IsIgnored()
    {
        var ds = new DicomDataset().AddOrUpdate(new DicomTag(0x0008, 0x1161), DicomVR.UL, new byte[] { 1, 0, 0, 0, 9, 9 });
        Assert.Equal([1u], ds.GetValues<uint>(new DicomTag(0x0008, 0x1161)));
    }
}
