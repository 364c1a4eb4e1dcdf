using System.Diagnostics;
using HippoNode.Imaging;
using HippoNode.Segmentation.Metrics;
using HippoNode.Segmentation.Model;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HippoNode.Segmentation.Inference;

/// <summary>A loaded model folder: the manifest and one ONNX Runtime session per member; segments volumes as an ensemble.</summary>
/// <remarks>
/// Steps of <see cref="Segment"/>: z-score the image (manifest's region), view its x-fastest voxel array as a
/// [1, 1, z, y, x] tensor, run every member (padding in the graph or here, per the manifest), average the members'
/// probabilities, take the argmax (ties to the lower channel), count volumes from the voxel spacing, and score the
/// members' agreement. Concurrent <see cref="Segment"/> calls on one instance are safe: ONNX Runtime sessions allow
/// concurrent Run calls and nothing else here is shared mutable state.
/// </remarks>
public sealed class SegmentationModel : IDisposable
{
    private readonly InferenceSession[] _sessions;
    private readonly RunOptions _runOptions = new();
    private readonly int[] _foreground;

    private SegmentationModel(string folder, ModelManifest manifest, InferenceSession[] sessions, InferenceOptions options)
    {
        Folder = folder;
        Manifest = manifest;
        _sessions = sessions;
        Options = options;
        _foreground = [.. manifest.Labels.Skip(1).Select(l => l.Value)];
    }

    /// <summary>The model folder.</summary>
    public string Folder { get; }

    /// <summary>The folder's manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The options the sessions were made with.</summary>
    public InferenceOptions Options { get; }

    /// <summary>The number of ensemble members.</summary>
    public int MemberCount => _sessions.Length;

    /// <summary>Loads <paramref name="folder"/> (model.json and its members) with <paramref name="options"/> (default: CPU).</summary>
    /// <exception cref="FileNotFoundException">model.json or a member file is missing.</exception>
    /// <exception cref="FormatException">The manifest is invalid.</exception>
    /// <exception cref="InvalidDataException">A member's checksum, inputs or outputs do not match the manifest.</exception>
    /// <exception cref="InvalidOperationException">The execution provider is not available in this ONNX Runtime build.</exception>
    public static SegmentationModel Load(string folder, InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        options.Validate();
        var manifest = ModelManifest.Load(folder);
        var sessions = new List<InferenceSession>();
        try
        {
            foreach (var m in manifest.Members)
            {
                var path = Path.Combine(folder, m.File);
                if (!File.Exists(path)) throw new FileNotFoundException($"member {m.File} listed in {ModelManifest.FileName} is missing from {folder}", path);
                if (options.VerifyChecksums && m.Sha256 is not null && !string.Equals(ModelManifest.Sha256Of(path), m.Sha256, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"member {m.File}: SHA-256 differs from {ModelManifest.FileName} (file replaced or corrupted)");
                var session = options.CreateSession(path);
                sessions.Add(session);
                CheckSignature(session, manifest, m.File);
            }
            return new SegmentationModel(folder, manifest, [.. sessions], options);
        }
        catch
        {
            foreach (var s in sessions) s.Dispose();
            throw;
        }
    }

    private static void CheckSignature(InferenceSession session, ModelManifest manifest, string file)
    {
        if (!session.InputMetadata.TryGetValue(manifest.InputName, out var input))
            throw new InvalidDataException($"member {file} has no input '{manifest.InputName}' (it has {string.Join(", ", session.InputMetadata.Keys)})");
        if (!session.OutputMetadata.TryGetValue(manifest.OutputName, out var output))
            throw new InvalidDataException($"member {file} has no output '{manifest.OutputName}' (it has {string.Join(", ", session.OutputMetadata.Keys)})");
        if (input.ElementDataType != TensorElementType.Float || input.Dimensions.Length != 5 || input.Dimensions[1] is not (1 or -1))
            throw new InvalidDataException($"member {file}: input must be float32 [N, 1, D, H, W], is {input.ElementDataType} [{string.Join(", ", input.Dimensions)}]");
        if (output.Dimensions.Length != 5 || output.Dimensions[1] is not -1 && output.Dimensions[1] != manifest.Labels.Count)
            throw new InvalidDataException($"member {file}: output must be [N, {manifest.Labels.Count}, D, H, W], is [{string.Join(", ", output.Dimensions)}]");
    }

    /// <summary>The network input for <paramref name="image"/>: the z-scored voxels, x fastest (a C-order [z, y, x] array).</summary>
    public float[] Normalize(Volume3D image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Preprocessing.ZScore(image.Data, Manifest.NormalizationRegion, Manifest.NormalizationEpsilon);
    }

    /// <summary>Runs member <paramref name="member"/> on a normalised input of <paramref name="shape"/>; returns its probabilities, channel-major, on the same grid.</summary>
    /// <remarks>With <see cref="InferenceOptions.MirrorX"/> the member also sees the x-mirrored input, and its mirrored-back probabilities are averaged in.</remarks>
    public float[] RunMember(int member, float[] normalized, VolumeShape shape)
    {
        var p = RunMemberOnce(member, normalized, shape);
        if (!Options.MirrorX) return p;
        var mirrored = RunMemberOnce(member, MirrorRows(normalized, shape.X), shape);
        mirrored = MirrorRows(mirrored, shape.X);
        for (var i = 0; i < p.Length; i++) p[i] = 0.5f * (p[i] + mirrored[i]);
        return p;
    }

    /// <summary>Reverses every x row of one or more stacked x-fastest volumes.</summary>
    private static float[] MirrorRows(float[] data, int rowLength)
    {
        var result = new float[data.Length];
        for (var start = 0; start < data.Length; start += rowLength)
        {
            for (var x = 0; x < rowLength; x++) result[start + x] = data[start + rowLength - 1 - x];
        }
        return result;
    }

    private float[] RunMemberOnce(int member, float[] normalized, VolumeShape shape)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        ArgumentOutOfRangeException.ThrowIfNegative(member);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(member, _sessions.Length);
        if (normalized.Length != shape.VoxelCount) throw new ArgumentException($"shape {shape} needs {shape.VoxelCount} values, got {normalized.Length}", nameof(normalized));
        var classes = Manifest.Labels.Count;
        if (Manifest.Padding == PaddingLocation.Host)
        {
            var plan = Preprocessing.PlanPadding(shape, Manifest.SizeMultiple);
            if (!plan.IsIdentity)
            {
                var padded = Run(_sessions[member], Preprocessing.Pad(normalized, 1, plan), plan.Padded, classes);
                return Preprocessing.Crop(padded, classes, plan);
            }
        }
        return Run(_sessions[member], normalized, shape, classes);
    }

