using System.Globalization;

namespace HippoNode.Segmentation.Evaluation;

/// <summary>The "--name value" options of the evaluate verbs: each known option at most once, each required one present.</summary>
public static class VerbOptions
{
    /// <summary>The options of <paramref name="args"/> by name.</summary>
    /// <exception cref="ArgumentException">An unknown option, one without a value, one given twice, or a required one missing.</exception>
    public static Dictionary<string, string> Parse(IReadOnlyList<string> args, IReadOnlyList<string> known, IReadOnlyList<string> required)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!known.Contains(a)) throw new ArgumentException($"unknown argument '{a}'");
            if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value");
            if (!values.TryAdd(a, args[++i])) throw new ArgumentException($"{a} given twice");
        }
        foreach (var r in required)
        {
            if (!values.ContainsKey(r)) throw new ArgumentException($"{r} is required");
        }
        return values;
    }

    /// <summary>An integer option's value.</summary>
    /// <exception cref="ArgumentException">Not an integer (the message names the option).</exception>
    public static int Int(string text, string name) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{text}' is not an integer");
}
