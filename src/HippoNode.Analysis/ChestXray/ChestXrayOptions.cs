using System.Globalization;
using HippoNode.Analysis.Selection;
using HippoNode.Classification;
using HippoNode.Reporting;
using HippoNode.Segmentation.Inference;

namespace HippoNode.Analysis.ChestXray;

/// <summary>How <see cref="ChestXrayAnalyzer"/> selects, classifies and reports.</summary>
public sealed class ChestXrayOptions
{
    /// <summary>The model folder's path relative to the repository or the application folder.</summary>
    public const string DefaultModelSubfolder = "models/chest-xray";

    /// <summary>Environment variable that overrides the default model folder.</summary>
    public const string ModelFolderVariable = "HIPPONODE_CHEST_MODEL_DIR";

    /// <summary>The resource name of the shipped default rules (Rules/chest-xray-rules.json).</summary>
    public const string DefaultRulesResource = "HippoNode.Analysis.Rules.chest-xray-rules.json";

    /// <summary>The shipped default rules: DX or CR, chest, PA or AP (PA preferred), at least 128x128.</summary>
    public static SelectionRules DefaultRules { get; } = SelectionRules.Embedded(DefaultRulesResource);

    /// <summary>The image selection rules.</summary>
    public SelectionRules Rules { get; init; } = DefaultRules;

    /// <summary>The classifier folder (model.json and model.onnx); default <see cref="DefaultModelFolder"/>.</summary>
    public string ModelFolder { get; init; } = DefaultModelFolder();

    /// <summary>A decision threshold that replaces the model's (model.json's threshold when null).</summary>
    public double? Threshold { get; init; }

    /// <summary>Half-width of the review band around the threshold, in log-odds (<see cref="ReviewBand"/>); a probability inside it flags the result for review; 0 turns the flag off.</summary>
    public double ReviewMargin { get; init; } = ReviewBand.DefaultMargin;

    /// <summary>ONNX Runtime settings.</summary>
    public InferenceOptions Inference { get; init; } = new();

    /// <summary>What the SR and SC say about their maker and series (default: the chest X-ray series numbers and disclaimer).</summary>
    public ReportingOptions Reporting { get; init; } = ReportingOptions.ChestXray;

    /// <summary>The clock for Content Date/Time and result.json.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary><see cref="ModelFolderVariable"/> when set; else the first <c>models/chest-xray</c> with a model.json in or above the application folder; else that subfolder of the application folder.</summary>
    public static string DefaultModelFolder() => AnalysisOptions.FindModelFolder(ModelFolderVariable, DefaultModelSubfolder);

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">The bad option, named.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Rules);
        ArgumentNullException.ThrowIfNull(Reporting);
        if (string.IsNullOrWhiteSpace(ModelFolder)) throw new ArgumentException("ModelFolder must not be empty");
        if (Threshold is { } t && !(t is > 0 and < 1))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Threshold must lie strictly between 0 and 1, is {t}"));
        if (!(ReviewMargin is >= 0 and <= 10))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"ReviewMargin must be 0-10 (log-odds), is {ReviewMargin}"));
        Inference.Validate();
    }
}