    private float[] Run(InferenceSession session, float[] input, VolumeShape shape, int classes)
    {
        // The volume's x-fastest array is already a C-order [z, y, x] block: D = z, H = y, W = x, no copy.
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 1, shape.Z, shape.Y, shape.X]);
        using var outputs = session.Run(_runOptions, [Manifest.InputName], [value], [Manifest.OutputName]);
        var o = outputs[0];
        var dims = o.GetTensorTypeAndShape().Shape;
        if (dims.Length != 5 || dims[0] != 1 || dims[1] != classes || dims[2] != shape.Z || dims[3] != shape.Y || dims[4] != shape.X)
            throw new InvalidDataException($"model output [{string.Join(", ", dims)}] does not match [1, {classes}, {shape.Z}, {shape.Y}, {shape.X}]");
        return o.GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Segments <paramref name="image"/> with all members, or only those in <paramref name="members"/> (indices).</summary>
    public SegmentationResult Segment(Volume3D image, IReadOnlyList<int>? members = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var total = Stopwatch.StartNew();
        members ??= [.. Enumerable.Range(0, _sessions.Length)];
        if (members.Count == 0) throw new ArgumentException("at least one member is needed", nameof(members));
        var classes = Manifest.Labels.Count;
        var n = image.VoxelCount;
        var input = Normalize(image);
        var sum = new double[classes * n];
        var memberLabels = new List<byte[]>(members.Count);
        var times = new List<TimeSpan>(members.Count);
        foreach (var m in members)
        {
            var sw = Stopwatch.StartNew();
            var p = RunMember(m, input, image.Shape);
            times.Add(sw.Elapsed);
            for (var i = 0; i < p.Length; i++) sum[i] += p[i];
            memberLabels.Add(Argmax(p, classes, n));
        }
        var mean = new float[sum.Length];
        for (var i = 0; i < sum.Length; i++) mean[i] = (float)(sum[i] / members.Count);
        var labels = Argmax(mean, classes, n);
        var voxelVolume = image.Spacing.VoxelVolume;
        var volumes = Manifest.Structures.Select(s =>
        {
            var count = OverlapMetrics.Count(labels, labels, s.Labels).Predicted;
            return new StructureVolume(s.Name, count, count * voxelVolume);
        }).ToList();
        var agreement = OverlapMetrics.MeanPairwiseDice(memberLabels, _foreground);
        return new SegmentationResult(image.Shape, image.Spacing, image.Affine, labels, mean, memberLabels, volumes, agreement, times, total.Elapsed);
    }

    /// <summary>The decision weights in use: the options' when set, else model.json's, else null (plain argmax).</summary>
    public IReadOnlyList<double>? DecisionWeights => Options.DecisionWeights ?? Manifest.DecisionWeights;

    /// <summary>The label of the most probable channel per voxel after <see cref="DecisionWeights"/> (ties go to the lower channel), mapped through the manifest's labels.</summary>
    public byte[] Argmax(ReadOnlySpan<float> probabilities, int classes, int voxels) => Argmax(probabilities, classes, voxels, DecisionWeights);

    /// <summary>The label of the most probable channel per voxel with the probabilities multiplied by <paramref name="weights"/> (null: plain argmax).</summary>
    public byte[] Argmax(ReadOnlySpan<float> probabilities, int classes, int voxels, IReadOnlyList<double>? weights)
    {
        if (probabilities.Length != classes * voxels) throw new ArgumentException($"expected {classes} x {voxels} probabilities, got {probabilities.Length}", nameof(probabilities));
        if (weights is not null && weights.Count != classes) throw new ArgumentException($"expected {classes} decision weights, got {weights.Count}", nameof(weights));
        var values = Manifest.Labels.Select(l => (byte)l.Value).ToArray();
        // Plain argmax is the weights 1: p * 1f is exactly p, so one loop serves both.
        var w = weights is null ? Enumerable.Repeat(1f, classes).ToArray() : weights.Select(v => (float)v).ToArray();
        var result = new byte[voxels];
        for (var i = 0; i < voxels; i++)
        {
            var best = 0;
            var bestP = probabilities[i] * w[0];
            for (var c = 1; c < classes; c++)
            {
                var p = probabilities[c * voxels + i] * w[c];
                if (p > bestP)
                {
                    best = c;
                    bestP = p;
                }
            }
            result[i] = values[best];
        }
        return result;
    }

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        foreach (var s in _sessions) s.Dispose();
        _runOptions.Dispose();
    }
}
