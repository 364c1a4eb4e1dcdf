using System.Diagnostics;
using System.Text.Json;
using HippoNode.Analysis.Outputs;
using HippoNode.Analysis.Selection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HippoNode.Analysis.Modules;

/// <summary>What every module would take from one study (the "rules test"): nothing is read beyond the headers.</summary>
/// <param name="StudyInstanceUid">The study.</param>
/// <param name="Modules">Each module's selection, in the router's module order.</param>
/// <param name="SkippedFiles">Files under the folder that are not DICOM image instances, with why.</param>
public sealed record StudyRouting(string StudyInstanceUid, IReadOnlyList<ModuleSelection> Modules, IReadOnlyList<string> SkippedFiles)
{
    /// <summary>True when at least one module applies.</summary>
    public bool AnyApplies => Modules.Any(m => m.Applies);
}

/// <summary>
/// Routes a study to every module whose rules match and runs each independently: the study is scanned once, each module
/// that applies analyses it into <c>&lt;out&gt;/&lt;module&gt;/</c>, a module that fails is recorded and the others go on,
/// and <c>&lt;out&gt;/result.json</c> lists every module with its decision, outcome and files. A study no module applies
/// to is logged as "no module applies" and nothing is written but that result.json.
/// </summary>
public sealed class ModuleRouter : IDisposable
{
    /// <summary>The <see cref="StudyAnalysisResult.Module"/> of the combined result.</summary>
    public const string CombinedModuleName = "study";

