using System.Diagnostics;
using System.Globalization;
using System.Text;
using HippoNode.Dicom;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>One line of a dcmdump listing: an element, a sequence, an item or a fragment, with its children.</summary>
internal sealed class DumpNode
{
    public required DicomTag Tag { get; init; }

    /// <summary>The VR as dcmdump prints it: a standard code, a DCMTK pseudo-VR (xs, ox, up, lt), "na" for items, "pi" for fragments.</summary>
    public required string VR { get; init; }

    /// <summary>The printed value with its column padding removed: "[text]", numbers, hex, or "(...)" for structures.</summary>
    public required string Value { get; init; }

    /// <summary>The value length dcmdump reports; null for undefined length (u/l).</summary>
    public required long? Length { get; init; }

    public required int VM { get; init; }

    public required int LineNumber { get; init; }

    /// <summary>Items of a sequence, elements of an item, fragments of a pixel sequence.</summary>
    public List<DumpNode> Children { get; } = [];

    public bool IsSequence => VR == "SQ" || Value.StartsWith("(Sequence with", StringComparison.Ordinal);

    public bool IsPixelSequence => Value.StartsWith("(PixelSequence", StringComparison.Ordinal);

    public override string ToString() => $"{Tag} {VR} {(Length is { } l ? l.ToString(CultureInfo.InvariantCulture) : "u/l")}, {VM} {(Value.Length > 60 ? Value[..60] + "..." : Value)}";
}

/// <summary>What dcmdump made of one file.</summary>
internal sealed class DumpFile
{
    public required string Path { get; init; }
    public List<DumpNode> Meta { get; } = [];
    public List<DumpNode> Dataset { get; } = [];

    /// <summary>DCMTK's name of the transfer syntax it read the data set in ("Little Endian Explicit", ...).</summary>
    public string? DatasetSyntax { get; set; }

    /// <summary>True when the listing had a "# Dicom-Data-Set" section (dcmdump got far enough to print).</summary>
    public bool HasDataset { get; set; }

    /// <summary>dcmdump's exit code and warnings/errors; only exact when the file was dumped on its own.</summary>
    public int ExitCode { get; set; }
    public string StdErr { get; set; } = "";

    public bool Failed => ExitCode != 0 || StdErr.Contains("E: ", StringComparison.Ordinal);
}

/// <summary>Runs DCMTK's dcmdump and parses its listing into a tree that tests compare with our reader.</summary>
/// <remarks>
/// Options: <c>+L</c> prints every value in full (pixel data included) so that values can be compared byte for byte;
/// <c>-Un</c> prints UIDs as numbers, not names; <c>+Qn</c> quotes control and non-ASCII characters as XML markup
/// (<c>&amp;#13;</c>, <c>&amp;#246;</c>, <c>&amp;amp;</c>), so that each element stays on one line and the original
/// bytes can be recovered; <c>+F</c> prints a header per file so that many files go through one process.
/// DCMDICTPATH is set to the public dictionary only: DCMTK's private dictionary would give Implicit VR private
/// tags real VRs, where the standard (and our reader) can only say UN.
/// </remarks>
internal static class DcmtkDump
{
    /// <summary>DCMTK's public dictionary (Debian: /usr/share/libdcmtk17/dicom.dic); null when not found, and then DCMTK's default is used.</summary>
    public static readonly string? PublicDictionary = FindPublicDictionary();

    private static string? FindPublicDictionary()
    {
        foreach (var root in new[] { "/usr/share", "/usr/local/share" })
        {
            if (!Directory.Exists(root)) continue;
            var hit = Directory.EnumerateDirectories(root, "*dcmtk*").Select(d => System.IO.Path.Combine(d, "dicom.dic"))
                .Where(File.Exists).Order(StringComparer.Ordinal).LastOrDefault();
            if (hit is not null) return hit;
        }
        return null;
    }

    private static readonly string[] BaseArgs = ["-Un", "+L", "+Qn", "+F"];

    /// <summary>
    /// Dumps many files and hands each result to <paramref name="onFile"/> (called in parallel): files go through
    /// dcmdump in batches, batches run in parallel, and a listing is dropped once handled (TestVolumes alone print
    /// ~250 MB with +L).
    /// </summary>
    /// <remarks>Warnings of files that dcmdump reads are not kept (see <see cref="DumpBatch"/>): only whether it failed.</remarks>
    public static void DumpEach(IReadOnlyList<string> paths, Action<DumpFile> onFile, int batchSize = 16)
    {
        var batches = paths.Chunk(batchSize).ToList();
        Parallel.ForEach(batches, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, batch =>
        {
            foreach (var f in DumpBatch(batch, keepWarnings: false)) onFile(f);
        });
    }

