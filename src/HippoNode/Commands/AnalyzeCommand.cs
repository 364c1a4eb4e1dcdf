using HippoNode.Analysis;

namespace HippoNode.Commands;

/// <summary>`hipponode analyze`: selects the series of a study folder, segments it and writes SEG, SR, SC and result.json.</summary>
/// <remarks>The work lives in <see cref="AnalyzeCommandLine"/> (HippoNode.Analysis) so its tests run exactly this verb.</remarks>
public static class AnalyzeCommand
{
    /// <summary>Runs the verb: 0 completed, 3 no eligible series, 1 analysis failed.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var command = AnalyzeCommandLine.Parse(args);
            return await command.ExecuteAsync(output, error, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{ex.Message}\n{AnalyzeCommandLine.Usage}");
        }
    }
}