    /// <summary>The combined result.json's format name.</summary>
    public const string Format = "hipponode-study-result";

    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>A router over <paramref name="modules"/> (it owns them: disposing the router disposes them).</summary>
    /// <exception cref="ArgumentException">No modules, or two with the same name.</exception>
    public ModuleRouter(IEnumerable<AnalysisModule> modules, ILogger<ModuleRouter>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(modules);
        Modules = [.. modules];
        if (Modules.Count == 0) throw new ArgumentException("at least one module is needed", nameof(modules));
        if (Modules.Select(m => m.Name).Distinct(StringComparer.Ordinal).Count() != Modules.Count)
            throw new ArgumentException("module names must be unique", nameof(modules));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The modules, in the order they run.</summary>
    public IReadOnlyList<AnalysisModule> Modules { get; }

    /// <summary>Which module takes what from the study folder, and why (headers only).</summary>
    /// <exception cref="AnalysisException">The folder holds no DICOM image instance, or several studies.</exception>
    public async Task<StudyRouting> ExplainAsync(string studyDirectory, CancellationToken cancellationToken = default)
    {
        var scan = await Task.Run(() => StudyScanner.Scan(studyDirectory, cancellationToken), cancellationToken).ConfigureAwait(false);
        var uid = StudyScanner.SingleStudy(scan, studyDirectory);
        return new StudyRouting(uid, [.. Modules.Select(m => m.Select(scan))], scan.SkippedFiles);
    }

    /// <summary>Analyses the study folder with every module that applies; see the class remarks.</summary>
    /// <exception cref="AnalysisException">The folder holds no DICOM image instance, or several studies (no module can run).</exception>
    public async Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(studyDirectory);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        var analysedAt = _time.GetLocalNow();
        var stages = new List<StageTiming>();
        var scan = await StageTiming.RunAsync(stages, "scan", () => StudyScanner.Scan(studyDirectory, cancellationToken), cancellationToken).ConfigureAwait(false);
        var studyUid = StudyScanner.SingleStudy(scan, studyDirectory);
        var selections = Modules.Select(m => m.Select(scan)).ToList();
        foreach (var s in selections) Log.ModuleSelected(_logger, studyUid, s.Module, s.Applies ? "applies" : "does not apply", s.Rules);
        Directory.CreateDirectory(outputDirectory);
        var resultPath = Path.Combine(outputDirectory, StudyAnalyzer.ResultFileName);
        var warnings = new List<string>();
        if (scan.SkippedFiles.Count > 0) warnings.Add($"{scan.SkippedFiles.Count} file(s) under the study folder are not DICOM image instances");

        var outcomes = new List<ModuleOutcome>();
        StudyAnalysisResult? hippocampus = null;
        foreach (var (module, selection) in Modules.Zip(selections))
        {
            if (!selection.Applies)
            {
                outcomes.Add(new ModuleOutcome(module.Name, ModuleStatus.NotApplicable, null, null, null, [], selection.Series, new Dictionary<string, double>()));
                continue;
            }
            var folder = Path.Combine(outputDirectory, module.Name);
            Directory.CreateDirectory(folder);
            var clock = Stopwatch.StartNew();
            using var scope = _logger.BeginScope(new Dictionary<string, object> { ["Module"] = module.Name });
            try
            {
                var result = await module.AnalyzeAsync(scan, studyDirectory, folder, cancellationToken).ConfigureAwait(false);
                stages.AddRange(result.Stages.Select(s => s with { Stage = $"{module.Name}:{s.Stage}" }));
                warnings.AddRange(result.Warnings.Select(w => $"{module.Name}: {w}"));
                var status = result.Status == AnalysisStatus.Completed ? ModuleStatus.Completed : ModuleStatus.NotApplicable;
                outcomes.Add(new ModuleOutcome(module.Name, status, null, result.Summary, result.ResultJson, result.OutputFiles, result.Series, result.Measurements,
                    status == ModuleStatus.Completed && result.QualityFlagged));
                if (module.Name == StudyAnalyzer.ModuleName && status == ModuleStatus.Completed) hippocampus = result;
                Log.ModuleCompleted(_logger, studyUid, module.Name, result.Summary);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // One module's failure is its own: the next module still runs and its results still go out.
                var error = ex is AnalysisException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                stages.Add(new StageTiming($"{module.Name}:failed", clock.Elapsed));
                warnings.Add($"{module.Name} failed: {error}");
                var written = Path.Combine(folder, StudyAnalyzer.ResultFileName);
                outcomes.Add(new ModuleOutcome(module.Name, ModuleStatus.Failed, error, null, File.Exists(written) ? written : null, [], selection.Series,
                    new Dictionary<string, double>()));
                Log.ModuleFailed(_logger, studyUid, module.Name, error, ex is AnalysisException ? null : ex);
            }
        }

        var combined = CombinedDecisions(scan, selections);
        var applied = outcomes.Where(o => o.Status != ModuleStatus.NotApplicable).ToList();
        AnalysisStatus overall;
        string summary;
        if (applied.Count == 0)
        {
            overall = AnalysisStatus.NoEligibleSeries;
            summary = "no module applies";
            Log.NoModuleApplies(_logger, studyUid, string.Join("; ", selections.Select(s => $"{s.Module}: rules '{s.Rules}' take no series")));
        }
        else
        {
            overall = applied.Any(o => o.Status == ModuleStatus.Completed) ? AnalysisStatus.Completed : AnalysisStatus.Failed;
            summary = string.Join(" | ", applied.Select(o => o.Status == ModuleStatus.Completed ? $"{o.Module}: {o.Summary}" : $"{o.Module} failed: {o.Error}"));
        }
        var outputs = outcomes.SelectMany(o => o.OutputFiles).ToList();
        await ResultDocument.WriteJsonAsync(resultPath, w => WriteCombined(w, overall, studyUid, analysedAt, outputDirectory, outcomes, selections, scan.SkippedFiles, warnings, stages),
            cancellationToken).ConfigureAwait(false);
        return new StudyAnalysisResult
        {
            Status = overall,
            Module = CombinedModuleName,
            StudyInstanceUid = studyUid,
            Series = combined,
            OutputFiles = outputs,
            ResultJson = resultPath,
            VolumesMm3 = hippocampus?.VolumesMm3 ?? new Dictionary<string, double>(),
            Agreement = hippocampus?.Agreement,
            QualityFlagged = outcomes.Any(o => o.QualityFlagged),
            Stages = stages,
            Warnings = warnings,
            Summary = summary,
            Measurements = outcomes.SelectMany(o => o.Measurements.Select(kv => ($"{o.Module}.{kv.Key}", kv.Value))).ToDictionary(p => p.Item1, p => p.Item2),
            Modules = outcomes,
        };
    }

