using System.Buffers.Binary;
using HippoNode.Analysis.Selection;
using HippoNode.Analysis.Volumes;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Analysis.Tests;

public sealed class GeometryTests
{
    private static (SourceSeries Source, AxisMapping Mapping) ReadBack(string folder)
    {
        var scan = StudyScanner.Scan(folder, default);
        var series = Assert.Single(scan.Series);
        var source = SeriesVolumeReader.Read(series, default);
        return (source, AxisMapping.FromAffine(source.RasAffine, source.Shape));
    }

    public static TheoryData<string> Layouts => [.. SeriesLayout.All.Select(l => l.Name)];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void AsymmetricPhantomComesBackOnTheModelAxesInEveryLayout(string layoutName)
    {
        // Every voxel of the phantom holds a different value and the spacing differs per axis, so any flip,
        // transposition or wrong spacing breaks one of these equalities.
        var layout = SeriesLayout.All.Single(l => l.Name == layoutName);
        var phantom = SeriesWriter.Phantom();
        using var tmp = new TempDir();
        SeriesWriter.Save(SeriesWriter.Build(phantom, layout), tmp.Path);

        var (source, mapping) = ReadBack(tmp.Path);
        var model = mapping.ToModel<float>(source.Data());

        Assert.Equal(phantom.Shape, mapping.ModelShape);
        Assert.Equal(phantom.Data, model);
        var spacing = mapping.ModelSpacing(source.Spacing);
        Assert.Equal(phantom.Spacing.X, spacing.X, 6);
        Assert.Equal(phantom.Spacing.Y, spacing.Y, 6);
        Assert.Equal(phantom.Spacing.Z, spacing.Z, 6);
        Assert.True(mapping.ModelAffine(source.RasAffine).ApproximatelyEquals(phantom.Affine, 1e-4),
            $"{layout}: model affine {mapping.ModelAffine(source.RasAffine)} differs from the phantom's {phantom.Affine}");
        Assert.Equal(0, mapping.ObliquityDegrees, 6);
        // And back: the inverse mapping returns every source voxel to its place.
        Assert.Equal(source.Data(), mapping.ToSource<float>(model));
    }

    [Fact]
    public void HippoCropLayoutIsTheUdacityFlipTranspose()
    {
        var phantom = SeriesWriter.Phantom();
        using var tmp = new TempDir();
        SeriesWriter.Save(SeriesWriter.Build(phantom, SeriesLayout.HippoCrop), tmp.Path);
        var (source, mapping) = ReadBack(tmp.Path);
        Assert.Equal([1.0, 0, 0], [source.RowDirection.X, source.RowDirection.Y, source.RowDirection.Z]);
        Assert.Equal("i = 6 - column, j = 8 - row, k = slice", mapping.Describe());
        Assert.Equal(1.7, source.SliceSpacing, 6); // from the positions; SliceThickness says 99
    }

    [SharedDataTheory]
    [InlineData("Study1", "13_HCropVolume", 35, 51, 32)]
    [InlineData("Study2", "14_HCropVolume", 36, 48, 35)]
    public void TestVolumesHippoCropMatchesTheReferenceLoader(string study, string series, int columns, int rows, int slices)
    {
        var folder = TestData.Shared("TestVolumes", study, series);
        var (source, mapping) = ReadBack(folder);
        Assert.Equal(new VolumeShape(columns, rows, slices), mapping.ModelShape);
        Assert.Equal($"i = {columns - 1} - column, j = {rows - 1} - row, k = slice", mapping.Describe());
        var model = mapping.ToModel<float>(source.Data());

        // The Udacity reference: files sorted by their z position, np.flip(pixel_array).T per slice, stacked on axis 2:
        // volume[i, j, k] = pixel[rows-1-j, columns-1-i] of slice k. Pixels read here straight from the file bytes.
        var files = Directory.GetFiles(folder).Select(f => DicomFile.Open(f))
            .OrderBy(f => f.Dataset.GetValue<double>(DicomTags.ImagePositionPatient, 2)).ToList();
        Assert.Equal(slices, files.Count);
        for (var k = 0; k < slices; k++)
        {
            var bytes = ((DicomElement)files[k].Dataset.GetItem(DicomTags.PixelData)!).Buffer.GetMemory().Span;
            for (var j = 0; j < rows; j++)
                for (var i = 0; i < columns; i++)
                {
                    var pixel = BinaryPrimitives.ReadInt16LittleEndian(bytes[(((rows - 1 - j) * columns + (columns - 1 - i)) * 2)..]);
                    Assert.Equal(pixel, model[i + columns * (j + rows * k)]);
                }
        }
    }

