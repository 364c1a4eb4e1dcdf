using System.Buffers.Binary;
using System.IO.Compression;

namespace HippoNode.Imaging.Tests.Nifti;

/// <summary>Builds NIfTI-1 bytes field by field at the offsets of nifti1.h, independently of the library's writer.</summary>
internal sealed class RawNifti
{
    public bool BigEndian { get; set; }
    public int SizeofHdr { get; set; } = 348;
    public short[] Dim { get; set; } = [3, 2, 3, 4, 1, 1, 1, 1];
    public short DataType { get; set; } = 2;
    public short BitPix { get; set; } = 8;
    public float[] Pixdim { get; set; } = [1, 1, 1, 1, 0, 0, 0, 0];
    public float VoxOffset { get; set; } = 352;
    public float SclSlope { get; set; }
    public float SclInter { get; set; }
    public short QformCode { get; set; }
    public short SformCode { get; set; }
    public float[] Quatern { get; set; } = [0, 0, 0];
    public float[] QOffset { get; set; } = [0, 0, 0];
    public float[] Srow { get; set; } = new float[12];
    public byte[] Magic { get; set; } = "n+1\0"u8.ToArray();

    /// <summary>Raw voxel bytes placed at VoxOffset (already in the file's byte order).</summary>
    public byte[] Data { get; set; } = [];

    public byte[] Build()
    {
        var offset = (int)VoxOffset;
        var b = new byte[Math.Max(offset, 352) + Data.Length];
        I32(b, 0, SizeofHdr);
        for (var i = 0; i < 8; i++) I16(b, 40 + 2 * i, Dim[i]);
        I16(b, 70, DataType);
        I16(b, 72, BitPix);
        for (var i = 0; i < 8; i++) F32(b, 76 + 4 * i, Pixdim[i]);
        F32(b, 108, VoxOffset);
        F32(b, 112, SclSlope);
        F32(b, 116, SclInter);
        I16(b, 252, QformCode);
        I16(b, 254, SformCode);
        for (var i = 0; i < 3; i++) F32(b, 256 + 4 * i, Quatern[i]);
        for (var i = 0; i < 3; i++) F32(b, 268 + 4 * i, QOffset[i]);
        for (var i = 0; i < 12; i++) F32(b, 280 + 4 * i, Srow[i]);
        Magic.CopyTo(b, 344);
        // Fill the gap between the extension flag and vox_offset with junk: a reader must skip it, not read it.
        for (var i = 352; i < offset; i++) b[i] = 0xAB;
        Data.CopyTo(b, Math.Max(offset, 352));
        return b;
    }

    public string Save(string dir, string name, bool gzip = false)
    {
        var path = Path.Combine(dir, name);
        var bytes = Build();
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);
        return path;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest)) z.Write(bytes);
        return ms.ToArray();
    }

    public byte[] Int16s(params short[] values)
    {
        var d = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            if (BigEndian) BinaryPrimitives.WriteInt16BigEndian(d.AsSpan(2 * i), values[i]);
            else BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(2 * i), values[i]);
        }
        return d;
    }

    public byte[] Floats(params float[] values)
    {
        var d = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            if (BigEndian) BinaryPrimitives.WriteSingleBigEndian(d.AsSpan(4 * i), values[i]);
            else BinaryPrimitives.WriteSingleLittleEndian(d.AsSpan(4 * i), values[i]);
        }
        return d;
    }

    private void I16(byte[] b, int o, short v)
    {
        if (BigEndian) BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(o), v);
        else BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(o), v);
    }

    private void I32(byte[] b, int o, int v)
    {
        if (BigEndian) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(o), v);
        else BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(o), v);
    }

    private void F32(byte[] b, int o, float v)
    {
        if (BigEndian) BinaryPrimitives.WriteSingleBigEndian(b.AsSpan(o), v);
        else BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(o), v);
    }
}

/// <summary>A temporary folder removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("hipponode-imaging-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
