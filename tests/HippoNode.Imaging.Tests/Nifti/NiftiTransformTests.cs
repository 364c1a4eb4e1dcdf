using HippoNode.Imaging.Nifti;

namespace HippoNode.Imaging.Tests.Nifti;

public class NiftiTransformTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly float S = MathF.Sqrt(0.5f);

    [Fact]
    public void QformQuaternion90DegreesAboutZ()
    {
        // a = cos 45°, d = sin 45°: R = [[0,-1,0],[1,0,0],[0,0,1]], columns scaled by pixdim (2, 3, 4).
        var raw = new RawNifti { QformCode = 1, Quatern = [0, 0, S], QOffset = [10, -20, 30], Pixdim = [1, 2, 3, 4, 0, 0, 0, 0], Data = new byte[24] };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "q.nii"));
        Assert.Equal(NiftiAffineSource.Qform, img.Header.AffineSource);
        AssertAffine([0, -3, 0, 10, 2, 0, 0, -20, 0, 0, 4, 30], img.Volume.Affine);
        Assert.Equal(new Spacing3(2, 3, 4), img.Volume.Spacing);
    }

    [Fact]
    public void QfacFromPixdim0FlipsTheThirdAxis()
    {
        var raw = new RawNifti { QformCode = 1, Quatern = [0, 0, S], QOffset = [10, -20, 30], Pixdim = [-1, 2, 3, 4, 0, 0, 0, 0], Data = new byte[24] };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "qfac.nii"));
        Assert.Equal(-1, img.Header.Qfac);
        AssertAffine([0, -3, 0, 10, 2, 0, 0, -20, 0, 0, -4, 30], img.Volume.Affine);
    }

    [Fact]
    public void Qform180DegreesAboutXHasZeroA()
    {
        // b = 1 gives a = 0: the branch where rounding can push 1 - (b²+c²+d²) below zero.
        var raw = new RawNifti { QformCode = 2, Quatern = [1, 0, 0], Pixdim = [1, 1, 1, 1, 0, 0, 0, 0], Data = new byte[24] };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "flip.nii"));
        AssertAffine([1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0], img.Volume.Affine);
    }

    [Fact]
    public void SformTakesPrecedenceOverQform()
    {
        var raw = new RawNifti
        {
            QformCode = 1,
            SformCode = 1,
            Quatern = [0, 0, S],
            Srow = [5, 0.5f, 0, 1, 0, 6, 0, 2, 0, 0, 7, 3],
            Data = new byte[24],
        };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "s.nii"));
        Assert.Equal(NiftiAffineSource.Sform, img.Header.AffineSource);
        AssertAffine([5, 0.5, 0, 1, 0, 6, 0, 2, 0, 0, 7, 3], img.Volume.Affine);
        // The qform is still decoded for whoever wants it.
        AssertAffine([0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0], img.Header.QformAffine);
    }

    [Fact]
    public void NoTransformCodesMeansPixdimDiagonal()
    {
        var raw = new RawNifti { Pixdim = [1, 0.5f, -2, 0, 0, 0, 0, 0], Quatern = [0, 0, S], QOffset = [9, 9, 9], Srow = [5, 0, 0, 9, 0, 5, 0, 9, 0, 0, 5, 9], Data = new byte[24] };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "none.nii"));
        Assert.Equal(NiftiAffineSource.PixdimDiagonal, img.Header.AffineSource);
        // |pixdim| is the size; a zero size is read as 1 mm.
        AssertAffine([0.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0], img.Volume.Affine);
        Assert.Equal(new Spacing3(0.5, 2, 1), img.Volume.Spacing);
    }

    [Theory]
    [InlineData(0, 0, 1, 0)]
    [InlineData(1, 0, 0, 180)]
    [InlineData(0, 1, 0, 180)]
    [InlineData(0, 0, 1, 180)]
    [InlineData(1, 1, 0, 180)]
    [InlineData(1, 2, 3, 30)]
    [InlineData(-3, 1, 2, 170)]
    [InlineData(2, -1, 0.5, 95)]
    public void QformConversionRoundTrips(double ax, double ay, double az, double degrees)
    {
        foreach (var leftHanded in new[] { false, true })
        {
            var a = Rotation(ax, ay, az, degrees, new Spacing3(0.9, 1.1, 2.5), (-90, 12.5, 40), leftHanded);
            var (q, size) = NiftiQform.FromAffine(a);
            Assert.Equal(leftHanded ? -1 : 1, q.Qfac);
            Assert.Equal(0.9, size.X, 9);
            Assert.Equal(1.1, size.Y, 9);
            Assert.Equal(2.5, size.Z, 9);
            var back = NiftiQform.ToAffine(q, size.X, size.Y, size.Z);
            Assert.True(back.ApproximatelyEquals(a, 1e-9), $"{degrees}° about ({ax},{ay},{az}), left-handed {leftHanded}: {a} came back as {back}");
        }
    }

    /// <summary>Rodrigues' rotation of the unit axis by the angle, columns scaled, optionally mirrored in x.</summary>
    internal static AffineMatrix Rotation(double ax, double ay, double az, double degrees, Spacing3 size, (double X, double Y, double Z) offset, bool leftHanded = false)
    {
        var n = Math.Sqrt(ax * ax + ay * ay + az * az);
        double x = ax / n, y = ay / n, z = az / n;
        var t = degrees * Math.PI / 180;
        double c = Math.Cos(t), s = Math.Sin(t), k = 1 - c;
        double[,] r =
        {
            { c + x * x * k, x * y * k - z * s, x * z * k + y * s },
            { y * x * k + z * s, c + y * y * k, y * z * k - x * s },
            { z * x * k - y * s, z * y * k + x * s, c + z * z * k },
        };
        double[] sz = [size.X, size.Y, size.Z];
        double[] off = [offset.X, offset.Y, offset.Z];
        var m = new double[12];
        for (var row = 0; row < 3; row++)
        {
            for (var col = 0; col < 3; col++) m[row * 4 + col] = r[row, col] * sz[col] * (leftHanded && col == 0 ? -1 : 1);
            m[row * 4 + 3] = off[row];
        }
        return AffineMatrix.FromRowMajor(m);
    }

    internal static void AssertAffine(double[] expected12, AffineMatrix actual, double tolerance = 1e-6)
    {
        var e = AffineMatrix.FromRowMajor(expected12);
        Assert.True(e.ApproximatelyEquals(actual, tolerance), $"expected {e}, got {actual}");
    }
}
