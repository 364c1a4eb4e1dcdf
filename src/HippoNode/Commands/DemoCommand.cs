using System.Globalization;
using HippoNode.Node.Demo;

namespace HippoNode.Commands;

/// <summary>`hipponode demo`: the whole flow on one machine without a PACS (see <see cref="NodeDemo"/>).</summary>
public static class DemoCommand
{
    private const string Usage = "demo [--study DIR | --synthetic] [--out DIR] [--timeout SECONDS] [--model DIR]";

    /// <summary>Runs the demo; 0 when the results reached the demo PACS.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var options = new DemoOptions();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--study": options.StudyFolder = Value(args, ref i); break;
                case "--synthetic": options.Synthetic = true; break;
                case "--out": options.WorkFolder = Value(args, ref i); break;
                case "--model": options.Settings["HippoNode:Analysis:ModelFolder"] = Path.GetFullPath(Value(args, ref i)); break;
                case "--timeout":
                    options.Timeout = double.TryParse(Value(args, ref i), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
                        ? TimeSpan.FromSeconds(s)
                        : throw new UsageException("--timeout takes a number of seconds");
                    break;
                default: throw new UsageException($"unexpected argument '{args[i]}' (usage: hipponode {Usage})");
            }
        }
        if (options.StudyFolder is { } study && !Directory.Exists(study)) throw new UsageException($"--study '{study}' is not a folder");
        return await NodeDemo.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
    }

    private static string Value(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value (usage: hipponode {Usage})");
}
