using SkiaSharp;

namespace HippoNode.Classification;

/// <summary>A grayscale image for display and classification: values in [0, 1], brighter is higher (MONOCHROME2 polarity), row-major.</summary>
/// <remarks>
/// The one image form the trainer and the node share: the node turns a DICOM radiograph into it (modality LUT, VOI
/// LUT or window, MONOCHROME1 inverted), the trainer and `hipponode evaluate` decode PNG/JPEG files into it with
/// <see cref="Load"/>; <see cref="ImagePreprocessing.ToNetworkInput"/> then makes the network input from it.
/// </remarks>
public sealed class GrayscaleImage
{
    /// <summary>An image of <paramref name="width"/> x <paramref name="height"/> holding <paramref name="pixels"/> (row-major, [0, 1]).</summary>
    /// <exception cref="ArgumentException">The sizes are not positive or the pixel count does not match.</exception>
    public GrayscaleImage(int width, int height, float[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width < 1 || height < 1) throw new ArgumentException($"image size {width}x{height} must be positive");
        if (pixels.Length != (long)width * height) throw new ArgumentException($"{pixels.Length} pixels do not fill {width}x{height}");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Row-major values in [0, 1].</summary>
    public float[] Pixels { get; }

    /// <summary>Decodes a PNG or JPEG file (any colour type; colour becomes Rec. 601 luma, 8-bit values / 255).</summary>
    /// <exception cref="InvalidDataException">The file is not an image SkiaSharp can decode.</exception>
    public static GrayscaleImage Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        using var codec = SKCodec.Create(stream) ?? throw new InvalidDataException($"{path} is not a PNG or JPEG image SkiaSharp can decode");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new InvalidDataException($"{path} could not be decoded ({result})");
        var rgba = bitmap.GetPixelSpan();
        var pixels = new float[info.Width * info.Height];
        for (var i = 0; i < pixels.Length; i++)
        {
            int r = rgba[i * 4], g = rgba[i * 4 + 1], b = rgba[i * 4 + 2];
            // Exact for gray images stored as three equal channels (the training set): r == g == b gives r / 255.
            pixels[i] = r == g && g == b ? r / 255f : (float)((0.299 * r + 0.587 * g + 0.114 * b) / 255.0);
        }
        return new GrayscaleImage(info.Width, info.Height, pixels);
    }

    /// <summary>The image as 8-bit gray values (rounded, clamped).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Pixels.Length];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Clamp(MathF.Round(Pixels[i] * 255f), 0, 255);
        return bytes;
    }
}
