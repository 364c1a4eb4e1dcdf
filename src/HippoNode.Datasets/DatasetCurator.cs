using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;

namespace HippoNode.Datasets;

/// <summary>Checks a folder in Medical Segmentation Decathlon layout (imagesTr/, labelsTr/, pairs share a file name) and reports which pairs are fit for training.</summary>
public static class DatasetCurator
{
    /// <summary>Reads every image and label under <paramref name="root"/> and reports each case, clean or excluded with reasons; unreadable files are reported, not thrown.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder, or its images or labels sub-folder, does not exist.</exception>
    public static CurationReport Check(string root, CurationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        options ??= new CurationOptions();
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"dataset folder not found: {root}");
        var imagesDir = Path.Combine(root, options.ImagesFolder);
        var labelsDir = Path.Combine(root, options.LabelsFolder);
        if (!Directory.Exists(imagesDir)) throw new DirectoryNotFoundException($"no {options.ImagesFolder}/ folder in {root}");
        if (!Directory.Exists(labelsDir)) throw new DirectoryNotFoundException($"no {options.LabelsFolder}/ folder in {root}");

        var ignored = new List<string>();
        var images = List(imagesDir, options.ImagesFolder, ignored);
        var labels = List(labelsDir, options.LabelsFolder, ignored);
        var ids = images.Keys.Union(labels.Keys).Order(StringComparer.Ordinal).ToList();

        var scans = new CaseScan[ids.Count];
        Parallel.For(0, ids.Count, new ParallelOptions { MaxDegreeOfParallelism = options.MaxParallelism > 0 ? options.MaxParallelism : -1 }, i =>
        {
            scans[i] = Scan(root, ids[i], images.GetValueOrDefault(ids[i]), labels.GetValueOrDefault(ids[i]), options);
        });

        // The outlier rule needs the typical size of the whole set, so it runs after every file was read.
        var shapes = scans.Select(s => s.ImageShape ?? s.LabelShape).OfType<VolumeShape>().ToList();
        var medianVoxels = shapes.Count > 0 ? Median(shapes.Select(s => (double)s.VoxelCount)) : 0;
        var medianDims = shapes.Count > 0
            ? (Median(shapes.Select(s => (double)s.X)), Median(shapes.Select(s => (double)s.Y)), Median(shapes.Select(s => (double)s.Z)))
            : (0.0, 0.0, 0.0);

        foreach (var s in scans)
        {
            foreach (var shape in new[] { s.ImageShape, s.LabelShape }.OfType<VolumeShape>().Distinct())
            {
                if (OutlierReason(shape, medianVoxels, medianDims, options) is { } why)
                {
                    s.Issues.Add(new CaseIssue(CaseIssueKind.SizeOutlier, why));
                    break;
                }
            }
        }
        MarkCopies(scans, s => s.ImageHash, "image");
        MarkCopies(scans, s => s.LabelHash, "label");

        var cases = new List<CaseReport>(scans.Length);
        foreach (var s in scans)
        {
            cases.Add(new CaseReport
            {
                Id = s.Id,
                Image = s.Image,
                Label = s.Label,
                ImageShape = s.ImageShape,
                LabelShape = s.LabelShape,
                ImageSpacing = s.ImageSpacing,
                LabelCounts = s.LabelCounts,
                Issues = s.Issues.OrderBy(i => i.Kind).ToList(),
                Notes = s.Notes,
            });
        }

