namespace HippoNode.Classification;

/// <summary>From a <see cref="GrayscaleImage"/> to the network input: resample to the model's size, then normalise. Shared by the trainer and the node.</summary>
/// <remarks>
/// Resampling is separable with a triangle (linear) kernel whose support widens with the reduction factor, so that
/// shrinking a 2,500-pixel radiograph to 128 pixels averages every source pixel instead of skipping most of them
/// (the antialiased bilinear filter of PIL and torchvision's <c>antialias=True</c>). Sample centres are aligned
/// (output pixel x covers source [x·s, (x+1)·s)), so the whole image maps onto the whole input ("stretch": the
/// aspect ratio is not kept, as in the 224x224 training images made from radiographs of any shape).
/// </remarks>
public static class ImagePreprocessing
{
    /// <summary>Resamples a row-major image of <paramref name="width"/> x <paramref name="height"/> to <paramref name="outWidth"/> x <paramref name="outHeight"/>.</summary>
    public static float[] Resample(ReadOnlySpan<float> pixels, int width, int height, int outWidth, int outHeight)
    {
        if (width < 1 || height < 1 || outWidth < 1 || outHeight < 1) throw new ArgumentException("sizes must be positive");
        if (pixels.Length != width * height) throw new ArgumentException($"{pixels.Length} pixels do not fill {width}x{height}");
        var horizontal = Kernel(width, outWidth);
        var vertical = Kernel(height, outHeight);
        var rows = new float[height * outWidth];
        for (var y = 0; y < height; y++)
        {
            var src = pixels.Slice(y * width, width);
            for (var x = 0; x < outWidth; x++)
            {
                var (start, weights) = horizontal[x];
                double s = 0;
                for (var k = 0; k < weights.Length; k++) s += weights[k] * src[start + k];
                rows[y * outWidth + x] = (float)s;
            }
        }
        var result = new float[outHeight * outWidth];
        for (var y = 0; y < outHeight; y++)
        {
            var (start, weights) = vertical[y];
            for (var x = 0; x < outWidth; x++)
            {
                double s = 0;
                for (var k = 0; k < weights.Length; k++) s += weights[k] * rows[(start + k) * outWidth + x];
                result[y * outWidth + x] = (float)s;
            }
        }
        return result;
    }

    /// <summary>The model's input (row-major <see cref="ClassifierInput.Height"/> x <see cref="ClassifierInput.Width"/>): resampled, then (v - mean) / std.</summary>
    public static float[] ToNetworkInput(GrayscaleImage image, ClassifierInput input)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(input);
        var x = image.Width == input.Width && image.Height == input.Height
            ? (float[])image.Pixels.Clone()
            : Resample(image.Pixels, image.Width, image.Height, input.Width, input.Height);
        var scale = 1 / input.Std;
        for (var i = 0; i < x.Length; i++) x[i] = (float)((x[i] - input.Mean) * scale);
        return x;
    }

    /// <summary>Per output pixel: the first source pixel and the normalised weights of the source pixels it averages.</summary>
    private static (int Start, float[] Weights)[] Kernel(int inSize, int outSize)
    {
        var scale = (double)inSize / outSize;
        var support = Math.Max(scale, 1.0);
        var kernel = new (int, float[])[outSize];
        for (var o = 0; o < outSize; o++)
        {
            var centre = (o + 0.5) * scale;
            var lo = Math.Max(0, (int)Math.Floor(centre - support));
            var hi = Math.Min(inSize, (int)Math.Ceiling(centre + support));
            var w = new double[hi - lo];
            double sum = 0;
            for (var i = lo; i < hi; i++)
            {
                var t = 1 - Math.Abs((i + 0.5 - centre) / support);
                w[i - lo] = Math.Max(0, t);
                sum += w[i - lo];
            }
            // Near the edges part of the kernel falls outside: renormalising keeps a flat image flat.
            kernel[o] = (lo, [.. w.Select(v => (float)(v / sum))]);
        }
        return kernel;
    }
}
