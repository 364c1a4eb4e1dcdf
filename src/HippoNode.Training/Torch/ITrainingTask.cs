using TorchSharp;
using static TorchSharp.torch;

namespace HippoNode.Training.Torch;

/// <summary>What one model of one module needs from the shared trainer: its network, a loss per step, and a validation.</summary>
/// <remarks>
/// The task must draw every random number from <see cref="Seeds"/> streams keyed by (epoch, step) or (epoch, sample), never
/// from state carried between steps, so that a run resumed from an epoch checkpoint repeats an uninterrupted one exactly.
/// </remarks>
public interface ITrainingTask
{
    /// <summary>The network being trained; its parameters go to the optimizer and its state_dict into checkpoints.</summary>
    nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>Optimizer steps in <paramref name="epoch"/> (1-based).</summary>
    int StepsPerEpoch(int epoch);

    /// <summary>Builds batch <paramref name="step"/> of <paramref name="epoch"/>, runs the model and returns the scalar loss (in training mode).</summary>
    Tensor Loss(int epoch, int step, Device device);

    /// <summary>Evaluates the model on the validation data (the trainer has put it in eval mode, without gradients): metric name to value.</summary>
    IReadOnlyDictionary<string, double> Validate(Device device);

    /// <summary>The names of <see cref="Validate"/>'s metrics, in the order of the log's columns.</summary>
    IReadOnlyList<string> MetricNames { get; }

    /// <summary>The single number that says which epoch is best (higher is better).</summary>
    double Score(IReadOnlyDictionary<string, double> metrics);
}
