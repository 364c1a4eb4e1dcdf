using HippoNode.Analysis;
using HippoNode.Analysis.Selection;

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

/// <summary>The adapter to <see cref="StudyAnalyzer"/> (the one place that knows how it is built from the node's settings).</summary>
public sealed class StudyAnalyzerRunner : IStudyAnalysisRunner, IDisposable
{
    private readonly StudyAnalyzer _analyzer;

    /// <summary>Builds the analyzer from the "HippoNode:Analysis" settings; the model loads once, on the first study.</summary>
    /// <exception cref="FormatException">The rules file is invalid (the message names the key).</exception>
    public StudyAnalyzerRunner(Microsoft.Extensions.Options.IOptions<NodeOptions> options, Microsoft.Extensions.Logging.ILogger<StudyAnalyzer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value.Analysis;
        var rules = settings.RulesFile is { Length: > 0 } file
            ? SelectionRules.Parse(File.ReadAllText(file), file)
            : SelectionRules.Default;
        _analyzer = new StudyAnalyzer(
            new AnalysisOptions
            {
                Rules = rules,
                ModelFolder = ResolveModelFolder(settings.ModelFolder),
                AgreementThreshold = settings.AgreementThreshold,
            },
            model: null,
            logger);
    }

    // A relative folder is taken from the working directory when it holds a model there, else the analyzer's own search
    // (HIPPONODE_MODEL_DIR, then models/hippocampus in or above the application folder) decides.
    private static string ResolveModelFolder(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured)) return AnalysisOptions.DefaultModelFolder();
        if (Path.IsPathRooted(configured) || File.Exists(Path.Combine(configured, "model.json"))) return Path.GetFullPath(configured);
        var fromApp = Path.Combine(AppContext.BaseDirectory, configured);
        return File.Exists(Path.Combine(fromApp, "model.json")) ? fromApp : AnalysisOptions.DefaultModelFolder();
    }

    /// <inheritdoc />
    public Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken) =>
        _analyzer.AnalyzeAsync(studyDirectory, outputDirectory, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _analyzer.Dispose();
}
