using System.Text;

namespace HippoNode.Dicom.DictionaryGenerator;

/// <summary>
/// Generates src/HippoNode.Dicom/Dictionary/DicomDictionary.Generated.cs and DicomTags.Generated.cs from DCMTK's
/// dicom.dic (Debian package dcmtk / libdcmtk17).
/// Usage: dotnet run --project src/HippoNode.Dicom.DictionaryGenerator -- [--dic PATH] [--out DIR]
/// </summary>
internal static class Program
{
    private const string DefaultDic = "/usr/share/libdcmtk17/dicom.dic";
    private const string DefaultOutRelative = "src/HippoNode.Dicom/Dictionary";

    private static int Main(string[] args)
    {
        string dic = DefaultDic;
        string? outDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dic" when i + 1 < args.Length: dic = args[++i]; break;
                case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
                case "-h" or "--help":
                    Console.WriteLine("usage: HippoNode.Dicom.DictionaryGenerator [--dic PATH] [--out DIR]");
                    Console.WriteLine($"  --dic  DCMTK data dictionary (default {DefaultDic})");
                    Console.WriteLine($"  --out  output folder (default <repo>/{DefaultOutRelative}, repo = folder holding HippoNode.sln)");
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}' (try --help)");
                    return 2;
            }
        }

        if (!File.Exists(dic))
        {
            Console.Error.WriteLine($"dictionary '{dic}' not found (install the Debian package dcmtk, or pass --dic PATH)");
            return 1;
        }
        if (outDir is null)
        {
            var root = FindRepoRoot();
            if (root is null)
            {
                Console.Error.WriteLine("HippoNode.sln not found above the current folder or the program; pass --out DIR");
                return 1;
            }
            outDir = Path.Combine(root, DefaultOutRelative);
        }

        try
        {
            var lines = DicFile.Parse(dic);
            var model = DictionaryModel.Build(lines, ReadProvenance(dic));
            var leftOut = new List<string>();
            Directory.CreateDirectory(outDir);
            var dictPath = Path.Combine(outDir, "DicomDictionary.Generated.cs");
            var tagsPath = Path.Combine(outDir, "DicomTags.Generated.cs");
            var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            File.WriteAllText(dictPath, Emitter.DictionaryFile(model), utf8);
            File.WriteAllText(tagsPath, Emitter.TagsFile(model, leftOut), utf8);

            Console.WriteLine($"read {lines.Count} entries from {dic}");
            Console.WriteLine($"wrote {model.Entries.Count} fixed entries and {model.Ranges.Count} ranges to {dictPath}");
            Console.WriteLine($"wrote {model.Entries.Count - leftOut.Count} tags to {tagsPath}");
            foreach (var (line, reason) in model.Skipped)
                Console.WriteLine($"skipped line {line.LineNumber} {line.TagText} {line.Keyword} ({line.Version}): {reason}");
            foreach (var s in leftOut)
                Console.WriteLine($"not in DicomTags: {s}");
            return 0;
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
    }

    /// <summary>The folder holding HippoNode.sln, searched upwards from the current folder and then from the program.</summary>
    private static string? FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "HippoNode.sln"))) return d.FullName;
            }
        }
        return null;
    }

    /// <summary>The dic header's "Generated automatically from DICOM PS 3.6-..." line, to record which edition was used.</summary>
    private static List<string> ReadProvenance(string dic)
    {
        var result = new List<string>();
        foreach (var line in File.ReadLines(dic))
        {
            var t = line.TrimStart('#').Trim();
            if (t.StartsWith("Generated automatically from", StringComparison.Ordinal))
                result.Add("Source: DCMTK dicom.dic, " + char.ToLowerInvariant(t[0]) + t[1..]);
        }
        return result;
    }
}
