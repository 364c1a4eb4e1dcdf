using System.Globalization;
using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Commands;

/// <summary>`hipponode qa-flag`: what the agreement quality flag catches in <c>hipponode evaluate</c> reports (the validation plan's hit rate).</summary>
public static class QaFlagCommand
{
    /// <summary>Runs the verb: 0 when the analysis was written, 1 when a report cannot be read or is not an evaluation report.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var reports = new List<string>();
        double threshold = 0.8;
        int worst = 5;
        double? failBelow = null;
        string structure = "whole";
        string? json = null;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a is not ("--evaluation" or "--threshold" or "--worst" or "--fail-below" or "--structure" or "--json"))
                throw new UsageException($"unknown argument '{a}'\n{AgreementFlagAnalysis.Usage}");
            if (i + 1 >= args.Length) throw new UsageException($"{a} needs a value\n{AgreementFlagAnalysis.Usage}");
            var v = args[++i];
            switch (a)
            {
                case "--evaluation": reports.Add(v); break;
                case "--threshold": threshold = Number(v, a); break;
                case "--worst": worst = int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new UsageException($"--worst '{v}' is not an integer"); break;
                case "--fail-below": failBelow = Number(v, a); break;
                case "--structure": structure = v; break;
                default: json = v; break;
            }
        }
        if (reports.Count == 0) throw new UsageException($"--evaluation is required\n{AgreementFlagAnalysis.Usage}");

        AgreementFlagAnalysis analysis;
        try
        {
            analysis = AgreementFlagAnalysis.RunFiles(reports, threshold, worst, failBelow, structure);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            error.WriteLine($"hipponode qa-flag: {ex.Message}");
            return 1;
        }
        analysis.WriteText(output);
        if (json is not null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(json));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            File.WriteAllText(json, analysis.ToJson() + "\n");
            output.WriteLine($"json: {json}");
        }
        return 0;
    }

    private static double Number(string s, string name) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"{name} '{s}' is not a number");
}
