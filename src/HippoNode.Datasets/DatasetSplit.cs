using System.Text;
using System.Text.Json;

namespace HippoNode.Datasets;

/// <summary>An excluded case as recorded in a split: its id and the curation reasons ("code: detail").</summary>
public sealed record SplitExclusion(string Id, IReadOnlyList<string> Reasons);

/// <summary>A fixed partition of the clean cases: a held-out test list (never trained on) and k cross-validation folds over the rest.</summary>
public sealed class DatasetSplit
{
    /// <summary>The format version written to split.json.</summary>
    public const int FormatVersion = 1;

    /// <summary>The dataset folder's name (not its path, so the file does not depend on where the data lies).</summary>
    public required string Dataset { get; init; }

    /// <summary>The seed of the shuffle.</summary>
    public required long Seed { get; init; }

    /// <summary>The requested share of clean cases held out for testing.</summary>
    public required double TestFraction { get; init; }

    /// <summary>The held-out test case ids, ordinal order.</summary>
    public required IReadOnlyList<string> Test { get; init; }

    /// <summary>The cross-validation folds, each a list of case ids in ordinal order.</summary>
    public required IReadOnlyList<IReadOnlyList<string>> Folds { get; init; }

    /// <summary>The cases curation excluded, with reasons, for the record.</summary>
    public IReadOnlyList<SplitExclusion> Excluded { get; init; } = [];

    /// <summary>Every case in the split: test and all folds.</summary>
    public IEnumerable<string> AllCases => Test.Concat(Folds.SelectMany(f => f));

    /// <summary>Training ids for cross-validation round <paramref name="fold"/>: every fold but that one.</summary>
    public IReadOnlyList<string> TrainingFor(int fold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fold);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fold, Folds.Count);
        return [.. Folds.Where((_, i) => i != fold).SelectMany(f => f).Order(StringComparer.Ordinal)];
    }

    /// <summary>The split as split.json text (indented, "\n" line ends, trailing newline): byte-stable for the same inputs.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            j.WriteStartObject();
            j.WriteNumber("version", FormatVersion);
            j.WriteString("dataset", Dataset);
            j.WriteString("procedure", DatasetSplitter.ProcedureDescription);
            j.WriteNumber("seed", Seed);
            j.WriteNumber("testFraction", TestFraction);
            j.WriteNumber("folds", Folds.Count);
            j.WriteStartObject("counts");
            j.WriteNumber("clean", AllCases.Count());
            j.WriteNumber("test", Test.Count);
            j.WriteStartArray("foldSizes");
            foreach (var f in Folds) j.WriteNumberValue(f.Count);
            j.WriteEndArray();
            j.WriteNumber("excluded", Excluded.Count);
            j.WriteEndObject();
            j.WriteStartArray("test");
            foreach (var id in Test) j.WriteStringValue(id);
            j.WriteEndArray();
            j.WriteStartArray("cvFolds");
            foreach (var f in Folds)
            {
                j.WriteStartArray();
                foreach (var id in f) j.WriteStringValue(id);
                j.WriteEndArray();
            }
            j.WriteEndArray();
            j.WriteStartArray("excluded");
            foreach (var e in Excluded)
            {
                j.WriteStartObject();
                j.WriteString("id", e.Id);
                j.WriteStartArray("reasons");
                foreach (var r in e.Reasons) j.WriteStringValue(r);
                j.WriteEndArray();
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>Parses split.json text.</summary>
    /// <exception cref="FormatException">The text is not a split of this format.</exception>
    public static DatasetSplit Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var version = root.GetProperty("version").GetInt32();
            if (version != FormatVersion) throw new FormatException($"split.json version {version}, this build reads version {FormatVersion}");
            return new DatasetSplit
            {
                Dataset = root.GetProperty("dataset").GetString() ?? "",
                Seed = root.GetProperty("seed").GetInt64(),
                TestFraction = root.GetProperty("testFraction").GetDouble(),
                Test = Strings(root.GetProperty("test")),
                Folds = [.. root.GetProperty("cvFolds").EnumerateArray().Select(Strings)],
                Excluded = root.TryGetProperty("excluded", out var ex)
                    ? [.. ex.EnumerateArray().Select(e => new SplitExclusion(e.GetProperty("id").GetString() ?? "", Strings(e.GetProperty("reasons"))))]
                    : [],
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a valid split.json: {ex.Message}", ex);
        }

        static IReadOnlyList<string> Strings(JsonElement a) => [.. a.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException("null case id"))];
    }

    /// <summary>Reads split.json from <paramref name="path"/>.</summary>
    public static DatasetSplit Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, ToJson(), new UTF8Encoding(false));
    }
}
