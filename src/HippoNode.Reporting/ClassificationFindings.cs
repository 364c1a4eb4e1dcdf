using HippoNode.Dicom;

namespace HippoNode.Reporting;

/// <summary>Everything the chest X-ray report page and SR need about one classified radiograph, on the source image's grid.</summary>
/// <remarks>Pixel arrays are row-major, Rows·Columns long, exactly the source image's layout.</remarks>
public sealed class ClassificationFindings
{
    /// <summary>The source image's data set (patient, study, series, SOP identity; its pixel data may be absent).</summary>
    public required DicomDataset Source { get; init; }

    /// <summary>Rows of the source image.</summary>
    public required int Rows { get; init; }

    /// <summary>Columns of the source image.</summary>
    public required int Columns { get; init; }

    /// <summary>The radiograph as displayed: [0, 1], brighter is higher (after modality LUT, VOI LUT or window, MONOCHROME1 inverted).</summary>
    public required float[] Display { get; init; }

    /// <summary>The heat map: relative positive evidence in [0, 1] per pixel (class activation map upsampled to the image).</summary>
    public required float[] Heat { get; init; }

    /// <summary>The positive-class probability.</summary>
    public required double Probability { get; init; }

    /// <summary>The operating threshold (positive when probability ≥ threshold).</summary>
    public required double Threshold { get; init; }

    /// <summary>Where the threshold came from (model.json's thresholdSource).</summary>
    public string ThresholdSource { get; init; } = "";

    /// <summary>True when the probability reached the threshold.</summary>
    public bool Positive => Probability >= Threshold;

    /// <summary>The positive class's name, e.g. "PNEUMONIA".</summary>
    public string PositiveLabel { get; init; } = "PNEUMONIA";

    /// <summary>The negative class's name, e.g. "NORMAL".</summary>
    public string NegativeLabel { get; init; } = "NORMAL";

    /// <summary>The model: name, version, family.</summary>
    public required AlgorithmInfo Algorithm { get; init; }

    /// <summary>True when the model has untrained (random) weights: the page and the SR say the result means nothing.</summary>
    public bool Untrained { get; init; }

    /// <summary>The probabilities around the threshold that are flagged for review (low, high); null when the flag is off.</summary>
    public (double Low, double High)? ReviewBand { get; init; }

    /// <summary>True when the analysis decided the result is to be reviewed (probability inside <see cref="ReviewBand"/>); the page and the SR say so. The analysis owns the rule, so the writers never re-derive it.</summary>
    public bool Uncertain { get; init; }

    /// <summary>Pixel spacing in mm (between rows, between columns) and which attribute it came from; null when the image has none.</summary>
    public (double Row, double Column, string Source)? PixelSpacing { get; init; }

    /// <summary>How the display image was made from the stored pixels (e.g. "VOI LUT Sequence", "window 2048/4096", "percentile window").</summary>
    public string DisplayPipeline { get; init; } = "";

    /// <summary>When the analysis ran (Content Date/Time of the outputs).</summary>
    public required DateTimeOffset ContentTime { get; init; }

    /// <summary>Throws when the arrays do not match the image size.</summary>
    /// <exception cref="ArgumentException">The problem, named.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Source);
        if (Rows < 1 || Columns < 1) throw new ArgumentException($"image size {Columns}x{Rows} must be positive");
        var n = (long)Rows * Columns;
        if (Display is null || Display.Length != n) throw new ArgumentException($"the display image has {Display?.Length} values for {Columns}x{Rows}");
        if (Heat is null || Heat.Length != n) throw new ArgumentException($"the heat map has {Heat?.Length} values for {Columns}x{Rows}");
        if (!(Probability is >= 0 and <= 1)) throw new ArgumentException($"probability {Probability} is not in [0, 1]");
        if (!(Threshold is > 0 and < 1)) throw new ArgumentException($"threshold {Threshold} is not in (0, 1)");
        if (Uncertain && ReviewBand is null) throw new ArgumentException("an uncertain result needs the review band it lies in");
    }
}
