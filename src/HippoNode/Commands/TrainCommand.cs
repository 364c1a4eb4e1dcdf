using HippoNode.Training;

namespace HippoNode.Commands;

/// <summary>`hipponode train`: trains the CPU voxel-classifier baseline, one member per cross-validation fold, and writes the model folder.</summary>
/// <remarks>The work lives in <see cref="TrainingCommandLine"/> (HippoNode.Training) so its tests run exactly this verb.</remarks>
public static class TrainCommand
{
    /// <summary>Runs the verb: 0 when the model folder was written, 1 when data or output could not be read or written.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        TrainingCommandLine options;
        try
        {
            options = TrainingCommandLine.Parse(args);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{ex.Message}\n{TrainingCommandLine.Usage}");
        }
        try
        {
            return options.Execute(output, error, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            // A fold outside the split is only known once the split is read.
            throw new UsageException($"{ex.Message}\n{TrainingCommandLine.Usage}");
        }
    }
}
