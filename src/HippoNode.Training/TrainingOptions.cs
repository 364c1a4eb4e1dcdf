using System.Globalization;
using System.Text;
using System.Text.Json;
using HippoNode.Onnx;

namespace HippoNode.Training;

/// <summary>Everything that decides what a voxel-classifier training produces (given the data): features, network, sampling, optimiser, schedule, seed.</summary>
public sealed class TrainingOptions
{
    /// <summary>The run seed; every random stream (sampling per case, initialisation per fold, order per epoch) is derived from it.</summary>
    public ulong Seed { get; init; } = 20261124;

    /// <summary>Passes over each fold's samples.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [64, 64];

    /// <summary>Samples per Adam step.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>A batch is split into this many chunks computed in parallel and summed in chunk order (fixed, so results do not depend on the core count).</summary>
    public int Chunks { get; init; } = 4;

    /// <summary>The peak learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>The learning rate at the end of the cosine schedule, as a fraction of the peak.</summary>
    public double FinalLearningRateFraction { get; init; } = 0.02;

    /// <summary>Adam's beta1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam's beta2.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam's epsilon.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay (AdamW), per unit learning rate.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Background voxels within this Chebyshev distance of the foreground count as "near".</summary>
    public int NearRadius { get; init; } = 3;

    /// <summary>The sampling probability of near background voxels.</summary>
    public double NearRate { get; init; } = 0.25;

    /// <summary>The sampling probability of the other background voxels.</summary>
    public double FarRate { get; init; } = 0.02;

    /// <summary>The fixed features.</summary>
    public VoxelFeatureBank Bank { get; init; } = VoxelFeatureBank.Hippocampus;

    /// <summary>The output classes (labels 0..Classes-1).</summary>
    public int Classes { get; init; } = 3;

    /// <summary>The MLP's layer sizes: features, hidden..., classes.</summary>
    public int[] LayerSizes => [Bank.Count, .. Hidden, Classes];

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">The value, named.</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}");
        if (Hidden.Any(h => h < 1)) throw new ArgumentException("hidden widths must be positive");
        if (BatchSize < 1 || Chunks < 1) throw new ArgumentException("batch size and chunk count must be positive");
        if (!(LearningRate > 0) || FinalLearningRateFraction is < 0 or > 1) throw new ArgumentException("learning rate must be positive and the final fraction in [0, 1]");
        if (NearRate is <= 0 or > 1 || FarRate is <= 0 or > 1) throw new ArgumentException("sampling rates must be in (0, 1]");
        if (NearRadius < 0) throw new ArgumentException("near radius must not be negative");
        if (Classes < 2 || Classes > 255) throw new ArgumentException("classes must be in 2..255");
    }

    /// <summary>The learning rate at global step <paramref name="step"/> of <paramref name="totalSteps"/>: cosine from the peak to the final fraction.</summary>
    public double LearningRateAt(long step, long totalSteps)
    {
        var t = totalSteps <= 1 ? 1.0 : Math.Min(1.0, (double)step / (totalSteps - 1));
        var lo = LearningRate * FinalLearningRateFraction;
        return lo + (LearningRate - lo) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }

    /// <summary>The options as a JSON object text (written to model.json and checked on resume).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("seed", Seed.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("epochs", Epochs);
            w.WriteStartArray("layers");
            foreach (var s in LayerSizes) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteNumber("batchSize", BatchSize);
            w.WriteNumber("chunks", Chunks);
            w.WriteString("optimizer", "AdamW");
            w.WriteNumber("learningRate", LearningRate);
            w.WriteString("schedule", "cosine per step from learningRate to learningRate * finalLearningRateFraction");
            w.WriteNumber("finalLearningRateFraction", FinalLearningRateFraction);
            w.WriteNumber("beta1", Beta1);
            w.WriteNumber("beta2", Beta2);
            w.WriteNumber("epsilon", Epsilon);
            w.WriteNumber("weightDecay", WeightDecay);
            w.WriteString("loss", "softmax cross-entropy weighted by inverse sampling probability");
            w.WriteStartObject("sampling");
            w.WriteString("foreground", "all voxels, weight 1");
            w.WriteNumber("nearRadius", NearRadius);
            w.WriteNumber("nearRate", NearRate);
            w.WriteNumber("farRate", FarRate);
            w.WriteEndObject();
            w.WriteString("initialization", "He uniform from SplitMix64, zero biases");
            w.WriteString("standardization", "per-feature mean and 1/std of the fold's training samples");
            w.WritePropertyName("featureBank");
            using (var doc = JsonDocument.Parse(Bank.ToJson())) doc.RootElement.WriteTo(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
