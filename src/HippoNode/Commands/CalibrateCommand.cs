using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Commands;

/// <summary>`hipponode calibrate`: chooses a segmentation model's decision weights out of fold and, with --write, stores them in its model.json.</summary>
public static class CalibrateCommand
{
    /// <summary>Runs the verb: 0 on success, 1 when the model, split or a case cannot be read.</summary>
    /// <exception cref="UsageException">Bad arguments.</exception>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            return DecisionCalibration.RunCommand(args, output, error);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{ex.Message}\n{DecisionCalibration.Usage}");
        }
    }
}