    /// <summary>
    /// Dumps files with one dcmdump process. When it fails (or, with <paramref name="keepWarnings"/>, warns about
    /// anything), the files are redone one by one so that each result has its own exit code and messages.
    /// </summary>
    public static List<DumpFile> DumpBatch(IReadOnlyList<string> paths, bool keepWarnings = true)
    {
        var (code, files, stderr) = RunDump(paths);
        if (code == 0 && (stderr.Length == 0 || !keepWarnings) && files.Count == paths.Count) return files;
        if (paths.Count == 1)
        {
            var file = files.SingleOrDefault() ?? new DumpFile { Path = paths[0] };
            file.ExitCode = code;
            file.StdErr = stderr;
            return [file];
        }
        return paths.Select(p => DumpBatch([p], keepWarnings)[0]).ToList();
    }

    /// <summary>Dumps one file.</summary>
    public static DumpFile Dump(string path) => DumpBatch([path])[0];

    private static (int Code, List<DumpFile> Files, string StdErr) RunDump(IReadOnlyList<string> paths)
    {
        var psi = new ProcessStartInfo("dcmdump")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.Latin1,
            StandardErrorEncoding = Encoding.Latin1,
        };
        if (PublicDictionary is not null) psi.Environment["DCMDICTPATH"] = PublicDictionary;
        foreach (var a in BaseArgs) psi.ArgumentList.Add(a);
        foreach (var p in paths) psi.ArgumentList.Add(p);
        using var proc = Process.Start(psi) ?? throw new InvalidOperationException("could not start dcmdump");
        var stderrTask = proc.StandardError.ReadToEndAsync();
        // A dcmdump that hangs is killed, which ends the read of its output.
        var timedOut = false;
        using var watchdog = new Timer(_ =>
        {
            timedOut = true;
            try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }, null, TimeSpan.FromSeconds(120), Timeout.InfiniteTimeSpan);
        List<DumpFile> files;
        try
        {
            files = Parse(proc.StandardOutput, paths);
        }
        catch
        {
            try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        proc.WaitForExit();
        if (timedOut) throw new TimeoutException($"dcmdump {string.Join(' ', paths)} did not finish within 120 s");
        return (proc.ExitCode, files, stderrTask.GetAwaiter().GetResult());
    }

    /// <summary>Parses a +F listing. Nesting comes from indentation: items two columns right of their sequence, their elements four.</summary>
    internal static List<DumpFile> Parse(TextReader reader, IReadOnlyList<string> paths)
    {
        var files = new List<DumpFile>();
        DumpFile? current = null;
        List<DumpNode>? top = null;
        // Where a line at a given indentation belongs: the list of its siblings.
        var containers = new Dictionary<int, List<DumpNode>>();
        var lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.StartsWith("# dcmdump (", StringComparison.Ordinal))
            {
                var colon = line.IndexOf("): ", StringComparison.Ordinal);
                var index = int.Parse(line.AsSpan(11, line.IndexOf('/') - 11), CultureInfo.InvariantCulture) - 1;
                current = new DumpFile { Path = index < paths.Count ? paths[index] : line[(colon + 3)..] };
                files.Add(current);
                top = null;
                continue;
            }
            if (current is null)
            {
                // A single file without +F header (only when +F is not honoured).
                current = new DumpFile { Path = paths[0] };
                files.Add(current);
            }
            if (line.StartsWith("# Dicom-Meta-Information-Header", StringComparison.Ordinal))
            {
                top = current.Meta;
                containers.Clear();
                containers[0] = top;
                continue;
            }
            if (line.StartsWith("# Dicom-Data-Set", StringComparison.Ordinal))
            {
                top = current.Dataset;
                current.HasDataset = true;
                containers.Clear();
                containers[0] = top;
                continue;
            }
            if (line.StartsWith("# Used TransferSyntax: ", StringComparison.Ordinal))
            {
                if (ReferenceEquals(top, current.Dataset)) current.DatasetSyntax = line["# Used TransferSyntax: ".Length..];
                continue;
            }
            // Blank lines, section comments and DICOMDIR record comments ("  #  offset=$396").
            if (line.TrimStart(' ') is { Length: 0 } or ['#', ..] || top is null) continue;

