using System.Diagnostics;
using System.Globalization;
using HippoNode.Analysis.Modules;
using HippoNode.Analysis.Outputs;
using HippoNode.Analysis.Selection;
using HippoNode.Analysis.Volumes;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Imaging;
using HippoNode.Reporting;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HippoNode.Analysis;

/// <summary>How one study analysis ended.</summary>
public enum AnalysisStatus
{
    /// <summary>Outputs written.</summary>
    Completed,

    /// <summary>No series met the selection rules; nothing written but result.json.</summary>
    NoEligibleSeries,

    /// <summary>Every module that applied to the study failed (<see cref="StudyAnalysisResult.Modules"/> says why); only result.json written.</summary>
    Failed,
}

/// <summary>How one module's part of a study analysis ended.</summary>
public enum ModuleStatus
{
    /// <summary>Outputs written.</summary>
    Completed,

    /// <summary>The module's rules took nothing from the study.</summary>
    NotApplicable,

    /// <summary>The module applied and failed (<see cref="ModuleOutcome.Error"/>); the other modules still ran.</summary>
    Failed,
}

/// <summary>One module's part of a study analysis.</summary>
/// <param name="Module">The module's name.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Error">Why it failed, or null.</param>
/// <param name="Summary">One line a reader understands ("pneumonia probability 0.830 ≥ 0.500: PNEUMONIA"), or null.</param>
/// <param name="ResultJson">The module's result.json, or null when it did not run.</param>
/// <param name="OutputFiles">The DICOM objects it wrote.</param>
/// <param name="Series">Every series of the study with the module's decision.</param>
/// <param name="Measurements">Its numbers by name (volumes in mm3; probability and threshold).</param>
/// <param name="QualityFlagged">True when the module's quality signal asks for review (hippocampus: low agreement; chest X-ray: probability in the review band).</param>
public sealed record ModuleOutcome(string Module, ModuleStatus Status, string? Error, string? Summary, string? ResultJson, IReadOnlyList<string> OutputFiles,
    IReadOnlyList<SeriesDecision> Series, IReadOnlyDictionary<string, double> Measurements, bool QualityFlagged = false);

/// <summary>The selection decision for one series of the study.</summary>
public sealed record SeriesDecision(string SeriesInstanceUid, string? SeriesDescription, string? Modality, int Instances, bool Chosen, string Reason);

/// <summary>One stage of an analysis and how long it took.</summary>
public sealed record StageTiming(string Stage, TimeSpan Duration)
{
    /// <summary>Runs CPU-bound or synchronous-I/O <paramref name="work"/> on the thread pool (callers on a request thread are never blocked) and records its duration.</summary>
    internal static async Task<T> RunAsync<T>(List<StageTiming> stages, string name, Func<T> work, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var result = await Task.Run(work, cancellationToken).ConfigureAwait(false);
        stages.Add(new StageTiming(name, sw.Elapsed));
        return result;
    }
}

/// <summary>The outcome of <see cref="Modules.AnalysisModule.AnalyzeAsync(string, string, CancellationToken)"/>.</summary>
public sealed class StudyAnalysisResult
{
    /// <summary>How it ended.</summary>
    public required AnalysisStatus Status { get; init; }

    /// <summary>The study's Study Instance UID.</summary>
    public required string StudyInstanceUid { get; init; }

    /// <summary>Every series of the study with its decision.</summary>
    public required IReadOnlyList<SeriesDecision> Series { get; init; }

    /// <summary>Paths of the DICOM objects written (seg.dcm, sr.dcm, sc.dcm); empty when none.</summary>
    public required IReadOnlyList<string> OutputFiles { get; init; }

    /// <summary>Path of result.json.</summary>
    public required string ResultJson { get; init; }

    /// <summary>Volumes in mm3 by structure name (anterior, posterior, whole); empty when none.</summary>
    public required IReadOnlyDictionary<string, double> VolumesMm3 { get; init; }

    /// <summary>Mean pairwise Dice between ensemble members, or null when not analysed.</summary>
    public double? Agreement { get; init; }

    /// <summary>True when the result is flagged for review: the agreement is below the configured threshold, or (chest X-ray, and for a routed study any module) the module's quality signal asks for review.</summary>
    public bool QualityFlagged { get; init; }

    /// <summary>Stage timings (scan, select, volume, model, inference, outputs).</summary>
    public required IReadOnlyList<StageTiming> Stages { get; init; }

