namespace HippoNode.Imaging.Tests;

public class VolumeTests
{
    [Fact]
    public void XVariesFastest()
    {
        var v = Volume3D.Create(new VolumeShape(4, 3, 2), new Spacing3(1, 2, 3));
        v[1, 0, 0] = 1;
        v[0, 1, 0] = 2;
        v[0, 0, 1] = 3;
        Assert.Equal(1, v.Data[1]);
        Assert.Equal(2, v.Data[4]);
        Assert.Equal(3, v.Data[12]);
        Assert.Equal(4 * 3 * 2, v.VoxelCount);
        Assert.Equal(AffineMatrix.Diagonal(1, 2, 3), v.Affine);
    }

    [Fact]
    public void RejectsInconsistentConstruction()
    {
        Assert.Throws<ArgumentException>(() => new Volume3D(new VolumeShape(2, 2, 2), new float[7], Spacing3.One, AffineMatrix.Identity));
        Assert.Throws<ArgumentException>(() => new Volume3D(new VolumeShape(0, 2, 2), [], Spacing3.One, AffineMatrix.Identity));
        Assert.Throws<ArgumentException>(() => new Volume3D(new VolumeShape(1, 1, 1), new float[1], new Spacing3(1, 0, 1), AffineMatrix.Identity));
        Assert.Throws<ArgumentOutOfRangeException>(() => Volume3D.Create(new VolumeShape(2, 2, 2), Spacing3.One)[2, 0, 0]);
    }

    [Fact]
    public void RangeIgnoresNaN()
    {
        var v = new Volume3D(new VolumeShape(4, 1, 1), [float.NaN, -2, 5, 1], Spacing3.One, AffineMatrix.Identity);
        Assert.Equal((-2f, 5f), v.Range());
        var allNaN = new Volume3D(new VolumeShape(1, 1, 1), [float.NaN], Spacing3.One, AffineMatrix.Identity);
        Assert.True(float.IsNaN(allNaN.Range().Min));
    }

    [Fact]
    public void AffineTransformsAndCompares()
    {
        var a = AffineMatrix.FromRowMajor([0, -2, 0, 10, 3, 0, 0, -5, 0, 0, 4, 7]);
        Assert.Equal((10 - 2 * 2, -5 + 3 * 1, 7 + 4 * 3), a.Transform(1, 2, 3));
        Assert.Equal(new Spacing3(3, 2, 4), a.ColumnNorms());
        Assert.Equal(24, a.Determinant3x3(), 12);
        var b = AffineMatrix.FromRowMajor([0, -2, 0, 10.0005, 3, 0, 0, -5, 0, 0, 4, 7]);
        Assert.True(a.ApproximatelyEquals(b, 1e-3));
        Assert.False(a.ApproximatelyEquals(b, 1e-4));
        Assert.Equal(1, a[3, 3]);
        Assert.Equal(0, a[3, 0]);
        Assert.Throws<ArgumentException>(() => AffineMatrix.FromRowMajor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1]));
        Assert.Throws<ArgumentException>(() => AffineMatrix.FromRowMajor([double.NaN, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]));
    }
}
