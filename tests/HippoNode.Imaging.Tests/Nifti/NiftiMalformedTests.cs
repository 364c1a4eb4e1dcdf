using HippoNode.Imaging.Nifti;

namespace HippoNode.Imaging.Tests.Nifti;

public class NiftiMalformedTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RawNifti Valid() => new() { Dim = [3, 2, 3, 4, 1, 1, 1, 1], Data = Enumerable.Range(0, 24).Select(i => (byte)i).ToArray() };

    private NiftiFormatException Fails(byte[] bytes, string reasonPart, string name = "bad.nii")
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(path));
        Assert.Equal(path, ex.Path);
        Assert.Contains(path, ex.Message);
        Assert.Contains(reasonPart, ex.Reason);
        return ex;
    }

    [Fact]
    public void EmptyAndTruncatedHeaders()
    {
        Fails([], "truncated header");
        Fails(Valid().Build()[..100], "truncated header: 100 of 348");
        Fails(RawNifti.Gzip(Valid().Build()[..200]), "truncated header: 200 of 348", "bad.nii.gz");
    }

    [Fact]
    public void BadMagicAndSizeofHdr()
    {
        var r = Valid();
        r.Magic = "abc\0"u8.ToArray();
        Fails(r.Build(), "bad magic");
        r.Magic = "ni1\0"u8.ToArray();
        Fails(r.Build(), ".hdr/.img");
        r = Valid();
        r.SizeofHdr = 100;
        Fails(r.Build(), "sizeof_hdr is 100");
        r.SizeofHdr = 540;
        Fails(r.Build(), "NIfTI-2");
    }

    [Theory]
    [InlineData(new short[] { 0, 2, 3, 4, 1, 1, 1, 1 }, "dim[0] is 0")]
    [InlineData(new short[] { 8, 2, 3, 4, 1, 1, 1, 1 }, "dim[0] is 8")]
    [InlineData(new short[] { -3, 2, 3, 4, 1, 1, 1, 1 }, "dim[0] is -3")]
    [InlineData(new short[] { 5, 2, 3, 4, 1, 2, 1, 1 }, "not supported")]
    [InlineData(new short[] { 3, 2, 0, 4, 1, 1, 1, 1 }, "dim[2] is 0")]
    [InlineData(new short[] { 3, -5, 3, 4, 1, 1, 1, 1 }, "dim[1] is -5")]
    [InlineData(new short[] { 4, 2, 3, 4, 0, 1, 1, 1 }, "dim[4] is 0")]
    public void ImpossibleDims(short[] dim, string reason)
    {
        var r = Valid();
        r.Dim = dim;
        Fails(r.Build(), reason);
    }

    [Theory]
    [InlineData(0, "datatype 0")]
    [InlineData(128, "Rgb24")]
    [InlineData(32, "Complex64")]
    [InlineData(999, "unknown")]
    public void UnsupportedDatatype(short type, string reason)
    {
        var r = Valid();
        r.DataType = type;
        Fails(r.Build(), reason);
    }

    [Theory]
    [InlineData(100f, "vox_offset")]
    [InlineData(float.NaN, "vox_offset")]
    [InlineData(352.5f, "vox_offset")]
    [InlineData(1e30f, "beyond the end")]
    public void BadVoxOffset(float offset, string reason)
    {
        var r = Valid();
        r.VoxOffset = 352;
        var b = r.Build();
        BitConverter.GetBytes(offset).CopyTo(b, 108);
        Fails(b, reason);
    }

    [Fact]
    public void DataShorterThanDimsClaim()
    {
        var full = Valid().Build();
        Fails(full[..(full.Length - 1)], "data shorter than dims claim");
        Fails(RawNifti.Gzip(full[..(full.Length - 5)]), "data shorter than dims claim", "short.nii.gz");
        var r = Valid();
        r.Dim = [4, 2, 3, 4, 2, 1, 1, 1]; // a second volume that is not there
        Fails(r.Build(), "data shorter than dims claim");
    }

    [Fact]
    public void HugeDimsOnATinyFileFailWithoutAllocating()
    {
        var r = Valid();
        r.Dim = [4, 32767, 32767, 32767, 32767, 1, 1, 1];
        r.DataType = 64;
        r.BitPix = 64;
        var before = GC.GetAllocatedBytesForCurrentThread();
        Fails(r.Build(), "too large");
        r.Dim = [3, 1000, 1000, 200, 1, 1, 1, 1]; // 1.6 GB of float64: fits one array, not this file
        Fails(r.Build(), "data shorter than dims claim");
        Fails(RawNifti.Gzip(r.Build()), "gzip file can hold", "huge.nii.gz");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "a lying header must not cause a large allocation");
    }

    [Fact]
    public void NonFiniteTransformsWhenTheirCodeIsSet()
    {
        var r = Valid();
        r.SformCode = 1;
        r.Srow = [1, 0, 0, float.NaN, 0, 1, 0, 0, 0, 0, 1, 0];
        Fails(r.Build(), "srow");
        r = Valid();
        r.QformCode = 1;
        r.Quatern = [float.PositiveInfinity, 0, 0];
        Fails(r.Build(), "qform");
    }

    [Fact]
    public void CorruptGzip()
    {
        var gz = RawNifti.Gzip(Valid().Build());
        Fails([0x1f, 0x8b, .. "this is not deflate data at all, not even close"u8], "gzip", "junk.nii.gz");
        // Cut inside the deflate stream, and scribbled over: each must end in the one exception type.
        var cut = gz[..(gz.Length / 2)];
        File.WriteAllBytes(Path.Combine(_dir.Path, "cut.nii.gz"), cut);
        Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(Path.Combine(_dir.Path, "cut.nii.gz")));
        var scribbled = (byte[])gz.Clone();
        for (var i = 12; i < scribbled.Length - 8; i += 3) scribbled[i] ^= 0x5A;
        File.WriteAllBytes(Path.Combine(_dir.Path, "scribbled.nii.gz"), scribbled);
        Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(Path.Combine(_dir.Path, "scribbled.nii.gz")));
    }

    [Fact]
    public void EveryTruncationFailsCleanly()
    {
        var full = Valid().Build();
        var path = Path.Combine(_dir.Path, "t.nii");
        for (var n = 0; n < full.Length; n++)
        {
            File.WriteAllBytes(path, full[..n]);
            Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(path));
        }
        var gz = RawNifti.Gzip(full);
        for (var n = 0; n < gz.Length; n++)
        {
            // .NET's GZipStream returns what it could inflate from a cut stream without complaint, so a cut is an
            // error exactly when the image bytes the header promises are not all there.
            File.WriteAllBytes(path, gz[..n]);
            var ex = Record.Exception(() => NiftiReader.Read(path));
            if (InflatedLength(gz[..n]) < full.Length)
                Assert.True(ex is NiftiFormatException, $"gzip cut at {n} of {gz.Length}: {ex?.GetType().Name ?? "no exception"}");
            else
                Assert.True(ex is null or NiftiFormatException, $"gzip cut at {n}: {ex}");
        }
    }

    private static long InflatedLength(byte[] gz)
    {
        try
        {
            using var z = new System.IO.Compression.GZipStream(new MemoryStream(gz), System.IO.Compression.CompressionMode.Decompress);
            using var o = new MemoryStream();
            z.CopyTo(o);
            return o.Length;
        }
        catch (InvalidDataException)
        {
            return -1;
        }
    }

    [Fact]
    public void RandomByteDamageNeverEscapesAsAnotherException()
    {
        // Damage anywhere may still be a valid file (a changed voxel); what must never happen is a crash of another kind.
        var rng = new Random(20261123);
        var good = Valid();
        good.QformCode = 1;
        good.SformCode = 1;
        good.Srow = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        foreach (var gzip in new[] { false, true })
        {
            var original = gzip ? RawNifti.Gzip(good.Build()) : good.Build();
            var path = Path.Combine(_dir.Path, gzip ? "f.nii.gz" : "f.nii");
            for (var trial = 0; trial < 300; trial++)
            {
                var b = (byte[])original.Clone();
                for (var k = rng.Next(1, 6); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                File.WriteAllBytes(path, b);
                try
                {
                    NiftiReader.Read(path);
                }
                catch (NiftiFormatException)
                {
                }
            }
        }
    }

    [Fact]
    public void MissingFileIsAnIOError()
    {
        Assert.Throws<FileNotFoundException>(() => NiftiReader.Read(Path.Combine(_dir.Path, "nope.nii.gz")));
    }
}
