using System.Buffers.Binary;
using System.Text;

namespace HippoNode.Imaging.Nifti;

/// <summary>Where a NIfTI image's voxel-to-world affine came from.</summary>
public enum NiftiAffineSource
{
    /// <summary>sform_code &gt; 0: the srow_x/y/z rows.</summary>
    Sform,
    /// <summary>sform_code = 0, qform_code &gt; 0: quaternion, offsets, pixdim and qfac.</summary>
    Qform,
    /// <summary>Both codes 0: pixdim on the diagonal, no offset (NIfTI "method 1", the old ANALYZE way).</summary>
    PixdimDiagonal,
}

/// <summary>The 348-byte NIfTI-1 header, decoded and checked; values as stored (byte order already resolved).</summary>
public sealed class NiftiHeader
{
    /// <summary>The header size every NIfTI-1 file declares in sizeof_hdr.</summary>
    public const int HeaderSize = 348;

    /// <summary>True when the file is big-endian (sizeof_hdr read 348 only after swapping bytes).</summary>
    public bool IsBigEndian { get; init; }

    /// <summary>dim[0..7]: dim[0] is the number of dimensions, dim[1..3] the spatial sizes, dim[4] the number of volumes.</summary>
    public IReadOnlyList<short> Dim { get; init; } = new short[8];

    /// <summary>intent_code (statistics, labels, vectors; 0 = none).</summary>
    public short IntentCode { get; init; }

    /// <summary>The voxel type.</summary>
    public NiftiDataType DataType { get; init; }

    /// <summary>bitpix as stored (the reader trusts <see cref="DataType"/>, not this).</summary>
    public short BitPix { get; init; }

    /// <summary>pixdim[0..7]: pixdim[0] is qfac (±1), pixdim[1..3] the voxel sizes.</summary>
    public IReadOnlyList<float> Pixdim { get; init; } = new float[8];

    /// <summary>Byte offset of the voxel data in a single-file (.nii) image.</summary>
    public float VoxOffset { get; init; }

    /// <summary>Data scaling slope; 0 (or not finite) means no scaling.</summary>
    public float SclSlope { get; init; }

    /// <summary>Data scaling intercept.</summary>
    public float SclInter { get; init; }

    /// <summary>xyzt_units: spatial units in bits 0-2 (2 = mm), temporal in bits 3-5.</summary>
    public byte XyztUnits { get; init; }

    /// <summary>Display range maximum.</summary>
    public float CalMax { get; init; }

    /// <summary>Display range minimum.</summary>
    public float CalMin { get; init; }

    /// <summary>Free text description (up to 80 characters).</summary>
    public string Descrip { get; init; } = "";

    /// <summary>qform_code (0 = no qform).</summary>
    public short QformCode { get; init; }

    /// <summary>sform_code (0 = no sform).</summary>
    public short SformCode { get; init; }

    /// <summary>Quaternion b, c, d (a is derived: a² + b² + c² + d² = 1).</summary>
    public (float B, float C, float D) Quatern { get; init; }

    /// <summary>qoffset_x, qoffset_y, qoffset_z: the world position of voxel (0, 0, 0) in the qform.</summary>
    public (float X, float Y, float Z) QOffset { get; init; }

    /// <summary>srow_x, srow_y, srow_z: the top three rows of the sform, 4 values each.</summary>
    public IReadOnlyList<float> Srow { get; init; } = new float[12];

    /// <summary>intent_name (up to 16 characters).</summary>
    public string IntentName { get; init; } = "";

    /// <summary>The magic string: "n+1" for a single file.</summary>
    public string Magic { get; init; } = "";

    /// <summary>dim[1..3] as a volume shape.</summary>
    public VolumeShape Shape => new(Dim[1], Dim[2], Dim[3]);

    /// <summary>The number of 3D volumes (product of dim[4..dim[0]]; 1 for a 3D image).</summary>
    public long VolumeCount
    {
        get
        {
            long n = 1;
            for (var i = 4; i <= Dim[0]; i++) n *= Dim[i];
            return n;
        }
    }

    /// <summary>qfac from pixdim[0]: -1 when negative, else +1 (0 is read as +1, as nifti1_io does).</summary>
    public int Qfac => Pixdim[0] < 0 ? -1 : 1;

    /// <summary>Voxel sizes |pixdim[1..3]|; a zero or non-finite size is read as 1 mm.</summary>
    public Spacing3 VoxelSize => new(Size(Pixdim[1]), Size(Pixdim[2]), Size(Pixdim[3]));

    /// <summary>Which transform <see cref="Affine"/> uses: sform when sform_code &gt; 0, else qform when qform_code &gt; 0, else pixdim.</summary>
    public NiftiAffineSource AffineSource =>
        SformCode > 0 ? NiftiAffineSource.Sform : QformCode > 0 ? NiftiAffineSource.Qform : NiftiAffineSource.PixdimDiagonal;

