using HippoNode.Analysis;
using HippoNode.Analysis.ChestXray;
using HippoNode.Analysis.Modules;
using HippoNode.Analysis.Selection;
using HippoNode.Classification;
using HippoNode.Segmentation.Model;
using Microsoft.Extensions.Logging;

namespace HippoNode.Node;

/// <summary>Runs the analysis of one spooled study; the node's only dependency on the analysis (tests plug in their own).</summary>
public interface IStudyAnalysisRunner
{
    /// <summary>
    /// Analyses the study folder into <paramref name="outputDirectory"/> (empty, created by the caller). Returns the
    /// outcome; throws <see cref="AnalysisException"/> for a broken study. Every DICOM object written must carry
    /// Manufacturer "HippoNode" and fresh SOP Instance UIDs.
    /// </summary>
    Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken);
}

/// <summary>
/// The adapter to the analysis modules (the one place that knows how they are built from the node's settings): a
/// <see cref="ModuleRouter"/> over the enabled modules, hippocampus volumetry ("HippoNode:Analysis") and chest X-ray
/// classification ("HippoNode:ChestXray"). Each study goes to every module whose rules match.
/// </summary>
public sealed class StudyAnalyzerRunner : IStudyAnalysisRunner, IDisposable
{
    private readonly ModuleRouter _router;

    /// <summary>Builds the enabled modules from the settings; models load once, on the first study that needs them.</summary>
    /// <exception cref="FormatException">A rules file is invalid (the message names the key).</exception>
    public StudyAnalyzerRunner(Microsoft.Extensions.Options.IOptions<NodeOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        var modules = new List<AnalysisModule>();
        if (o.Analysis.Enabled)
        {
            var settings = o.Analysis;
            modules.Add(new StudyAnalyzer(
                new AnalysisOptions
                {
                    Rules = Rules(settings.RulesFile, SelectionRules.Default),
                    ModelFolder = ResolveModelFolder(settings.ModelFolder, ModelManifest.FileName, AnalysisOptions.DefaultModelFolder),
                    AgreementThreshold = settings.AgreementThreshold,
                },
                model: null,
                loggerFactory?.CreateLogger<StudyAnalyzer>()));
        }
        if (o.ChestXray.Enabled)
        {
            var settings = o.ChestXray;
            modules.Add(new ChestXrayAnalyzer(
                new ChestXrayOptions
                {
                    Rules = Rules(settings.RulesFile, ChestXrayOptions.DefaultRules),
                    ModelFolder = ResolveModelFolder(settings.ModelFolder, ClassifierManifest.FileName, ChestXrayOptions.DefaultModelFolder),
                    Threshold = settings.Threshold,
                    ReviewMargin = settings.ReviewMargin,
                },
                loggerFactory?.CreateLogger<ChestXrayAnalyzer>()));
        }
        _router = new ModuleRouter(modules, loggerFactory?.CreateLogger<ModuleRouter>());
    }

    /// <summary>The modules studies are routed to, in the order they run.</summary>
    public IReadOnlyList<string> Modules => [.. _router.Modules.Select(m => m.Name)];

    private static SelectionRules Rules(string? file, SelectionRules shipped) =>
        file is { Length: > 0 } ? SelectionRules.Parse(File.ReadAllText(file), file) : shipped;

    // A relative folder is taken from the working directory when it holds a model there, else from the application folder,
    // else the module's own search (its environment variable, then models/<name> in or above the application folder) decides.
    private static string ResolveModelFolder(string? configured, string manifest, Func<string> fallback)
    {
        if (string.IsNullOrWhiteSpace(configured)) return fallback();
        if (Path.IsPathRooted(configured) || File.Exists(Path.Combine(configured, manifest))) return Path.GetFullPath(configured);
        var fromApp = Path.Combine(AppContext.BaseDirectory, configured);
        return File.Exists(Path.Combine(fromApp, manifest)) ? fromApp : fallback();
    }

    /// <inheritdoc />
    public Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken) =>
        _router.AnalyzeAsync(studyDirectory, outputDirectory, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _router.Dispose();
}
