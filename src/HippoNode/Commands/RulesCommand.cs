using HippoNode.Analysis;
using HippoNode.Analysis.ChestXray;
using HippoNode.Analysis.Modules;
using HippoNode.Analysis.Selection;

namespace HippoNode.Commands;

/// <summary>`hipponode rules test STUDY_DIR`: which module would take which series of a study, and why, without analysing anything.</summary>
public static class RulesCommand
{
    private const string Usage = "rules test STUDY_DIR [--rules FILE] [--chest-rules FILE]   (exit 0: a module applies; 3: no module applies)";

    /// <summary>Runs the verb: 0 when a module applies, 3 when none does, 1 when the folder cannot be read as one study.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Length < 2 || args[0] != "test") throw new UsageException($"usage: hipponode {Usage}");
        string? study = null, rules = null, chestRules = null;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rules": rules = Value(args, ref i); break;
                case "--chest-rules": chestRules = Value(args, ref i); break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal) || study is not null) throw new UsageException($"unexpected argument '{args[i]}' (usage: hipponode {Usage})");
                    study = args[i];
                    break;
            }
        }
        if (study is null) throw new UsageException($"STUDY_DIR is required (usage: hipponode {Usage})");
        ModuleRouter router;
        try
        {
            router = new ModuleRouter(
            [
                new StudyAnalyzer(new AnalysisOptions { Rules = rules is null ? SelectionRules.Default : await SelectionRules.LoadAsync(rules, cancellationToken).ConfigureAwait(false) }),
                new ChestXrayAnalyzer(new ChestXrayOptions { Rules = chestRules is null ? ChestXrayOptions.DefaultRules : await SelectionRules.LoadAsync(chestRules, cancellationToken).ConfigureAwait(false) }),
            ]);
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
            throw new UsageException(ex.Message);
        }
        using (router)
        {
            StudyRouting routing;
            try
            {
                routing = await router.ExplainAsync(study, cancellationToken).ConfigureAwait(false);
            }
            catch (AnalysisException ex)
            {
                await error.WriteLineAsync($"hipponode rules: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            await output.WriteLineAsync($"study {routing.StudyInstanceUid}").ConfigureAwait(false);
            foreach (var m in routing.Modules)
            {
                await output.WriteLineAsync($"module {m.Module} (rules '{m.Rules}'): {(m.Applies ? "applies" : "does not apply")}").ConfigureAwait(false);
                foreach (var s in m.Series)
                    await output.WriteLineAsync($"  '{s.SeriesDescription}' {s.Modality} {s.Instances} instance(s) {s.SeriesInstanceUid}: {s.Reason}").ConfigureAwait(false);
            }
            foreach (var f in routing.SkippedFiles) await output.WriteLineAsync($"not an image instance: {f}").ConfigureAwait(false);
            if (!routing.AnyApplies) await output.WriteLineAsync("no module applies: the node would analyse nothing and send nothing").ConfigureAwait(false);
            return routing.AnyApplies ? 0 : 3;
        }
    }

    private static string Value(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value (usage: hipponode {Usage})");
}
