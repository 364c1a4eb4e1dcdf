using System.Globalization;
using HippoNode.Analysis.ChestXray;
using HippoNode.Analysis.Modules;
using HippoNode.Analysis.Selection;
using HippoNode.Segmentation.Inference;

namespace HippoNode.Analysis;

/// <summary>The <c>hipponode analyze</c> verb: parsing and execution (here, so its tests run exactly the verb).</summary>
public sealed class AnalyzeCommandLine
{
    /// <summary>Exit code: outputs written.</summary>
    public const int ExitCompleted = 0;

    /// <summary>Exit code: the study or its series is broken, or the model is missing.</summary>
    public const int ExitFailed = 1;

    /// <summary>Exit code: no series met the selection rules (result.json written, nothing else).</summary>
    public const int ExitNoEligibleSeries = 3;

    /// <summary>The verb's usage text.</summary>
    public const string Usage =
        "usage: hipponode analyze STUDY_DIR --out DIR [--module hippocampus|chest-xray|all] [--model DIR] [--chest-model DIR] [--rules FILE]\n" +
        "                         [--agreement-threshold X] [--threshold X] [--max-obliquity DEGREES] [--provider cpu|cuda]\n" +
        "  --module hippocampus (default): seg.dcm, sr.dcm, sc.dcm; chest-xray: sr.dcm, sc.dcm (--model is the classifier folder,\n" +
        "  --threshold replaces its threshold); all: every module that applies, each into DIR/<module>/ (--model hippocampus, --chest-model classifier)\n" +
        "  exit 0: outputs and result.json written; 3: no eligible series / no module applies (result.json only); 1: analysis failed";

    /// <summary>The modules <c>--module</c> accepts.</summary>
    public static IReadOnlyList<string> ModuleNames { get; } = [StudyAnalyzer.ModuleName, ChestXrayAnalyzer.ModuleName, "all"];

    /// <summary>The study folder.</summary>
    public required string StudyDirectory { get; init; }

    /// <summary>The output folder.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>--model, or null for the default folder.</summary>
    public string? ModelFolder { get; init; }

    /// <summary>--rules, or null for the shipped rules.</summary>
    public string? RulesFile { get; init; }

    /// <summary>--agreement-threshold, or null for the default.</summary>
    public double? AgreementThreshold { get; init; }

    /// <summary>--max-obliquity, or null for the default.</summary>
    public double? MaxObliquityDegrees { get; init; }

    /// <summary>--provider, or null for the environment's (HIPPONODE_EXECUTION_PROVIDER) or CPU.</summary>
    public string? Provider { get; init; }

    /// <summary>--module: hippocampus (default), chest-xray or all.</summary>
    public string Module { get; init; } = StudyAnalyzer.ModuleName;

    /// <summary>--chest-model (with --module all), or null for the default classifier folder.</summary>
    public string? ChestModelFolder { get; init; }

    /// <summary>--threshold: the chest X-ray decision threshold, or null for the model's.</summary>
    public double? Threshold { get; init; }

