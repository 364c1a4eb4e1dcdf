using System.Globalization;

namespace HippoNode.Training.Torch;

/// <summary>The training verbs' shared command-line reading: valued options, flags, numbers, and the trainer's own options.</summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _flags;

    private CommandArgs(Dictionary<string, string> values, HashSet<string> flags)
    {
        _values = values;
        _flags = flags;
    }

    /// <summary>The trainer's options every verb takes.</summary>
    public static IReadOnlyList<string> TrainerOptionNames { get; } = ["--epochs", "--seed", "--threads", "--device", "--libtorch", "--lr", "--validate-every", "--log-dir"];

    /// <summary>Reads <paramref name="args"/>; <paramref name="valued"/> take a value, <paramref name="flags"/> do not.</summary>
    /// <exception cref="ArgumentException">An unknown option, a missing value, an option given twice, or a missing required one.</exception>
    public static CommandArgs Parse(IReadOnlyList<string> args, IEnumerable<string> valued, IEnumerable<string> flags, IEnumerable<string> required)
    {
        ArgumentNullException.ThrowIfNull(args);
        var valuedSet = valued.Concat(TrainerOptionNames).ToHashSet(StringComparer.Ordinal);
        var flagSet = flags.Append("--resume").ToHashSet(StringComparer.Ordinal);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (flagSet.Contains(a)) { seen.Add(a); continue; }
            if (!valuedSet.Contains(a)) throw new ArgumentException($"unknown argument '{a}'");
            if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value");
            if (!values.TryAdd(a, args[++i])) throw new ArgumentException($"{a} given twice");
        }
        foreach (var r in required)
        {
            if (!values.ContainsKey(r)) throw new ArgumentException($"{r} is required");
        }
        return new CommandArgs(values, seen);
    }

    /// <summary>True when the flag was given.</summary>
    public bool Has(string flag) => _flags.Contains(flag);

    /// <summary>The option's value, or null.</summary>
    public string? Get(string name) => _values.GetValueOrDefault(name);

    /// <summary>The option's value (it is required).</summary>
    public string this[string name] => _values[name];

    /// <summary>The option as an integer, or <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback) => _values.TryGetValue(name, out var s) ? ParseInt(s, name) : fallback;

    /// <summary>The option as an integer, or null.</summary>
    public int? IntOrNull(string name) => _values.TryGetValue(name, out var s) ? ParseInt(s, name) : null;

    /// <summary>The option as a number, or <paramref name="fallback"/>.</summary>
    public double Double(string name, double fallback) =>
        !_values.TryGetValue(name, out var s) ? fallback
        : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{s}' is not a number");

    /// <summary>The shared trainer's options from the command line over <paramref name="defaults"/>.</summary>
    public TrainerOptions Trainer(TrainerOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var seed = defaults.Seed;
        if (_values.TryGetValue("--seed", out var s) && !ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            throw new ArgumentException($"--seed '{s}' is not a non-negative integer");
        var t = new TrainerOptions
        {
            Epochs = Int("--epochs", defaults.Epochs),
            Seed = seed,
            Threads = Int("--threads", defaults.Threads),
            Device = Get("--device") ?? defaults.Device,
            LearningRate = Double("--lr", defaults.LearningRate),
            WeightDecay = defaults.WeightDecay,
            PolyPower = defaults.PolyPower,
            ValidateEvery = Int("--validate-every", defaults.ValidateEvery),
        };
        t.Validate();
        return t;
    }

    /// <summary>Parses an integer option value.</summary>
    public static int ParseInt(string s, string name) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{s}' is not an integer");
}
