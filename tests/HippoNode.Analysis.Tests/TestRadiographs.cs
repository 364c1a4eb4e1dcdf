using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Onnx;

namespace HippoNode.Analysis.Tests;

/// <summary>Radiographs for the chest X-ray tests: a synthetic chest phantom, and images of the shared training set made into DX/CR objects.</summary>
internal static class TestRadiographs
{
    /// <summary>The synthetic chest of the demo (<see cref="RadiographFactory.ChestPhantom"/>).</summary>
    public static GrayscaleImage Phantom(int width = 320, int height = 352, double shift = 0) => RadiographFactory.ChestPhantom(width, height, shift);

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
