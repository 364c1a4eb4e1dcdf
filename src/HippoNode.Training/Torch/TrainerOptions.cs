using System.Globalization;
using System.Text.Json;

namespace HippoNode.Training.Torch;

/// <summary>The shared trainer's settings: schedule, optimizer, checkpoints, threads and device.</summary>
public sealed class TrainerOptions
{
    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 60;

    /// <summary>The learning rate at epoch 1 (AdamW).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>AdamW's decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-5;

    /// <summary>The exponent of the poly schedule: lr(e) = lr0 * (1 - (e - 1) / epochs)^power (nnU-Net's 0.9).</summary>
    public double PolyPower { get; init; } = 0.9;

    /// <summary>Validate every this many epochs (and always after the last).</summary>
    public int ValidateEvery { get; init; } = 1;

    /// <summary>The run seed: initialisation, data order and augmentation all derive from it.</summary>
    public ulong Seed { get; init; } = 20261206;

    /// <summary>Intra-op threads (0: libtorch's default). Part of the result on CPU: sums split differently across threads.</summary>
    public int Threads { get; init; }

    /// <summary>"cpu" or "cuda".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) throw new ArgumentException($"learning rate must be positive, got {LearningRate}");
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay))) throw new ArgumentException($"weight decay must not be negative, got {WeightDecay}");
        if (!(PolyPower >= 0 && double.IsFinite(PolyPower))) throw new ArgumentException($"poly power must not be negative, got {PolyPower}");
        if (ValidateEvery < 1) throw new ArgumentException($"validate-every must be at least 1, got {ValidateEvery}");
        if (Threads < 0) throw new ArgumentException($"threads must not be negative, got {Threads}");
        if (Device is not ("cpu" or "cuda")) throw new ArgumentException($"device must be cpu or cuda, got '{Device}'");
    }

    /// <summary>The learning rate of <paramref name="epoch"/> (1-based) under the poly schedule.</summary>
    public double LearningRateAt(int epoch) => LearningRate * Math.Pow(1.0 - (epoch - 1) / (double)Epochs, PolyPower);

    /// <summary>The settings that change the numbers a run produces, as compact JSON (a resumed run must match them).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("epochs", Epochs);
            w.WriteNumber("learningRate", LearningRate);
            w.WriteNumber("weightDecay", WeightDecay);
            w.WriteNumber("polyPower", PolyPower);
            w.WriteNumber("validateEvery", ValidateEvery);
            w.WriteString("seed", Seed.ToString(CultureInfo.InvariantCulture));
            w.WriteString("optimizer", "AdamW(betas 0.9, 0.999; eps 1e-8)");
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
