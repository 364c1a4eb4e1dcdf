using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace HippoNode.Training.Torch;

/// <summary>Loads libtorch and chooses the device and thread count for a training run.</summary>
public static class TorchSetup
{
    // libtorch's CUDA libraries in their load order; each depends on the ones before it.
    private static readonly string[] CudaLibraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    /// <summary>Sets the intra-op thread count and returns the device: <c>cpu</c>, or <c>cuda</c> (optionally from a PyTorch install's lib folder).</summary>
    /// <param name="device">"cpu" or "cuda".</param>
    /// <param name="threads">Intra-op threads; 0 keeps libtorch's default (one per core).</param>
    /// <param name="libtorchDir">For cuda: a folder holding libtorch's CUDA libraries (e.g. a Python PyTorch's <c>torch/lib</c>); null uses whatever the process can load.</param>
    /// <exception cref="InvalidOperationException">CUDA was asked for and is not available.</exception>
    public static Device Initialize(string device, int threads, string? libtorchDir = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), "threads must not be negative");
        Device result;
        switch (device)
        {
            case "cpu":
                result = CPU;
                break;
            case "cuda":
                if (libtorchDir is not null)
                {
                    foreach (var lib in CudaLibraries) NativeLibrary.Load(Path.Combine(libtorchDir, lib));
                    // TorchSharp's own shim, next to the program, binds to the libtorch loaded above.
                    NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so"));
                }
                InitializeDeviceType(DeviceType.CUDA);
                if (!cuda.is_available()) throw new InvalidOperationException("--device cuda: libtorch reports no CUDA device (is a CUDA build of libtorch loaded? see --libtorch)");
                result = CUDA;
                break;
            default:
                throw new ArgumentException($"unknown device '{device}' (expected cpu or cuda)", nameof(device));
        }
        if (threads > 0) set_num_threads(threads);
        return result;
    }
}
