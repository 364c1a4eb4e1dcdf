using System.Text;
using System.Text.RegularExpressions;

namespace HippoNode.ValidationPlan.Tests;

/// <summary>A test method found in the sources: its xunit fully qualified name and whether its attribute skips it unconditionally.</summary>
public sealed record FoundTest(string FullName, string File, bool SkippedStatically);

/// <summary>
/// Finds xunit test methods by reading C# sources, without building or loading the test assemblies: methods carrying
/// an attribute named <c>...Fact</c> or <c>...Theory</c> (xunit's and the project's own, e.g. SharedDataFact), with
/// their namespace (file-scoped or nested blocks), class (partial parts merged, nested classes as Outer+Inner, as
/// xunit names them), and the test methods a class inherits from a base class found in the sources.
/// </summary>
public static partial class TestSourceScanner
{
    [GeneratedRegex(@"^\w*(Fact|Theory)$")]
    private static partial Regex TestAttributeName();

    private sealed class TypeInfo(string fullName, string simpleName, string @namespace)
    {
        public string FullName { get; } = fullName;
        public string SimpleName { get; } = simpleName;
        public string Namespace { get; } = @namespace;
        public string? BaseName { get; set; }
        public bool IsAbstract { get; set; }
        public string File { get; set; } = "";
        public Dictionary<string, bool> Methods { get; } = new(StringComparer.Ordinal); // name -> statically skipped
    }

