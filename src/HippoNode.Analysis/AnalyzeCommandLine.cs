using System.Globalization;
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
        "usage: hipponode analyze STUDY_DIR --out DIR [--model DIR] [--rules FILE] [--agreement-threshold X]\n" +
        "                         [--max-obliquity DEGREES] [--provider cpu|cuda]\n" +
        "  exit 0: seg.dcm, sr.dcm, sc.dcm and result.json written; 3: no eligible series (result.json only); 1: analysis failed";

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

    /// <summary>Parses the arguments after the verb.</summary>
    /// <exception cref="ArgumentException">The arguments do not fit the verb; the message says which.</exception>
    public static AnalyzeCommandLine Parse(IReadOnlyList<string> args)
    {
        string? study = null, output = null, model = null, rules = null, provider = null;
        double? threshold = null, obliquity = null;
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
        };
    }

    /// <summary>Builds the analysis options these arguments ask for.</summary>
    /// <exception cref="ArgumentException">An option value is invalid (including a rules file that does not validate).</exception>
    public async Task<AnalysisOptions> OptionsAsync(CancellationToken cancellationToken)
    {
        var defaults = new AnalysisOptions();
        SelectionRules rules = defaults.Rules;
        if (RulesFile is not null)
        {
            if (!File.Exists(RulesFile)) throw new ArgumentException($"rules file {RulesFile} does not exist");
            try
            {
                rules = await SelectionRules.LoadAsync(RulesFile, cancellationToken).ConfigureAwait(false);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException(ex.Message, ex);
            }
        }
        var inference = Provider is null ? InferenceOptions.FromEnvironment() : new InferenceOptions { ExecutionProvider = Provider.Trim().ToLowerInvariant() };
        var options = new AnalysisOptions
        {
            Rules = rules,
            ModelFolder = ModelFolder is null ? defaults.ModelFolder : Path.GetFullPath(ModelFolder),
            AgreementThreshold = AgreementThreshold ?? defaults.AgreementThreshold,
            MaxObliquityDegrees = MaxObliquityDegrees ?? defaults.MaxObliquityDegrees,
            Inference = inference,
        };
        options.Validate();
        return options;
    }

    /// <summary>Runs the analysis and prints the series decisions, volumes and files; returns the exit code.</summary>
    /// <exception cref="ArgumentException">An option value is invalid.</exception>
    public async Task<int> ExecuteAsync(TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var options = await OptionsAsync(cancellationToken).ConfigureAwait(false);
        using var analyzer = new StudyAnalyzer(options);
        StudyAnalysisResult result;
        try
        {
            result = await analyzer.AnalyzeAsync(StudyDirectory, OutputDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (AnalysisException ex)
        {
            await error.WriteLineAsync($"hipponode analyze: {ex.Message}").ConfigureAwait(false);
            return ExitFailed;
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
        if (result.Status == AnalysisStatus.NoEligibleSeries)
        {
            await output.WriteLineAsync($"no eligible series under rules '{options.Rules.Name}': nothing analysed; wrote {result.ResultJson}").ConfigureAwait(false);
            return ExitNoEligibleSeries;
        }
        await output.WriteLineAsync($"volumes: {StudyAnalyzer.FormatVolumes(result.VolumesMm3)}").ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(ic,
            $"agreement {result.Agreement:0.###} (threshold {options.AgreementThreshold}): {(result.QualityFlagged ? "FLAGGED for review" : "ok")}")).ConfigureAwait(false);
        await output.WriteLineAsync($"wrote {string.Join(", ", result.OutputFiles.Append(result.ResultJson))}").ConfigureAwait(false);
        return ExitCompleted;
    }

    private static double Number(string option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"{option} '{text}' is not a number");
}
