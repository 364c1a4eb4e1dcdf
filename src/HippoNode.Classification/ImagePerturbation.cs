namespace HippoNode.Classification;

/// <summary>
/// Deliberate faults applied to a radiograph before classification, for the validation plan's stress study: each is an
/// input mistake a node can meet (a MONOCHROME1 image shown the wrong way round, a mirrored or rotated image, a display
/// window far too wide, noise, an image cropped to one lung field).
/// </summary>
public static class ImagePerturbation
{
    /// <summary>The faults by name, as <c>hipponode evaluate --perturb</c> takes them.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["invert", "flip-x", "rotate-90", "low-contrast", "noise", "crop-left"];

    /// <summary>Applies <paramref name="kind"/> to a copy of <paramref name="image"/>; <paramref name="seed"/> drives the noise.</summary>
    /// <exception cref="ArgumentException">An unknown kind.</exception>
    public static GrayscaleImage Apply(GrayscaleImage image, string kind, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width, h = image.Height;
        var src = image.Pixels;
        switch (kind)
        {
            case "invert":
                return new GrayscaleImage(w, h, [.. src.Select(v => 1 - v)]);
            case "flip-x":
            {
                var dst = new float[src.Length];
                for (var y = 0; y < h; y++)
                    for (var x = 0; x < w; x++) dst[y * w + x] = src[y * w + (w - 1 - x)];
                return new GrayscaleImage(w, h, dst);
            }
            case "rotate-90":
            {
                // Clockwise: the new image is h wide and w high; its row r, column c is the old row h-1-c, column r.
                var dst = new float[src.Length];
                for (var r = 0; r < w; r++)
                    for (var c = 0; c < h; c++) dst[r * h + c] = src[(h - 1 - c) * w + r];
                return new GrayscaleImage(h, w, dst);
            }
            case "low-contrast":
                // A window three times too wide: the values squeezed into the middle third.
                return new GrayscaleImage(w, h, [.. src.Select(v => (float)(1.0 / 3 + v / 3.0))]);
            case "noise":
            {
                var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
                var dst = new float[src.Length];
                for (var i = 0; i < src.Length; i++)
                {
                    // Box-Muller, standard deviation 0.1 of the display range.
                    var u1 = 1.0 - rng.NextDouble();
                    var u2 = rng.NextDouble();
                    var n = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                    dst[i] = (float)Math.Clamp(src[i] + 0.1 * n, 0, 1);
                }
                return new GrayscaleImage(w, h, dst);
            }
            case "crop-left":
            {
                // The left half only (one side of the chest), as a badly collimated or cropped image shows it.
                var cw = Math.Max(1, w / 2);
                var dst = new float[cw * h];
                for (var y = 0; y < h; y++) Array.Copy(src, y * w, dst, y * cw, cw);
                return new GrayscaleImage(cw, h, dst);
            }
            default:
                throw new ArgumentException($"unknown perturbation '{kind}' (known: {string.Join(", ", Kinds)})");
        }
    }
}