    /// <summary>Every runnable test in <paramref name="sources"/> (path, text), keyed by full name.</summary>
    public static IReadOnlyDictionary<string, FoundTest> Scan(IEnumerable<(string Path, string Text)> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var types = new Dictionary<string, TypeInfo>(StringComparer.Ordinal);
        foreach (var (path, text) in sources) ScanFile(path, text, types);

        var result = new Dictionary<string, FoundTest>(StringComparer.Ordinal);
        foreach (var type in types.Values.Where(t => !t.IsAbstract))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var t = type; t is not null && seen.Add(t.FullName); t = Base(t, types))
            {
                foreach (var (method, skipped) in t.Methods)
                    result.TryAdd($"{type.FullName}.{method}", new FoundTest($"{type.FullName}.{method}", t.File, skipped));
            }
        }
        return result;
    }

    /// <summary>Scans the test sources under <paramref name="testsRoot"/> (every .cs file outside bin/ and obj/).</summary>
    public static IReadOnlyDictionary<string, FoundTest> ScanFolder(string testsRoot)
    {
        var sep = Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(testsRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{sep}bin{sep}", StringComparison.Ordinal) && !f.Contains($"{sep}obj{sep}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        return Scan(files.Select(f => (f, File.ReadAllText(f))));
    }

    private static TypeInfo? Base(TypeInfo t, Dictionary<string, TypeInfo> types)
    {
        if (t.BaseName is null) return null;
        var candidates = types.Values.Where(x => x.SimpleName == t.BaseName).ToList();
        return candidates.FirstOrDefault(x => x.Namespace == t.Namespace) ?? (candidates.Count == 1 ? candidates[0] : null);
    }

    private enum ScopeKind { Namespace, Type, Other }

    private sealed record Scope(ScopeKind Kind, string Name, TypeInfo? Type);

    private static void ScanFile(string path, string text, Dictionary<string, TypeInfo> types)
    {
        var tokens = Tokenize(CSharpCode.Strip(text));
        var stack = new List<Scope>();
        var fileNamespace = "";
        string? pendingNamespace = null;
        TypeInfo? pendingType = null;
        var modifiers = new List<string>();
        var testAttribute = false;
        var testSkipped = false;
        var lastIdentifier = (string?)null;
        var angleDepth = 0;
        string prev = ";";

        string Namespace() => string.Join('.', new[] { fileNamespace }.Concat(stack.Where(s => s.Kind == ScopeKind.Namespace).Select(s => s.Name)).Where(n => n.Length > 0));
        Scope? Top() => stack.Count == 0 ? null : stack[^1];
        bool AtTypeLevel() => Top()?.Kind == ScopeKind.Type;
        bool AtDeclarationLevel() => Top() is null || Top()!.Kind != ScopeKind.Other;

        for (var i = 0; i < tokens.Count; i++)
        {
            var tok = tokens[i];
            if (tok == "namespace" && AtDeclarationLevel())
            {
                var (name, next) = QualifiedName(tokens, i + 1);
                if (next < tokens.Count && tokens[next] == ";")
                {
                    fileNamespace = name;
                    i = next;
                    prev = ";";
                    continue;
                }
                pendingNamespace = name;
                i = next - 1;
                prev = "namespace";
                continue;
            }
            if (tok is "class" or "struct" or "interface" or "record" && AtDeclarationLevel() && prev is not (":" or "," or "<"))
            {
                var j = i + 1;
                if (tok == "record" && j < tokens.Count && tokens[j] is "class" or "struct") j++;
                if (j < tokens.Count && IsIdentifier(tokens[j]))
                {
                    var simple = tokens[j];
                    var ns = Namespace();
                    var outer = stack.LastOrDefault(s => s.Kind == ScopeKind.Type)?.Type;
                    var full = outer is not null ? $"{outer.FullName}+{simple}" : (ns.Length > 0 ? $"{ns}.{simple}" : simple);
                    if (!types.TryGetValue(full, out var info)) types[full] = info = new TypeInfo(full, simple, ns) { File = path };
                    if (modifiers.Contains("abstract") || modifiers.Contains("static")) info.IsAbstract = true;
                    // Header: generic parameters, a primary constructor, then an optional base list.
                    j++;
                    j = SkipBalanced(tokens, j, "<", ">");
                    j = SkipBalanced(tokens, j, "(", ")");
                    if (j < tokens.Count && tokens[j] == ":")
                    {
                        var (baseName, _) = QualifiedName(tokens, j + 1);
                        var last = baseName.Split('.')[^1];
                        if (last.Length > 0 && info.BaseName is null) info.BaseName = last;
                    }
                    pendingType = info;
                    testAttribute = false;
                    i = j - 1;
                    prev = simple;
                    continue;
                }
            }
            if (tok == "[" && AtTypeLevel() && prev is ";" or "{" or "}" or "]")
            {
                var end = ReadAttributeSection(tokens, i, out var isTest, out var skipped);
                testAttribute |= isTest;
                testSkipped |= skipped;
                i = end;
                prev = "]";
                lastIdentifier = null;
                angleDepth = 0;
                continue;
            }
            switch (tok)
            {
                case "{":
                    if (pendingType is not null) stack.Add(new Scope(ScopeKind.Type, pendingType.SimpleName, pendingType));
                    else if (pendingNamespace is not null) stack.Add(new Scope(ScopeKind.Namespace, pendingNamespace, null));
                    else stack.Add(new Scope(ScopeKind.Other, "", null));
                    pendingType = null;
                    pendingNamespace = null;
                    testAttribute = false;
                    testSkipped = false;
                    modifiers.Clear();
                    break;
                case "}":
                    if (stack.Count > 0) stack.RemoveAt(stack.Count - 1);
                    modifiers.Clear();
                    break;
                case ";":
                    pendingType = null;
                    testAttribute = false;
                    testSkipped = false;
                    modifiers.Clear();
                    break;
                case "<" when AtTypeLevel() && testAttribute:
                    angleDepth++;
                    break;
                case ">" when AtTypeLevel() && testAttribute:
                    angleDepth = Math.Max(0, angleDepth - 1);
                    break;
                case "(" when AtTypeLevel() && testAttribute && angleDepth == 0:
                    if (lastIdentifier is not null && Top()!.Type is { } owner) owner.Methods.TryAdd(lastIdentifier, testSkipped);
                    testAttribute = false;
                    testSkipped = false;
                    break;
                case "=" when AtTypeLevel():
                    testAttribute = false;
                    testSkipped = false;
                    break;
                default:
                    if (IsIdentifier(tok))
                    {
                        if (angleDepth == 0) lastIdentifier = tok;
                        if (AtDeclarationLevel()) modifiers.Add(tok);
                    }
                    break;
            }
            prev = tok;
        }
    }

    /// <summary>Reads one attribute section from its '['; returns the index of its ']'.</summary>
    private static int ReadAttributeSection(List<string> tokens, int open, out bool isTest, out bool skipped)
    {
        isTest = false;
        skipped = false;
        var depth = 0;
        var parens = 0;
        var attributeStart = true;
        var currentIsTest = false;
        for (var i = open; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t == "[") depth++;
            else if (t == "]")
            {
                depth--;
                if (depth == 0) return i;
            }
            else if (t == "(") parens++;
            else if (t == ")") parens--;
            else if (t == "," && parens == 0 && depth == 1) attributeStart = true;
            else if (IsIdentifier(t) && parens == 0 && depth == 1 && attributeStart)
            {
                // The attribute's name is the last segment of a qualified name (Xunit.Fact); a target prefix (method:) is skipped.
                var (name, next) = QualifiedName(tokens, i);
                if (next < tokens.Count && tokens[next] == ":") { i = next; continue; }
                var simple = name.Split('.')[^1];
                if (simple.EndsWith("Attribute", StringComparison.Ordinal)) simple = simple[..^"Attribute".Length];
                currentIsTest = TestAttributeName().IsMatch(simple);
                isTest |= currentIsTest;
                attributeStart = false;
                i = next - 1;
            }
            else if (t == "Skip" && parens == 1 && currentIsTest && i + 1 < tokens.Count && tokens[i + 1] == "=") skipped = true;
        }
        return tokens.Count - 1;
    }

    private static (string Name, int Next) QualifiedName(List<string> tokens, int i)
    {
        var parts = new List<string>();
        while (i < tokens.Count && IsIdentifier(tokens[i]))
        {
            parts.Add(tokens[i].TrimStart('@'));
            i++;
            if (i < tokens.Count && tokens[i] == "." && i + 1 < tokens.Count && IsIdentifier(tokens[i + 1])) i++;
            else break;
        }
        i = SkipBalanced(tokens, i, "<", ">");
        return (string.Join('.', parts), i);
    }

    private static int SkipBalanced(List<string> tokens, int i, string open, string close)
    {
        if (i >= tokens.Count || tokens[i] != open) return i;
        var depth = 0;
        for (; i < tokens.Count; i++)
        {
            if (tokens[i] == open) depth++;
            else if (tokens[i] == close && --depth == 0) return i + 1;
        }
        return i;
    }

    private static bool IsIdentifier(string t) => t.Length > 0 && (char.IsLetter(t[0]) || t[0] is '_' or '@');

    private static List<string> Tokenize(string code)
    {
        var tokens = new List<string>();
        for (var i = 0; i < code.Length;)
        {
            var c = code[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsLetterOrDigit(c) || c is '_' or '@')
            {
                var start = i++;
                while (i < code.Length && (char.IsLetterOrDigit(code[i]) || code[i] == '_')) i++;
                tokens.Add(code[start..i]);
                continue;
            }
            tokens.Add(c.ToString());
            i++;
        }
        return tokens;
    }
}

