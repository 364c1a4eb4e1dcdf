using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace HippoNode.ValidationPlan.Tests;

/// <summary>The checks that keep the validation plan from rotting; each returns its findings, empty when the plan holds.</summary>
public static partial class PlanChecks
{
    /// <summary>The requirement areas the plan uses.</summary>
    public static IReadOnlySet<string> Areas { get; } = new HashSet<string>(["DCM", "NET", "SEG", "OUT", "NODE", "MOD", "VAL"], StringComparer.Ordinal);

    /// <summary>Top-level folders whose paths a command may name; such a path must exist.</summary>
    private static readonly string[] RepositoryFolders = ["src/", "tests/", "bench/", "models/", "validation-plan/", "deploy_scripts/", "orthanc/", ".ci/"];

    // A measured-looking number: a decimal, a number with a unit, or "N of M".
    [GeneratedRegex(@"(?<![\w.§-])\d+\.\d+(?![\w.])")]
    private static partial Regex Decimal();

    [GeneratedRegex(@"(?<![\w.§-])\d[\d,]*(?:\.\d+)?\s?(?:%|°|mm³|mm3\b|mm\b|ms\b|s\b|MB/s|MB\b|GB\b|GiB\b|MiB\b|KiB\b|cases?\b|studies\b|instances\b|voxels\b|adults\b|subjects\b|members\b|folds?\b|minutes?\b|seconds?\b)")]
    private static partial Regex NumberWithUnit();

    [GeneratedRegex(@"(?<![\w.])\d+ of \d+(?![\w.])")]
    private static partial Regex NOfM();

    [GeneratedRegex(@"\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(\+[A-Za-z_][\w]*)*\.[A-Za-z_][\w]*$")]
    private static partial Regex FullyQualifiedName();

