using System.Globalization;
using HippoNode.Classification;
using HippoNode.Node.Demo;
using HippoNode.Onnx;

namespace HippoNode.Commands;

/// <summary>`hipponode demo`: the whole flow on one machine without a PACS (see <see cref="NodeDemo"/>).</summary>
public static class DemoCommand
{
    private const string Usage = "demo [--study DIR | --synthetic] [--chest-study DIR | --no-chest] [--chest-model DIR] [--out DIR] [--timeout SECONDS] [--model DIR]";

    /// <summary>Runs the demo; 0 when the results of every study reached the demo PACS.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var options = new DemoOptions();
        string? chestModel = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--study": options.StudyFolder = Value(args, ref i); break;
                case "--synthetic": options.Synthetic = true; break;
                case "--chest-study": options.ChestStudyFolder = Value(args, ref i); break;
                case "--no-chest": options.Chest = false; break;
                case "--chest-model": chestModel = Path.GetFullPath(Value(args, ref i)); break;
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
        if (options.ChestStudyFolder is { } chest && !Directory.Exists(chest)) throw new UsageException($"--chest-study '{chest}' is not a folder");
        options.WorkFolder ??= Path.Combine(Path.GetTempPath(), "hipponode-demo-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        if (options.Chest)
        {
            chestModel ??= NodeDemo.FindRepositoryRoot() is { } repo ? Path.Combine(repo, "models", "chest-xray") : null;
            if (chestModel is null || !File.Exists(Path.Combine(chestModel, ClassifierManifest.FileName)))
            {
                // No trained classifier yet: the demo still shows the chest X-ray module's plumbing, with random weights that it names as such.
                var untrained = Path.Combine(Path.GetFullPath(options.WorkFolder), "untrained-chest-model");
                ClassifierFolderWriter.WriteUntrained(untrained);
                await output.WriteLineAsync($"WARNING: no trained chest X-ray model ({chestModel ?? "models/chest-xray"} has no model.json); using an UNTRAINED model with " +
                    $"random weights made in {untrained}: its probability and heat map mean nothing").ConfigureAwait(false);
                chestModel = untrained;
            }
            options.Settings["HippoNode:ChestXray:ModelFolder"] = chestModel;
        }
        return await NodeDemo.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
    }

    private static string Value(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value (usage: hipponode {Usage})");
}
