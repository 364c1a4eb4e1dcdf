using HippoNode.Imaging.Nifti;

namespace HippoNode.Imaging.Tests.Nifti;

public class NiftiWriterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Volume3D Sample(bool leftHanded, Func<int, float> value)
    {
        var spacing = new Spacing3(0.9, 1.1, 2.5);
        var affine = NiftiTransformTests.Rotation(1, 2, 3, 30, spacing, (-90, 12.5, 40), leftHanded);
        var shape = new VolumeShape(5, 4, 3);
        return new Volume3D(shape, Enumerable.Range(0, (int)shape.VoxelCount).Select(value).ToArray(), spacing, affine);
    }

    [Theory]
    [InlineData("v.nii", false)]
    [InlineData("v.nii.gz", false)]
    [InlineData("v.nii.gz", true)]
    public void Float32RoundTripKeepsDataAndGeometry(string name, bool leftHanded)
    {
        var v = Sample(leftHanded, i => MathF.Sin(i) * 1000);
        var path = Path.Combine(_dir.Path, name);
        NiftiWriter.Write(v, path);
        var back = NiftiReader.Read(path);
        Assert.Equal(name.EndsWith(".gz"), back.Compressed);
        Assert.Equal(v.Shape, back.Volume.Shape);
        Assert.Equal(v.Data, back.Volume.Data);
        Assert.Equal(v.Spacing.X, back.Volume.Spacing.X, 6);
        Assert.Equal(v.Spacing.Z, back.Volume.Spacing.Z, 6);
        Assert.Equal(NiftiAffineSource.Sform, back.Header.AffineSource);
        Assert.True(back.Volume.Affine.ApproximatelyEquals(v.Affine, 1e-4), $"{v.Affine} came back as {back.Volume.Affine}");
        // The qform alone must place the voxels too, for readers that ignore the sform.
        Assert.Equal(1, back.Header.QformCode);
        Assert.Equal(leftHanded ? -1 : 1, back.Header.Qfac);
        Assert.True(back.Header.QformAffine.ApproximatelyEquals(v.Affine, 1e-4), $"qform {back.Header.QformAffine} vs {v.Affine}");
        Assert.False(File.Exists(path + ".tmp-" + Environment.ProcessId));
    }

    [Theory]
    [InlineData(NiftiDataType.UInt8)]
    [InlineData(NiftiDataType.Int16)]
    public void LabelTypesRoundTrip(NiftiDataType type)
    {
        var v = Sample(false, i => i % 3);
        var path = Path.Combine(_dir.Path, $"label{type}.nii.gz");
        NiftiWriter.Write(v, path, type);
        var back = NiftiReader.Read(path);
        Assert.Equal(type, back.Header.DataType);
        Assert.Equal(v.Data, back.Volume.Data);
    }

    [Fact]
    public void IntegerTypesRefuseValuesTheyCannotHold()
    {
        var path = Path.Combine(_dir.Path, "bad.nii");
        Assert.Throws<ArgumentException>(() => NiftiWriter.Write(Sample(false, i => 0.5f), path, NiftiDataType.UInt8));
        Assert.Throws<ArgumentException>(() => NiftiWriter.Write(Sample(false, i => 256), path, NiftiDataType.UInt8));
        Assert.Throws<ArgumentException>(() => NiftiWriter.Write(Sample(false, i => -1), path, NiftiDataType.UInt8));
        Assert.Throws<ArgumentException>(() => NiftiWriter.Write(Sample(false, i => 40000), path, NiftiDataType.Int16));
        Assert.Throws<ArgumentException>(() => NiftiWriter.Write(Sample(false, i => 0), path, NiftiDataType.Rgb24));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void WrittenHeaderIsStandard()
    {
        var path = Path.Combine(_dir.Path, "std.nii");
        NiftiWriter.Write(Sample(false, i => i), path);
        var b = File.ReadAllBytes(path);
        Assert.Equal(352 + 5 * 4 * 3 * 4, b.Length);
        Assert.Equal(348, BitConverter.ToInt32(b, 0));
        Assert.Equal("n+1\0"u8.ToArray(), b[344..348]);
        Assert.Equal(352f, BitConverter.ToSingle(b, 108));
        Assert.Equal((short)16, BitConverter.ToInt16(b, 70));
        Assert.Equal((short)32, BitConverter.ToInt16(b, 72));
        Assert.Equal((short)1, BitConverter.ToInt16(b, 252));
        Assert.Equal((short)1, BitConverter.ToInt16(b, 254));
    }
}
