using System.Globalization;
using System.Text;

namespace HippoNode.Training;

/// <summary>The complete state of a fold after an epoch: parameters, standardisation, Adam moments and step, epoch history, and the options it was trained with.</summary>
/// <remarks>Binary, little-endian: "HNVC" magic, format version, then the fields in declaration order; floats stored bit-exactly so a resumed fold continues as if never stopped.</remarks>
internal sealed class TrainingCheckpoint(string optionsJson, int fold, int epoch, long step, double beta1Power, double beta2Power, VoxelMlp mlp, float[] m, float[] v, IReadOnlyList<EpochRecord> history)
{
    private const int Magic = 0x43564E48; // "HNVC"
    private const int Version = 1;

    public string OptionsJson { get; } = optionsJson;

    public int Fold { get; } = fold;

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; } = epoch;

    public long Step { get; } = step;

    public double Beta1Power { get; } = beta1Power;

    public double Beta2Power { get; } = beta2Power;

    public VoxelMlp Mlp { get; } = mlp;

    public float[] M { get; } = m;

    public float[] V { get; } = v;

    public IReadOnlyList<EpochRecord> History { get; } = history;

    public static string PathFor(string dir, int fold, int epoch) =>
        Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"fold{fold}"), string.Create(CultureInfo.InvariantCulture, $"epoch{epoch:D3}.ckpt"));

    /// <summary>The checkpoint of the highest epoch for <paramref name="fold"/>, or null.</summary>
    public static string? Latest(string dir, int fold)
    {
        var d = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"fold{fold}"));
        if (!Directory.Exists(d)) return null;
        return Directory.EnumerateFiles(d, "epoch*.ckpt").Order(StringComparer.Ordinal).LastOrDefault();
    }

    /// <summary>Writes to a temporary file and renames it, so an interrupted write never leaves a torn checkpoint.</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        using (var s = File.Create(tmp))
        using (var w = new BinaryWriter(s, Encoding.UTF8))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(OptionsJson);
            w.Write(Fold);
            w.Write(Epoch);
            w.Write(Step);
            w.Write(Beta1Power);
            w.Write(Beta2Power);
            w.Write(Mlp.Sizes.Length);
            foreach (var size in Mlp.Sizes) w.Write(size);
            WriteFloats(w, Mlp.Parameters);
            WriteFloats(w, Mlp.FeatureMean);
            WriteFloats(w, Mlp.FeatureScale);
            WriteFloats(w, M);
            WriteFloats(w, V);
            w.Write(History.Count);
            foreach (var h in History)
            {
                w.Write(h.Epoch);
                w.Write(h.TrainLoss);
                w.Write(h.DiceAnterior);
                w.Write(h.DicePosterior);
                w.Write(h.DiceWhole);
                w.Write(h.LearningRate);
                w.Write(h.Seconds);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static TrainingCheckpoint Load(string path)
    {
        using var s = File.OpenRead(path);
        using var r = new BinaryReader(s, Encoding.UTF8);
        if (r.ReadInt32() != Magic) throw new InvalidDataException($"{path} is not a voxel-classifier checkpoint");
        var version = r.ReadInt32();
        if (version != Version) throw new InvalidDataException($"{path}: checkpoint version {version}, this build reads {Version}");
        var options = r.ReadString();
        var fold = r.ReadInt32();
        var epoch = r.ReadInt32();
        var step = r.ReadInt64();
        var b1 = r.ReadDouble();
        var b2 = r.ReadDouble();
        var sizes = new int[r.ReadInt32()];
        for (var i = 0; i < sizes.Length; i++) sizes[i] = r.ReadInt32();
        var mlp = new VoxelMlp(sizes);
        ReadFloats(r, mlp.Parameters, path);
        ReadFloats(r, mlp.FeatureMean, path);
        ReadFloats(r, mlp.FeatureScale, path);
        var m = new float[mlp.Parameters.Length];
        var v = new float[mlp.Parameters.Length];
        ReadFloats(r, m, path);
        ReadFloats(r, v, path);
        var history = new List<EpochRecord>();
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
            history.Add(new EpochRecord(r.ReadInt32(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble()));
        return new TrainingCheckpoint(options, fold, epoch, step, b1, b2, mlp, m, v, history);
    }

    /// <summary>Copies the state into a fresh trainer's network and optimiser after checking it was made with the same options and fold.</summary>
    /// <exception cref="InvalidDataException">The checkpoint belongs to other options, another fold or another network shape.</exception>
    public void Restore(TrainingOptions options, int fold, VoxelMlp mlp, AdamOptimizer adam)
    {
        if (OptionsJson != options.ToJson()) throw new InvalidDataException("the checkpoint was written with other training options (seed, epochs, features, network or optimiser); start without --resume or with the same options");
        if (Fold != fold) throw new InvalidDataException($"the checkpoint is of fold {Fold}, not {fold}");
        if (!Mlp.Sizes.SequenceEqual(mlp.Sizes)) throw new InvalidDataException("the checkpoint's network shape differs");
        Mlp.Parameters.CopyTo(mlp.Parameters, 0);
        Mlp.FeatureMean.CopyTo(mlp.FeatureMean, 0);
        Mlp.FeatureScale.CopyTo(mlp.FeatureScale, 0);
        M.CopyTo(adam.M, 0);
        V.CopyTo(adam.V, 0);
        adam.Step = Step;
        adam.Beta1Power = Beta1Power;
        adam.Beta2Power = Beta2Power;
    }

    private static void WriteFloats(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        foreach (var x in values) w.Write(x);
    }

    private static void ReadFloats(BinaryReader r, float[] into, string path)
    {
        var n = r.ReadInt32();
        if (n != into.Length) throw new InvalidDataException($"{path}: expected {into.Length} values, found {n}");
        for (var i = 0; i < n; i++) into[i] = r.ReadSingle();
    }
}
