using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Datasets.Tests;

/// <summary>A small MSD-layout folder in a temp directory, with one case per kind of problem.</summary>
internal sealed class SyntheticDataset : IDisposable
{
    public static readonly VolumeShape Crop = new(6, 7, 5);

    public SyntheticDataset()
    {
        Root = Directory.CreateTempSubdirectory("hipponode-datasets-").FullName;
        Directory.CreateDirectory(Images);
        Directory.CreateDirectory(Labels);
    }

    public string Root { get; }

    public string Images => Path.Combine(Root, "imagesTr");

    public string Labels => Path.Combine(Root, "labelsTr");

    public static AffineMatrix Affine(double dx = 0) => AffineMatrix.FromRowMajor([-1, 0, 0, 10 + dx, 0, 1, 0, -20, 0, 0, 1, 30]);

    /// <summary>An image whose voxels depend on <paramref name="seed"/>, so no two cases are copies of each other.</summary>
    public static Volume3D Image(int seed, VolumeShape? shape = null, AffineMatrix? affine = null)
    {
        var s = shape ?? Crop;
        var data = new float[s.VoxelCount];
        for (var i = 0; i < data.Length; i++) data[i] = (i * 31 + seed * 977) % 251;
        return new Volume3D(s, data, Spacing3.One, affine ?? Affine());
    }

    /// <summary>A label with anterior (1) and posterior (2) voxels placed by <paramref name="seed"/>.</summary>
    public static Volume3D Label(int seed, VolumeShape? shape = null, AffineMatrix? affine = null)
    {
        var s = shape ?? Crop;
        var data = new float[s.VoxelCount];
        data[seed % data.Length] = 1;
        data[(seed * 7 + 3) % data.Length] = 2;
        data[(seed * 13 + 5) % data.Length] = 2;
        return new Volume3D(s, data, Spacing3.One, affine ?? Affine());
    }

    public void Add(string id, Volume3D? image, Volume3D? label, NiftiDataType labelType = NiftiDataType.UInt8)
    {
        if (image is not null) NiftiWriter.Write(image, Path.Combine(Images, id + ".nii.gz"));
        if (label is not null) NiftiWriter.Write(label, Path.Combine(Labels, id + ".nii.gz"), labelType);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
