using System.Text.Json;
using HippoNode.Imaging;

namespace HippoNode.Datasets;

/// <summary>Why a case is left out of training and evaluation.</summary>
public enum CaseIssueKind
{
    /// <summary>An image in imagesTr with no file of the same name in labelsTr.</summary>
    ImageWithoutLabel,
    /// <summary>A label in labelsTr with no file of the same name in imagesTr.</summary>
    LabelWithoutImage,
    /// <summary>The same case id twice in one folder (e.g. both .nii and .nii.gz).</summary>
    DuplicateFile,
    /// <summary>The image or label is not a readable NIfTI-1 file.</summary>
    Unreadable,
    /// <summary>Image and label differ in shape.</summary>
    ShapeMismatch,
    /// <summary>Image and label affines differ by more than the tolerance.</summary>
    AffineMismatch,
    /// <summary>The label holds values other than the allowed ones (0, 1, 2).</summary>
    UnexpectedLabelValues,
    /// <summary>The label has no foreground voxel (no 1 and no 2).</summary>
    EmptyLabel,
    /// <summary>The volume is far larger than the typical crop in this set.</summary>
    SizeOutlier,
    /// <summary>The image or label voxels are identical to another case's (a copy; one copy is kept).</summary>
    DuplicateContent,
}

/// <summary>One reason a case is excluded, with the details that make it checkable.</summary>
public sealed record CaseIssue(CaseIssueKind Kind, string Detail)
{
    /// <summary>The kind as a stable kebab-case code ("label-without-image"), as used in reports and split.json.</summary>
    public string Code => CodeOf(Kind);

    /// <summary>"code: detail".</summary>
    public override string ToString() => $"{Code}: {Detail}";

    /// <summary>The kebab-case code of <paramref name="kind"/>.</summary>
    public static string CodeOf(CaseIssueKind kind) => kind switch
    {
        CaseIssueKind.ImageWithoutLabel => "image-without-label",
        CaseIssueKind.LabelWithoutImage => "label-without-image",
        CaseIssueKind.DuplicateFile => "duplicate-file",
        CaseIssueKind.Unreadable => "unreadable",
        CaseIssueKind.ShapeMismatch => "shape-mismatch",
        CaseIssueKind.AffineMismatch => "affine-mismatch",
        CaseIssueKind.UnexpectedLabelValues => "unexpected-label-values",
        CaseIssueKind.EmptyLabel => "empty-label",
        CaseIssueKind.SizeOutlier => "size-outlier",
        CaseIssueKind.DuplicateContent => "duplicate-content",
        _ => kind.ToString(),
    };
}

/// <summary>What curation found for one case id: its files, geometry, label counts, issues and notes.</summary>
public sealed class CaseReport
{
    /// <summary>The case id: the file name without .nii/.nii.gz (e.g. "hippocampus_001").</summary>
    public required string Id { get; init; }

    /// <summary>The image file, relative to the dataset folder; null when there is none.</summary>
    public string? Image { get; init; }

    /// <summary>The label file, relative to the dataset folder; null when there is none.</summary>
    public string? Label { get; init; }

    /// <summary>The image shape when the image was read.</summary>
    public VolumeShape? ImageShape { get; init; }

    /// <summary>The label shape when the label was read.</summary>
    public VolumeShape? LabelShape { get; init; }

    /// <summary>The image voxel size when the image was read.</summary>
    public Spacing3? ImageSpacing { get; init; }

    /// <summary>Label voxels per value (0, 1, 2, and any other value seen, up to a few), when the label was read.</summary>
    public IReadOnlyDictionary<float, long>? LabelCounts { get; init; }

    /// <summary>The reasons to exclude this case; empty for a clean pair.</summary>
    public IReadOnlyList<CaseIssue> Issues { get; init; } = [];

