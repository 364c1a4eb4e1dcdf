using System.Diagnostics;
using System.Globalization;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Metrics;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>The outcome of one evaluated case: metrics of the ensemble and of each member alone.</summary>
/// <param name="Id">The case id.</param>
/// <param name="ImagePath">The image file.</param>
/// <param name="LabelPath">The reference label file.</param>
/// <param name="Shape">The grid size.</param>
/// <param name="Spacing">The voxel size.</param>
/// <param name="Agreement">Mean pairwise Dice of the members' foreground.</param>
/// <param name="Elapsed">Wall time of the segmentation (all members).</param>
/// <param name="Ensemble">Per-structure metrics of the ensemble prediction.</param>
/// <param name="Members">Per-structure metrics of each member's own prediction, member order.</param>
/// <param name="SavedLabelPath">Where the ensemble label map was written, or null.</param>
public sealed record CaseResult(
    string Id, string ImagePath, string LabelPath, VolumeShape Shape, Spacing3 Spacing, double Agreement, TimeSpan Elapsed,
    IReadOnlyList<StructureMetrics> Ensemble, IReadOnlyList<IReadOnlyList<StructureMetrics>> Members, string? SavedLabelPath);

/// <summary>A case that could not be evaluated, and why.</summary>
public sealed record CaseFailure(string Id, string Reason);

/// <summary>Runs a model over reference-labelled cases and scores the ensemble and each member.</summary>
public static class Evaluator
{
    /// <summary>Evaluates <paramref name="cases"/>; a case that fails (unreadable, grids differ, unknown label values) is recorded and the rest go on.</summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="cases">The cases.</param>
    /// <param name="saveLabelsDir">When given, each ensemble label map is written there as &lt;id&gt;.nii.gz (uint8).</param>
    /// <param name="progress">Receives one line per case, or null.</param>
    public static (IReadOnlyList<CaseResult> Results, IReadOnlyList<CaseFailure> Failures) Run(
        SegmentationModel model, IReadOnlyList<EvaluationCase> cases, string? saveLabelsDir = null, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(cases);
        var results = new List<CaseResult>();
        var failures = new List<CaseFailure>();
        var labelValues = new bool[256];
        foreach (var l in model.Manifest.Labels) labelValues[l.Value] = true;
        foreach (var c in cases)
        {
            try
            {
                var r = Evaluate(model, c, labelValues, saveLabelsDir);
                results.Add(r);
                var whole = r.Ensemble.FirstOrDefault(s => s.Structure == "whole") ?? r.Ensemble[^1];
                progress?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{c.Id}: dice {whole.Structure} {whole.Dice:F4}, volume {whole.PredictedVolumeMm3:F0} vs {whole.TrueVolumeMm3:F0} mm3, agreement {r.Agreement:F4}, {r.Elapsed.TotalMilliseconds:F0} ms"));
            }
            // A runtime failure on one volume (e.g. out of memory on a huge input) should cost that case, not the run.
            catch (Exception ex) when (ex is NiftiFormatException or IOException or InvalidDataException or UnauthorizedAccessException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                failures.Add(new CaseFailure(c.Id, ex.Message));
                progress?.WriteLine($"{c.Id}: FAILED {ex.Message}");
            }
        }
        return (results, failures);
    }

    private static CaseResult Evaluate(SegmentationModel model, EvaluationCase c, bool[] labelValues, string? saveLabelsDir)
    {
        var image = NiftiReader.Read(c.ImagePath).Volume;
        var labelVolume = NiftiReader.Read(c.LabelPath).Volume;
        if (!image.SameGrid(labelVolume))
            throw new InvalidDataException($"image {image.Shape} and label {labelVolume.Shape} do not lie on the same grid (shape or affine differ)");
        var truth = ToLabels(labelVolume, labelValues);

        var sw = Stopwatch.StartNew();
        var result = model.Segment(image);
        var elapsed = sw.Elapsed;

        var structures = model.Manifest.Structures;
        var voxelVolume = image.Spacing.VoxelVolume;
        var ensemble = OverlapMetrics.Compute(result.Labels, truth, structures, voxelVolume);
        var members = result.MemberLabels.Select(m => OverlapMetrics.Compute(m, truth, structures, voxelVolume)).ToList();
        string? saved = null;
        if (saveLabelsDir is not null)
        {
            saved = Path.Combine(saveLabelsDir, c.Id + ".nii.gz");
            NiftiWriter.Write(result.ToLabelVolume(), saved, NiftiDataType.UInt8);
        }
        return new CaseResult(c.Id, c.ImagePath, c.LabelPath, image.Shape, image.Spacing, result.Agreement, elapsed, ensemble, members, saved);
    }

    /// <summary>A reference label volume as bytes; every value must be a whole number that the manifest lists.</summary>
    internal static byte[] ToLabels(Volume3D volume, bool[] labelValues)
    {
        var result = new byte[volume.VoxelCount];
        var data = volume.Data;
        for (var i = 0; i < data.Length; i++)
        {
            var v = data[i];
            if (!(v >= 0 && v <= 255 && v == MathF.Round(v)) || !labelValues[(int)v])
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"label value {v} at voxel {i} is not one of the model's labels"));
            result[i] = (byte)v;
        }
        return result;
    }
}
