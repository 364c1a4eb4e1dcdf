using System.Buffers.Binary;
using System.IO.Compression;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Imaging.Tests.Nifti;

/// <summary>Reads the MSD Hippocampus files in ../shared/data and checks them against a decoding done here, by byte offset.</summary>
public class NiftiSharedDataTests
{
    private static string Hippo(params string[] parts) => TestData.Shared(["hippocampus", .. parts]);

    [SharedDataFact]
    public void EveryImageAndLabelReads()
    {
        var images = Directory.GetFiles(Hippo("imagesTr"), "*.nii.gz");
        var labels = Directory.GetFiles(Hippo("labelsTr"), "*.nii.gz");
        Assert.True(images.Length > 200 && labels.Length > 200, $"{images.Length} images, {labels.Length} labels");
        Parallel.ForEach(images.Concat(labels), path =>
        {
            var img = NiftiReader.Read(path);
            Assert.Equal(3, img.Header.Dim[0]);
            Assert.Empty(img.Notes);
            // The crops are 1 mm isotropic; the one full-size scan in the set (a label without image) is not.
            if (!path.EndsWith("labelsTr/hippocampus_281.nii.gz")) Assert.Equal(Spacing3.One, img.Volume.Spacing);
            if (path.Contains("labelsTr"))
                Assert.All(img.Volume.Data.Distinct(), v => Assert.Contains(v, new[] { 0f, 1f, 2f }));
        });
    }

    [SharedDataTheory]
    [InlineData("imagesTr", "hippocampus_001")]
    [InlineData("labelsTr", "hippocampus_001")]
    [InlineData("imagesTr", "hippocampus_003")]
    [InlineData("labelsTr", "hippocampus_003")]
    [InlineData("imagesTr", "hippocampus_243")]
    [InlineData("labelsTr", "hippocampus_394")]
    public void HeaderAndVoxelsMatchAnIndependentDecoding(string folder, string id)
    {
        var path = Hippo(folder, id + ".nii.gz");
        byte[] raw;
        using (var z = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var ms = new MemoryStream())
        {
            z.CopyTo(ms);
            raw = ms.ToArray();
        }
        var b = raw.AsSpan();
        Assert.Equal(348, BinaryPrimitives.ReadInt32LittleEndian(b)); // the shared set is little-endian

        short I16(int o) => BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(o));
        float F32(int o) => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(o));

        var img = NiftiReader.Read(path);
        var h = img.Header;
        for (var i = 0; i < 8; i++) Assert.Equal(i <= I16(40) ? I16(40 + 2 * i) : (short)1, h.Dim[i]);
        Assert.Equal(I16(70), (short)h.DataType);
        Assert.Equal(I16(72), h.BitPix);
        for (var i = 0; i < 8; i++) Assert.Equal(F32(76 + 4 * i), h.Pixdim[i]);
        Assert.Equal(F32(108), h.VoxOffset);
        Assert.Equal(F32(112), h.SclSlope);
        Assert.Equal(F32(116), h.SclInter);
        Assert.Equal(I16(252), h.QformCode);
        Assert.Equal(I16(254), h.SformCode);
        Assert.Equal((F32(256), F32(260), F32(264)), h.Quatern);
        Assert.Equal((F32(268), F32(272), F32(276)), h.QOffset);
        for (var i = 0; i < 12; i++) Assert.Equal(F32(280 + 4 * i), h.Srow[i]);

        var shape = new VolumeShape(I16(42), I16(44), I16(46));
        Assert.Equal(shape, img.Volume.Shape);
        if (I16(254) > 0)
        {
            for (var r = 0; r < 3; r++)
            {
                for (var c = 0; c < 4; c++) Assert.Equal(F32(280 + 16 * r + 4 * c), img.Volume.Affine[r, c]);
            }
        }

        var offset = (int)F32(108);
        var slope = F32(112);
        var inter = F32(116);
        var n = (int)shape.VoxelCount;
        Assert.Equal(offset + n * I16(72) / 8, raw.Length);
        for (var i = 0; i < n; i++)
        {
            float v = I16(70) switch
            {
                2 => raw[offset + i],
                4 => BinaryPrimitives.ReadInt16LittleEndian(b[(offset + 2 * i)..]),
                16 => BinaryPrimitives.ReadSingleLittleEndian(b[(offset + 4 * i)..]),
                var t => throw new InvalidOperationException($"unexpected datatype {t} in the shared set"),
            };
            if (slope != 0 && !(slope == 1 && inter == 0)) v = (float)(v * (double)slope + inter);
            Assert.Equal(v, img.Volume.Data[i]);
        }
    }

    [SharedDataFact]
    public void RealPairRoundTripsThroughTheWriter()
    {
        using var dir = new TempDir();
        var image = NiftiReader.Read(Hippo("imagesTr", "hippocampus_001.nii.gz")).Volume;
        var label = NiftiReader.Read(Hippo("labelsTr", "hippocampus_001.nii.gz")).Volume;
        NiftiWriter.Write(image, Path.Combine(dir.Path, "i.nii.gz"));
        NiftiWriter.Write(label, Path.Combine(dir.Path, "l.nii.gz"), NiftiDataType.UInt8);
        var image2 = NiftiReader.Read(Path.Combine(dir.Path, "i.nii.gz")).Volume;
        var label2 = NiftiReader.Read(Path.Combine(dir.Path, "l.nii.gz")).Volume;
        Assert.Equal(image.Data, image2.Data);
        Assert.Equal(label.Data, label2.Data);
        Assert.True(image2.SameGrid(image, 1e-5));
        Assert.True(label2.SameGrid(image2, 1e-5));
    }
}
