using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Model;

namespace HippoNode.Training;

/// <summary>One labelled volume ready for training: the z-scored image (the model's input contract) and its label per voxel.</summary>
public sealed class TrainingCase
{
    /// <summary>A case from already normalised voxels and labels on <paramref name="shape"/> (both x fastest).</summary>
    public TrainingCase(string id, VolumeShape shape, float[] normalized, byte[] labels)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(normalized);
        ArgumentNullException.ThrowIfNull(labels);
        if (normalized.Length != shape.VoxelCount || labels.Length != shape.VoxelCount)
            throw new ArgumentException($"shape {shape} needs {shape.VoxelCount} voxels and labels, got {normalized.Length} and {labels.Length}");
        Id = id;
        Shape = shape;
        Normalized = normalized;
        Labels = labels;
    }

    /// <summary>The case id.</summary>
    public string Id { get; }

    /// <summary>The grid.</summary>
    public VolumeShape Shape { get; }

    /// <summary>The z-scored image, x fastest.</summary>
    public float[] Normalized { get; }

    /// <summary>The label per voxel.</summary>
    public byte[] Labels { get; }

    /// <summary>A case from an image and a label volume on the same grid; the image is z-scored over all voxels (<see cref="Preprocessing.ZScore"/>).</summary>
    /// <exception cref="InvalidDataException">Grids differ, or a label is not a whole number below <paramref name="classes"/>.</exception>
    public static TrainingCase FromVolumes(string id, Volume3D image, Volume3D label, int classes = 3)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(label);
        if (!image.SameGrid(label)) throw new InvalidDataException($"{id}: image {image.Shape} and label {label.Shape} do not lie on the same grid");
        var labels = new byte[label.VoxelCount];
        for (var i = 0; i < labels.Length; i++)
        {
            var v = label.Data[i];
            if (!(v >= 0 && v < classes && v == MathF.Round(v))) throw new InvalidDataException($"{id}: label value {v} at voxel {i} is not one of 0..{classes - 1}");
            labels[i] = (byte)v;
        }
        return new TrainingCase(id, image.Shape, Preprocessing.ZScore(image.Data, IntensityRegion.All), labels);
    }

    /// <summary>Reads <paramref name="id"/>.nii.gz from <paramref name="dataDir"/>/imagesTr and labelsTr.</summary>
    public static TrainingCase Load(string dataDir, string id, int classes = 3)
    {
        var image = NiftiReader.Read(Path.Combine(dataDir, "imagesTr", id + ".nii.gz")).Volume;
        var label = NiftiReader.Read(Path.Combine(dataDir, "labelsTr", id + ".nii.gz")).Volume;
        return FromVolumes(id, image, label, classes);
    }
}