            var node = ParseLine(line, lineNumber, out var indent);
            if (node is null) throw new FormatException($"dcmdump line {lineNumber} not understood: {Shorten(line)}");
            // Delimiters carry no information the tree does not already have (real or "for re-encoding").
            if (node.Tag == DicomTag.ItemDelimitationItem || node.Tag == DicomTag.SequenceDelimitationItem) continue;
            if (!containers.TryGetValue(indent, out var siblings))
                throw new FormatException($"dcmdump line {lineNumber}: unexpected indentation {indent}: {Shorten(line)}");
            siblings.Add(node);
            // Deeper levels now belong to this node.
            foreach (var k in containers.Keys.Where(k => k > indent).ToList()) containers.Remove(k);
            if (node.Tag == DicomTag.Item && node.VR == "na")
                containers[indent + 2] = node.Children;
            else if (node.IsSequence || node.IsPixelSequence)
                containers[indent + 2] = node.Children;
        }
        return files;
    }

    private static string Shorten(string s) => s.Length > 200 ? s[..200] + "..." : s;

    /// <summary>Parses "  (gggg,eeee) VR value   # len, vm Name"; null when the line is not of that form.</summary>
    internal static DumpNode? ParseLine(string line, int lineNumber, out int indent)
    {
        indent = 0;
        while (indent < line.Length && line[indent] == ' ') indent++;
        var s = line.AsSpan(indent);
        if (s.Length < 16 || s[0] != '(' || s[5] != ',' || s[10] != ')' || s[11] != ' ' || s[14] != ' ') return null;
        if (!ushort.TryParse(s[1..5], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var g) ||
            !ushort.TryParse(s[6..10], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var e)) return null;
        var vr = s[12..14].ToString();
        var rest = s[15..];
        // The comment is after the last '#': element names never hold one, values may.
        var hash = rest.LastIndexOf('#');
        if (hash < 0) return null;
        var value = rest[..hash].TrimEnd(' ').ToString();
        var comment = rest[(hash + 1)..].TrimStart(' ');
        var comma = comment.IndexOf(',');
        if (comma < 0) return null;
        var lenText = comment[..comma];
        long? length = lenText.SequenceEqual("u/l") ? null : long.Parse(lenText, NumberStyles.None, CultureInfo.InvariantCulture);
        var afterComma = comment[(comma + 1)..].TrimStart(' ');
        var space = afterComma.IndexOf(' ');
        var vm = int.Parse(space < 0 ? afterComma : afterComma[..space], NumberStyles.None, CultureInfo.InvariantCulture);
        return new DumpNode { Tag = new DicomTag(g, e), VR = vr, Value = value, Length = length, VM = vm, LineNumber = lineNumber };
    }

    /// <summary>The bytes of a "[...]" string value as printed with +Qn (XML markup for control, non-ASCII and markup characters).</summary>
    public static byte[] UnquoteString(string printed)
    {
        if (printed.Length < 2 || printed[0] != '[' || printed[^1] != ']')
            throw new FormatException($"not a bracketed string value: {Shorten(printed)}");
        var s = printed.AsSpan(1, printed.Length - 2);
        var bytes = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '&')
            {
                bytes.Add((byte)s[i]);
                continue;
            }
            var semi = s[i..].IndexOf(';');
            if (semi < 0) throw new FormatException($"unterminated markup in {Shorten(printed)}");
            var entity = s.Slice(i + 1, semi - 1);
            if (entity.Length > 1 && entity[0] == '#')
            {
                var n = entity[1] is 'x' or 'X'
                    ? int.Parse(entity[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                    : int.Parse(entity[1..], NumberStyles.None, CultureInfo.InvariantCulture);
                if (n > 0xFF) throw new FormatException($"character reference &#{n}; above one byte in {Shorten(printed)}");
                bytes.Add((byte)n);
            }
            else
            {
                bytes.Add(entity switch
                {
                    "amp" => (byte)'&',
                    "lt" => (byte)'<',
                    "gt" => (byte)'>',
                    "quot" => (byte)'"',
                    "apos" => (byte)'\'',
                    _ => throw new FormatException($"unknown entity &{entity.ToString()}; in {Shorten(printed)}"),
                });
            }
            i += semi;
        }
        return [.. bytes];
    }
}
