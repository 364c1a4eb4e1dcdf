using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Analysis.Selection;

/// <summary>One DICOM file of the study: its path, its header (everything before Pixel Data) and, when known, its transfer syntax.</summary>
internal sealed record ScannedInstance(string Path, DicomDataset Header, DicomTransferSyntax? TransferSyntax = null)
{
    /// <summary>True when the pixels are encapsulated (compressed): HippoNode decodes uncompressed transfer syntaxes only.</summary>
    public bool Compressed => TransferSyntax?.IsEncapsulated == true;
}

/// <summary>The instances of one series, with the attributes the rules look at.</summary>
internal sealed class ScannedSeries
{
    public ScannedSeries(string uid, IReadOnlyList<ScannedInstance> instances)
    {
        SeriesInstanceUid = uid;
        Instances = instances;
        var first = instances[0].Header;
        Description = first.GetString(DicomTags.SeriesDescription) is { Length: > 0 } d ? d : null;
        Modality = first.GetString(DicomTags.Modality) is { Length: > 0 } m ? m : null;
        SopClassUid = first.GetString(DicomTags.SOPClassUID) is { Length: > 0 } s ? s : null;
        SeriesNumber = first.TryGetValue<int>(DicomTags.SeriesNumber, out var n) ? n : null;
        RowValues = [.. instances.Select(i => i.Header.TryGetValue<int>(DicomTags.Rows, out var r) ? r : 0).Distinct().Order()];
        ColumnValues = [.. instances.Select(i => i.Header.TryGetValue<int>(DicomTags.Columns, out var c) ? c : 0).Distinct().Order()];
        MaxFrames = instances.Max(i => i.Header.TryGetValue<int>(DicomTags.NumberOfFrames, out var f) ? f : 1);
    }

    public string SeriesInstanceUid { get; }

    public IReadOnlyList<ScannedInstance> Instances { get; }

    public string? Description { get; }

    public string? Modality { get; }

    public string? SopClassUid { get; }

    public int? SeriesNumber { get; }

    /// <summary>The distinct Rows values of the instances (0 where absent), ascending.</summary>
    public IReadOnlyList<int> RowValues { get; }

    /// <summary>The distinct Columns values of the instances (0 where absent), ascending.</summary>
    public IReadOnlyList<int> ColumnValues { get; }

    /// <summary>The largest Number of Frames of any instance (1 when absent).</summary>
    public int MaxFrames { get; }

    /// <summary>"'HippoCrop' (1.2.3...)": how messages name the series.</summary>
    public string Label => Describe(SeriesInstanceUid, Description);

    public static string Describe(string uid, string? description) =>
        description is null ? $"series {uid}" : $"series '{description}' ({uid})";

    public override string ToString() => Label;
}

/// <summary>What a folder scan found: the series, the study UIDs met, and files that were left out with why.</summary>
internal sealed record StudyScan(IReadOnlyList<ScannedSeries> Series, IReadOnlyList<string> StudyInstanceUids, IReadOnlyList<string> SkippedFiles);

/// <summary>Reads the headers of every file under a folder (stopping before Pixel Data) and groups them by series.</summary>
internal static class StudyScanner
{
    private static readonly DicomReadOptions HeaderOnly = DicomReadOptions.Default with { StopAtTag = DicomTags.PixelData };

    /// <summary>The one Study Instance UID of <paramref name="scan"/>.</summary>
    /// <exception cref="AnalysisException">The folder holds no image instances, none with a study UID, or several studies.</exception>
    public static string SingleStudy(StudyScan scan, string folder)
    {
        if (scan.Series.Count == 0)
            throw new AnalysisException($"no DICOM image instances under {folder} ({scan.SkippedFiles.Count} other file(s))");
        if (scan.StudyInstanceUids.Count != 1)
            throw new AnalysisException(scan.StudyInstanceUids.Count == 0
                ? $"the instances under {folder} carry no Study Instance UID"
                : $"{folder} holds {scan.StudyInstanceUids.Count} studies ({string.Join(", ", scan.StudyInstanceUids)}); analyse one study per folder");
        return scan.StudyInstanceUids[0];
    }

    /// <summary>Scans <paramref name="folder"/> recursively; files that are not DICOM images are listed in <see cref="StudyScan.SkippedFiles"/>.</summary>
    public static StudyScan Scan(string folder, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(folder)) throw new AnalysisException($"study folder {folder} does not exist");
        var bySeries = new Dictionary<string, List<ScannedInstance>>(StringComparer.Ordinal);
        var studies = new SortedSet<string>(StringComparer.Ordinal);
        var skipped = new List<string>();
        // Sorted so that the scan, and every message that lists files, is the same from run to run.
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(folder, path);
            DicomDataset header;
            DicomTransferSyntax syntax;
            try
            {
                var file = DicomFile.Open(path, HeaderOnly);
                (header, syntax) = (file.Dataset, file.TransferSyntax);
            }
            catch (DicomParseException ex)
            {
                skipped.Add($"{relative}: not readable as DICOM ({ex.Message})");
                continue;
            }
            catch (DicomException ex)
            {
                skipped.Add($"{relative}: not readable as DICOM ({ex.Message})");
                continue;
            }
            var series = header.GetString(DicomTags.SeriesInstanceUID);
            if (string.IsNullOrEmpty(series) || string.IsNullOrEmpty(header.GetString(DicomTags.SOPInstanceUID)))
            {
                skipped.Add($"{relative}: no Series or SOP Instance UID (not a composite instance, e.g. a DICOMDIR)");
                continue;
            }
            if (header.GetString(DicomTags.StudyInstanceUID) is { Length: > 0 } study) studies.Add(study);
            if (!bySeries.TryGetValue(series, out var list)) bySeries[series] = list = [];
            list.Add(new ScannedInstance(path, header, syntax));
        }
        var all = bySeries.Select(kv => new ScannedSeries(kv.Key, kv.Value))
            .OrderBy(s => s.SeriesNumber ?? int.MaxValue)
            .ThenBy(s => s.SeriesInstanceUid, StringComparer.Ordinal)
            .ToList();
        return new StudyScan(all, [.. studies], skipped);
    }
}