/// <summary>C# source with comments and the contents of string and character literals blanked out (line breaks kept), so a scanner sees only code.</summary>
public static class CSharpCode
{
    /// <summary>The code of <paramref name="text"/> with comments and literals replaced by spaces.</summary>
    public static string Strip(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new StringBuilder(text.Length);
        var i = 0;
        Code(text, ref i, output, inHole: false);
        return output.ToString();
    }

    // Code until the end, or (in an interpolation hole) until the '}' that closes it.
    private static void Code(string s, ref int i, StringBuilder o, bool inHole)
    {
        var depth = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '/')
            {
                while (i < s.Length && s[i] != '\n') Blank(s, ref i, o);
                continue;
            }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                Blank(s, ref i, o);
                Blank(s, ref i, o);
                while (i < s.Length && !(s[i] == '*' && i + 1 < s.Length && s[i + 1] == '/')) Blank(s, ref i, o);
                if (i < s.Length) { Blank(s, ref i, o); Blank(s, ref i, o); }
                continue;
            }
            if (StringStart(s, i) is { } start)
            {
                StringLiteral(s, ref i, o, start.Dollars, start.Verbatim, start.PrefixLength);
                continue;
            }
            if (c == '\'')
            {
                Blank(s, ref i, o);
                while (i < s.Length && s[i] != '\'' && s[i] != '\n')
                {
                    if (s[i] == '\\') Blank(s, ref i, o);
                    if (i < s.Length) Blank(s, ref i, o);
                }
                if (i < s.Length && s[i] == '\'') Blank(s, ref i, o);
                continue;
            }
            if (inHole)
            {
                if (c == '{') depth++;
                else if (c == '}' && depth-- == 0) return;
            }
            o.Append(c);
            i++;
        }
    }

    private static (int Dollars, bool Verbatim, int PrefixLength)? StringStart(string s, int i)
    {
        if (i > 0 && (char.IsLetterOrDigit(s[i - 1]) || s[i - 1] == '_')) return null;
        var j = i;
        var dollars = 0;
        var verbatim = false;
        while (j < s.Length && s[j] is '$' or '@')
        {
            if (s[j] == '$') dollars++;
            else verbatim = true;
            j++;
        }
        return j < s.Length && s[j] == '"' ? (dollars, verbatim, j - i) : null;
    }

    private static void StringLiteral(string s, ref int i, StringBuilder o, int dollars, bool verbatim, int prefix)
    {
        for (var k = 0; k < prefix; k++) Blank(s, ref i, o);
        var quotes = 0;
        while (i + quotes < s.Length && s[i + quotes] == '"') quotes++;
        if (quotes >= 3)
        {
            // Raw string literal: ends at the next run of as many quotes.
            var close = new string('"', quotes);
            for (var k = 0; k < quotes; k++) Blank(s, ref i, o);
            var end = s.IndexOf(close, i, StringComparison.Ordinal);
            end = end < 0 ? s.Length : end + quotes;
            while (i < end) Blank(s, ref i, o);
            return;
        }
        if (quotes == 2 && !(i + 2 < s.Length && verbatim && s[i + 2] == '"'))
        {
            Blank(s, ref i, o);
            Blank(s, ref i, o);
            return;
        }
        Blank(s, ref i, o);
        while (i < s.Length)
        {
            var c = s[i];
            if (!verbatim && c == '\\') { Blank(s, ref i, o); if (i < s.Length) Blank(s, ref i, o); continue; }
            if (verbatim && c == '"' && i + 1 < s.Length && s[i + 1] == '"') { Blank(s, ref i, o); Blank(s, ref i, o); continue; }
            if (c == '"') { Blank(s, ref i, o); return; }
            if (!verbatim && c == '\n') return;
            if (dollars > 0 && c == '{')
            {
                if (i + 1 < s.Length && s[i + 1] == '{') { Blank(s, ref i, o); Blank(s, ref i, o); continue; }
                // An interpolation hole is code (it may hold strings and braces of its own); it declares nothing, so it is blanked too.
                Blank(s, ref i, o);
                var hole = new StringBuilder();
                Code(s, ref i, hole, inHole: true);
                foreach (var h in hole.ToString()) o.Append(h == '\n' ? '\n' : ' ');
                if (i < s.Length) Blank(s, ref i, o);
                continue;
            }
            Blank(s, ref i, o);
        }
    }

    private static void Blank(string s, ref int i, StringBuilder o)
    {
        o.Append(s[i] == '\n' ? '\n' : ' ');
        i++;
    }
}
