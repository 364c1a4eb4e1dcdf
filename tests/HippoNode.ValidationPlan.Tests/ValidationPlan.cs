using System.Globalization;
using System.Text.RegularExpressions;

namespace HippoNode.ValidationPlan.Tests;

/// <summary>The repository as the checks see it: files by path relative to the root, '/' separated.</summary>
public interface IRepository
{
    /// <summary>True when the file or folder exists.</summary>
    bool Exists(string relativePath);

    /// <summary>The text of a file, or null when there is none.</summary>
    string? Read(string relativePath);

    /// <summary>The paths of the files under a folder (recursive).</summary>
    IEnumerable<string> Files(string relativeFolder);

    /// <summary>True when the file exists and may be executed.</summary>
    bool IsExecutable(string relativePath);
}

/// <summary>The repository on disk.</summary>
public sealed class DiskRepository(string root) : IRepository
{
    private string Full(string relative) => Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <inheritdoc />
    public bool Exists(string relativePath) => File.Exists(Full(relativePath)) || Directory.Exists(Full(relativePath));

    /// <inheritdoc />
    public string? Read(string relativePath) => File.Exists(Full(relativePath)) ? File.ReadAllText(Full(relativePath)) : null;

    /// <inheritdoc />
    public IEnumerable<string> Files(string relativeFolder) =>
        Directory.Exists(Full(relativeFolder))
            ? Directory.EnumerateFiles(Full(relativeFolder), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal)
            : [];

    /// <inheritdoc />
    public bool IsExecutable(string relativePath) =>
        File.Exists(Full(relativePath)) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(Full(relativePath)) & UnixFileMode.UserExecute) != 0);
}

/// <summary>A requirement row.</summary>
public sealed record Requirement(string Id, string Text, IReadOnlyList<string> Tests, IReadOnlyList<string> Commands, string Where);

/// <summary>A command definition (<c>### CMD-...</c> and its code block).</summary>
public sealed record CommandDefinition(string Id, string Text, string Where);

/// <summary>A unit of prose the number rule applies to: a sentence of a paragraph or list item, or a table row.</summary>
public sealed record TextUnit(string File, int Line, string Text, bool IsTableRow);

/// <summary>
/// The validation plan (validation-plan/**/*.md) parsed: requirements, measurements, commands, sources, and its prose
/// cut into sentences and table rows for the number rule.
/// </summary>
public sealed partial class ValidationPlan
{
    /// <summary>The plan's folder.</summary>
    public const string Folder = "validation-plan";

    [GeneratedRegex(@"(?<![\w-])REQ-[A-Z]+-\d{3}(?![\w-])")]
    public static partial Regex RequirementId();

    [GeneratedRegex(@"(?<![\w-])M-[A-Z]+-\d{3}(?![\w-])")]
    public static partial Regex MeasurementId();

    [GeneratedRegex(@"(?<![\w-])CMD-[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-])")]
    public static partial Regex CommandId();