    /// <summary>Observations that do not exclude the case (e.g. a label stored as float32).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>True when image and label are both present, readable and consistent: the case can be trained or evaluated on.</summary>
    public bool IsClean => Issues.Count == 0;

    /// <summary>Anterior (1) plus posterior (2) hippocampus voxels in the label.</summary>
    public long ForegroundVoxels => LabelCounts is null ? 0 : LabelCounts.GetValueOrDefault(1f) + LabelCounts.GetValueOrDefault(2f);
}

/// <summary>The result of <see cref="DatasetCurator.Check"/>: every case, which are clean and which are excluded and why.</summary>
public sealed class CurationReport
{
    /// <summary>The dataset folder (as given, made absolute).</summary>
    public required string Root { get; init; }

    /// <summary>The rules used.</summary>
    public required CurationOptions Options { get; init; }

    /// <summary>Every case id seen in either folder, ordinal order.</summary>
    public required IReadOnlyList<CaseReport> Cases { get; init; }

    /// <summary>Files in the two folders that are not NIfTI (.nii/.nii.gz) or are hidden (e.g. macOS "._" files), relative paths.</summary>
    public IReadOnlyList<string> IgnoredFiles { get; init; } = [];

    /// <summary>Number of NIfTI files in imagesTr.</summary>
    public int ImageFiles { get; init; }

    /// <summary>Number of NIfTI files in labelsTr.</summary>
    public int LabelFiles { get; init; }

    /// <summary>The median voxel count the size-outlier rule compared against.</summary>
    public double MedianVoxelCount { get; init; }

    /// <summary>The median size along x, y, z the size-outlier rule compared against.</summary>
    public (double X, double Y, double Z) MedianDims { get; init; }

    /// <summary>The clean pairs: the set training and evaluation use.</summary>
    public IReadOnlyList<CaseReport> Clean => [.. Cases.Where(c => c.IsClean)];

    /// <summary>The cases with at least one issue.</summary>
    public IReadOnlyList<CaseReport> Excluded => [.. Cases.Where(c => !c.IsClean)];

    /// <summary>Ids of the clean pairs, ordinal order.</summary>
    public IReadOnlyList<string> CleanIds => [.. Cases.Where(c => c.IsClean).Select(c => c.Id)];

    /// <summary>Cases per issue kind (a case with two issues counts under both).</summary>
    public IReadOnlyDictionary<CaseIssueKind, int> CountByKind =>
        Cases.SelectMany(c => c.Issues.Select(i => i.Kind).Distinct())
            .GroupBy(k => k).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Pairs that have both an image and a label file.</summary>
    public int Pairs => Cases.Count(c => c.Image is not null && c.Label is not null);

    /// <summary>The human-readable report: counts, each excluded case with its reasons, notes, and the clean list.</summary>
    public void WriteText(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var excluded = Excluded;
        var clean = Clean;
        w.WriteLine($"dataset: {Root}");
        w.WriteLine($"files: {ImageFiles} images, {LabelFiles} labels, {IgnoredFiles.Count} ignored");
        w.WriteLine($"cases: {Cases.Count} ({Pairs} image+label pairs)");
        w.WriteLine(FormattableString.Invariant($"typical size: median {MedianVoxelCount:0} voxels, median dims {MedianDims.X:0.#}x{MedianDims.Y:0.#}x{MedianDims.Z:0.#}"));
        w.WriteLine($"clean pairs: {clean.Count}");
        w.WriteLine($"excluded: {excluded.Count}");
        foreach (var (kind, n) in CountByKind) w.WriteLine($"  {CaseIssue.CodeOf(kind),-24} {n}");
        if (excluded.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("excluded cases:");
            foreach (var c in excluded)
            {
                w.WriteLine($"  {c.Id}");
                foreach (var i in c.Issues) w.WriteLine($"    {i}");
            }
        }
        var noted = Cases.Where(c => c.Notes.Count > 0).ToList();
        if (noted.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("notes (not excluding):");
            foreach (var c in noted)
            {
                foreach (var n in c.Notes) w.WriteLine($"  {c.Id}: {n}");
            }
        }
        if (IgnoredFiles.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("ignored files:");
            foreach (var f in IgnoredFiles) w.WriteLine($"  {f}");
        }
        w.WriteLine();
        w.WriteLine($"clean pairs ({clean.Count}):");
        for (var i = 0; i < clean.Count; i += 6)
            w.WriteLine("  " + string.Join(' ', clean.Skip(i).Take(6).Select(c => c.Id)));
    }

