using System.Diagnostics;
using HippoNode.Datasets;
using HippoNode.Imaging;
using HippoNode.Imaging.Nifti;
using HippoNode.Onnx;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;

namespace HippoNode.Bench;

/// <summary>
/// ONNX Runtime inference time per volume on this machine's CPU: one member alone and the whole ensemble, median
/// over the held-out test list of models/hippocampus/split.json.
/// </summary>
/// <remarks>
/// <c>inference [--models DIR] [--data DIR] [--split FILE] [--threads N] [--warmup N] [--random-members N] [--provider cpu|cuda]</c>.
/// When DIR has no model.json yet (no trained model), a U-Net of the production architecture with random weights is
/// exported to a temporary folder (N members, default 5, one per cross-validation fold) and the output says so: the
/// timings hold for the trained model (same graph, same sizes), the segmentations do not.
/// </remarks>
public static class InferenceBenchmark
{
    private const string Usage =
        "usage: inference [--models DIR] [--data DIR] [--split FILE] [--threads N] [--warmup N] [--random-members N] [--provider cpu|cuda]";

    /// <summary>Runs the benchmark; 0 on success, 1 when data is missing, 2 on bad arguments.</summary>
    public static int Run(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
            options[args[i]] = args[++i];
        }
        var modelsDir = BenchUtil.ResolvePath(options.GetValueOrDefault("--models", "models/hippocampus"));
        var dataDir = BenchUtil.ResolvePath(options.GetValueOrDefault("--data", "../shared/data/hippocampus"));
        var splitPath = BenchUtil.ResolvePath(options.GetValueOrDefault("--split", "models/hippocampus/split.json"));
        var threads = int.Parse(options.GetValueOrDefault("--threads", "0"), System.Globalization.CultureInfo.InvariantCulture);
        var warmup = int.Parse(options.GetValueOrDefault("--warmup", "2"), System.Globalization.CultureInfo.InvariantCulture);
        var randomMembers = int.Parse(options.GetValueOrDefault("--random-members", "5"), System.Globalization.CultureInfo.InvariantCulture);
        var provider = options.GetValueOrDefault("--provider", "cpu");

        if (!File.Exists(splitPath))
        {
            Console.Error.WriteLine($"inference: no split at {splitPath}");
            return 1;
        }
        var ids = DatasetSplit.Load(splitPath).Test;
        var images = new List<(string Id, Volume3D Image)>();
        foreach (var id in ids)
        {
            var path = Path.Combine(dataDir, "imagesTr", id + ".nii.gz");
            if (File.Exists(path)) images.Add((id, NiftiReader.Read(path).Volume));
        }
        if (images.Count == 0)
        {
            Console.Error.WriteLine($"inference: none of the {ids.Count} test cases of {splitPath} found under {dataDir}/imagesTr");
            return 1;
        }

        string? tempDir = null;
        try
        {
            if (!File.Exists(Path.Combine(modelsDir, ModelManifest.FileName)))
            {
                tempDir = Path.Combine(Path.GetTempPath(), "hipponode-bench-model-" + Environment.ProcessId);
                var arch = UNetArchitecture.Production;
                var sw0 = Stopwatch.StartNew();
                ModelFolderWriter.Write(tempDir,
                    [.. Enumerable.Range(0, randomMembers).Select(k => new ExportMember(UNetWeights.CreateRandom(arch, 1000 + (ulong)k), k))],
                    new ModelFolderInfo { Version = "0.0.0-random", TrainingJson = """{"note":"random weights: benchmark only"}""" });
                Console.WriteLine($"NOTE: no trained model in {modelsDir} (no {ModelManifest.FileName}); using a freshly exported RANDOM U-Net of the production");
                Console.WriteLine($"      architecture ({arch}, {arch.ParameterCount():N0} parameters), {randomMembers} members, exported in {sw0.ElapsedMilliseconds} ms.");
                Console.WriteLine("      Timings hold for a trained model of this architecture; segmentations are meaningless.");
                modelsDir = tempDir;
            }

            var swLoad = Stopwatch.StartNew();
            using var model = SegmentationModel.Load(modelsDir, new InferenceOptions { IntraOpThreads = threads, ExecutionProvider = provider });
            var loadMs = swLoad.Elapsed.TotalMilliseconds;
            var bytes = model.Manifest.Members.Sum(m => new FileInfo(Path.Combine(modelsDir, m.File)).Length);
            Console.WriteLine($"model {model.Manifest} in {modelsDir}: {bytes:N0} bytes ({bytes / model.MemberCount:N0} per member), loaded in {BenchUtil.F(loadMs, 0)} ms");
            Console.WriteLine($"ONNX Runtime {provider}, intra-op threads {(threads == 0 ? "default" : threads.ToString(System.Globalization.CultureInfo.InvariantCulture))}, {Environment.ProcessorCount} logical CPUs; " +
                $"{images.Count} of {ids.Count} test cases of {splitPath}");

            for (var i = 0; i < warmup; i++)
            {
                model.Segment(images[i % images.Count].Image);
            }

            var single = new List<double>();
            var singleOrt = new List<double>();
            var ensemble = new List<double>();
            var ensembleOrt = new List<double>();
            foreach (var (_, image) in images)
            {
                var one = model.Segment(image, [0]);
                single.Add(one.Total.TotalMilliseconds);
                singleOrt.Add(one.MemberTimes[0].TotalMilliseconds);
                var all = model.Segment(image);
                ensemble.Add(all.Total.TotalMilliseconds);
                ensembleOrt.Add(all.MemberTimes.Sum(t => t.TotalMilliseconds));
            }
            var voxels = images.Select(x => (double)x.Image.VoxelCount).Order().ToList();
            var shapes = images.GroupBy(x => x.Image.Shape.ToString()).OrderByDescending(g => g.Count()).First().Key;
            Console.WriteLine($"volumes: median {BenchUtil.F(Median(voxels), 0)} voxels (most common shape {shapes})");
            Console.WriteLine($"one member : median {BenchUtil.F(Median(single))} ms per volume (ORT run {BenchUtil.F(Median(singleOrt))} ms), p90 {BenchUtil.F(Percentile(single, 0.9))} ms, mean {BenchUtil.F(single.Average())} ms");
            Console.WriteLine($"ensemble x{model.MemberCount}: median {BenchUtil.F(Median(ensemble))} ms per volume (ORT runs {BenchUtil.F(Median(ensembleOrt))} ms), p90 {BenchUtil.F(Percentile(ensemble, 0.9))} ms, mean {BenchUtil.F(ensemble.Average())} ms");
            Console.WriteLine($"throughput : {BenchUtil.F(1000 / Median(ensemble), 2)} volumes/s with the ensemble, {BenchUtil.F(1000 / Median(single), 2)} with one member");
            return 0;
        }
        finally
        {
            if (tempDir is not null && Directory.Exists(tempDir)) Directory.Delete(tempDir, recursive: true);
        }
    }

    private static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    private static double Percentile(IEnumerable<double> values, double q)
    {
        var v = values.Order().ToArray();
        var pos = q * (v.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = (int)Math.Ceiling(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }
}
