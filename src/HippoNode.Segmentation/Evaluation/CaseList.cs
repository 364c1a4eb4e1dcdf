using HippoNode.Datasets;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>One case to evaluate: an id and its image and reference label files.</summary>
public sealed record EvaluationCase(string Id, string ImagePath, string LabelPath);

/// <summary>Finding the cases of an evaluation: from a case list file (ids, or a split.json's test list) or from the images folder.</summary>
public static class CaseList
{
    /// <summary>The case ids in <paramref name="path"/>: a split.json (its <c>test</c> list) or a text file of ids, one per line ('#' starts a comment, blank lines skipped).</summary>
    /// <exception cref="FormatException">A JSON file that is not a split, or a list without ids.</exception>
    public static IReadOnlyList<string> ReadIds(string path)
    {
        var text = File.ReadAllText(path);
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                return DatasetSplit.Parse(text).Test;
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{path}: {ex.Message}", ex);
            }
        }
        var ids = text.Split('\n')
            .Select(l => (l.Contains('#', StringComparison.Ordinal) ? l[..l.IndexOf('#', StringComparison.Ordinal)] : l).Trim())
            .Where(l => l.Length > 0)
            .ToList();
        if (ids.Count == 0) throw new FormatException($"{path}: no case ids");
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count) throw new FormatException($"{path}: a case id repeats");
        return ids;
    }

    /// <summary>The ids of every NIfTI file in <paramref name="folder"/> (name without .nii.gz / .nii; hidden files such as macOS "._" forks skipped), ordinal order.</summary>
    public static IReadOnlyList<string> Discover(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"no folder {folder}");
        return [.. Directory.EnumerateFiles(folder).Select(f => IdOf(Path.GetFileName(f))).OfType<string>().Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>The case id of a NIfTI file name, or null for other and hidden files.</summary>
    public static string? IdOf(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (fileName.StartsWith('.')) return null;
        if (fileName.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase)) return fileName[..^7];
        if (fileName.EndsWith(".nii", StringComparison.OrdinalIgnoreCase)) return fileName[..^4];
        return null;
    }

    /// <summary>The file of case <paramref name="id"/> in <paramref name="folder"/> (.nii.gz preferred over .nii), or null.</summary>
    public static string? Find(string folder, string id)
    {
        foreach (var ext in (string[])[".nii.gz", ".nii"])
        {
            var p = Path.Combine(folder, id + ext);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>The cases for <paramref name="ids"/> (or, when null, every image that has a label) with the ids that lack a file and why.</summary>
    public static (IReadOnlyList<EvaluationCase> Cases, IReadOnlyList<(string Id, string Reason)> Missing) Resolve(string imagesDir, string labelsDir, IReadOnlyList<string>? ids)
    {
        if (!Directory.Exists(imagesDir)) throw new DirectoryNotFoundException($"no images folder {imagesDir}");
        if (!Directory.Exists(labelsDir)) throw new DirectoryNotFoundException($"no labels folder {labelsDir}");
        var cases = new List<EvaluationCase>();
        var missing = new List<(string, string)>();
        foreach (var id in ids ?? Discover(imagesDir))
        {
            var image = Find(imagesDir, id);
            var label = Find(labelsDir, id);
            if (image is null && label is null) missing.Add((id, "no image and no label file"));
            else if (image is null) missing.Add((id, "no image file"));
            else if (label is null)
            {
                // Without --cases, images without labels are simply not evaluable; with a list they are an error.
                if (ids is not null) missing.Add((id, "no label file"));
            }
            else cases.Add(new EvaluationCase(id, image, label));
        }
        return (cases, missing);
    }
}
