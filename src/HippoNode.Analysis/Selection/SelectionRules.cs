using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace HippoNode.Analysis.Selection;

/// <summary>An inclusive integer range; either end may be open (null).</summary>
public sealed record IntRange(int? Min, int? Max)
{
    /// <summary>True when <paramref name="value"/> lies within the range.</summary>
    public bool Contains(int value) => (Min is null || value >= Min) && (Max is null || value <= Max);

    /// <summary>"16..128", "16.." or "..128".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Min}..{Max}");
}

/// <summary>The rules a series must meet to be analysed; every rule left out (null) accepts anything.</summary>
/// <remarks>
/// Loaded from JSON (<see cref="Parse"/>); the shipped default is <c>Rules/hippocampus-rules.json</c>. Keys:
/// <c>name</c> (string, required), <c>description</c> (string), <c>modalities</c> (strings, e.g. "MR"),
/// <c>sopClassUids</c> (UIDs), <c>seriesDescriptionPattern</c> (.NET regular expression, searched, not anchored),
/// <c>slices</c>, <c>rows</c>, <c>columns</c> (objects with optional integer <c>min</c> and <c>max</c>, inclusive),
/// <c>bodyPartPattern</c> (regular expression searched in Body Part Examined, or in Series Description, Study Description
/// and Protocol Name when that is empty), <c>viewPositions</c> (accepted View Position values, e.g. "PA"; the order is
/// the order of preference where the module chooses between images).
/// Unknown keys are errors, so a misspelt rule cannot silently accept everything.
/// </remarks>
public sealed class SelectionRules
{
    /// <summary>The resource name of the shipped default rules.</summary>
    public const string DefaultResourceName = "HippoNode.Analysis.Rules.hippocampus-rules.json";

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);
    private static readonly string[] KnownKeys = ["name", "description", "modalities", "sopClassUids", "seriesDescriptionPattern", "slices", "rows", "columns",
        "bodyPartPattern", "viewPositions"];

    /// <summary>A name for the rule set (reported in result.json).</summary>
    public required string Name { get; init; }

    /// <summary>What the rules are meant to pick.</summary>
    public string? Description { get; init; }

    /// <summary>Accepted Modality values (case-sensitive, as DICOM defines them), or null for any.</summary>
    public IReadOnlyList<string>? Modalities { get; init; }

    /// <summary>Accepted SOP Class UIDs, or null for any.</summary>
    public IReadOnlyList<string>? SopClassUids { get; init; }

    /// <summary>A regular expression the Series Description must contain a match of, or null for any.</summary>
    public Regex? SeriesDescriptionPattern { get; init; }

    /// <summary>Accepted number of slices (instances) in the series.</summary>
    public IntRange? Slices { get; init; }

    /// <summary>Accepted Rows of every instance.</summary>
    public IntRange? Rows { get; init; }

    /// <summary>Accepted Columns of every instance.</summary>
    public IntRange? Columns { get; init; }

    /// <summary>A regular expression the body part (Body Part Examined, else the descriptions) must contain a match of, or null for any.</summary>
    public Regex? BodyPartPattern { get; init; }

    /// <summary>Accepted View Position values, in order of preference, or null for any.</summary>
    public IReadOnlyList<string>? ViewPositions { get; init; }

    /// <summary>The shipped default rules (the embedded Rules/hippocampus-rules.json).</summary>
    public static SelectionRules Default { get; } = LoadDefault();

    /// <summary>The text of the shipped default rules.</summary>
    public static string DefaultJson() => ResourceText(DefaultResourceName);

    private static SelectionRules LoadDefault() => Parse(DefaultJson(), DefaultResourceName);

    /// <summary>Rules embedded in this assembly under <paramref name="resourceName"/> (the shipped defaults of a module).</summary>
    internal static SelectionRules Embedded(string resourceName) => Parse(ResourceText(resourceName), resourceName);

    /// <summary>The text of a resource embedded in this assembly.</summary>
    internal static string ResourceText(string resourceName)
    {
        using var stream = typeof(SelectionRules).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"resource {resourceName} is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Reads rules from a JSON file.</summary>
    /// <exception cref="FormatException">The file is not valid rules JSON; the message names the file and the bad key.</exception>
    public static async Task<SelectionRules> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        var json = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return Parse(json, path);
    }

    /// <summary>Parses rules JSON; <paramref name="source"/> names the origin in error messages.</summary>
    /// <exception cref="FormatException">The text is not valid rules JSON; the message names the bad key and why.</exception>
    public static SelectionRules Parse(string json, string source = "rules")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{source}: not valid JSON ({ex.Message})", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(source, "(root)", "must be a JSON object");
            foreach (var p in root.EnumerateObject())
            {
                if (!KnownKeys.Contains(p.Name, StringComparer.Ordinal))
                    throw Bad(source, p.Name, $"is not a known key (known: {string.Join(", ", KnownKeys)})");
            }
            var name = OptionalString(root, "name", source) ?? throw Bad(source, "name", "is required");
            if (string.IsNullOrWhiteSpace(name)) throw Bad(source, "name", "must not be empty");
            return new SelectionRules
            {
                Name = name,
                Description = OptionalString(root, "description", source),
                Modalities = OptionalStrings(root, "modalities", source),
                SopClassUids = OptionalUids(root, "sopClassUids", source),
                SeriesDescriptionPattern = OptionalRegex(root, "seriesDescriptionPattern", source),
                Slices = OptionalRange(root, "slices", source, minimum: 1),
                Rows = OptionalRange(root, "rows", source, minimum: 1),
                Columns = OptionalRange(root, "columns", source, minimum: 1),
                BodyPartPattern = OptionalRegex(root, "bodyPartPattern", source),
                ViewPositions = OptionalStrings(root, "viewPositions", source),
            };
        }
    }

    private static FormatException Bad(string source, string key, string why) => new($"{source}: '{key}' {why}");

    private static string? OptionalString(JsonElement root, string key, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw Bad(source, key, $"must be a string, not {Kind(e)}");
    }

    private static string[]? OptionalStrings(JsonElement root, string key, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Array) throw Bad(source, key, $"must be an array of strings, not {Kind(e)}");
        var list = new List<string>();
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                throw Bad(source, $"{key}[{i}]", "must be a non-empty string");
            list.Add(item.GetString()!.Trim());
            i++;
        }
        // An empty list would reject every series; saying so beats a study that silently never gets analysed.
        if (list.Count == 0) throw Bad(source, key, "is empty (leave the key out to accept any value)");
        return [.. list];
    }

    private static string[]? OptionalUids(JsonElement root, string key, string source)
    {
        var uids = OptionalStrings(root, key, source);
        if (uids is null) return null;
        for (var i = 0; i < uids.Length; i++)
        {
            if (!HippoNode.Dicom.DicomUid.IsValid(uids[i])) throw Bad(source, $"{key}[{i}]", $"'{uids[i]}' is not a valid UID");
        }
        return uids;
    }

    private static Regex? OptionalRegex(JsonElement root, string key, string source)
    {
        var pattern = OptionalString(root, key, source);
        if (pattern is null) return null;
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw Bad(source, key, $"is not a valid regular expression ({ex.Message})");
        }
    }

    private static IntRange? OptionalRange(JsonElement root, string key, string source, int minimum)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Object) throw Bad(source, key, $"must be an object with 'min' and/or 'max', not {Kind(e)}");
        int? min = null, max = null;
        foreach (var p in e.EnumerateObject())
        {
            var path = $"{key}.{p.Name}";
            if (p.Name is not ("min" or "max")) throw Bad(source, path, "is not a known key (known: min, max)");
            if (p.Value.ValueKind == JsonValueKind.Null) continue;
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var v))
                throw Bad(source, path, $"must be an integer, not {Kind(p.Value)}");
            if (v < minimum) throw Bad(source, path, $"must be at least {minimum}, is {v}");
            if (p.Name == "min") min = v;
            else max = v;
        }
        if (min > max) throw Bad(source, key, $"has min {min} greater than max {max}");
        return new IntRange(min, max);
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };
}