    /// <summary>The chosen series' UID, or null when none was eligible.</summary>
    public string? ChosenSeriesInstanceUid => Series.FirstOrDefault(s => s.Chosen)?.SeriesInstanceUid;

    /// <summary>Things the operator should know that did not stop the analysis (skipped files, missing writers).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The module that produced this result ("hippocampus", "chest-xray"), or "study" for the router's combined result.</summary>
    public string Module { get; init; } = StudyAnalyzer.ModuleName;

    /// <summary>One line a reader understands, or null.</summary>
    public string? Summary { get; init; }

    /// <summary>The module's numbers by name (the chest X-ray module: probability, threshold, positive).</summary>
    public IReadOnlyDictionary<string, double> Measurements { get; init; } = new Dictionary<string, double>();

    /// <summary>For the router's combined result: every module and how its part ended; empty for a single module's result.</summary>
    public IReadOnlyList<ModuleOutcome> Modules { get; init; } = [];
}

/// <summary>Analyses one study folder: selects the series, segments it, writes SEG, SR, SC and result.json.</summary>
/// <remarks>
/// Steps: read every file's header (stopping before Pixel Data) and group by series; apply the selection rules
/// (<see cref="AnalysisOptions.Rules"/>, tie-break in <see cref="SeriesSelector"/>); read the chosen series' pixels into a
/// checked grid; map it to the model's axes (<see cref="AxisMapping"/>); run the ensemble; map the labels back to the
/// source slices; hand the findings to the report writers; write result.json. Safe to call concurrently: the loaded
/// model is shared and nothing else is.
/// </remarks>
public sealed class StudyAnalyzer : AnalysisModule
{
    /// <summary>The name of the machine-readable result in the output folder.</summary>
    public const string ResultFileName = "result.json";

    /// <summary>The module's name.</summary>
    public const string ModuleName = "hippocampus";

    private readonly ILogger _logger;
    private readonly SegmentationModel? _sharedModel;
    private readonly Lock _modelGate = new();
    private SegmentationModel? _ownModel;
    private bool _disposed;

    /// <summary>An analyzer with the default options (shipped rules, model folder <see cref="AnalysisOptions.DefaultModelFolder"/>).</summary>
    public StudyAnalyzer()
        : this(new AnalysisOptions()) { }

    /// <summary>An analyzer with <paramref name="options"/>; <paramref name="model"/>, when given, is used instead of loading
    /// <see cref="AnalysisOptions.ModelFolder"/> and stays the caller's to dispose.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public StudyAnalyzer(AnalysisOptions options, SegmentationModel? model = null, ILogger<StudyAnalyzer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _sharedModel = model;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options in force.</summary>
    public AnalysisOptions Options { get; }

    /// <inheritdoc />
    public override string Name => ModuleName;

    /// <summary>The report writers; tests replace them to check what the analysis does with their objects.</summary>
    internal Func<StudyFindings, ReportingOptions, IReadOnlyList<ReportObject>> ReportWriters { get; init; } = ReportOutputs.Create;

    /// <summary>Whether <see cref="ReportWriters"/> produce DICOM objects in this build.</summary>
    internal bool WritersAvailable { get; init; } = ReportOutputs.WritersAvailable;

    /// <inheritdoc />
    internal override ModuleSelection Select(StudyScan scan)
    {
        var (decisions, chosen) = SeriesSelector.Select(scan.Series, Options.Rules);
        return new ModuleSelection(Name, Options.Rules.Name, chosen is not null, decisions);
    }