    /// <summary>Requirements: well-formed unique IDs in known areas, each traced, every traced test found and not skipped unconditionally, every traced command defined.</summary>
    public static List<string> Traces(ValidationPlan plan, IReadOnlyDictionary<string, FoundTest> tests)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(tests);
        var findings = new List<string>(plan.ParseErrors);
        if (plan.Requirements.Count == 0) findings.Add("requirements.md holds no requirement rows");
        foreach (var dup in plan.Requirements.GroupBy(r => r.Id).Where(g => g.Count() > 1))
            findings.Add($"{dup.Key} is defined {dup.Count()} times ({string.Join(", ", dup.Select(r => r.Where))})");
        foreach (var r in plan.Requirements)
        {
            var area = r.Id.Split('-')[1];
            if (!Areas.Contains(area)) findings.Add($"{r.Where}: {r.Id} is in no known area ({string.Join(", ", Areas)})");
            if (r.Text.StartsWith("Withdrawn", StringComparison.Ordinal)) continue;
            if (r.Tests.Count == 0 && r.Commands.Count == 0) findings.Add($"{r.Where}: {r.Id} has no trace (no test, no command)");
            foreach (var t in r.Tests)
            {
                if (!FullyQualifiedName().IsMatch(t)) findings.Add($"{r.Where}: {r.Id} traces '{t}', which is not Namespace.Class.Method");
                else if (!tests.TryGetValue(t, out var found)) findings.Add($"{r.Where}: {r.Id} traces {t}, which is no test in tests/");
                else if (found.SkippedStatically) findings.Add($"{r.Where}: {r.Id} traces {t}, which is skipped unconditionally ({found.File})");
            }
            foreach (var c in r.Commands.Where(c => !plan.CommandIds.Contains(c)))
                findings.Add($"{r.Where}: {r.Id} traces {c}, which measurements.md does not define");
        }
        return findings;
    }

    /// <summary>Every prose unit (sentence or table row) that states a measured number carries a reference.</summary>
    public static List<string> Numbers(ValidationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var findings = new List<string>();
        foreach (var u in plan.Units)
        {
            var prose = ValidationPlan.ProseOf(u.Text);
            var hasReference = ValidationPlan.RequirementId().IsMatch(prose) || ValidationPlan.MeasurementId().IsMatch(prose) ||
                               ValidationPlan.CommandId().IsMatch(prose) || ValidationPlan.SourceId().IsMatch(prose);
            if (hasReference) continue;
            var bare = StripIds(prose);
            var number = Decimal().Match(bare) is { Success: true } d ? d.Value
                : NOfM().Match(bare) is { Success: true } n ? n.Value
                : NumberWithUnit().Match(bare) is { Success: true } w ? w.Value : null;
            if (number is not null) findings.Add($"{u.File}:{u.Line}: '{number}' has no reference (M-, REQ-, CMD- or REF-) in: {Shorten(u.Text)}");
        }
        return findings;
    }

    /// <summary>Every decimal in a table row or sentence that cites measurements appears in those measurements' rows: the plan quotes its measurements exactly.</summary>
    public static List<string> QuotedMeasurements(ValidationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var findings = new List<string>();
        var rows = plan.Measurements.GroupBy(m => m.Id).ToDictionary(g => g.Key, g => string.Join("\n", g.Select(m => m.Row)), StringComparer.Ordinal);
        foreach (var u in plan.Units.Where(u => !u.File.EndsWith("/measurements.md", StringComparison.Ordinal)))
        {
            var prose = ValidationPlan.ProseOf(u.Text);
            var cited = ValidationPlan.MeasurementId().Matches(prose).Select(m => m.Value).Distinct().ToList();
            // Criteria (REQ-) may state limits derived from measurements; only pure quotations are checked.
            if (cited.Count == 0 || ValidationPlan.RequirementId().IsMatch(prose) || cited.Any(c => !rows.ContainsKey(c))) continue;
            var source = string.Join("\n", cited.Select(c => rows[c]));
            foreach (Match d in Decimal().Matches(StripIds(prose)))
            {
                if (!Regex.IsMatch(source, $@"(?<![\d.]){Regex.Escape(d.Value)}(?![\d])"))
                    findings.Add($"{u.File}:{u.Line}: {d.Value} is not in {string.Join(", ", cited)}: {Shorten(u.Text)}");
            }
        }
        return findings;
    }

    /// <summary>Every ID the plan mentions is defined; every measurement names a defined command; every command has a body.</summary>
    public static List<string> References(ValidationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var findings = new List<string>(plan.ParseErrors);
        foreach (var (path, text) in plan.Files)
        {
            var lines = text.Split('\n');
            var inCode = false;
            for (var n = 0; n < lines.Length; n++)
            {
                if (lines[n].StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
                if (inCode) continue;
                void Check(Regex id, IReadOnlySet<string> defined, string what)
                {
                    foreach (Match m in id.Matches(lines[n]))
                        if (!defined.Contains(m.Value)) findings.Add($"{path}:{n + 1}: {m.Value} is no {what}");
                }
                Check(ValidationPlan.RequirementId(), plan.RequirementIds, "requirement of requirements.md");
                Check(ValidationPlan.MeasurementId(), plan.MeasurementIds, "measurement of measurements.md");
                Check(ValidationPlan.CommandId(), plan.CommandIds, "command of measurements.md");
                Check(ValidationPlan.SourceId(), plan.Sources, "source of references.md");
            }
        }
        foreach (var (id, row, where) in plan.Measurements)
        {
            var cmds = ValidationPlan.CommandId().Matches(row).Select(m => m.Value).ToList();
            if (cmds.Count == 0) findings.Add($"{where}: {id} names no command (CMD-...)");
        }
        foreach (var c in plan.Commands.Where(c => string.IsNullOrWhiteSpace(c.Text))) findings.Add($"{c.Where}: {c.Id} has an empty command");
        foreach (var dup in plan.Commands.GroupBy(c => c.Id).Where(g => g.Count() > 1)) findings.Add($"{dup.Key} is defined {dup.Count()} times");
        return findings;
    }

    /// <summary>Every command runs something that exists: its dotnet project, the verb it passes to it, the repository files it names.</summary>
    public static List<string> Commands(ValidationPlan plan, IRepository repository)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(repository);
        var findings = new List<string>();
        foreach (var c in plan.Commands)
        {
            var lines = c.Text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
            foreach (var line in lines)
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                foreach (var w in words)
                {
                    var p = w.TrimEnd(',', ';', ')');
                    if (RepositoryFolders.Any(f => p.StartsWith(f, StringComparison.Ordinal)) && !repository.Exists(p))
                        findings.Add($"{c.Where}: {c.Id} names {p}, which does not exist");
                }
                if (words[0] == "dotnet" && words.Length > 1 && words[1] == "run")
                {
                    var project = Value(words, "--project");
                    if (project is null) { findings.Add($"{c.Where}: {c.Id}: dotnet run without --project"); continue; }
                    if (!repository.Files(project).Any(f => f.EndsWith(".csproj", StringComparison.Ordinal)))
                    {
                        findings.Add($"{c.Where}: {c.Id}: {project} holds no project");
                        continue;
                    }
                    var dash = Array.IndexOf(words, "--");
                    if (dash >= 0 && dash + 1 < words.Length)
                    {
                        var verb = words[dash + 1];
                        var literal = $"\"{verb}\"";
                        var known = repository.Files(project)
                            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
                            .Any(f => repository.Read(f)!.Contains(literal, StringComparison.Ordinal));
                        if (!known) findings.Add($"{c.Where}: {c.Id}: {project} knows no verb '{verb}'");
                    }
                }
                else if (words[0] == "dotnet" && words.Length > 2 && words[1] == "test" && !repository.Exists(words[2]))
                {
                    findings.Add($"{c.Where}: {c.Id}: no test project {words[2]}");
                }
                else if (words[0].Contains('/', StringComparison.Ordinal) && !words[0].StartsWith('/') && !words[0].StartsWith("..", StringComparison.Ordinal))
                {
                    if (!repository.IsExecutable(words[0])) findings.Add($"{c.Where}: {c.Id}: {words[0]} is not an executable file of the repository");
                }
            }
        }
        return findings;
    }

    /// <summary>Relative links resolve (files and, for markdown targets, heading anchors); requirements.md and platform.md link CONFORMANCE.md.</summary>
    public static List<string> Links(ValidationPlan plan, IRepository repository)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(repository);
        var findings = new List<string>();
        foreach (var (path, text) in plan.Files)
        {
            var dir = path[..path.LastIndexOf('/')];
            var lines = text.Split('\n');
            for (var n = 0; n < lines.Length; n++)
            {
                foreach (Match m in Link().Matches(lines[n]))
                {
                    var target = m.Groups[1].Value;
                    if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                    var hash = target.IndexOf('#', StringComparison.Ordinal);
                    var file = hash >= 0 ? target[..hash] : target;
                    var anchor = hash >= 0 ? target[(hash + 1)..] : null;
                    var resolved = file.Length == 0 ? path : Normalize($"{dir}/{file}");
                    if (resolved is null || !repository.Exists(resolved)) { findings.Add($"{path}:{n + 1}: link {target} does not resolve"); continue; }
                    if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(repository.Read(resolved) ?? "").Contains(anchor))
                        findings.Add($"{path}:{n + 1}: {resolved} has no heading #{anchor}");
                }
            }
        }
        foreach (var doc in new[] { "requirements.md", "platform.md" })
        {
            var key = $"{ValidationPlan.Folder}/{doc}";
            if (!plan.Files.TryGetValue(key, out var text) || !text.Contains("](../CONFORMANCE.md", StringComparison.Ordinal))
                findings.Add($"{key} does not link ../CONFORMANCE.md, the reference for interoperability claims");
        }
        return findings;
    }

    /// <summary>The hippocampus module names the shipped model, and its test-split figures are the model card's.</summary>
    public static List<string> ShippedModel(ValidationPlan plan, IRepository repository)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(repository);
        var (card, findings) = NamesTheShippedModel(plan, repository, "hippocampus", "hippocampus");
        if (card is null) return findings;
        foreach (var (id, cardRow) in new[] { ("M-HIP-001", "Ensemble mean Dice"), ("M-HIP-003", "Ensemble mean absolute volume error (mm³)") })
        {
            var stated = CardRow(card, cardRow);
            var measured = plan.Measurements.Where(m => m.Id == id).Select(m => ValidationPlan.Cells(m.Row)).FirstOrDefault();
            if (stated is null) { findings.Add($"MODEL_CARD.md has no table row '{cardRow}'"); continue; }
            if (measured is null || measured.Count < 3) { findings.Add($"measurements.md has no row {id}"); continue; }
            var values = Regex.Matches(measured[2], @"-?\d+(?:\.\d+)?").Select(v => ValidationPlan.Number(v.Value)).Take(3).ToList();
            if (values.Count != 3 || values.Zip(stated).Any(p => Math.Abs(p.First - p.Second) > 1e-9))
                findings.Add($"{id} ({string.Join(" / ", values)}) is not the model card's '{cardRow}' ({string.Join(" / ", stated)})");
        }
        return findings;
    }

    /// <summary>The chest X-ray module names the shipped chest model, and its test-image figures (M-CXR-004) are the model card's test row.</summary>
    public static List<string> ShippedChestModel(ValidationPlan plan, IRepository repository)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(repository);
        var (card, findings) = NamesTheShippedModel(plan, repository, "chest-xray", "chest-xray");
        if (card is null) return findings;
        // The card's row: | test (...) | images | AUROC | accuracy | sensitivity | specificity | PPV | NPV | threshold |
        var stated = card.Split('\n').Select(ValidationPlan.Cells).FirstOrDefault(c => c.Count >= 8 && c[0].StartsWith("test", StringComparison.Ordinal));
        var measured = plan.Measurements.Where(m => m.Id == "M-CXR-004").Select(m => ValidationPlan.Cells(m.Row)).FirstOrDefault();
        if (stated is null) findings.Add("models/chest-xray/MODEL_CARD.md has no results row starting 'test'");
        else if (measured is null || measured.Count < 3) findings.Add("measurements.md has no row M-CXR-004");
        else
        {
            var card6 = stated.Skip(2).Take(6).Select(ValidationPlan.Number).ToList();
            var plan6 = Regex.Matches(measured[2], @"\d+\.\d+").Select(v => ValidationPlan.Number(v.Value)).Take(6).ToList();
            if (plan6.Count != 6 || plan6.Zip(card6).Any(p => Math.Abs(p.First - p.Second) > 1e-9))
                findings.Add($"M-CXR-004 ({string.Join(" / ", plan6)}) is not the model card's test row ({string.Join(" / ", card6)})");
        }
        return findings;
    }

    /// <summary>The model card of models/<paramref name="model"/> (null when it, model.json or the module page is missing), and a finding when the page does not name model.json's name and version.</summary>
    private static (string? Card, List<string> Findings) NamesTheShippedModel(ValidationPlan plan, IRepository repository, string model, string module)
    {
        var manifest = repository.Read($"models/{model}/model.json");
        var card = repository.Read($"models/{model}/MODEL_CARD.md");
        var page = plan.Files.GetValueOrDefault($"{ValidationPlan.Folder}/modules/{module}.md");
        if (manifest is null || card is null || page is null)
            return (null, [$"models/{model}/model.json, MODEL_CARD.md or validation-plan/modules/{module}.md is missing"]);
        using var doc = JsonDocument.Parse(manifest);
        var name = doc.RootElement.GetProperty("name").GetString()!;
        var version = doc.RootElement.GetProperty("version").GetString()!;
        var findings = new List<string>();
        if (!page.Contains($"`{name}` version {version}", StringComparison.Ordinal))
            findings.Add($"modules/{module}.md does not name the shipped model as `{name}` version {version} (model.json)");
        return (card, findings);
    }

    private static double[]? CardRow(string card, string row)
    {
        foreach (var line in card.Split('\n'))
        {
            var cells = ValidationPlan.Cells(line);
            if (cells.Count >= 4 && cells[0] == row) return [.. cells.Skip(1).Take(3).Select(ValidationPlan.Number)];
        }
        return null;
    }

    private static string? Value(string[] words, string option)
    {
        var i = Array.IndexOf(words, option);
        return i >= 0 && i + 1 < words.Length ? words[i + 1] : null;
    }

    private static string? Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var p in path.Split('/'))
        {
            if (p is "" or ".") continue;
            if (p == "..")
            {
                if (parts.Count == 0) return null;
                parts.RemoveAt(parts.Count - 1);
            }
            else parts.Add(p);
        }
        return string.Join('/', parts);
    }

    /// <summary>GitHub's heading anchors of a markdown text: lower case, punctuation dropped, spaces as hyphens.</summary>
    public static HashSet<string> Anchors(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inCode = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
            if (inCode || !line.StartsWith('#')) continue;
            var title = line.TrimStart('#').Trim().ToLower(CultureInfo.InvariantCulture);
            var slug = new string([.. title.Where(ch => char.IsLetterOrDigit(ch) || ch is ' ' or '-' or '_')]).Replace(' ', '-');
            anchors.Add(slug);
        }
        return anchors;
    }

    private static string StripIds(string prose) =>
        ValidationPlan.SourceId().Replace(ValidationPlan.CommandId().Replace(ValidationPlan.MeasurementId().Replace(ValidationPlan.RequirementId().Replace(prose, " "), " "), " "), " ");

    private static string Shorten(string s) => s.Length <= 140 ? s : s[..137] + "...";
}