    [GeneratedRegex(@"(?<![\w-])REF-[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-])")]
    public static partial Regex SourceId();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\([^)]*\)")]
    private static partial Regex LinkTarget();

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z*`(])")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"^(\s*)([-*]|\d+\.)\s")]
    private static partial Regex ListItem();

    /// <summary>Every markdown file of the plan: path relative to the repository root, and text.</summary>
    public IReadOnlyDictionary<string, string> Files { get; }

    /// <summary>The requirement rows of requirements.md, in order.</summary>
    public IReadOnlyList<Requirement> Requirements { get; }

    /// <summary>Measurement rows of measurements.md: ID and the row's text (an ID may span several rows).</summary>
    public IReadOnlyList<(string Id, string Row, string Where)> Measurements { get; }

    /// <summary>The commands of measurements.md.</summary>
    public IReadOnlyList<CommandDefinition> Commands { get; }

    /// <summary>The source IDs of references.md.</summary>
    public IReadOnlySet<string> Sources { get; }

    /// <summary>The prose units of every file, outside code blocks and headings.</summary>
    public IReadOnlyList<TextUnit> Units { get; }

    /// <summary>Problems found while parsing (malformed rows).</summary>
    public IReadOnlyList<string> ParseErrors { get; }

    private ValidationPlan(IReadOnlyDictionary<string, string> files)
    {
        Files = files;
        var errors = new List<string>();
        var requirements = new List<Requirement>();
        var measurements = new List<(string, string, string)>();
        var commands = new List<CommandDefinition>();
        var sources = new HashSet<string>(StringComparer.Ordinal);
        var units = new List<TextUnit>();

        foreach (var (path, text) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            var name = path[(Folder.Length + 1)..];
            units.AddRange(ProseUnits(path, lines));
            string? pendingCommand = null;
            var pendingLine = 0;
            for (var n = 0; n < lines.Length; n++)
            {
                var line = lines[n];
                var where = $"{path}:{n + 1}";
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    var end = n + 1;
                    while (end < lines.Length && !lines[end].StartsWith("```", StringComparison.Ordinal)) end++;
                    if (pendingCommand is not null)
                    {
                        commands.Add(new CommandDefinition(pendingCommand, string.Join('\n', lines[(n + 1)..Math.Min(end, lines.Length)]), $"{path}:{pendingLine}"));
                        pendingCommand = null;
                    }
                    n = end;
                    continue;
                }
                if (line.StartsWith('#'))
                {
                    if (pendingCommand is not null) errors.Add($"{path}:{pendingLine}: {pendingCommand} has no code block with the command");
                    pendingCommand = null;
                    if (name == "measurements.md" && Regex.Match(line, @"^###\s+(CMD-\S+)\s*$") is { Success: true } h)
                    {
                        pendingCommand = h.Groups[1].Value;
                        pendingLine = n + 1;
                    }
                    continue;
                }
                if (!line.StartsWith('|')) continue;
                var cells = Cells(line);
                if (cells.Count == 0) continue;
                var first = cells[0];
                if (name == "requirements.md" && first.StartsWith("REQ-", StringComparison.Ordinal))
                {
                    if (!RequirementId().IsMatch(first) || RequirementId().Match(first).Value != first) errors.Add($"{where}: malformed requirement ID '{first}'");
                    if (cells.Count != 3) { errors.Add($"{where}: a requirement row needs 3 cells (ID, requirement, verified by), has {cells.Count}"); continue; }
                    var verified = cells[2];
                    var tests = InlineCode().Matches(verified).Select(m => m.Value.Trim('`').Trim()).ToList();
                    var cmds = CommandId().Matches(InlineCode().Replace(verified, " ")).Select(m => m.Value).ToList();
                    requirements.Add(new Requirement(first, cells[1], tests, cmds, where));
                }
                else if (name == "measurements.md" && first.StartsWith("M-", StringComparison.Ordinal))
                {
                    if (MeasurementId().Match(first).Value != first) errors.Add($"{where}: malformed measurement ID '{first}'");
                    measurements.Add((first, line, where));
                }
                else if (name == "references.md" && first.StartsWith("REF-", StringComparison.Ordinal))
                {
                    if (SourceId().Match(first).Value != first) errors.Add($"{where}: malformed source ID '{first}'");
                    if (!sources.Add(first)) errors.Add($"{where}: source {first} defined twice");
                }
            }
            if (pendingCommand is not null) errors.Add($"{path}:{pendingLine}: {pendingCommand} has no code block with the command");
        }
        Requirements = requirements;
        Measurements = measurements;
        Commands = commands;
        Sources = sources;
        Units = units;
        ParseErrors = errors;
    }

    /// <summary>Parses the plan from its files (path relative to the repository root, text).</summary>
    public static ValidationPlan Parse(IReadOnlyDictionary<string, string> files) => new(files);

    /// <summary>Reads every markdown file under validation-plan/ of <paramref name="repository"/>.</summary>
    public static ValidationPlan Load(IRepository repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return Parse(repository.Files(Folder).Where(f => f.EndsWith(".md", StringComparison.Ordinal))
            .ToDictionary(f => f, f => repository.Read(f)!, StringComparer.Ordinal));
    }

    /// <summary>The cells of a markdown table row (an escaped \| stays inside its cell).</summary>
    public static List<string> Cells(string row)
    {
        var cells = new List<string>();
        var current = new System.Text.StringBuilder();
        var t = row.Trim();
        if (!t.StartsWith('|')) return cells;
        for (var i = 1; i < t.Length; i++)
        {
            if (t[i] == '\\' && i + 1 < t.Length && t[i + 1] == '|') { current.Append('|'); i++; continue; }
            if (t[i] == '|') { cells.Add(current.ToString().Trim()); current.Clear(); continue; }
            current.Append(t[i]);
        }
        return cells;
    }

    /// <summary>The defined measurement IDs.</summary>
    public IReadOnlySet<string> MeasurementIds => Measurements.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);

    /// <summary>The defined command IDs.</summary>
    public IReadOnlySet<string> CommandIds => Commands.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);

    /// <summary>The defined requirement IDs.</summary>
    public IReadOnlySet<string> RequirementIds => Requirements.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);

    /// <summary>A line without its inline code and link targets: what prose the number rule reads.</summary>
    public static string ProseOf(string text) => LinkTarget().Replace(InlineCode().Replace(text, " "), "]");

    private static IEnumerable<TextUnit> ProseUnits(string path, string[] lines)
    {
        var block = new List<string>();
        var blockLine = 0;
        var inCode = false;
        IEnumerable<TextUnit> Flush()
        {
            if (block.Count == 0) yield break;
            var text = string.Join(' ', block.Select(b => b.Trim()));
            block.Clear();
            foreach (var sentence in SentenceBreak().Split(text)) yield return new TextUnit(path, blockLine, sentence, false);
        }
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n];
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                foreach (var u in Flush()) yield return u;
                inCode = !inCode;
                continue;
            }
            if (inCode) continue;
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                foreach (var u in Flush()) yield return u;
                continue;
            }
            if (line.StartsWith('|'))
            {
                foreach (var u in Flush()) yield return u;
                if (!Regex.IsMatch(line, @"^\|[\s:|-]+\|\s*$")) yield return new TextUnit(path, n + 1, line, true);
                continue;
            }
            if (ListItem().IsMatch(line) && !line.StartsWith("  ", StringComparison.Ordinal))
            {
                foreach (var u in Flush()) yield return u;
            }
            if (block.Count == 0) blockLine = n + 1;
            block.Add(line);
        }
        foreach (var u in Flush()) yield return u;
    }

    /// <summary>Parses a number as the plan writes it ("1,997", "-55.4").</summary>
    public static double Number(string text) => double.Parse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
}
