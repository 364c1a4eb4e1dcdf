using HippoNode.Training.Hippocampus;
using HippoNode.Training.Reports;

namespace HippoNode.Training;

/// <summary>The training executable (<c>hipponode-train</c>): every module's trainer, kept out of the node so that the node does not carry libtorch.</summary>
public static class Program
{
    /// <summary>The modules that can be trained, with their entry points.</summary>
    private static readonly Dictionary<string, Func<IReadOnlyList<string>, TextWriter, TextWriter, CancellationToken, int>> Modules = new(StringComparer.Ordinal)
    {
        ["hippocampus"] = UNetCommandLine.Run,
        ["figures"] = EvaluationFigures.Run,
    };

    /// <summary>Runs <c>hipponode-train [MODULE] OPTIONS...</c>: the module word is optional and defaults to hippocampus.</summary>
    public static int Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Out.WriteLine($"modules: {string.Join(", ", Modules.Keys)}\n{UNetCommandLine.Usage}");
            return args.Length == 0 ? 2 : 0;
        }
        var module = args[0].StartsWith('-') ? "hippocampus" : args[0];
        if (!Modules.TryGetValue(module, out var run))
        {
            Console.Error.WriteLine($"hipponode train: unknown module '{module}' (modules: {string.Join(", ", Modules.Keys)})");
            return 2;
        }
        try
        {
            return run(args[0].StartsWith('-') ? args : args[1..], Console.Out, Console.Error, cts.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("hipponode train: stopped; the last epoch checkpoint is kept (--resume continues)");
            return 130;
        }
    }
}
