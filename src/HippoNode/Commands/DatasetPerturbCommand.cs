using System.Globalization;
using HippoNode.Datasets;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Commands;

/// <summary>
/// `hipponode dataset perturb DIR --kind KIND --out OUT`: writes OUT/imagesTr and OUT/labelsTr with each case of DIR
/// (or of --cases) perturbed, the input of the validation plan's stress evaluation of the quality flag.
/// </summary>
public static class DatasetPerturbCommand
{
    /// <summary>The seed when --seed is not given.</summary>
    public const ulong DefaultSeed = 20261201;

    /// <summary>Runs the sub-command: 0 when every case was written, 1 when the folder, the case list or a case could not be read.</summary>
    public static int Run(string dir, IReadOnlyDictionary<string, string> options, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!options.TryGetValue("--kind", out var kindName)) throw new UsageException($"--kind is required ({string.Join(", ", Perturbation.Names)})");
        if (!options.TryGetValue("--out", out var outDir)) throw new UsageException("--out is required");
        PerturbationKind kind;
        try
        {
            kind = Perturbation.Parse(kindName);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        var seed = DefaultSeed;
        if (options.TryGetValue("--seed", out var s) && !ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
            throw new UsageException($"--seed: '{s}' is not a valid number");

        IReadOnlyList<EvaluationCase> cases;
        IReadOnlyList<(string Id, string Reason)> missing;
        try
        {
            var ids = options.TryGetValue("--cases", out var list) ? CaseList.ReadIds(list) : null;
            (cases, missing) = CaseList.Resolve(Path.Combine(dir, "imagesTr"), Path.Combine(dir, "labelsTr"), ids);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            error.WriteLine($"hipponode dataset perturb: {ex.Message}");
            return 1;
        }
        foreach (var (id, reason) in missing) error.WriteLine($"hipponode dataset perturb: {id}: {reason}");

        var images = Directory.CreateDirectory(Path.Combine(outDir, "imagesTr")).FullName;
        var labels = Directory.CreateDirectory(Path.Combine(outDir, "labelsTr")).FullName;
        var failed = missing.Count;
        foreach (var c in cases)
        {
            try
            {
                var image = NiftiReader.Read(c.ImagePath).Volume;
                var label = NiftiReader.Read(c.LabelPath).Volume;
                var (pi, pl) = Perturbation.Apply(kind, image, label, seed ^ Fnv1a(c.Id));
                NiftiWriter.Write(pi, Path.Combine(images, c.Id + ".nii.gz"));
                NiftiWriter.Write(pl, Path.Combine(labels, c.Id + ".nii.gz"), NiftiDataType.UInt8);
            }
            catch (Exception ex) when (ex is IOException or NiftiFormatException or ArgumentException)
            {
                error.WriteLine($"hipponode dataset perturb: {c.Id}: {ex.Message}");
                failed++;
            }
        }
        output.WriteLine($"{Perturbation.NameOf(kind)}: {cases.Count - (failed - missing.Count)} of {cases.Count + missing.Count} cases written to {outDir} (seed {seed})");
        return failed == 0 ? 0 : 1;
    }

    // A stable per-case seed: string.GetHashCode differs between processes.
    private static ulong Fnv1a(string text)
    {
        var h = 14695981039346656037UL;
        foreach (var ch in text)
        {
            h ^= ch;
            h *= 1099511628211UL;
        }
        return h;
    }
}
