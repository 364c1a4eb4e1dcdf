using System.Diagnostics;
using System.Globalization;
using HippoNode.Analysis.Modules;
using HippoNode.Analysis.Outputs;
using HippoNode.Analysis.Selection;
using HippoNode.Classification;
using HippoNode.Reporting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HippoNode.Analysis.ChestXray;

/// <summary>
/// The chest X-ray module: picks the frontal radiograph of a study, classifies it (pneumonia probability and class
/// activation map), writes the report page (Secondary Capture with the heat-map overlay), the Comprehensive SR and result.json.
/// </summary>
/// <remarks>
/// Steps: scan the headers; apply the rules image by image (<see cref="ImageSelector"/>); read the chosen image through the
/// grayscale pipeline (<see cref="RadiographReader"/>); resample it to the network input and run the classifier
/// (<see cref="ClassifierModel"/>); upsample the class activation map to the radiograph; hand the findings to the writers;
/// write result.json. Safe to call concurrently: the loaded model is shared and nothing else is.
/// </remarks>
public sealed class ChestXrayAnalyzer : AnalysisModule
{
    /// <summary>The module's name.</summary>
    public const string ModuleName = "chest-xray";

    /// <summary>The measurement that is 1 when the probability lay in the review band (the module's quality flag), else 0.</summary>
    public const string ReviewFlaggedMeasurement = "reviewFlagged";

    private readonly ILogger _logger;
    private readonly Lock _modelGate = new();
    private ClassifierModel? _model;
    private bool _disposed;

