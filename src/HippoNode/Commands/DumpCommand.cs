using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Commands;

/// <summary>`hipponode dump FILE...`: each file's data set as text; a bad file gets a one-line reason and the rest are still dumped.</summary>
public static class DumpCommand
{
    /// <summary>Runs the verb; exit code 1 when any file failed, 0 otherwise.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var maxChars = 80;
        var files = new List<string>();
        foreach (var a in args)
        {
            if (a is "--all" or "-a") maxChars = 0;
            else if (a.StartsWith('-')) throw new UsageException($"unknown option '{a}'");
            else files.Add(a);
        }
        if (files.Count == 0) throw new UsageException("no file given (usage: hipponode dump [--all] FILE...)");

        var failed = 0;
        foreach (var path in files)
        {
            try
            {
                var file = DicomFile.Open(path);
                if (files.Count > 1) output.WriteLine($"# File: {path}");
                foreach (var w in file.ReadWarnings) output.WriteLine($"# Warning: {w}");
                DicomDumper.Dump(file, output, maxChars);
                output.WriteLine();
            }
            catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
            {
                failed++;
                error.WriteLine($"hipponode dump: {path}: {ex.Message}");
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
