using System.Buffers.Binary;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Imaging.Tests.Nifti;

public class NiftiReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ReadsBothByteOrdersPlainAndGzipped(bool bigEndian, bool gzip)
    {
        var raw = new RawNifti { BigEndian = bigEndian, Dim = [3, 2, 3, 4, 1, 1, 1, 1], DataType = 4, BitPix = 16 };
        var values = Enumerable.Range(0, 24).Select(i => (short)(i * 100 - 1000)).ToArray();
        raw.Data = raw.Int16s(values);
        var img = NiftiReader.Read(raw.Save(_dir.Path, gzip ? "be.nii.gz" : "be.nii", gzip));
        Assert.Equal(bigEndian, img.Header.IsBigEndian);
        Assert.Equal(gzip, img.Compressed);
        Assert.Equal(new VolumeShape(2, 3, 4), img.Volume.Shape);
        Assert.Equal(values.Select(v => (float)v), img.Volume.Data);
        // x fastest: voxel (1, 2, 3) is at 1 + 2·(2 + 3·3).
        Assert.Equal(values[1 + 2 * (2 + 3 * 3)], img.Volume[1, 2, 3]);
    }

    [Theory]
    [InlineData(NiftiDataType.UInt8, new double[] { 0, 1, 255 })]
    [InlineData(NiftiDataType.Int8, new double[] { -128, 0, 127 })]
    [InlineData(NiftiDataType.Int16, new double[] { -32768, 0, 32767 })]
    [InlineData(NiftiDataType.UInt16, new double[] { 0, 1, 65535 })]
    [InlineData(NiftiDataType.Int32, new double[] { -2000000, 0, 2000000 })]
    [InlineData(NiftiDataType.UInt32, new double[] { 0, 1, 4000000 })]
    [InlineData(NiftiDataType.Int64, new double[] { -5, 0, 1L << 40 })]
    [InlineData(NiftiDataType.Float32, new double[] { -1.5, 0, 3.25 })]
    [InlineData(NiftiDataType.Float64, new double[] { -1.5, 1e-3, 1e10 })]
    public void DecodesEveryScalarType(NiftiDataType type, double[] values)
    {
        foreach (var big in new[] { false, true })
        {
            var size = NiftiDataTypes.BytesPerVoxel(type);
            var data = new byte[values.Length * size];
            for (var i = 0; i < values.Length; i++) Encode(type, values[i], data.AsSpan(i * size, size), big);
            var raw = new RawNifti { BigEndian = big, Dim = [3, 3, 1, 1, 1, 1, 1, 1], DataType = (short)type, BitPix = (short)(8 * size), Data = data };
            var img = NiftiReader.Read(raw.Save(_dir.Path, $"t{(int)type}{big}.nii"));
            Assert.Equal(values.Select(v => (float)v), img.Volume.Data);
        }
    }

    [Fact]
    public void AppliesSlopeAndIntercept()
    {
        var raw = new RawNifti { Dim = [3, 3, 1, 1, 1, 1, 1, 1], DataType = 4, BitPix = 16, SclSlope = 2, SclInter = -1 };
        raw.Data = raw.Int16s(0, 10, -10);
        Assert.Equal([-1f, 19f, -21f], NiftiReader.Read(raw.Save(_dir.Path, "scaled.nii")).Volume.Data);
        raw.SclSlope = 0; // 0 means "no scaling", whatever the intercept
        raw.SclInter = 100;
        Assert.Equal([0f, 10f, -10f], NiftiReader.Read(raw.Save(_dir.Path, "unscaled.nii")).Volume.Data);
        raw.SclSlope = float.NaN;
        Assert.Equal([0f, 10f, -10f], NiftiReader.Read(raw.Save(_dir.Path, "nan.nii")).Volume.Data);
    }

    [Fact]
    public void FourDimensionalTakesTheFirstVolumeAndSaysSo()
    {
        var raw = new RawNifti { Dim = [4, 2, 1, 1, 3, 1, 1, 1], Data = [1, 2, 3, 4, 5, 6] };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "4d.nii"));
        Assert.Equal([1f, 2f], img.Volume.Data);
        Assert.Equal(3, img.Header.VolumeCount);
        Assert.Contains(img.Notes, n => n.Contains("3 volumes") && n.Contains("took the first"));
    }

    [Fact]
    public void TwoDimensionalIsOneSliceThick()
    {
        var raw = new RawNifti { Dim = [2, 2, 2, 0, 0, 0, 0, 0], Data = [1, 2, 3, 4] };
        var img = NiftiReader.Read(raw.Save(_dir.Path, "2d.nii"));
        Assert.Equal(new VolumeShape(2, 2, 1), img.Volume.Shape);
        Assert.Empty(img.Notes);
    }

    [Fact]
    public void HonoursVoxOffsetPastExtensions()
    {
        // RawNifti fills bytes 352..399 with 0xAB; reading from 352 would return 171s.
        var raw = new RawNifti { Dim = [3, 2, 1, 1, 1, 1, 1, 1], VoxOffset = 400, Data = [7, 9] };
        Assert.Equal([7f, 9f], NiftiReader.Read(raw.Save(_dir.Path, "off.nii.gz", gzip: true)).Volume.Data);
        Assert.Equal([7f, 9f], NiftiReader.Read(raw.Save(_dir.Path, "off.nii")).Volume.Data);
    }

    [Fact]
    public void GzipIsDetectedByContentNotName()
    {
        var raw = new RawNifti { Dim = [3, 2, 1, 1, 1, 1, 1, 1], Data = [7, 9] };
        Assert.Equal([7f, 9f], NiftiReader.Read(raw.Save(_dir.Path, "misnamed.nii", gzip: true)).Volume.Data);
        Assert.Equal([7f, 9f], NiftiReader.Read(raw.Save(_dir.Path, "plain.nii.gz", gzip: false)).Volume.Data);
    }

    [Fact]
    public void ReadHeaderReadsOnlyTheHeader()
    {
        var raw = new RawNifti { Dim = [3, 2, 1, 1, 1, 1, 1, 1], Data = [7, 9] };
        var h = NiftiReader.ReadHeader(raw.Save(_dir.Path, "h.nii.gz", gzip: true));
        Assert.Equal(new VolumeShape(2, 1, 1), h.Shape);
        Assert.Equal(NiftiDataType.UInt8, h.DataType);
    }

    [Fact]
    public void ReadsFromANonSeekableStream()
    {
        var raw = new RawNifti { Dim = [3, 2, 1, 1, 1, 1, 1, 1], Data = [7, 9] };
        var gz = RawNifti.Gzip(raw.Build());
        using var s = new ForwardOnlyStream(new MemoryStream(gz));
        Assert.Equal([7f, 9f], NiftiReader.Read(s, "stream", gz.Length).Volume.Data);
    }

    private static void Encode(NiftiDataType type, double v, Span<byte> d, bool big)
    {
        switch (type)
        {
            case NiftiDataType.UInt8: d[0] = (byte)v; break;
            case NiftiDataType.Int8: d[0] = (byte)(sbyte)v; break;
            case NiftiDataType.Int16: if (big) BinaryPrimitives.WriteInt16BigEndian(d, (short)v); else BinaryPrimitives.WriteInt16LittleEndian(d, (short)v); break;
            case NiftiDataType.UInt16: if (big) BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(d, (ushort)v); break;
            case NiftiDataType.Int32: if (big) BinaryPrimitives.WriteInt32BigEndian(d, (int)v); else BinaryPrimitives.WriteInt32LittleEndian(d, (int)v); break;
            case NiftiDataType.UInt32: if (big) BinaryPrimitives.WriteUInt32BigEndian(d, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(d, (uint)v); break;
            case NiftiDataType.Int64: if (big) BinaryPrimitives.WriteInt64BigEndian(d, (long)v); else BinaryPrimitives.WriteInt64LittleEndian(d, (long)v); break;
            case NiftiDataType.Float32: if (big) BinaryPrimitives.WriteSingleBigEndian(d, (float)v); else BinaryPrimitives.WriteSingleLittleEndian(d, (float)v); break;
            case NiftiDataType.Float64: if (big) BinaryPrimitives.WriteDoubleBigEndian(d, v); else BinaryPrimitives.WriteDoubleLittleEndian(d, v); break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