    /// <summary>An analyzer with <paramref name="options"/> (default: shipped rules, <see cref="ChestXrayOptions.DefaultModelFolder"/>); the model loads on the first study.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ChestXrayAnalyzer(ChestXrayOptions? options = null, ILogger<ChestXrayAnalyzer>? logger = null)
    {
        options ??= new ChestXrayOptions();
        options.Validate();
        Options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options in force.</summary>
    public ChestXrayOptions Options { get; }

    /// <inheritdoc />
    public override string Name => ModuleName;

    /// <inheritdoc />
    internal override ModuleSelection Select(StudyScan scan)
    {
        var (decisions, _, image) = ImageSelector.Select(scan.Series, Options.Rules);
        return new ModuleSelection(Name, Options.Rules.Name, image is not null, decisions);
    }

    /// <inheritdoc />
    private protected override async Task<StudyAnalysisResult> RunAsync(StudyScan? scanned, string studyDirectory, string outputDirectory, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = Stopwatch.StartNew();
        var stages = new List<StageTiming>();
        var warnings = new List<string>();
        var resultPath = Path.Combine(outputDirectory, StudyAnalyzer.ResultFileName);
        var analysedAt = Options.Time.GetLocalNow();
        Log.Analysing(_logger, studyDirectory);
        var document = new ChestResultDocument { AnalysedAt = analysedAt, Rules = Options.Rules, Warnings = warnings, Stages = stages };
        try
        {
            var scan = scanned ?? await StageTiming.RunAsync(stages, "scan", () => StudyScanner.Scan(studyDirectory, cancellationToken), cancellationToken).ConfigureAwait(false);
            document.Scan = scan;
            if (scan.SkippedFiles.Count > 0) warnings.Add($"{scan.SkippedFiles.Count} file(s) skipped (listed in selection.skippedFiles)");
            document.StudyInstanceUid = StudyScanner.SingleStudy(scan, studyDirectory);

            var sw = Stopwatch.StartNew();
            var (decisions, series, image) = ImageSelector.Select(scan.Series, Options.Rules);
            document.Decisions = decisions;
            document.Image = image;
            stages.Add(new StageTiming("select", sw.Elapsed));
            foreach (var d in decisions) Log.SeriesDecision(_logger, d.SeriesInstanceUid, d.SeriesDescription, d.Instances, d.Reason);
            Directory.CreateDirectory(outputDirectory);
            if (series is null || image is null)
            {
                Log.NoEligibleSeries(_logger, document.StudyInstanceUid, Options.Rules.Name);
                document.Status = "no-eligible-series";
                await document.WriteAsync(resultPath, cancellationToken).ConfigureAwait(false);
                return Result(AnalysisStatus.NoEligibleSeries, document, [], resultPath, $"no eligible image under rules '{Options.Rules.Name}'");
            }

            var radiograph = await StageTiming.RunAsync(stages, "read", () => RadiographReader.Read(series.Label, image), cancellationToken).ConfigureAwait(false);
            document.Radiograph = radiograph;
            Log.RadiographRead(_logger, image.Header.GetString(HippoNode.Dicom.DicomTags.SOPInstanceUID) ?? "", radiograph.Columns, radiograph.Rows, radiograph.Pipeline);
            var model = await StageTiming.RunAsync(stages, "model", Model, cancellationToken).ConfigureAwait(false);
            document.Model = model.Manifest;
            document.ModelFolder = model.Folder;
            ClassificationResult classification;
            try
            {
                classification = await StageTiming.RunAsync(stages, "inference", () => model.Classify(radiograph.Image), cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw new AnalysisException($"model folder {model.Folder}: {ex.Message}", ex);
            }
            var threshold = Options.Threshold ?? model.Manifest.Threshold;
            document.Classification = classification;
            document.Threshold = threshold;
            document.ThresholdSource = Options.Threshold is null ? model.Manifest.ThresholdSource : "set in the node's configuration";
            if (model.Manifest.Untrained) warnings.Add($"model {model.Manifest} has UNTRAINED random weights: the probability and the heat map mean nothing");
            var band = new ReviewBand(threshold, Options.ReviewMargin);
            document.Review = band;
            var uncertain = band.Contains(classification.Probability);
            if (uncertain)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"probability {classification.Probability:0.000} lies within the review band {band.Low:0.000}-{band.High:0.000} around the threshold: uncertain, flagged for review"));
                Log.Uncertain(_logger, document.StudyInstanceUid, classification.Probability, band.Low, band.High);
            }

            sw.Restart();
            var heat = ClassActivationMap.RelativePositive(classification.Cam.Upsample(radiograph.Columns, radiograph.Rows));
            stages.Add(new StageTiming("heatmap", sw.Elapsed));
            var findings = new ClassificationFindings
            {
                Source = radiograph.Dataset,
                Rows = radiograph.Rows,
                Columns = radiograph.Columns,
                Display = radiograph.Image.Pixels,
                Heat = heat,
                Probability = classification.Probability,
                Threshold = threshold,
                ThresholdSource = document.ThresholdSource,
                ReviewBand = band.Margin > 0 ? (band.Low, band.High) : null,
                Uncertain = uncertain,
                PositiveLabel = model.Manifest.PositiveLabel,
                NegativeLabel = model.Manifest.NegativeLabel,
                Algorithm = new AlgorithmInfo(model.Manifest.Name, model.Manifest.Version, "Artificial Intelligence", 1),
                Untrained = model.Manifest.Untrained,
                PixelSpacing = radiograph.PixelSpacing,
                DisplayPipeline = radiograph.Pipeline,
                ContentTime = Options.Time.GetLocalNow(),
            };
            var positive = findings.Positive;
            Log.Classified(_logger, document.StudyInstanceUid, classification.Probability, threshold, positive ? findings.PositiveLabel : findings.NegativeLabel);

            sw.Restart();
            var outputs = await Task.Run(() => WriteObjects(findings, series.Label, outputDirectory), cancellationToken).ConfigureAwait(false);
            stages.Add(new StageTiming("outputs", sw.Elapsed));
            document.Status = "completed";
            document.OutputFiles = outputs;
            await document.WriteAsync(resultPath, cancellationToken).ConfigureAwait(false);
            Log.Finished(_logger, document.StudyInstanceUid, "completed", total.Elapsed.TotalSeconds, outputDirectory);
            var summary = string.Create(CultureInfo.InvariantCulture,
                $"{findings.PositiveLabel.ToLowerInvariant()} probability {classification.Probability:0.000} {(positive ? ">=" : "<")} threshold {threshold:0.000}: {(positive ? findings.PositiveLabel : findings.NegativeLabel)}{(model.Manifest.Untrained ? " (UNTRAINED model)" : "")}{(uncertain ? "; uncertain (in the review band): flagged for review" : "")}");
            return Result(AnalysisStatus.Completed, document, outputs, resultPath, summary, new Dictionary<string, double>
            {
                ["probability"] = classification.Probability,
                ["threshold"] = threshold,
                ["positive"] = positive ? 1 : 0,
                [ReviewFlaggedMeasurement] = uncertain ? 1 : 0,
            }, uncertain);
        }
        catch (AnalysisException ex)
        {
            Log.Failed(_logger, studyDirectory, ex.Message);
            document.Status = "failed";
            document.Error = ex.Message;
            await document.TryWriteAsync(resultPath).ConfigureAwait(false);
            throw;
        }
    }

    private StudyAnalysisResult Result(AnalysisStatus status, ChestResultDocument d, IReadOnlyList<string> outputs, string resultPath, string summary,
        IReadOnlyDictionary<string, double>? measurements = null, bool flagged = false) => new()
        {
            QualityFlagged = flagged,
            Status = status,
            Module = Name,
            StudyInstanceUid = d.StudyInstanceUid,
            Series = d.Decisions,
            OutputFiles = outputs,
            ResultJson = resultPath,
            VolumesMm3 = new Dictionary<string, double>(),
            Stages = d.Stages,
            Warnings = d.Warnings,
            Summary = summary,
            Measurements = measurements ?? new Dictionary<string, double>(),
        };

    private IReadOnlyList<string> WriteObjects(ClassificationFindings findings, string seriesLabel, string outputDirectory)
    {
        ReportObject sr, sc;
        try
        {
            sr = new ReportObject("sr.dcm", ClassificationReportWriter.Create(findings, Options.Reporting));
            using var page = ChestXrayPageRenderer.Render(findings, Options.Reporting);
            sc = new ReportObject("sc.dcm", SecondaryCaptureWriter.Create(findings.Source, findings.ContentTime, Options.Reporting, page,
                "Chest X-ray classification report page with class activation map rendered by HippoNode. " + Options.Reporting.Disclaimer));
        }
        catch (ArgumentException ex)
        {
            throw new AnalysisException($"{seriesLabel}: the report writers refused the findings: {ex.Message}", ex);
        }
        return ReportObject.SaveChecked([sr, sc], findings.Source, outputDirectory);
    }

    private ClassifierModel Model()
    {
        lock (_modelGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_model is not null) return _model;
            var folder = Options.ModelFolder;
            if (!File.Exists(Path.Combine(folder, ClassifierManifest.FileName)))
                throw new AnalysisException($"model folder {folder} has no {ClassifierManifest.FileName}; train the chest X-ray classifier or point the module at one " +
                    $"(HippoNode:ChestXray:ModelFolder, --model DIR or {ChestXrayOptions.ModelFolderVariable})");
            Log.LoadingModel(_logger, folder);
            try
            {
                return _model = ClassifierModel.Load(folder, Options.Inference);
            }
            catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException
                or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                throw new AnalysisException($"model folder {folder} cannot be loaded: {ex.Message}", ex);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        lock (_modelGate)
        {
            _disposed = true;
            _model?.Dispose();
            _model = null;
        }
    }
}
