using System.Buffers.Binary;
using System.IO.Compression;

namespace HippoNode.Imaging.Nifti;

/// <summary>Writes a <see cref="Volume3D"/> as a single-file NIfTI-1 image (.nii, or .nii.gz when the name ends in .gz), little-endian.</summary>
/// <remarks>
/// The sform holds the volume's affine exactly (as float32); the qform holds its nearest rigid part, so readers
/// that only look at the qform still place the voxels. Both codes are 1 (scanner anatomical).
/// </remarks>
public static class NiftiWriter
{
    private const int VoxOffset = 352; // 348-byte header + 4-byte extension flag (no extensions)

    /// <summary>Writes <paramref name="volume"/> to <paramref name="path"/>; integer types are for label maps and demand whole, in-range values.</summary>
    /// <exception cref="ArgumentException">An unsupported type, or a value the integer type cannot hold.</exception>
    public static void Write(Volume3D volume, string path, NiftiDataType dataType = NiftiDataType.Float32)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(path);
        var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        // Validate before touching the disk so a bad call leaves no half-written file behind.
        var bytes = Encode(volume, dataType);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteBytes(bytes, file, gzip);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="volume"/> to <paramref name="output"/>, gzip-compressed when <paramref name="gzip"/>.</summary>
    public static void Write(Volume3D volume, Stream output, NiftiDataType dataType, bool gzip)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(output);
        WriteBytes(Encode(volume, dataType), output, gzip);
    }

    /// <summary>The header this writer puts before <paramref name="volume"/>'s voxels.</summary>
    public static NiftiHeader CreateHeader(Volume3D volume, NiftiDataType dataType)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (!NiftiDataTypes.IsSupported(dataType)) throw new ArgumentException($"datatype {dataType} cannot be written", nameof(dataType));
        var (q, _) = NiftiQform.FromAffine(volume.Affine);
        var a = volume.Affine;
        var s = volume.Shape;
        if (s.X > short.MaxValue || s.Y > short.MaxValue || s.Z > short.MaxValue)
            throw new ArgumentException($"NIfTI-1 dimensions are 16-bit: {s} does not fit", nameof(volume));
        return new NiftiHeader
        {
            Dim = [3, (short)s.X, (short)s.Y, (short)s.Z, 1, 1, 1, 1],
            DataType = dataType,
            BitPix = (short)(NiftiDataTypes.BytesPerVoxel(dataType) * 8),
            Pixdim = [q.Qfac, (float)volume.Spacing.X, (float)volume.Spacing.Y, (float)volume.Spacing.Z, 1, 1, 1, 1],
            VoxOffset = VoxOffset,
            SclSlope = 1,
            SclInter = 0,
            XyztUnits = 2, // NIFTI_UNITS_MM
            Descrip = "HippoNode",
            QformCode = 1,
            SformCode = 1,
            Quatern = ((float)q.B, (float)q.C, (float)q.D),
            QOffset = ((float)q.OffsetX, (float)q.OffsetY, (float)q.OffsetZ),
            Srow =
            [
                (float)a[0, 0], (float)a[0, 1], (float)a[0, 2], (float)a[0, 3],
                (float)a[1, 0], (float)a[1, 1], (float)a[1, 2], (float)a[1, 3],
                (float)a[2, 0], (float)a[2, 1], (float)a[2, 2], (float)a[2, 3],
            ],
            Magic = "n+1",
        };
    }

    private static byte[] Encode(Volume3D volume, NiftiDataType dataType)
    {
        var header = CreateHeader(volume, dataType);
        var bpv = NiftiDataTypes.BytesPerVoxel(dataType);
        var data = volume.Data;
        var bytes = new byte[VoxOffset + (long)data.Length * bpv];
        header.WriteTo(bytes);
        var d = bytes.AsSpan(VoxOffset);
        if (NiftiDataTypes.IsInteger(dataType))
        {
            var (min, max) = NiftiDataTypes.Range(dataType);
            for (var i = 0; i < data.Length; i++)
            {
                double v = data[i];
                // Integer output is for label maps: a fractional or out-of-range value means the caller picked the wrong type.
                if (!double.IsFinite(v) || v != Math.Round(v) || v < min || v > max)
                    throw new ArgumentException($"voxel {i} holds {v}, which {dataType} cannot hold exactly (integer types are for label maps; write float32)", nameof(dataType));
            }
        }
        switch (dataType)
        {
            case NiftiDataType.UInt8:
                for (var i = 0; i < data.Length; i++) d[i] = (byte)data[i];
                break;
            case NiftiDataType.Int8:
                for (var i = 0; i < data.Length; i++) d[i] = (byte)(sbyte)data[i];
                break;
            case NiftiDataType.Int16:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(d[(2 * i)..], (short)data[i]);
                break;
            case NiftiDataType.UInt16:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(d[(2 * i)..], (ushort)data[i]);
                break;
            case NiftiDataType.Int32:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(d[(4 * i)..], (int)data[i]);
                break;
            case NiftiDataType.UInt32:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(d[(4 * i)..], (uint)data[i]);
                break;
            case NiftiDataType.Float32:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(d[(4 * i)..], data[i]);
                break;
            case NiftiDataType.Float64:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(d[(8 * i)..], data[i]);
                break;
            case NiftiDataType.Int64:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(d[(8 * i)..], (long)data[i]);
                break;
            case NiftiDataType.UInt64:
                for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(d[(8 * i)..], (ulong)data[i]);
                break;
            default:
                throw new ArgumentException($"datatype {dataType} cannot be written", nameof(dataType));
        }
        return bytes;
    }

    private static void WriteBytes(byte[] bytes, Stream output, bool gzip)
    {
        if (!gzip)
        {
            output.Write(bytes);
            return;
        }
        using var z = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        z.Write(bytes);
    }
}
