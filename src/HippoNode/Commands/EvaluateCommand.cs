using HippoNode.Analysis.ChestXray;
using HippoNode.Classification;
using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Commands;

/// <summary>
/// `hipponode evaluate`: runs a model folder over labelled data and writes metrics as JSON. A segmentation folder
/// (hippocampus) takes NIfTI images and labels; a classifier folder (chest X-ray) takes NORMAL/ and PNEUMONIA/ images.
/// </summary>
/// <remarks>The work lives in <see cref="EvaluationCommandLine"/> and <see cref="ChestEvaluationCommandLine"/> so their tests run exactly this verb.</remarks>
public static class EvaluateCommand
{
    /// <summary>Runs the verb: 0 when every case was evaluated, 1 when any failed or nothing could be evaluated.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // The model folder decides which evaluation this is: its model.json says segmentation or classification.
        var model = ModelArgument(args);
        if (model is not null && ClassifierManifest.IsClassifierFolder(model))
        {
            ChestEvaluationCommandLine chest;
            try
            {
                chest = ChestEvaluationCommandLine.Parse(args);
            }
            catch (ArgumentException ex)
            {
                throw new UsageException($"{ex.Message}\n{ChestEvaluationCommandLine.Usage}");
            }
            return chest.Execute(output, error);
        }
        EvaluationCommandLine options;
        try
        {
            options = EvaluationCommandLine.Parse(args);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{ex.Message}\n{EvaluationCommandLine.Usage}\n{ChestEvaluationCommandLine.Usage}");
        }
        return options.Execute(output, error);
    }

    private static string? ModelArgument(string[] args)
    {
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--model") return args[i + 1];
        }
        return null;
    }
}
