using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Onnx;

namespace HippoNode.Analysis.Tests;

/// <summary>Radiographs for the chest X-ray tests: a synthetic chest phantom, and images of the shared training set made into DX/CR objects.</summary>
internal static class TestRadiographs
{
    /// <summary>A chest-like phantom: a bright body with two dark lung fields, a spine and a few ribs; different in every row and column.</summary>
    public static GrayscaleImage Phantom(int width = 320, int height = 352, double shift = 0)
    {
        var p = new float[width * height];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                double u = (x + 0.5) / width - 0.5, v = (y + 0.5) / height - 0.5;
                var body = u * u / 0.2 + v * v / 0.23 < 1 ? 0.75 : 0.08;
                double lung(double cx) => Math.Pow((u - cx) / 0.16, 2) + Math.Pow((v + 0.02) / 0.3, 2);
                if (lung(-0.19 + shift) < 1 || lung(0.19 + shift) < 1) body = 0.22 + 0.1 * Math.Sin(12 * v);
                if (Math.Abs(u) < 0.035) body = 0.9;
                p[y * width + x] = (float)Math.Clamp(body + 0.05 * u + 0.03 * v, 0, 1);
            }
        return new GrayscaleImage(width, height, p);
    }

    /// <summary>The <paramref name="index"/>-th image (in name order) of the shared training set's class folder, resampled to <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static (GrayscaleImage Image, string Path) Shared(string label, int index, int width = 448, int height = 400)
    {
        var folder = TestData.Shared("chest-xray-pneumonia", "train", label);
        var file = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).ElementAt(index);
        var img = GrayscaleImage.Load(file);
        return (new GrayscaleImage(width, height, ImagePreprocessing.Resample(img.Pixels, img.Width, img.Height, width, height)), file);
    }

    /// <summary>An untrained (random-weight) classifier folder: plumbing only, its probabilities mean nothing.</summary>
    public static void UntrainedModel(string folder, ulong seed = 12) => ClassifierFolderWriter.WriteUntrained(folder, seed);
}

/// <summary>One untrained chest X-ray model folder for a whole test class.</summary>
public sealed class UntrainedChestModelFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public UntrainedChestModelFixture() => TestRadiographs.UntrainedModel(_dir.Path);

    public string Folder => _dir.Path;

    public void Dispose() => _dir.Dispose();
}
