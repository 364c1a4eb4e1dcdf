namespace HippoNode.Datasets;

/// <summary>The rules <see cref="DatasetCurator"/> applies; the defaults fit MSD Task04 Hippocampus.</summary>
public sealed record CurationOptions
{
    /// <summary>The images sub-folder (MSD layout).</summary>
    public string ImagesFolder { get; init; } = "imagesTr";

    /// <summary>The labels sub-folder (MSD layout).</summary>
    public string LabelsFolder { get; init; } = "labelsTr";

    /// <summary>The only values a label may hold (0 background, 1 anterior, 2 posterior hippocampus).</summary>
    public IReadOnlyList<int> AllowedLabels { get; init; } = [0, 1, 2];

    /// <summary>Largest element difference (mm) allowed between the image and label affines.</summary>
    public double AffineTolerance { get; init; } = 1e-3;

    /// <summary>A volume with more voxels than this factor times the median is an outlier.</summary>
    public double OutlierVoxelFactor { get; init; } = 3;

    /// <summary>A volume with any dimension larger than this factor times the median of that dimension is an outlier.</summary>
    public double OutlierDimFactor { get; init; } = 2;

    /// <summary>How many files to read at once; 0 means one per processor.</summary>
    public int MaxParallelism { get; init; }
}
