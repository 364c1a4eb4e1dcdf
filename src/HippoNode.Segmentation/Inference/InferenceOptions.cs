using System.Globalization;

namespace HippoNode.Segmentation.Inference;

/// <summary>How ONNX Runtime runs the members: execution provider, device and threads.</summary>
/// <remarks>
/// The project ships the CPU build of ONNX Runtime. Selecting "cuda" needs the GPU build
/// (Microsoft.ML.OnnxRuntime.Gpu) and a CUDA installation; without them loading fails with a message that says so.
/// </remarks>
public sealed class InferenceOptions
{
    /// <summary>The execution providers understood: "cpu" and "cuda".</summary>
    public static IReadOnlyList<string> KnownProviders { get; } = ["cpu", "cuda"];

    /// <summary>"cpu" (default) or "cuda".</summary>
    public string ExecutionProvider { get; init; } = "cpu";

    /// <summary>The GPU index for "cuda".</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads inside one operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Test-time augmentation: each member also runs on the left-right (x) mirrored volume and the two probability maps are averaged (twice the time).</summary>
    public bool MirrorX { get; init; }

    /// <summary>Decision weights replacing model.json's (one per label; see <see cref="Model.ModelManifest.DecisionWeights"/>), or null to use the model's.</summary>
    public IReadOnlyList<double>? DecisionWeights { get; init; }

    /// <summary>Verify each member's SHA-256 against model.json when it lists one.</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>Options from HIPPONODE_EXECUTION_PROVIDER, HIPPONODE_DEVICE_ID, HIPPONODE_THREADS and HIPPONODE_TTA (none or mirror-x; each optional).</summary>
    /// <exception cref="ArgumentException">A variable holds a value that is not understood.</exception>
    public static InferenceOptions FromEnvironment()
    {
        var provider = Environment.GetEnvironmentVariable("HIPPONODE_EXECUTION_PROVIDER");
        var device = Environment.GetEnvironmentVariable("HIPPONODE_DEVICE_ID");
        var threads = Environment.GetEnvironmentVariable("HIPPONODE_THREADS");
        var tta = Environment.GetEnvironmentVariable("HIPPONODE_TTA");
        var o = new InferenceOptions
        {
            ExecutionProvider = string.IsNullOrWhiteSpace(provider) ? "cpu" : provider.Trim().ToLowerInvariant(),
            DeviceId = string.IsNullOrWhiteSpace(device) ? 0 : ParseInt(device, "HIPPONODE_DEVICE_ID"),
            IntraOpThreads = string.IsNullOrWhiteSpace(threads) ? 0 : ParseInt(threads, "HIPPONODE_THREADS"),
            MirrorX = tta?.Trim().ToLowerInvariant() switch
            {
                null or "" or "none" or "0" or "false" => false,
                "mirror-x" or "1" or "true" => true,
                _ => throw new ArgumentException($"HIPPONODE_TTA '{tta}' is not understood (expected none or mirror-x)"),
            },
        };
        o.Validate();
        return o;
    }

    /// <summary>Throws when the provider is unknown or a count is negative.</summary>
    /// <exception cref="ArgumentException">The problem, named.</exception>
    public void Validate()
    {
        if (!KnownProviders.Contains(ExecutionProvider))
            throw new ArgumentException($"unknown execution provider '{ExecutionProvider}' (expected {string.Join(" or ", KnownProviders)})");
        if (DeviceId < 0) throw new ArgumentException($"device id must not be negative, got {DeviceId}");
        if (IntraOpThreads < 0) throw new ArgumentException($"thread count must not be negative, got {IntraOpThreads}");
    }

    /// <summary>Opens an ONNX Runtime session on <paramref name="modelPath"/> with these options (all graph optimisations, the provider, the thread count).</summary>
    /// <exception cref="InvalidOperationException">The CUDA provider was asked for and is not available in this build.</exception>
    public Microsoft.ML.OnnxRuntime.InferenceSession CreateSession(string modelPath)
    {
        using var so = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (IntraOpThreads > 0) so.IntraOpNumThreads = IntraOpThreads;
        if (ExecutionProvider == "cuda")
        {
            try
            {
                so.AppendExecutionProvider_CUDA(DeviceId);
            }
            catch (Exception ex) when (ex is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                throw new InvalidOperationException(
                    $"the CUDA execution provider is not available ({ex.Message.Trim()}); it needs the Microsoft.ML.OnnxRuntime.Gpu package and CUDA/cuDNN, or use --provider cpu", ex);
            }
        }
        return new Microsoft.ML.OnnxRuntime.InferenceSession(modelPath, so);
    }

    private static int ParseInt(string s, string name) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} '{s}' is not an integer");
}
