using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Onnx;
using HippoNode.Segmentation.Model;

namespace HippoNode.Segmentation.Tests;

/// <summary>Synthetic volumes, label maps and tiny random model folders for the tests.</summary>
internal static class Synthetic
{
    /// <summary>A small U-Net: two levels of 4 and 8 channels (multiple 2), cheap to run.</summary>
    public static UNetArchitecture TinyArchitecture { get; } = new() { Channels = [4, 8] };

    /// <summary>An image with a bright ellipsoid in noise, and its label (1 in the front half along y, 2 in the back half).</summary>
    public static (Volume3D Image, Volume3D Label) Case(VolumeShape shape, Spacing3 spacing, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var image = Volume3D.Create(shape, spacing);
        var label = Volume3D.Create(shape, spacing);
        var (cx, cy, cz) = (shape.X / 2.0, shape.Y / 2.0, shape.Z / 2.0);
        var (rx, ry, rz) = (shape.X / 3.0, shape.Y / 3.0, shape.Z / 3.0);
        for (var z = 0; z < shape.Z; z++)
            for (var y = 0; y < shape.Y; y++)
                for (var x = 0; x < shape.X; x++)
                {
                    var inside = Math.Pow((x - cx) / rx, 2) + Math.Pow((y - cy) / ry, 2) + Math.Pow((z - cz) / rz, 2) <= 1;
                    var noise = (rng.Next() >> 11) * (1.0 / (1UL << 53)) * 20;
                    image[x, y, z] = (float)(100 + (inside ? 80 : 0) + noise);
                    label[x, y, z] = inside ? (y < cy ? 1 : 2) : 0;
                }
        return (image, label);
    }

    /// <summary>A model folder with <paramref name="members"/> random members of <paramref name="architecture"/> (tiny by default).</summary>
    public static ModelManifest ModelFolder(string folder, int members = 2, UNetArchitecture? architecture = null, bool padInGraph = true, ulong seed = 100)
    {
        var list = Enumerable.Range(0, members)
            .Select(i => new ExportMember(UNetWeights.CreateRandom(architecture ?? TinyArchitecture, seed + (ulong)i), Fold: i))
            .ToList();
        return ModelFolderWriter.Write(folder, list, new ModelFolderInfo
        {
            Name = "test-model",
            Version = "0.0.0-random",
            TrainingJson = """{"note":"random weights for tests"}""",
            PadInGraph = padInGraph,
        });
    }

    /// <summary>Writes <paramref name="count"/> cases as imagesTr/ and labelsTr/ NIfTI pairs under <paramref name="root"/>; returns their ids.</summary>
    public static IReadOnlyList<string> Dataset(string root, int count)
    {
        var ids = new List<string>();
        VolumeShape[] shapes = [new(11, 14, 9), new(12, 10, 13), new(9, 9, 10)];
        Spacing3[] spacings = [new(1, 1, 1), new(1.2, 0.8, 1.5), new(0.9, 1.1, 1.3)];
        for (var i = 0; i < count; i++)
        {
            var id = $"case_{i:D3}";
            var (image, label) = Case(shapes[i % shapes.Length], spacings[i % spacings.Length], (ulong)i + 1);
            NiftiWriter.Write(image, Path.Combine(root, "imagesTr", id + ".nii.gz"));
            NiftiWriter.Write(label, Path.Combine(root, "labelsTr", id + ".nii.gz"), NiftiDataType.UInt8);
            ids.Add(id);
        }
        return ids;
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hipponode-seg-" + Guid.NewGuid().ToString("N"));

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

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