    /// <inheritdoc />
    private protected override async Task<StudyAnalysisResult> RunAsync(StudyScan? scanned, string studyDirectory, string outputDirectory, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = Stopwatch.StartNew();
        var stages = new List<StageTiming>();
        var warnings = new List<string>();
        var resultPath = Path.Combine(outputDirectory, ResultFileName);
        var analysedAt = Options.Time.GetLocalNow();
        Log.Analysing(_logger, studyDirectory);

        StudyScan? scan = null;
        IReadOnlyList<SeriesDecision> decisions = [];
        var studyUid = "";
        try
        {
            scan = scanned ?? await Stage(stages, "scan", () => StudyScanner.Scan(studyDirectory, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var skipped in scan.SkippedFiles) Log.SkippedFile(_logger, skipped);
            if (scan.SkippedFiles.Count > 0) warnings.Add($"{scan.SkippedFiles.Count} file(s) skipped (listed in selection.skippedFiles)");
            studyUid = StudyScanner.SingleStudy(scan, studyDirectory);

            var sw = Stopwatch.StartNew();
            var (selected, chosen) = SeriesSelector.Select(scan.Series, Options.Rules);
            decisions = selected;
            stages.Add(new StageTiming("select", sw.Elapsed));
            foreach (var d in decisions) Log.SeriesDecision(_logger, d.SeriesInstanceUid, d.SeriesDescription, d.Instances, d.Reason);
            Directory.CreateDirectory(outputDirectory);

            if (chosen is null)
            {
                Log.NoEligibleSeries(_logger, studyUid, Options.Rules.Name);
                var document = new ResultDocument
                {
                    Status = "no-eligible-series", StudyInstanceUid = studyUid, AnalysedAt = analysedAt, Rules = Options.Rules,
                    Decisions = decisions, Series = scan.Series, SkippedFiles = scan.SkippedFiles, Warnings = warnings, Stages = stages,
                };
                await document.WriteAsync(resultPath, cancellationToken).ConfigureAwait(false);
                Log.Finished(_logger, studyUid, "ended with no eligible series", total.Elapsed.TotalSeconds, outputDirectory);
                return new StudyAnalysisResult
                {
                    Status = AnalysisStatus.NoEligibleSeries, StudyInstanceUid = studyUid, Series = decisions, OutputFiles = [],
                    ResultJson = resultPath, VolumesMm3 = new Dictionary<string, double>(), Stages = stages, Warnings = warnings,
                    Summary = $"no eligible series under rules '{Options.Rules.Name}'",
                };
            }

            var source = await Stage(stages, "volume", () => SeriesVolumeReader.Read(chosen, cancellationToken), cancellationToken).ConfigureAwait(false);
            var mapping = AxisMapping.FromAffine(source.RasAffine, source.Shape);
            if (mapping.ObliquityDegrees > Options.MaxObliquityDegrees)
                throw new AnalysisException(string.Create(CultureInfo.InvariantCulture,
                    $"{chosen.Label} is oblique: its voxel axes lie up to {mapping.ObliquityDegrees:0.#} degrees from the patient axes, more than the {Options.MaxObliquityDegrees:0.#} allowed (the model takes voxels in the closest canonical RAS order, without resampling)"));
            var modelSpacing = mapping.ModelSpacing(source.Spacing);
            var image = new Volume3D(mapping.ModelShape, mapping.ToModel<float>(source.Data()), modelSpacing, mapping.ModelAffine(source.RasAffine));
            Log.VolumeRead(_logger, chosen.SeriesInstanceUid, source.Shape.ToString(), source.Spacing.ToString(), mapping.Describe(), mapping.ObliquityDegrees);

            var model = await Stage(stages, "model", Model, cancellationToken).ConfigureAwait(false);
            var segmentation = await Stage(stages, "inference", () => model.Segment(image), cancellationToken).ConfigureAwait(false);
            var quality = FindingsBuilder.Quality(segmentation, model.Manifest, Options.AgreementThreshold);
            var volumes = segmentation.Volumes.ToDictionary(v => v.Structure, v => v.VolumeMm3);
            Log.Measured(_logger, studyUid, FormatVolumes(volumes), quality.Agreement);
            if (quality.Flagged)
            {
                Log.QualityFlagged(_logger, studyUid, quality.Agreement, quality.Threshold);
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"member agreement {quality.Agreement:0.###} is below the threshold {quality.Threshold}: review the segmentation"));
            }

            sw.Restart();
            var findings = FindingsBuilder.Build(source, mapping, segmentation, model.Manifest, model.MemberCount, quality, Options.Time.GetLocalNow());
            var outputs = await Task.Run(() => WriteObjects(findings, source, outputDirectory), cancellationToken).ConfigureAwait(false);
            if (!WritersAvailable)
            {
                Log.NoWriters(_logger);
                warnings.Add("the SEG, SR and SC writers are not available in this build: only result.json was written");
            }
            stages.Add(new StageTiming("outputs", sw.Elapsed));
            var completed = new ResultDocument
            {
                Status = "completed", StudyInstanceUid = studyUid, AnalysedAt = analysedAt, Rules = Options.Rules, Decisions = decisions,
                Series = scan.Series, SkippedFiles = scan.SkippedFiles, Source = source, Mapping = mapping, Manifest = model.Manifest,
                ModelFolder = model.Folder, MemberCount = model.MemberCount, Segmentation = segmentation, Findings = findings,
                OutputFiles = outputs, Warnings = warnings, Stages = stages,
            };
            await completed.WriteAsync(resultPath, cancellationToken).ConfigureAwait(false);
            Log.Finished(_logger, studyUid, "completed", total.Elapsed.TotalSeconds, outputDirectory);
            return new StudyAnalysisResult
            {
                Status = AnalysisStatus.Completed, StudyInstanceUid = studyUid, Series = decisions, OutputFiles = outputs, ResultJson = resultPath,
                VolumesMm3 = volumes, Agreement = quality.Agreement, QualityFlagged = quality.Flagged, Stages = stages, Warnings = warnings,
                Summary = string.Create(CultureInfo.InvariantCulture, $"volumes {FormatVolumes(volumes)}; agreement {quality.Agreement:0.###}{(quality.Flagged ? " (flagged)" : "")}"),
                Measurements = volumes.ToDictionary(kv => kv.Key + " mm3", kv => kv.Value),
            };
        }
        catch (AnalysisException ex)
        {
            Log.Failed(_logger, studyDirectory, ex.Message);
            await TryWriteFailureAsync(resultPath, ex.Message, studyUid, analysedAt, scan, decisions, warnings, stages).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Releases the model this analyzer loaded itself (a model passed in stays the caller's).</summary>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        lock (_modelGate)
        {
            _disposed = true;
            _ownModel?.Dispose();
            _ownModel = null;
        }
    }

    private SegmentationModel Model()
    {
        if (_sharedModel is not null) return _sharedModel;
        lock (_modelGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_ownModel is not null) return _ownModel;
            var folder = Options.ModelFolder;
            if (!File.Exists(Path.Combine(folder, ModelManifest.FileName)))
                throw new AnalysisException($"model folder {folder} has no {ModelManifest.FileName}; train the model or point the analysis at one (--model DIR or {AnalysisOptions.ModelFolderVariable})");
            Log.LoadingModel(_logger, folder);
            try
            {
                return _ownModel = SegmentationModel.Load(folder, Options.Inference);
            }
            catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
            {
                throw new AnalysisException($"model folder {folder} cannot be loaded: {ex.Message}", ex);
            }
        }
    }

