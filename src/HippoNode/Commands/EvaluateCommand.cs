using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Commands;

/// <summary>`hipponode evaluate`: runs a model folder over labelled NIfTI cases and writes per-case and summary metrics as JSON.</summary>
/// <remarks>The work lives in <see cref="EvaluationCommandLine"/> (HippoNode.Segmentation) so its tests run exactly this verb.</remarks>
public static class EvaluateCommand
{
    /// <summary>Runs the verb: 0 when every case was evaluated, 1 when any failed or nothing could be evaluated.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        EvaluationCommandLine options;
        try
        {
            options = EvaluationCommandLine.Parse(args);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{ex.Message}\n{EvaluationCommandLine.Usage}");
        }
        return options.Execute(output, error);
    }
}
