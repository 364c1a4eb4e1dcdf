using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>The shared-data files the conformance tests read, and a guarded way to open them.</summary>
internal static class CorpusFiles
{
    private static readonly string[] NonDicomExtensions = [".json", ".txt", ".dump", ".gz", ".icc", ".md", ".nrrd", ".zip", ".jpg", ".jpeg", ".png"];

    /// <summary>Every file of the two TestVolumes studies.</summary>
    public static IReadOnlyList<string> TestVolumes() => Files(TestData.Shared("TestVolumes"), _ => true);

    /// <summary>Every DICOM file of dicom-corpus (non-DICOM side files skipped by extension or name).</summary>
    public static IReadOnlyList<string> Corpus() => Files(TestData.Shared("dicom-corpus"), IsDicomCandidate);

    /// <summary>The DICOM objects of seg-sr-examples: the .dcm files and dcmqi's label.seg.</summary>
    public static IReadOnlyList<string> SegSr() =>
        Files(TestData.Shared("seg-sr-examples"), p => p.EndsWith(".dcm", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(p) == "label.seg");

    /// <summary>A path relative to the shared data folder, with forward slashes (the key of the outcome table).</summary>
    public static string Relative(string path) => Path.GetRelativePath(TestData.SharedData, path).Replace('\\', '/');

    private static bool IsDicomCandidate(string path)
    {
        var name = Path.GetFileName(path);
        if (name.StartsWith("README", StringComparison.OrdinalIgnoreCase)) return false;
        return !NonDicomExtensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase);
    }

    private static List<string> Files(string root, Func<string, bool> filter) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(filter).Order(StringComparer.Ordinal).ToList();

    /// <summary>The result of reading one file with our reader under a time limit.</summary>
    public sealed record ReadResult(string Path, DicomFile? File, Exception? Error, bool TimedOut);

    /// <summary>Opens a file with <see cref="DicomFile.Open"/>; a read that does not end within the limit is reported, not waited for.</summary>
    public static ReadResult Open(string path, TimeSpan? limit = null, DicomReadOptions? options = null)
    {
        // Its own thread (not the pool, which the parallel callers already occupy), so that the limit is the read's.
        var task = Task.Factory.StartNew(() => DicomFile.Open(path, options), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!task.Wait(limit ?? TimeSpan.FromSeconds(20))) return new ReadResult(path, null, null, true);
            return new ReadResult(path, task.Result, null, false);
        }
        catch (AggregateException ex) when (ex.InnerException is not null)
        {
            return new ReadResult(path, null, ex.InnerException, false);
        }
    }
}