    /// <summary>The report as indented JSON (counts, excluded cases with reasons, notes, clean ids, per-case geometry).</summary>
    public void WriteJson(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var j = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        j.WriteStartObject();
        j.WriteString("root", Root);
        j.WriteStartObject("rules");
        j.WriteString("imagesFolder", Options.ImagesFolder);
        j.WriteString("labelsFolder", Options.LabelsFolder);
        j.WriteStartArray("allowedLabels");
        foreach (var v in Options.AllowedLabels) j.WriteNumberValue(v);
        j.WriteEndArray();
        j.WriteNumber("affineTolerance", Options.AffineTolerance);
        j.WriteNumber("outlierVoxelFactor", Options.OutlierVoxelFactor);
        j.WriteNumber("outlierDimFactor", Options.OutlierDimFactor);
        j.WriteEndObject();
        j.WriteStartObject("counts");
        j.WriteNumber("imageFiles", ImageFiles);
        j.WriteNumber("labelFiles", LabelFiles);
        j.WriteNumber("ignoredFiles", IgnoredFiles.Count);
        j.WriteNumber("cases", Cases.Count);
        j.WriteNumber("pairs", Pairs);
        j.WriteNumber("clean", Clean.Count);
        j.WriteNumber("excluded", Excluded.Count);
        foreach (var (kind, n) in CountByKind) j.WriteNumber(CaseIssue.CodeOf(kind), n);
        j.WriteEndObject();
        j.WriteNumber("medianVoxelCount", MedianVoxelCount);
        j.WriteStartArray("excluded");
        foreach (var c in Excluded)
        {
            j.WriteStartObject();
            j.WriteString("id", c.Id);
            j.WriteStartArray("reasons");
            foreach (var i in c.Issues)
            {
                j.WriteStartObject();
                j.WriteString("code", i.Code);
                j.WriteString("detail", i.Detail);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteStartArray("clean");
        foreach (var id in CleanIds) j.WriteStringValue(id);
        j.WriteEndArray();
        j.WriteStartArray("cases");
        foreach (var c in Cases)
        {
            j.WriteStartObject();
            j.WriteString("id", c.Id);
            j.WriteBoolean("clean", c.IsClean);
            if (c.Image is not null) j.WriteString("image", c.Image);
            if (c.Label is not null) j.WriteString("label", c.Label);
            if (c.ImageShape is { } s) j.WriteString("imageShape", s.ToString());
            if (c.LabelShape is { } ls) j.WriteString("labelShape", ls.ToString());
            if (c.ImageSpacing is { } sp)
            {
                j.WriteStartArray("spacing");
                j.WriteNumberValue(sp.X);
                j.WriteNumberValue(sp.Y);
                j.WriteNumberValue(sp.Z);
                j.WriteEndArray();
            }
            if (c.LabelCounts is { } counts)
            {
                j.WriteStartObject("labelCounts");
                foreach (var (v, n) in counts.OrderBy(kv => kv.Key)) j.WriteNumber(v.ToString("R", System.Globalization.CultureInfo.InvariantCulture), n);
                j.WriteEndObject();
            }
            if (c.Notes.Count > 0)
            {
                j.WriteStartArray("notes");
                foreach (var n in c.Notes) j.WriteStringValue(n);
                j.WriteEndArray();
            }
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteEndObject();
    }
}
