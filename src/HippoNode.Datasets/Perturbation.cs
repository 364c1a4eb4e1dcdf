using HippoNode.Imaging;

namespace HippoNode.Datasets;

/// <summary>
/// Deliberate input faults for the validation plan's stress set: each turns a labelled case into one the model should
/// get wrong, so that what the agreement quality flag catches can be measured. Geometric faults move the label with the
/// image (the reference stays the anatomy); intensity faults leave the label as it is.
/// </summary>
public enum PerturbationKind
{
    /// <summary>x and z axes exchanged: a series mapped to the model's axes in the wrong order.</summary>
    SwapXz,

    /// <summary>The y (posterior to anterior) axis reversed: a mapping with a wrong sign.</summary>
    FlipY,

    /// <summary>Intensities inverted (min + max - v): another contrast than the training data's.</summary>
    Invert,

    /// <summary>Gaussian noise with half the image's standard deviation added: a low signal-to-noise scan.</summary>
    Noise,

    /// <summary>Blocks of 4 slices along z averaged: thick slices resampled to 1 mm.</summary>
    ThickSlices,

    /// <summary>The first quarter of x cut away: a crop that is not centred on the hippocampus.</summary>
    CropX,
}

/// <summary>Applies a <see cref="PerturbationKind"/> to an image and its label map.</summary>
public static class Perturbation
{
    /// <summary>The command-line names, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["swap-xz", "flip-y", "invert", "noise", "thick-slices", "crop-x"];

    /// <summary>The kind named <paramref name="name"/> (one of <see cref="Names"/>).</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static PerturbationKind Parse(string name)
    {
        var i = Names.ToList().IndexOf(name);
        return i >= 0 ? (PerturbationKind)i : throw new ArgumentException($"unknown perturbation '{name}' (known: {string.Join(", ", Names)})");
    }

    /// <summary>The command-line name of <paramref name="kind"/>.</summary>
    public static string NameOf(PerturbationKind kind) => Names[(int)kind];

    /// <summary>The perturbed image and label; <paramref name="seed"/> drives the noise. Inputs are not changed.</summary>
    /// <exception cref="ArgumentException">Image and label differ in shape.</exception>
    public static (Volume3D Image, Volume3D Label) Apply(PerturbationKind kind, Volume3D image, Volume3D label, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(label);
        if (image.Shape != label.Shape) throw new ArgumentException($"image {image.Shape} and label {label.Shape} differ in shape");
        return kind switch
        {
            PerturbationKind.SwapXz => (Remap(image, SwapXzShape(image.Shape), SwapXzSpacing(image.Spacing), SwapXz), Remap(label, SwapXzShape(label.Shape), SwapXzSpacing(label.Spacing), SwapXz)),
            PerturbationKind.FlipY => (Remap(image, image.Shape, image.Spacing, FlipY(image.Shape)), Remap(label, label.Shape, label.Spacing, FlipY(label.Shape))),
            PerturbationKind.Invert => (Invert(image), Copy(label)),
            PerturbationKind.Noise => (AddNoise(image, seed), Copy(label)),
            PerturbationKind.ThickSlices => (ThickSlices(image, 4), Copy(label)),
            PerturbationKind.CropX => (CropX(image), CropX(label)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown perturbation"),
        };
    }

    private static VolumeShape SwapXzShape(VolumeShape s) => new(s.Z, s.Y, s.X);

    private static Spacing3 SwapXzSpacing(Spacing3 s) => new(s.Z, s.Y, s.X);

    // Each remap names, for an output voxel, the input voxel it takes.
    private static (int X, int Y, int Z) SwapXz(int x, int y, int z) => (z, y, x);

    private static Func<int, int, int, (int, int, int)> FlipY(VolumeShape s) => (x, y, z) => (x, s.Y - 1 - y, z);

    private static Volume3D Remap(Volume3D v, VolumeShape shape, Spacing3 spacing, Func<int, int, int, (int X, int Y, int Z)> source)
    {
        var result = Volume3D.Create(shape, spacing);
        for (var z = 0; z < shape.Z; z++)
            for (var y = 0; y < shape.Y; y++)
                for (var x = 0; x < shape.X; x++)
                {
                    var (sx, sy, sz) = source(x, y, z);
                    result.Data[x + shape.X * (y + shape.Y * z)] = v.Data[v.Index(sx, sy, sz)];
                }
        return result;
    }

    private static Volume3D Copy(Volume3D v) => new(v.Shape, (float[])v.Data.Clone(), v.Spacing, AffineMatrix.Diagonal(v.Spacing));

    private static Volume3D Invert(Volume3D v)
    {
        var (min, max) = v.Range();
        var result = Copy(v);
        for (var i = 0; i < result.Data.Length; i++) result.Data[i] = min + max - result.Data[i];
        return result;
    }

    private static Volume3D AddNoise(Volume3D v, ulong seed)
    {
        double mean = v.Data.Average(x => (double)x);
        var sd = Math.Sqrt(v.Data.Average(x => (x - mean) * (x - mean)));
        var rng = new SplitMix64(seed);
        var result = Copy(v);
        for (var i = 0; i < result.Data.Length; i++)
        {
            // Box-Muller from two uniforms in (0, 1].
            var u1 = (rng.Next() >> 11) * (1.0 / (1UL << 53)) + 1.0 / (1UL << 54);
            var u2 = (rng.Next() >> 11) * (1.0 / (1UL << 53));
            var gauss = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            result.Data[i] = (float)(result.Data[i] + 0.5 * sd * gauss);
        }
        return result;
    }

    private static Volume3D ThickSlices(Volume3D v, int block)
    {
        var s = v.Shape;
        var result = Copy(v);
        var plane = s.X * s.Y;
        for (var z0 = 0; z0 < s.Z; z0 += block)
        {
            var z1 = Math.Min(s.Z, z0 + block);
            for (var p = 0; p < plane; p++)
            {
                double sum = 0;
                for (var z = z0; z < z1; z++) sum += v.Data[p + plane * z];
                var mean = (float)(sum / (z1 - z0));
                for (var z = z0; z < z1; z++) result.Data[p + plane * z] = mean;
            }
        }
        return result;
    }

    private static Volume3D CropX(Volume3D v)
    {
        var cut = v.Shape.X / 4;
        var shape = new VolumeShape(v.Shape.X - cut, v.Shape.Y, v.Shape.Z);
        return Remap(v, shape, v.Spacing, (x, y, z) => (x + cut, y, z));
    }
}
