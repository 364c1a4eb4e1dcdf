using System.Globalization;
using HippoNode.Classification;
using HippoNode.Segmentation.Evaluation;

namespace HippoNode.Commands;

/// <summary>`hipponode qa-flag`: what a module's quality flag catches in <c>hipponode evaluate</c> reports (the validation plan's hit rate): the agreement flag on segmentation reports, the review band on a classification report.</summary>
public static class QaFlagCommand
{
    /// <summary>The usage text of both forms.</summary>
    public static string Usage => AgreementFlagAnalysis.Usage + "\n" +
        "       hipponode qa-flag --evaluation CLASSIFICATION.json [--margin 2] [--worst 5] [--json OUT]\n" +
        "  on a classifier's report: the errors at its threshold, which of them the review band (--margin log-odds around the\n" +
        "  threshold) flags, how many correct images it flags, and a sweep of margins";

    /// <summary>Runs the verb: 0 when the analysis was written, 1 when a report cannot be read or is not an evaluation report.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var reports = new List<string>();
        double threshold = 0.8;
        int worst = 5;
        double? failBelow = null;
        string structure = "whole";
        string? json = null;
        double? margin = null;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a is not ("--evaluation" or "--threshold" or "--worst" or "--fail-below" or "--structure" or "--json" or "--margin"))
                throw new UsageException($"unknown argument '{a}'\n{Usage}");
            if (i + 1 >= args.Length) throw new UsageException($"{a} needs a value\n{Usage}");
            var v = args[++i];
            switch (a)
            {
                case "--evaluation": reports.Add(v); break;
                case "--threshold": threshold = Number(v, a); break;
                case "--worst": worst = int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new UsageException($"--worst '{v}' is not an integer"); break;
                case "--fail-below": failBelow = Number(v, a); break;
                case "--structure": structure = v; break;
                case "--margin": margin = Number(v, a); break;
                default: json = v; break;
            }
        }
        if (reports.Count == 0) throw new UsageException($"--evaluation is required\n{Usage}");
        var first = TryRead(reports[0]);
        if (first is not null && ReviewBandAnalysis.IsClassificationReport(first))
        {
            if (reports.Count > 1) throw new UsageException("a classification report is analysed alone: give one --evaluation");
            if (margin is { } m && m is not (> 0 and <= 10)) throw new UsageException("--margin must be above 0 and at most 10 (log-odds)");
            try
            {
                var review = ReviewBandAnalysis.Run(Path.GetFileName(reports[0]), first, margin ?? ReviewBand.DefaultMargin, worst);
                review.WriteText(output);
                WriteJson(json, review.ToJson(), output);
                return 0;
            }
            catch (FormatException ex)
            {
                error.WriteLine($"hipponode qa-flag: {ex.Message}");
                return 1;
            }
        }
        if (margin is not null) throw new UsageException("--margin applies to a classification report only");

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
        WriteJson(json, analysis.ToJson(), output);
        return 0;
    }

    private static void WriteJson(string? path, string text, TextWriter output)
    {
        if (path is null) return;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, text + "\n");
        output.WriteLine($"json: {path}");
    }

    // A report that cannot be read is left to the segmentation path, which names the file in its error.
    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Number(string s, string name) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"{name} '{s}' is not a number");
}