    // Saves what the writers return, after checking that every object belongs to the source's study, patient and frame
    // of reference and that its new UIDs lie under the configured root: a writer bug must not file results under another patient.
    private IReadOnlyList<string> WriteObjects(StudyFindings findings, SourceSeries source, string outputDirectory)
    {
        IReadOnlyList<ReportObject> objects;
        try
        {
            objects = ReportWriters(findings, Options.Reporting);
        }
        catch (ArgumentException ex)
        {
            throw new AnalysisException($"{source.Series.Label}: the report writers refused the findings: {ex.Message}", ex);
        }
        return ReportObject.SaveChecked(objects, source.Slices[0].Header, outputDirectory);
    }

    private async Task TryWriteFailureAsync(string resultPath, string error, string studyUid, DateTimeOffset analysedAt, StudyScan? scan,
        IReadOnlyList<SeriesDecision> decisions, List<string> warnings, List<StageTiming> stages)
    {
        try
        {
            var dir = Path.GetDirectoryName(resultPath);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var document = new ResultDocument
            {
                Status = "failed", Error = error, StudyInstanceUid = studyUid, AnalysedAt = analysedAt, Rules = Options.Rules,
                Decisions = decisions, Series = scan?.Series ?? [], SkippedFiles = scan?.SkippedFiles ?? [], Warnings = warnings, Stages = stages,
            };
            // Not cancellable: the failure record is short, and a cancelled token must not hide why the analysis failed.
            await document.WriteAsync(resultPath, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The exception being thrown is the news; a result.json that cannot be written must not replace it.
        }
    }

    private static Task<T> Stage<T>(List<StageTiming> stages, string name, Func<T> work, CancellationToken cancellationToken) =>
        StageTiming.RunAsync(stages, name, work, cancellationToken);

    internal static string FormatVolumes(IReadOnlyDictionary<string, double> volumes) =>
        string.Join(", ", volumes.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:0.0} mm3")));
}

/// <summary>A study that cannot be analysed: broken series, unreadable files, model failure.</summary>
public sealed class AnalysisException(string message, Exception? inner = null) : Exception(message, inner);