    [SharedDataFact]
    public void TrainingImagesAreIdentityRas()
    {
        // The model's axes are the MSD NIfTI voxel axes; the mapping assumes they run toward +R, +A, +S.
        var image = NiftiReader.Read(TestData.Shared("hippocampus", "imagesTr", "hippocampus_003.nii.gz")).Volume;
        Assert.True(image.Affine.ApproximatelyEquals(AffineMatrix.FromRowMajor([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1]), 1e-6), image.Affine.ToString());
    }

    [Fact]
    public void RescaleSlopeAndInterceptAreApplied()
    {
        var phantom = SeriesWriter.Phantom();
        for (var n = 0; n < phantom.Data.Length; n++) phantom.Data[n] = phantom.Data[n] * 2 - 100; // storable as (v + 100) / 2
        using var tmp = new TempDir();
        SeriesWriter.Save(SeriesWriter.Build(phantom, SeriesLayout.HippoCrop, slope: 2, intercept: -100), tmp.Path);
        var (source, mapping) = ReadBack(tmp.Path);
        Assert.Equal(phantom.Data, mapping.ToModel<float>(source.Data()));
    }

    [Fact]
    public void StoredBitsAreMaskedAndSignExtended()
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate<ushort>(DicomTags.Rows, DicomVR.US, 1);
        ds.AddOrUpdate<ushort>(DicomTags.Columns, DicomVR.US, 3);
        ds.AddOrUpdate<ushort>(DicomTags.BitsAllocated, DicomVR.US, 16);
        ds.AddOrUpdate<ushort>(DicomTags.BitsStored, DicomVR.US, 12);
        ds.AddOrUpdate<ushort>(DicomTags.HighBit, DicomVR.US, 11);
        ds.AddOrUpdate<ushort>(DicomTags.PixelRepresentation, DicomVR.US, 1);
        ds.AddOrUpdate(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUid.MRImageStorage);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomUid.Generate());
        // 0xF005: junk in bits 12-15, value 5; 0x0FFF: -1 in 12-bit two's complement; 0x0800: -2048.
        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, new byte[] { 0x05, 0xF0, 0xFF, 0x0F, 0x00, 0x08 });
        using var tmp = new TempDir();
        var path = tmp["a.dcm"];
        new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        var pixels = SeriesVolumeReader.ReadPixels("series x", new ScannedInstance(path, ds), 1, 3);
        Assert.Equal([5f, -1f, -2048f], pixels);
    }

    private static AnalysisException BrokenSeries(Action<List<DicomDataset>> breakIt)
    {
        var slices = SeriesWriter.Build(SeriesWriter.Phantom(new VolumeShape(6, 5, 8)), SeriesLayout.HippoCrop, description: "BrokenCrop");
        breakIt(slices);
        using var tmp = new TempDir();
        SeriesWriter.Save(slices, tmp.Path);
        var series = Assert.Single(StudyScanner.Scan(tmp.Path, default).Series);
        var ex = Assert.Throws<AnalysisException>(() => SeriesVolumeReader.Read(series, default));
        // Every geometry error names the series by description and UID.
        Assert.Contains("'BrokenCrop'", ex.Message);
        Assert.Contains(series.SeriesInstanceUid, ex.Message);
        return ex;
    }

    private static void SetZ(DicomDataset ds, double z)
    {
        var p = ds.GetValues<double>(DicomTags.ImagePositionPatient);
        ds.AddOrUpdate<double>(DicomTags.ImagePositionPatient, DicomVR.DS, p[0], p[1], z);
    }

    [Fact]
    public void DuplicateSliceIsAnError() =>
        Assert.Contains("duplicate slices", BrokenSeries(s => SetZ(s[4], s[3].GetValues<double>(DicomTags.ImagePositionPatient)[2])).Message);

    [Fact]
    public void MissingSliceIsAnError()
    {
        var ex = BrokenSeries(s => s.RemoveAt(4));
        Assert.Contains("missing slices", ex.Message);
        Assert.Contains("1 slice(s) missing", ex.Message);
    }

    [Fact]
    public void UnevenSpacingIsAnError() =>
        Assert.Contains("uneven slice spacing", BrokenSeries(s => SetZ(s[4], s[4].GetValues<double>(DicomTags.ImagePositionPatient)[2] + 0.5)).Message);

    [Fact]
    public void MixedOrientationIsAnError() =>
        Assert.Contains("mixed orientation", BrokenSeries(s => s[2].AddOrUpdate<double>(DicomTags.ImageOrientationPatient, DicomVR.DS, 1, 0, 0, 0, 0.9998, 0.02)).Message);

    [Fact]
    public void MixedSizeIsAnError() =>
        Assert.Contains("mixed image size", BrokenSeries(s => s[3].AddOrUpdate<ushort>(DicomTags.Columns, DicomVR.US, 7)).Message);

    [Fact]
    public void MissingPositionIsAnError() =>
        Assert.Contains("ImagePositionPatient", BrokenSeries(s => s[1].Remove(DicomTags.ImagePositionPatient)).Message);

    [Fact]
    public void PositionsOffTheLineAreAnError() =>
        Assert.Contains("do not lie on one line", BrokenSeries(s =>
        {
            var p = s[3].GetValues<double>(DicomTags.ImagePositionPatient);
            s[3].AddOrUpdate<double>(DicomTags.ImagePositionPatient, DicomVR.DS, p[0] + 3, p[1], p[2]);
        }).Message);

    [Fact]
    public void CompressedSliceIsAClearError()
    {
        var slices = SeriesWriter.Build(SeriesWriter.Phantom(), SeriesLayout.HippoCrop, description: "JpegCrop");
        using var tmp = new TempDir();
        SeriesWriter.Save(slices, tmp.Path);
        // Replace one file by an encapsulated (JPEG Baseline) copy of the same slice.
        var victim = Directory.GetFiles(tmp.Path).Order().First();
        var ds = DicomFile.Open(victim).Dataset.Clone();
        var fragments = new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB);
        fragments.Fragments.Add(new MemoryByteBuffer(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }));
        ds.Add(fragments);
        var jpeg = DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.50");
        new DicomFile(ds, jpeg).Save(victim);
        var series = Assert.Single(StudyScanner.Scan(tmp.Path, default).Series);
        var ex = Assert.Throws<AnalysisException>(() => SeriesVolumeReader.Read(series, default));
        Assert.Contains("'JpegCrop'", ex.Message);
        Assert.Contains("is compressed", ex.Message);
        Assert.Contains("JPEG Baseline", ex.Message);
    }

    [Fact]
    public void ObliquityIsMeasured()
    {
        // 25 degrees about z: the column axis is still closest to R, the row axis to A.
        var t = 25 * Math.PI / 180;
        var affine = AffineMatrix.FromRowMajor([Math.Cos(t), -Math.Sin(t), 0, 0, Math.Sin(t), Math.Cos(t), 0, 0, 0, 0, 1, 0]);
        var mapping = AxisMapping.FromAffine(affine, new VolumeShape(4, 5, 6));
        Assert.Equal(25, mapping.ObliquityDegrees, 6);
        Assert.True(mapping.IsIdentity);
    }
}