        return new CurationReport
        {
            Root = root,
            Options = options,
            Cases = cases,
            IgnoredFiles = ignored.Order(StringComparer.Ordinal).ToList(),
            ImageFiles = images.Values.Sum(v => v.Count),
            LabelFiles = labels.Values.Sum(v => v.Count),
            MedianVoxelCount = medianVoxels,
            MedianDims = medianDims,
        };
    }

    /// <summary>The case id of a NIfTI file name: the name without .nii.gz or .nii; null for any other file.</summary>
    public static string? CaseId(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (fileName.StartsWith('.')) return null; // hidden files, e.g. macOS "._hippocampus_001.nii.gz" resource forks shipped in the MSD tarball
        if (fileName.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase)) return fileName[..^7];
        if (fileName.EndsWith(".nii", StringComparison.OrdinalIgnoreCase)) return fileName[..^4];
        return null;
    }

    private static Dictionary<string, List<string>> List(string dir, string folderName, List<string> ignored)
    {
        var byId = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(path);
            var rel = folderName + "/" + name;
            if (CaseId(name) is not { Length: > 0 } id)
            {
                ignored.Add(rel);
                continue;
            }
            if (!byId.TryGetValue(id, out var list)) byId[id] = list = [];
            list.Add(rel);
        }
        foreach (var list in byId.Values) list.Sort(StringComparer.Ordinal);
        return byId;
    }

    private sealed class CaseScan
    {
        public required string Id { get; init; }
        public string? Image { get; set; }
        public string? Label { get; set; }
        public VolumeShape? ImageShape { get; set; }
        public VolumeShape? LabelShape { get; set; }
        public Spacing3? ImageSpacing { get; set; }
        public IReadOnlyDictionary<float, long>? LabelCounts { get; set; }
        public string? ImageHash { get; set; }
        public string? LabelHash { get; set; }
        public List<CaseIssue> Issues { get; } = [];
        public List<string> Notes { get; } = [];
    }

    private static CaseScan Scan(string root, string id, List<string>? images, List<string>? labels, CurationOptions options)
    {
        var s = new CaseScan { Id = id, Image = images?[0], Label = labels?[0] };
        if (images is { Count: > 1 }) s.Issues.Add(new CaseIssue(CaseIssueKind.DuplicateFile, $"{images.Count} image files for one case: {string.Join(", ", images)}"));
        if (labels is { Count: > 1 }) s.Issues.Add(new CaseIssue(CaseIssueKind.DuplicateFile, $"{labels.Count} label files for one case: {string.Join(", ", labels)}"));
        if (s.Label is null) s.Issues.Add(new CaseIssue(CaseIssueKind.ImageWithoutLabel, $"{s.Image} has no label in {options.LabelsFolder}/"));
        if (s.Image is null) s.Issues.Add(new CaseIssue(CaseIssueKind.LabelWithoutImage, $"{s.Label} has no image in {options.ImagesFolder}/"));

        Volume3D? image = null, label = null;
        if (s.Image is not null && TryRead(root, s.Image, s) is { } img)
        {
            image = img.Volume;
            s.ImageShape = image.Shape;
            s.ImageSpacing = image.Spacing;
            s.ImageHash = Hash(image);
            foreach (var n in img.Notes) s.Notes.Add($"image: {n}");
        }
        if (s.Label is not null && TryRead(root, s.Label, s) is { } lab)
        {
            label = lab.Volume;
            s.LabelShape = label.Shape;
            s.LabelHash = Hash(label);
            foreach (var n in lab.Notes) s.Notes.Add($"label: {n}");
            if (!NiftiDataTypes.IsInteger(lab.Header.DataType)) s.Notes.Add($"label stored as {lab.Header.DataType}");
            CheckLabelValues(label, s, options);
        }
        if (image is not null && label is not null)
        {
            if (image.Shape != label.Shape)
            {
                s.Issues.Add(new CaseIssue(CaseIssueKind.ShapeMismatch, $"image {image.Shape}, label {label.Shape}"));
            }
            var diff = image.Affine.MaxAbsDifference(label.Affine);
            if (diff > options.AffineTolerance)
            {
                s.Issues.Add(new CaseIssue(CaseIssueKind.AffineMismatch,
                    FormattableString.Invariant($"affines differ by up to {diff:0.####} (tolerance {options.AffineTolerance:0.####}): image {image.Affine}, label {label.Affine}")));
            }
        }
        return s;
    }

    // Identical voxels under two case ids would put the same subject on both sides of a train/test split.
    private static void MarkCopies(CaseScan[] scans, Func<CaseScan, string?> hash, string what)
    {
        foreach (var group in scans.Where(s => hash(s) is not null).GroupBy(hash).Where(g => g.Count() > 1))
        {
            // Keep one copy: the first (ordinal id) that is otherwise clean, else simply the first.
            var keep = group.FirstOrDefault(s => s.Issues.Count == 0) ?? group.First();
            foreach (var s in group.Where(s => s != keep))
                s.Issues.Add(new CaseIssue(CaseIssueKind.DuplicateContent, $"{what} voxels identical to {keep.Id}'s {what} (one copy kept)"));
        }
    }

    private static string Hash(Volume3D v)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.Data.AsSpan());
        return $"{v.Shape}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))}";
    }

    private static NiftiImage? TryRead(string root, string relative, CaseScan s)
    {
        try
        {
            return NiftiReader.Read(Path.Combine(root, relative));
        }
        catch (NiftiFormatException ex)
        {
            s.Issues.Add(new CaseIssue(CaseIssueKind.Unreadable, $"{relative}: {ex.Reason}"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            s.Issues.Add(new CaseIssue(CaseIssueKind.Unreadable, $"{relative}: {ex.GetType().Name}: {ex.Message}"));
        }
        return null;
    }

    private static void CheckLabelValues(Volume3D label, CaseScan s, CurationOptions options)
    {
        const int MaxOtherValues = 8; // enough to show what went wrong without listing a whole float image
        var allowed = options.AllowedLabels.Select(v => (float)v).ToHashSet();
        var counts = new Dictionary<float, long>();
        foreach (var v in allowed) counts[v] = 0;
        long others = 0;
        foreach (var v in label.Data)
        {
            if (counts.TryGetValue(v, out var n)) counts[v] = n + 1;
            else if (counts.Count < allowed.Count + MaxOtherValues) counts[v] = 1;
            else others++;
        }
        s.LabelCounts = counts;
        var unexpected = counts.Where(kv => !allowed.Contains(kv.Key) && kv.Value > 0).OrderBy(kv => kv.Key).ToList();
        if (unexpected.Count > 0 || others > 0)
        {
            var list = string.Join(", ", unexpected.Select(kv => FormattableString.Invariant($"{kv.Key:R} ({kv.Value} voxels)")));
            if (others > 0) list += $", and {others} voxels of further values";
            s.Issues.Add(new CaseIssue(CaseIssueKind.UnexpectedLabelValues, $"values other than {string.Join('/', options.AllowedLabels)}: {list}"));
        }
        var foreground = allowed.Where(v => v != 0).Sum(v => counts[v]);
        if (foreground == 0) s.Issues.Add(new CaseIssue(CaseIssueKind.EmptyLabel, $"no voxel labelled {string.Join(" or ", options.AllowedLabels.Where(v => v != 0))}"));
    }

    private static string? OutlierReason(VolumeShape shape, double medianVoxels, (double X, double Y, double Z) medianDims, CurationOptions o)
    {
        // Medians, not means: a handful of full-size scans must not drag the yardstick towards themselves.
        var reasons = new List<string>();
        if (shape.VoxelCount > o.OutlierVoxelFactor * medianVoxels)
            reasons.Add(FormattableString.Invariant($"{shape.VoxelCount} voxels > {o.OutlierVoxelFactor:0.##} x median {medianVoxels:0}"));
        double[] med = [medianDims.X, medianDims.Y, medianDims.Z];
        var axes = "xyz";
        for (var a = 0; a < 3; a++)
        {
            if (shape[a] > o.OutlierDimFactor * med[a])
                reasons.Add(FormattableString.Invariant($"{axes[a]} size {shape[a]} > {o.OutlierDimFactor:0.##} x median {med[a]:0.#}"));
        }
        return reasons.Count == 0 ? null : $"{shape}: {string.Join("; ", reasons)} (the set is crops around the hippocampus)";
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? 0 : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
