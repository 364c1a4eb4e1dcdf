namespace HippoNode.Imaging.Nifti;

/// <summary>The NIfTI-1 <c>datatype</c> codes (nifti1.h).</summary>
public enum NiftiDataType : short
{
    /// <summary>No type given (invalid in a data file).</summary>
    Unknown = 0,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 4,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 8,
    /// <summary>32-bit IEEE float.</summary>
    Float32 = 16,
    /// <summary>Two 32-bit floats (not supported here).</summary>
    Complex64 = 32,
    /// <summary>64-bit IEEE float.</summary>
    Float64 = 64,
    /// <summary>Three unsigned bytes per voxel (not supported here).</summary>
    Rgb24 = 128,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 256,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 512,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 768,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 1024,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 1280,
    /// <summary>128-bit float (not supported here).</summary>
    Float128 = 1536,
    /// <summary>Two 64-bit floats (not supported here).</summary>
    Complex128 = 1792,
    /// <summary>Two 128-bit floats (not supported here).</summary>
    Complex256 = 2048,
    /// <summary>Four unsigned bytes per voxel (not supported here).</summary>
    Rgba32 = 2304,
}

/// <summary>Sizes and support of <see cref="NiftiDataType"/> values.</summary>
public static class NiftiDataTypes
{
    /// <summary>Bytes per voxel for the scalar types this library reads; 0 for any other.</summary>
    public static int BytesPerVoxel(NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 => 4,
        NiftiDataType.Float64 or NiftiDataType.Int64 or NiftiDataType.UInt64 => 8,
        _ => 0,
    };

    /// <summary>True for the scalar types this library reads and writes.</summary>
    public static bool IsSupported(NiftiDataType type) => BytesPerVoxel(type) > 0;

    /// <summary>True for the integer types (values are whole numbers in a fixed range).</summary>
    public static bool IsInteger(NiftiDataType type) => type is not (NiftiDataType.Float32 or NiftiDataType.Float64) && IsSupported(type);

    /// <summary>The value range of an integer type, as doubles.</summary>
    internal static (double Min, double Max) Range(NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 => (byte.MinValue, byte.MaxValue),
        NiftiDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        NiftiDataType.Int16 => (short.MinValue, short.MaxValue),
        NiftiDataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        NiftiDataType.Int32 => (int.MinValue, int.MaxValue),
        NiftiDataType.UInt32 => (uint.MinValue, uint.MaxValue),
        // Floats hold every 64-bit integer only up to 2^24 exactly, but the range check is what matters here.
        NiftiDataType.Int64 => (long.MinValue, long.MaxValue),
        NiftiDataType.UInt64 => (ulong.MinValue, ulong.MaxValue),
        _ => (double.NegativeInfinity, double.PositiveInfinity),
    };
}