    /// <summary>The voxel-to-world affine by the standard precedence (see <see cref="AffineSource"/>).</summary>
    public AffineMatrix Affine => AffineSource switch
    {
        NiftiAffineSource.Sform => SformAffine,
        NiftiAffineSource.Qform => QformAffine,
        _ => AffineMatrix.Diagonal(VoxelSize),
    };

    /// <summary>The srow rows as an affine, whatever sform_code says.</summary>
    public AffineMatrix SformAffine
    {
        get
        {
            Span<double> m = stackalloc double[12];
            for (var i = 0; i < 12; i++) m[i] = Srow[i];
            return AffineMatrix.FromRowMajor(m);
        }
    }

    /// <summary>The quaternion transform as an affine, whatever qform_code says.</summary>
    public AffineMatrix QformAffine =>
        NiftiQform.ToAffine(new NiftiQform(Quatern.B, Quatern.C, Quatern.D, QOffset.X, QOffset.Y, QOffset.Z, Qfac), Pixdim[1], Pixdim[2], Pixdim[3]);

    private static double Size(float pixdim) => float.IsFinite(pixdim) && pixdim != 0 ? Math.Abs(pixdim) : 1.0;

    /// <summary>Decodes and checks the 348 bytes of a header; <paramref name="path"/> names the file in errors.</summary>
    /// <exception cref="NiftiFormatException">Short header, not NIfTI-1, impossible dimensions, unsupported type or bad transform values.</exception>
    public static NiftiHeader Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < HeaderSize) throw new NiftiFormatException(path, $"truncated header: {bytes.Length} of {HeaderSize} bytes");
        var le = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var be = BinaryPrimitives.ReadInt32BigEndian(bytes);
        bool big;
        if (le == HeaderSize) big = false;
        else if (be == HeaderSize) big = true;
        else if (le == 540 || be == 540) throw new NiftiFormatException(path, "sizeof_hdr is 540: a NIfTI-2 file, only NIfTI-1 is supported");
        else throw new NiftiFormatException(path, $"sizeof_hdr is {le} (byte-swapped {be}), expected 348: not a NIfTI-1 file");

        var r = new Reader(bytes, big);
        var magic = bytes.Slice(344, 4);
        if (magic.SequenceEqual("ni1\0"u8))
            throw new NiftiFormatException(path, "magic 'ni1': a separate .hdr/.img pair, only single-file .nii/.nii.gz is supported");
        if (!magic.SequenceEqual("n+1\0"u8))
            throw new NiftiFormatException(path, $"bad magic {Convert.ToHexString(magic)} (expected 'n+1'): not a NIfTI-1 single file (ANALYZE 7.5?)");

        var dim = new short[8];
        for (var i = 0; i < 8; i++) dim[i] = r.Int16(40 + 2 * i);
        if (dim[0] is < 1 or > 7) throw new NiftiFormatException(path, $"dim[0] is {dim[0]}, must be 1 to 7");
        if (dim[0] > 4) throw new NiftiFormatException(path, $"dim[0] is {dim[0]}: 5-7 dimensional images (vectors, tensors) are not supported, only 3D and 4D");
        for (var i = 1; i <= dim[0]; i++)
        {
            if (dim[i] < 1) throw new NiftiFormatException(path, $"dim[{i}] is {dim[i]}, must be at least 1");
        }
        // Unused trailing dims are often 0 or garbage; the spec says they are ignored, so they become 1.
        for (var i = dim[0] + 1; i < 8; i++) dim[i] = 1;

        var type = (NiftiDataType)r.Int16(70);
        if (!NiftiDataTypes.IsSupported(type))
            throw new NiftiFormatException(path, $"datatype {(short)type} ({(Enum.IsDefined(type) ? type.ToString() : "unknown")}) is not supported (uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64 are)");

        var pixdim = new float[8];
        for (var i = 0; i < 8; i++) pixdim[i] = r.Single(76 + 4 * i);
        var srow = new float[12];
        for (var i = 0; i < 12; i++) srow[i] = r.Single(280 + 4 * i);

        var h = new NiftiHeader
        {
            IsBigEndian = big,
            Dim = dim,
            IntentCode = r.Int16(68),
            DataType = type,
            BitPix = r.Int16(72),
            Pixdim = pixdim,
            VoxOffset = r.Single(108),
            SclSlope = r.Single(112),
            SclInter = r.Single(116),
            XyztUnits = bytes[123],
            CalMax = r.Single(124),
            CalMin = r.Single(128),
            Descrip = Text(bytes.Slice(148, 80)),
            QformCode = r.Int16(252),
            SformCode = r.Int16(254),
            Quatern = (r.Single(256), r.Single(260), r.Single(264)),
            QOffset = (r.Single(268), r.Single(272), r.Single(276)),
            Srow = srow,
            IntentName = Text(bytes.Slice(328, 16)),
            Magic = Text(magic),
        };

        if (!float.IsFinite(h.VoxOffset) || h.VoxOffset < HeaderSize || h.VoxOffset != MathF.Floor(h.VoxOffset))
            throw new NiftiFormatException(path, $"vox_offset {h.VoxOffset} is not a whole byte offset at or after the 348-byte header");
        if (h.SformCode > 0 && srow.Any(v => !float.IsFinite(v)))
            throw new NiftiFormatException(path, "sform_code is set but srow_x/y/z hold NaN or infinity");
        if (h.SformCode <= 0 && h.QformCode > 0)
        {
            float[] q = [h.Quatern.B, h.Quatern.C, h.Quatern.D, h.QOffset.X, h.QOffset.Y, h.QOffset.Z, pixdim[1], pixdim[2], pixdim[3]];
            if (q.Any(v => !float.IsFinite(v))) throw new NiftiFormatException(path, "qform_code is set but the quaternion, offsets or pixdim hold NaN or infinity");
        }
        return h;
    }

    /// <summary>Encodes a little-endian header into the first 348 bytes of <paramref name="dest"/>.</summary>
    internal void WriteTo(Span<byte> dest)
    {
        dest[..HeaderSize].Clear();
        BinaryPrimitives.WriteInt32LittleEndian(dest, HeaderSize);
        dest[38] = (byte)'r'; // "regular": ANALYZE legacy, still expected by some readers
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteInt16LittleEndian(dest[(40 + 2 * i)..], Dim[i]);
        BinaryPrimitives.WriteInt16LittleEndian(dest[68..], IntentCode);
        BinaryPrimitives.WriteInt16LittleEndian(dest[70..], (short)DataType);
        BinaryPrimitives.WriteInt16LittleEndian(dest[72..], BitPix);
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteSingleLittleEndian(dest[(76 + 4 * i)..], Pixdim[i]);
        BinaryPrimitives.WriteSingleLittleEndian(dest[108..], VoxOffset);
        BinaryPrimitives.WriteSingleLittleEndian(dest[112..], SclSlope);
        BinaryPrimitives.WriteSingleLittleEndian(dest[116..], SclInter);
        dest[123] = XyztUnits;
        BinaryPrimitives.WriteSingleLittleEndian(dest[124..], CalMax);
        BinaryPrimitives.WriteSingleLittleEndian(dest[128..], CalMin);
        WriteText(dest.Slice(148, 80), Descrip);
        BinaryPrimitives.WriteInt16LittleEndian(dest[252..], QformCode);
        BinaryPrimitives.WriteInt16LittleEndian(dest[254..], SformCode);
        BinaryPrimitives.WriteSingleLittleEndian(dest[256..], Quatern.B);
        BinaryPrimitives.WriteSingleLittleEndian(dest[260..], Quatern.C);
        BinaryPrimitives.WriteSingleLittleEndian(dest[264..], Quatern.D);
        BinaryPrimitives.WriteSingleLittleEndian(dest[268..], QOffset.X);
        BinaryPrimitives.WriteSingleLittleEndian(dest[272..], QOffset.Y);
        BinaryPrimitives.WriteSingleLittleEndian(dest[276..], QOffset.Z);
        for (var i = 0; i < 12; i++) BinaryPrimitives.WriteSingleLittleEndian(dest[(280 + 4 * i)..], Srow[i]);
        WriteText(dest.Slice(328, 16), IntentName);
        "n+1\0"u8.CopyTo(dest[344..]);
    }

    private static string Text(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        if (end >= 0) field = field[..end];
        // Latin-1 keeps every byte as one char, so odd bytes in free text never fail decoding.
        return Encoding.Latin1.GetString(field);
    }

    private static void WriteText(Span<byte> field, string text)
    {
        // Keep one byte for the terminating NUL.
        var bytes = Encoding.ASCII.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, field.Length - 1)).CopyTo(field);
    }

    private readonly ref struct Reader(ReadOnlySpan<byte> bytes, bool big)
    {
        private readonly ReadOnlySpan<byte> _b = bytes;

        public short Int16(int offset) => big ? BinaryPrimitives.ReadInt16BigEndian(_b[offset..]) : BinaryPrimitives.ReadInt16LittleEndian(_b[offset..]);

        public float Single(int offset) => big ? BinaryPrimitives.ReadSingleBigEndian(_b[offset..]) : BinaryPrimitives.ReadSingleLittleEndian(_b[offset..]);
    }
}
