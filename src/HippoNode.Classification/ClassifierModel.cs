using System.Globalization;
using HippoNode.Segmentation.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HippoNode.Classification;

/// <summary>What the classifier says about one image.</summary>
/// <param name="Probability">The positive-class probability.</param>
/// <param name="Positive">True when <paramref name="Probability"/> is at or above the threshold.</param>
/// <param name="Threshold">The manifest's threshold.</param>
/// <param name="Logits">The head's logits.</param>
/// <param name="Cam">The class activation map on the feature grid.</param>
/// <param name="CamDeviation">|mean(CAM) - the evidence logit from the model's own logits|: how exactly model.json's head weights explain this output.</param>
public sealed record ClassificationResult(double Probability, bool Positive, double Threshold, float[] Logits, ClassActivationMap Cam, double CamDeviation);

/// <summary>A loaded classifier folder: the manifest and one ONNX Runtime session; classifies images and makes their class activation maps.</summary>
/// <remarks>Concurrent <see cref="Classify"/> calls are safe (ONNX Runtime sessions allow concurrent runs; nothing else is shared mutable state).</remarks>
public sealed class ClassifierModel : IDisposable
{
    /// <summary>The largest accepted |mean(CAM) - evidence logit|, relative to max(1, |logit|): beyond it model.json does not describe the ONNX file's head.</summary>
    public const double CamTolerance = 1e-3;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    private ClassifierModel(string folder, ClassifierManifest manifest, InferenceSession session)
    {
        Folder = folder;
        Manifest = manifest;
        _session = session;
    }

    /// <summary>The model folder.</summary>
    public string Folder { get; }

    /// <summary>Its manifest.</summary>
    public ClassifierManifest Manifest { get; }

    /// <summary>Loads <paramref name="folder"/> with <paramref name="options"/> (default: CPU).</summary>
    /// <exception cref="FileNotFoundException">model.json or the ONNX file is missing.</exception>
    /// <exception cref="FormatException">The manifest is invalid.</exception>
    /// <exception cref="InvalidDataException">The checksum, inputs or outputs do not match the manifest.</exception>
    /// <exception cref="InvalidOperationException">The execution provider is not available.</exception>
    public static ClassifierModel Load(string folder, InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        options.Validate();
        var manifest = ClassifierManifest.Load(folder);
        var path = Path.Combine(folder, manifest.File);
        if (!File.Exists(path)) throw new FileNotFoundException($"{manifest.File} listed in {ClassifierManifest.FileName} is missing from {folder}", path);
        if (options.VerifyChecksums && manifest.Sha256 is not null && !string.Equals(ClassifierManifest.Sha256Of(path), manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{manifest.File}: SHA-256 differs from {ClassifierManifest.FileName} (file replaced or corrupted)");
        var session = options.CreateSession(path);
        try
        {
            CheckSignature(session, manifest);
            return new ClassifierModel(folder, manifest, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static void CheckSignature(InferenceSession session, ClassifierManifest m)
    {
        if (!session.InputMetadata.TryGetValue(m.Input.Name, out var input))
            throw new InvalidDataException($"{m.File} has no input '{m.Input.Name}' (it has {string.Join(", ", session.InputMetadata.Keys)})");
        if (input.ElementDataType != TensorElementType.Float || input.Dimensions.Length != 4 || input.Dimensions[1] is not (1 or -1))
            throw new InvalidDataException($"{m.File}: input must be float32 [N, 1, H, W], is {input.ElementDataType} [{string.Join(", ", input.Dimensions)}]");
        foreach (var (name, rank) in new[] { (m.ProbabilityOutput, 1), (m.LogitsOutput, 2), (m.FeaturesOutput, 4) })
        {
            if (!session.OutputMetadata.TryGetValue(name, out var o))
                throw new InvalidDataException($"{m.File} has no output '{name}' (it has {string.Join(", ", session.OutputMetadata.Keys)})");
            if (o.Dimensions.Length != rank) throw new InvalidDataException($"{m.File}: output '{name}' must have rank {rank}, has [{string.Join(", ", o.Dimensions)}]");
        }
    }

    /// <summary>Classifies a display image: resample and normalise (<see cref="ImagePreprocessing.ToNetworkInput"/>), run, build the CAM.</summary>
    /// <exception cref="InvalidDataException">model.json's head weights do not reproduce the model's logit (the CAM would be wrong).</exception>
    public ClassificationResult Classify(GrayscaleImage image) => Run(ImagePreprocessing.ToNetworkInput(image, Manifest.Input));

    /// <summary>Runs the network on an already prepared input (row-major, input height x width).</summary>
    /// <exception cref="InvalidDataException">model.json's head weights do not reproduce the model's logit.</exception>
    public ClassificationResult Run(float[] networkInput)
    {
        ArgumentNullException.ThrowIfNull(networkInput);
        var (h, w) = (Manifest.Input.Height, Manifest.Input.Width);
        if (networkInput.Length != h * w) throw new ArgumentException($"the input needs {h}x{w} values, got {networkInput.Length}");
        using var value = OrtValue.CreateTensorValueFromMemory(networkInput, [1, 1, h, w]);
        using var outputs = _session.Run(_runOptions, [Manifest.Input.Name], [value], [Manifest.ProbabilityOutput, Manifest.LogitsOutput, Manifest.FeaturesOutput]);
        var probability = (double)outputs[0].GetTensorDataAsSpan<float>()[0];
        var logits = outputs[1].GetTensorDataAsSpan<float>().ToArray();
        var shape = outputs[2].GetTensorTypeAndShape().Shape;
        var features = outputs[2].GetTensorDataAsSpan<float>();
        var cam = ClassActivationMap.Compute(features, (int)shape[1], (int)shape[2], (int)shape[3], Manifest.EvidenceWeights, Manifest.EvidenceBias);
        var evidence = logits.Length == 1 ? logits[0] : (double)logits[1] - logits[0];
        var deviation = Math.Abs(cam.Mean - evidence);
        if (deviation > CamTolerance * Math.Max(1, Math.Abs(evidence)))
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{Manifest.File}: model.json's cam weights give a mean evidence of {cam.Mean:G6}, the model's logits {evidence:G6}; the manifest does not belong to this ONNX file"));
        return new ClassificationResult(probability, probability >= Manifest.Threshold, Manifest.Threshold, logits, cam, deviation);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