    /// <summary>Parses the arguments after the verb.</summary>
    /// <exception cref="ArgumentException">The arguments do not fit the verb; the message says which.</exception>
    public static AnalyzeCommandLine Parse(IReadOnlyList<string> args)
    {
        string? study = null, output = null, model = null, rules = null, provider = null, chestModel = null;
        string module = StudyAnalyzer.ModuleName;
        double? threshold = null, obliquity = null, chestThreshold = null;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{a} needs a value");
            switch (a)
            {
                case "--out": output = Value(); break;
                case "--model": model = Value(); break;
                case "--rules": rules = Value(); break;
                case "--provider": provider = Value(); break;
                case "--agreement-threshold": threshold = Number(a, Value()); break;
                case "--max-obliquity": obliquity = Number(a, Value()); break;
                case "--module":
                    module = Value();
                    if (!ModuleNames.Contains(module, StringComparer.Ordinal)) throw new ArgumentException($"--module '{module}' is not one of {string.Join(", ", ModuleNames)}");
                    break;
                case "--chest-model": chestModel = Value(); break;
                case "--threshold": chestThreshold = Number(a, Value()); break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unknown option {a}");
                    if (study is not null) throw new ArgumentException($"one study folder only (got '{study}' and '{a}')");
                    study = a;
                    break;
            }
        }
        return new AnalyzeCommandLine
        {
            StudyDirectory = study ?? throw new ArgumentException("STUDY_DIR is required"),
            OutputDirectory = output ?? throw new ArgumentException("--out DIR is required"),
            ModelFolder = model, RulesFile = rules, AgreementThreshold = threshold, MaxObliquityDegrees = obliquity, Provider = provider,
            Module = module, ChestModelFolder = chestModel, Threshold = chestThreshold,
        };
    }

    /// <summary>Builds the analysis options these arguments ask for.</summary>
    /// <exception cref="ArgumentException">An option value is invalid (including a rules file that does not validate).</exception>
    public async Task<AnalysisOptions> OptionsAsync(CancellationToken cancellationToken)
    {
        var defaults = new AnalysisOptions();
        // With --module chest-xray, --rules and --model belong to the chest X-ray module.
        var own = Module != ChestXrayAnalyzer.ModuleName;
        var rules = own && RulesFile is not null ? await LoadRulesAsync(RulesFile, cancellationToken).ConfigureAwait(false) : defaults.Rules;
        var inference = Provider is null ? InferenceOptions.FromEnvironment() : new InferenceOptions { ExecutionProvider = Provider.Trim().ToLowerInvariant() };
        var options = new AnalysisOptions
        {
            Rules = rules,
            ModelFolder = !own || ModelFolder is null ? defaults.ModelFolder : Path.GetFullPath(ModelFolder),
            AgreementThreshold = AgreementThreshold ?? defaults.AgreementThreshold,
            MaxObliquityDegrees = MaxObliquityDegrees ?? defaults.MaxObliquityDegrees,
            Inference = inference,
        };
        options.Validate();
        return options;
    }

    /// <summary>The chest X-ray module's options these arguments ask for (--model is the classifier folder with --module chest-xray, --chest-model with all).</summary>
    /// <exception cref="ArgumentException">An option value is invalid (including a rules file that does not validate).</exception>
    public async Task<ChestXrayOptions> ChestOptionsAsync(CancellationToken cancellationToken)
    {
        var folder = Module == ChestXrayAnalyzer.ModuleName ? ModelFolder : ChestModelFolder;
        var rulesFile = Module == ChestXrayAnalyzer.ModuleName ? RulesFile : null;
        var options = new ChestXrayOptions
        {
            Rules = rulesFile is null ? ChestXrayOptions.DefaultRules : await LoadRulesAsync(rulesFile, cancellationToken).ConfigureAwait(false),
            ModelFolder = folder is null ? ChestXrayOptions.DefaultModelFolder() : Path.GetFullPath(folder),
            Threshold = Threshold,
            Inference = Provider is null ? InferenceOptions.FromEnvironment() : new InferenceOptions { ExecutionProvider = Provider.Trim().ToLowerInvariant() },
        };
        options.Validate();
        return options;
    }

    private static async Task<SelectionRules> LoadRulesAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file)) throw new ArgumentException($"rules file {file} does not exist");
        try
        {
            return await SelectionRules.LoadAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
    }

    /// <summary>Runs the analysis and prints the series decisions, the module's findings and the files; returns the exit code.</summary>
    /// <exception cref="ArgumentException">An option value is invalid.</exception>
    public async Task<int> ExecuteAsync(TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        AnalysisModule? single = null;
        ModuleRouter? router = null;
        AnalysisOptions? options = null;
        if (Module == StudyAnalyzer.ModuleName) single = new StudyAnalyzer(options = await OptionsAsync(cancellationToken).ConfigureAwait(false));
        else if (Module == ChestXrayAnalyzer.ModuleName) single = new ChestXrayAnalyzer(await ChestOptionsAsync(cancellationToken).ConfigureAwait(false));
        else router = new ModuleRouter([new StudyAnalyzer(options = await OptionsAsync(cancellationToken).ConfigureAwait(false)),
            new ChestXrayAnalyzer(await ChestOptionsAsync(cancellationToken).ConfigureAwait(false))]);
        StudyAnalysisResult result;
        try
        {
            result = single switch
            {
                StudyAnalyzer h => await h.AnalyzeAsync(StudyDirectory, OutputDirectory, cancellationToken).ConfigureAwait(false),
                ChestXrayAnalyzer c => await c.AnalyzeAsync(StudyDirectory, OutputDirectory, cancellationToken).ConfigureAwait(false),
                _ => await router!.AnalyzeAsync(StudyDirectory, OutputDirectory, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (AnalysisException ex)
        {
            await error.WriteLineAsync($"hipponode analyze: {ex.Message}").ConfigureAwait(false);
            return ExitFailed;
        }
        finally
        {
            single?.Dispose();
            router?.Dispose();
        }

        var ic = CultureInfo.InvariantCulture;
        await output.WriteLineAsync($"study {result.StudyInstanceUid}").ConfigureAwait(false);
        foreach (var s in result.Series)
        {
            // Reasons read "chosen: ...", "skipped: ..." or "eligible, not chosen: ...": the verdict leads the line.
            var colon = s.Reason.IndexOf(": ", StringComparison.Ordinal);
            var (verdict, why) = colon < 0 ? (s.Chosen ? "chosen" : "skipped", s.Reason) : (s.Reason[..colon], s.Reason[(colon + 2)..]);
            await output.WriteLineAsync(string.Create(ic,
                $"  {verdict + ":",-8} '{s.SeriesDescription}' {s.Modality} {s.Instances} instances {s.SeriesInstanceUid} ({why})")).ConfigureAwait(false);
        }
        foreach (var w in result.Warnings) await output.WriteLineAsync($"warning: {w}").ConfigureAwait(false);
        if (Module != StudyAnalyzer.ModuleName)
        {
            foreach (var m in result.Modules)
                await output.WriteLineAsync($"module {m.Module}: {m.Status.ToString().ToLowerInvariant()}{(m.Error ?? m.Summary) switch { null => "", var d => ": " + d }}").ConfigureAwait(false);
            if (result.Status == AnalysisStatus.NoEligibleSeries)
            {
                await output.WriteLineAsync($"{result.Summary}: nothing analysed; wrote {result.ResultJson}").ConfigureAwait(false);
                return ExitNoEligibleSeries;
            }
            if (result.Modules.Count == 0 && result.Summary is { } summary) await output.WriteLineAsync(summary).ConfigureAwait(false);
            await output.WriteLineAsync($"wrote {string.Join(", ", result.OutputFiles.Append(result.ResultJson))}").ConfigureAwait(false);
            return result.Status == AnalysisStatus.Failed ? ExitFailed : ExitCompleted;
        }
        if (result.Status == AnalysisStatus.NoEligibleSeries)
        {
            await output.WriteLineAsync($"no eligible series under rules '{options!.Rules.Name}': nothing analysed; wrote {result.ResultJson}").ConfigureAwait(false);
            return ExitNoEligibleSeries;
        }
        await output.WriteLineAsync($"volumes: {StudyAnalyzer.FormatVolumes(result.VolumesMm3)}").ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(ic,
            $"agreement {result.Agreement:0.###} (threshold {options!.AgreementThreshold}): {(result.QualityFlagged ? "FLAGGED for review" : "ok")}")).ConfigureAwait(false);
        await output.WriteLineAsync($"wrote {string.Join(", ", result.OutputFiles.Append(result.ResultJson))}").ConfigureAwait(false);
        return ExitCompleted;
    }

    private static double Number(string option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"{option} '{text}' is not a number");
}
