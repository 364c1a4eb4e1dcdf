using HippoNode.Analysis.Selection;

namespace HippoNode.Analysis.Modules;

/// <summary>Which series a module takes from a study and why, before any pixel is read.</summary>
/// <param name="Module">The module's name.</param>
/// <param name="Rules">The name of its selection rules.</param>
/// <param name="Applies">True when the module has something to analyse in the study.</param>
/// <param name="Series">Every series of the study with the module's decision and reason.</param>
public sealed record ModuleSelection(string Module, string Rules, bool Applies, IReadOnlyList<SeriesDecision> Series);

/// <summary>
/// One analysis the node offers: its selection rules, its model folder, its analysis and its outputs. The study router
/// (<see cref="ModuleRouter"/>) scans a study once, asks every module what it would take, and runs each module that applies
/// into its own output folder.
/// </summary>
/// <remarks>The modules live in this assembly (<see cref="StudyAnalyzer"/>: hippocampus volumetry, <see cref="ChestXray.ChestXrayAnalyzer"/>: chest X-ray classification).</remarks>
public abstract class AnalysisModule : IDisposable
{
    private protected AnalysisModule()
    {
    }

    /// <summary>The module's name in logs, result.json and the status endpoint ("hippocampus", "chest-xray").</summary>
    public abstract string Name { get; }

    /// <summary>What the module takes, study by study.</summary>
    internal abstract ModuleSelection Select(StudyScan scan);

    /// <summary>Analyses the DICOM files under <paramref name="studyDirectory"/> (recursively) into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="AnalysisException">The study or the chosen series is broken, or the model is missing (the message says which and why).</exception>
    public Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken = default) =>
        RunChecked(null, studyDirectory, outputDirectory, cancellationToken);

    /// <summary>Analyses an already scanned study into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="AnalysisException">The study or the chosen series is broken, or the model is missing.</exception>
    internal Task<StudyAnalysisResult> AnalyzeAsync(StudyScan scan, string studyDirectory, string outputDirectory, CancellationToken cancellationToken) =>
        RunChecked(scan, studyDirectory, outputDirectory, cancellationToken);

    /// <summary>The module's analysis: scans the study first when <paramref name="scanned"/> is null (arguments already checked).</summary>
    private protected abstract Task<StudyAnalysisResult> RunAsync(StudyScan? scanned, string studyDirectory, string outputDirectory, CancellationToken cancellationToken);

    private Task<StudyAnalysisResult> RunChecked(StudyScan? scanned, string studyDirectory, string outputDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(studyDirectory);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        return RunAsync(scanned, studyDirectory, outputDirectory, cancellationToken);
    }

    /// <summary>Releases the loaded model.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the loaded model when <paramref name="disposing"/>.</summary>
    protected abstract void Dispose(bool disposing);
}
