using HippoNode.Analysis;

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
public sealed class StudyAnalyzerRunner : IStudyAnalysisRunner
{
    private readonly StudyAnalyzer _analyzer;

    /// <summary>Builds the analyzer from the "HippoNode:Analysis" settings.</summary>
    public StudyAnalyzerRunner(Microsoft.Extensions.Options.IOptions<NodeOptions> options)
    {
        // MERGE POINT: the analyzer's options (rules file, model folder, agreement threshold) go in here once its constructor takes them.
        _ = options.Value.Analysis;
        _analyzer = new StudyAnalyzer();
    }

    /// <inheritdoc />
    public Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken) =>
        _analyzer.AnalyzeAsync(studyDirectory, outputDirectory, cancellationToken);
}
