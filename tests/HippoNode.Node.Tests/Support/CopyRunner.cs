using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HippoNode.Analysis;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Node.Tests.Support;

/// <summary>
/// A real, deterministic analysis for the node's tests: reads every file of the study, picks the MR series with the
/// most instances, measures the voxels above a threshold (mm³ from the pixel spacing and slice thickness), and writes
/// three result objects: copies of the series' first instance with fresh UIDs, a new series and Manufacturer
/// "HippoNode". No MR series: NoEligibleSeries. A file that does not parse: AnalysisException naming it.
/// </summary>
public sealed class CopyRunner : IStudyAnalysisRunner
{
    private int _calls;

    /// <summary>How often the analysis was started.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Awaited after reading and before writing (tests hold the analysis here to stop the node mid-way).</summary>
    public Func<CancellationToken, Task>? Hold { get; set; }

    /// <summary>The agreement the analysis reports; below <see cref="AgreementThreshold"/> the result is flagged, as the real analysis does.</summary>
    public double Agreement { get; set; } = 0.9;

    /// <summary>The threshold the flag compares <see cref="Agreement"/> with.</summary>
    public double AgreementThreshold { get; set; } = 0.8;

    /// <summary>Set when the analysis reached <see cref="Hold"/>.</summary>
    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        var clock = Stopwatch.StartNew();
        var files = new List<(string Path, DicomDataset Ds)>();
        foreach (var f in Directory.EnumerateFiles(studyDirectory, "*.dcm", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                files.Add((f, DicomFile.Open(f).Dataset));
            }
            catch (DicomException ex)
            {
                throw new AnalysisException($"{Path.GetFileName(f)}: not readable: {ex.Message}", ex);
            }
        }
        var load = clock.Elapsed;
        var series = files.GroupBy(f => f.Ds.GetString(DicomTags.SeriesInstanceUID) ?? "").ToList();
        var chosen = series.Where(g => g.First().Ds.GetString(DicomTags.Modality) == "MR").OrderByDescending(g => g.Count()).FirstOrDefault();
        var decisions = series.Select(g => new SeriesDecision(g.Key, g.First().Ds.GetString(DicomTags.SeriesDescription), g.First().Ds.GetString(DicomTags.Modality), g.Count(),
            g == chosen, g == chosen ? "largest MR series" : "not MR or not the largest")).ToList();
        var resultJson = Path.Combine(outputDirectory, "result.json");
        if (chosen is null)
        {
            await File.WriteAllTextAsync(resultJson, "{\"status\":\"NoEligibleSeries\"}", cancellationToken);
            return new StudyAnalysisResult
            {
                Status = AnalysisStatus.NoEligibleSeries, StudyInstanceUid = files.FirstOrDefault().Ds?.GetString(DicomTags.StudyInstanceUID) ?? "",
                Series = decisions, OutputFiles = [], ResultJson = resultJson, VolumesMm3 = new Dictionary<string, double>(),
                Stages = [new StageTiming("load", load)],
            };
        }

        var voxels = 0L;
        foreach (var (_, ds) in chosen)
        {
            var pixels = ds.GetItem(DicomTags.PixelData) is DicomElement e ? e.Buffer.GetMemory() : ReadOnlyMemory<byte>.Empty;
            for (var i = 0; i + 1 < pixels.Length; i += 2) if (BitConverter.ToInt16(pixels.Span[i..]) > 500) voxels++;
        }
        var first = chosen.First().Ds;
        var spacing = first.GetValues<double>(DicomTags.PixelSpacing);
        var thickness = first.TryGetValue<double>(DicomTags.SliceThickness, out var t) ? t : 1;
        var volume = voxels * spacing[0] * spacing[1] * thickness;
        var measure = clock.Elapsed - load;

        if (Hold is { } hold)
        {
            Reached.TrySetResult();
            await hold(cancellationToken);
        }
        var outputs = new List<string>();
        var newSeries = DicomUid.Generate();
        foreach (var kind in new[] { "seg", "sr", "sc" })
        {
            var ds = first.Clone();
            ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomUid.Generate());
            ds.AddOrUpdate(DicomTags.SeriesInstanceUID, newSeries);
            ds.AddOrUpdate(DicomTags.Manufacturer, OwnObjects.Manufacturer);
            ds.AddOrUpdate(DicomTags.SeriesDescription, "HippoNode " + kind);
            var path = Path.Combine(outputDirectory, kind + ".dcm");
            new DicomFile(ds, DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
            outputs.Add(path);
        }
        await File.WriteAllTextAsync(resultJson, JsonSerializer.Serialize(new { volume }), cancellationToken);
        return new StudyAnalysisResult
        {
            Status = AnalysisStatus.Completed, StudyInstanceUid = first.GetString(DicomTags.StudyInstanceUID)!, Series = decisions, OutputFiles = outputs,
            ResultJson = resultJson, VolumesMm3 = new Dictionary<string, double> { ["whole"] = volume }, Agreement = Agreement, QualityFlagged = Agreement < AgreementThreshold,
            Stages = [new StageTiming("load", load), new StageTiming("volume", measure), new StageTiming("outputs", clock.Elapsed - load - measure)],
        };
    }

    /// <summary>The volume the runner measures for the synthetic study (for assertions).</summary>
    public static string Format(double v) => v.ToString("F0", CultureInfo.InvariantCulture);
}
