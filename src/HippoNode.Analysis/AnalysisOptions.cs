using HippoNode.Analysis.Selection;
using HippoNode.Reporting;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;

namespace HippoNode.Analysis;

/// <summary>How <see cref="StudyAnalyzer"/> selects, segments and reports.</summary>
public sealed class AnalysisOptions
{
    /// <summary>The model folder's path relative to the repository or the application folder.</summary>
    public const string DefaultModelSubfolder = "models/hippocampus";

    /// <summary>Environment variable that overrides the default model folder.</summary>
    public const string ModelFolderVariable = "HIPPONODE_MODEL_DIR";

    /// <summary>The root of every UID the outputs create: "2.25", UUID-derived UIDs (PS3.5 §B.2), which need no registered organisation root.</summary>
    public const string OutputUidRoot = "2.25";

    /// <summary>The series selection rules (default: the shipped Rules/hippocampus-rules.json).</summary>
    public SelectionRules Rules { get; init; } = SelectionRules.Default;

    /// <summary>The model folder (model.json and its members); default <see cref="DefaultModelFolder"/>.</summary>
    public string ModelFolder { get; init; } = DefaultModelFolder();

    /// <summary>ONNX Runtime settings for loading the model.</summary>
    public InferenceOptions Inference { get; init; } = new();

    /// <summary>Agreement (mean pairwise Dice of the members) below this flags the result for review; default 0.8.</summary>
    public double AgreementThreshold { get; init; } = 0.8;

    /// <summary>A series whose voxel axes are further than this (degrees) from the patient axes is refused; default 20.</summary>
    /// <remarks>The model sees voxels in the closest canonical order without resampling; past this angle that stops being a fair approximation of its training data.</remarks>
    public double MaxObliquityDegrees { get; init; } = 20;

    /// <summary>What the SEG, SR and SC say about their maker and series (HippoNode.Reporting).</summary>
    public ReportingOptions Reporting { get; init; } = new();

    /// <summary>The clock for Content Date/Time and result.json.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// The default model folder: <see cref="ModelFolderVariable"/> when set; else the first <c>models/hippocampus</c> holding a
    /// model.json in the application folder or above it (a repository checkout); else <c>models/hippocampus</c> in the application folder.
    /// </summary>
    public static string DefaultModelFolder() => FindModelFolder(ModelFolderVariable, DefaultModelSubfolder);

    /// <summary>
    /// A module's default model folder: the environment variable <paramref name="variable"/> when set; else the first
    /// <paramref name="subfolder"/> holding a model.json in the application folder or above it; else that subfolder of the application folder.
    /// </summary>
    internal static string FindModelFolder(string variable, string subfolder)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } env) return Path.GetFullPath(env);
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, subfolder);
            if (File.Exists(Path.Combine(candidate, ModelManifest.FileName))) return candidate;
        }
        return Path.Combine(AppContext.BaseDirectory, subfolder);
    }

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">The bad option, named.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Rules);
        if (string.IsNullOrWhiteSpace(ModelFolder)) throw new ArgumentException("ModelFolder must not be empty");
        if (!(AgreementThreshold is >= 0 and <= 1)) throw new ArgumentException($"AgreementThreshold must lie in [0, 1], is {AgreementThreshold}");
        if (!(MaxObliquityDegrees is >= 0 and <= 90)) throw new ArgumentException($"MaxObliquityDegrees must lie in [0, 90], is {MaxObliquityDegrees}");
        ArgumentNullException.ThrowIfNull(Reporting);
        Inference.Validate();
    }
}