    /// <summary>One decision per series for the whole study: chosen when any module chose it; the reason names each module's verdict.</summary>
    private static List<SeriesDecision> CombinedDecisions(StudyScan scan, IReadOnlyList<ModuleSelection> selections) =>
        [.. scan.Series.Select(s =>
        {
            var mine = selections.Select(sel => (sel.Module, Decision: sel.Series.First(d => d.SeriesInstanceUid == s.SeriesInstanceUid))).ToList();
            return new SeriesDecision(s.SeriesInstanceUid, s.Description, s.Modality, s.Instances.Count, mine.Any(m => m.Decision.Chosen),
                string.Join(" | ", mine.Select(m => $"{m.Module}: {m.Decision.Reason}")));
        })];

    private static void WriteCombined(Utf8JsonWriter w, AnalysisStatus status, string studyUid, DateTimeOffset analysedAt, string outputDirectory,
        IReadOnlyList<ModuleOutcome> outcomes, IReadOnlyList<ModuleSelection> selections, IReadOnlyList<string> skippedFiles, IReadOnlyList<string> warnings,
        IReadOnlyList<StageTiming> stages)
    {
        string Relative(string path) => Path.GetRelativePath(outputDirectory, path).Replace('\\', '/');
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("formatVersion", 1);
        w.WriteString("status", status switch
        {
            AnalysisStatus.Completed => outcomes.Any(o => o.Status == ModuleStatus.Failed) ? "partial" : "completed",
            AnalysisStatus.Failed => "failed",
            _ => "no-module-applies",
        });
        w.WriteString("studyInstanceUid", studyUid);
        w.WriteString("analysedAt", analysedAt);
        w.WriteStartArray("modules");
        foreach (var (o, sel) in outcomes.Zip(selections))
        {
            w.WriteStartObject();
            w.WriteString("module", o.Module);
            w.WriteString("rules", sel.Rules);
            w.WriteBoolean("applies", sel.Applies);
            w.WriteString("status", o.Status switch { ModuleStatus.Completed => "completed", ModuleStatus.Failed => "failed", _ => "not-applicable" });
            if (o.Error is not null) w.WriteString("error", o.Error);
            if (o.Summary is not null) w.WriteString("summary", o.Summary);
            if (o.ResultJson is not null) w.WriteString("result", Relative(o.ResultJson));
            ResultDocument.Strings(w, "outputs", o.OutputFiles.Select(Relative));
            w.WriteStartObject("measurements");
            foreach (var (k, v) in o.Measurements) w.WriteNumber(k, Math.Round(v, 6));
            w.WriteEndObject();
            w.WriteStartArray("series");
            foreach (var d in o.Series)
            {
                w.WriteStartObject();
                w.WriteString("seriesInstanceUid", d.SeriesInstanceUid);
                w.WriteString("seriesDescription", d.SeriesDescription);
                w.WriteString("modality", d.Modality);
                w.WriteNumber("instances", d.Instances);
                w.WriteBoolean("chosen", d.Chosen);
                w.WriteString("reason", d.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        ResultDocument.Strings(w, "skippedFiles", skippedFiles);
        ResultDocument.WriteFooter(w, [], warnings, stages);
        w.WriteEndObject();
    }

    /// <summary>Disposes the modules.</summary>
    public void Dispose()
    {
        foreach (var m in Modules) m.Dispose();
    }
}
