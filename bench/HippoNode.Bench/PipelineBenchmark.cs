using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;

namespace HippoNode.Bench;

/// <summary>
/// End-to-end latency of the product: Orthanc (our orthanc/ config and Lua router) and `hipponode serve`, both real
/// processes on loopback. For each of N studies (copies of the shared HippoCrop series under fresh UIDs, sent one at a
/// time), the time from the last instance stored in Orthanc (its C-STORE response) to our SR stored in Orthanc, minus
/// the two stable waits (Orthanc's StableAge and the node's quiet time); median and 95th percentile; and the node's
/// own stage timings from its /jobs endpoint.
/// </summary>
public static class PipelineBenchmark
{
    /// <summary>Runs the benchmark; exit code 0 when every study got its SR.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var studies = 20;
        var orthancStable = 1;
        var nodeStable = 1;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--studies": studies = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--orthanc-stable": orthancStable = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--node-stable": nodeStable = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"pipeline: unknown option {args[i]}"); return 2;
            }
        }
        var orthancExe = new[] { "/usr/sbin/Orthanc", "/usr/bin/Orthanc" }.FirstOrDefault(File.Exists);
        var shared = BenchUtil.ResolvePath("../shared/data/TestVolumes");
        if (orthancExe is null || !Directory.Exists(shared))
        {
            Console.Error.WriteLine("pipeline: needs Orthanc (apt-get install orthanc orthanc-dicomweb) and ../shared/data/TestVolumes");
            return 2;
        }
        var work = Directory.CreateTempSubdirectory("hipponode-pipeline-bench").FullName;
        var processes = new List<Process>();
        try
        {
            int orthancDicom = BenchUtil.FreePort(), orthancHttp = BenchUtil.FreePort(), nodePort = BenchUtil.FreePort(), nodeHttp = BenchUtil.FreePort();
            var orthanc = BenchUtil.StartDrained(orthancExe, [Path.Combine(BenchUtil.RepoRoot, "orthanc", "orthanc.json")], new()
            {
                ["ORTHANC_STORAGE"] = Path.Combine(work, "orthanc"), ["ORTHANC_DICOM_PORT"] = $"{orthancDicom}", ["ORTHANC_HTTP_PORT"] = $"{orthancHttp}",
                ["ORTHANC_STABLE_AGE"] = $"{orthancStable}", ["HIPPONODE_PORT"] = $"{nodePort}",
            }, work);
            processes.Add(orthanc);
            var node = BenchUtil.StartDrained("dotnet", [Path.Combine(AppContext.BaseDirectory, "hipponode.dll"), "serve", "--port", $"{nodePort}",
                "--storage", Path.Combine(work, "node"), "--pacs-port", $"{orthancDicom}", "--http", $"http://127.0.0.1:{nodeHttp}",
                "--stable-seconds", $"{nodeStable}", "--HippoNode:ConsoleLog=false"], [], work);
            processes.Add(node);
            using var orthancApi = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{orthancHttp}") };
            using var nodeApi = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nodeHttp}") };
            await WaitUpAsync(orthancApi, "/system", "Orthanc");
            await WaitUpAsync(nodeApi, "/health", "hipponode serve");

            var sources = new[] { "Study1", "Study2" }
                .Select(s => Directory.GetDirectories(Path.Combine(shared, s)).Single(d => d.Contains("HCrop", StringComparison.Ordinal)))
                .ToArray();
            var client = new DicomClientOptions { CallingAeTitle = "SCANNER", CalledAeTitle = "ORTHANC" };
            var latencies = new List<double>();
            for (var n = 0; n < studies; n++)
            {
                var folder = CopyWithNewUids(sources[n % sources.Length], Path.Combine(work, "studies", $"{n}"), out var studyUid);
                await foreach (var r in DicomSender.SendAsync("127.0.0.1", orthancDicom, client, Directory.GetFiles(folder)))
                    if (!r.Succeeded) throw new InvalidOperationException($"store into Orthanc failed: {r.Error ?? r.Status?.ToString()}");
                var lastStored = Stopwatch.GetTimestamp();
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
                while (!await HasOurSrAsync(orthancApi, studyUid))
                {
                    if (DateTime.UtcNow > deadline) throw new TimeoutException($"study {n}: no SR in Orthanc after 120 s");
                    await Task.Delay(20);
                }
                var ms = Stopwatch.GetElapsedTime(lastStored).TotalMilliseconds - 1000.0 * (orthancStable + nodeStable);
                latencies.Add(ms);
                Console.WriteLine($"study {n + 1,2}/{studies}: {BenchUtil.F(ms, 0)} ms after the stable waits");
            }

            latencies.Sort();
            Console.WriteLine();
            Console.WriteLine($"last instance stored in Orthanc -> our SR stored in Orthanc, minus {orthancStable} s Orthanc StableAge and {nodeStable} s node quiet time, {studies} studies:");
            Console.WriteLine($"  median {BenchUtil.F(Percentile(latencies, 0.5), 0)} ms, p95 {BenchUtil.F(Percentile(latencies, 0.95), 0)} ms, min {BenchUtil.F(latencies[0], 0)} ms, max {BenchUtil.F(latencies[^1], 0)} ms");
            Console.WriteLine("  (the remainder includes Orthanc's stable-study polling granularity, its Lua job and store to the node, and the node's polling)");

            using var jobs = JsonDocument.Parse(await nodeApi.GetStringAsync("/jobs?limit=1000"));
            var stages = new Dictionary<string, List<double>>();
            var totals = new List<double>();
            foreach (var job in jobs.RootElement.EnumerateArray())
            {
                totals.Add(job.GetProperty("totalMilliseconds").GetDouble());
                foreach (var s in job.GetProperty("stages").EnumerateArray())
                {
                    var name = s.GetProperty("stage").GetString()!;
                    if (!stages.TryGetValue(name, out var list)) stages[name] = list = [];
                    list.Add(s.GetProperty("milliseconds").GetDouble());
                }
            }
            Console.WriteLine($"node stage timings over {totals.Count} jobs (median / p95 ms):");
            foreach (var (name, list) in stages)
            {
                list.Sort();
                Console.WriteLine($"  {name,-24} {BenchUtil.F(Percentile(list, 0.5), 1),8} / {BenchUtil.F(Percentile(list, 0.95), 1)}");
            }
            totals.Sort();
            if (totals.Count > 0) Console.WriteLine($"  {"total",-24} {BenchUtil.F(Percentile(totals, 0.5), 1),8} / {BenchUtil.F(Percentile(totals, 0.95), 1)}");
            return 0;
        }
        finally
        {
            foreach (var p in processes)
            {
                try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(10_000); } catch (InvalidOperationException) { }
                p.Dispose();
            }
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static async Task<bool> HasOurSrAsync(HttpClient orthanc, string studyUid)
    {
        using var rsp = await orthanc.PostAsync("/tools/find", new StringContent(JsonSerializer.Serialize(new
        {
            Level = "Series",
            Query = new Dictionary<string, string> { ["StudyInstanceUID"] = studyUid, ["SeriesDescription"] = "HippoNode SR" },
        })));
        using var doc = JsonDocument.Parse(await rsp.Content.ReadAsStringAsync());
        return doc.RootElement.GetArrayLength() > 0;
    }

    // A fresh study: same pixels and headers, new study/series/instance UIDs (2.25 UUID-derived).
    private static string CopyWithNewUids(string source, string target, out string studyUid)
    {
        Directory.CreateDirectory(target);
        studyUid = DicomUid.Generate();
        var seriesUid = DicomUid.Generate();
        foreach (var path in Directory.GetFiles(source))
        {
            var file = DicomFile.Open(path);
            var sop = DicomUid.Generate();
            file.Dataset.AddOrUpdate(DicomTags.StudyInstanceUID, studyUid);
            file.Dataset.AddOrUpdate(DicomTags.SeriesInstanceUID, seriesUid);
            file.Dataset.AddOrUpdate(DicomTags.SOPInstanceUID, sop);
            file.FileMetaInformation.AddOrUpdate(DicomTags.MediaStorageSOPInstanceUID, sop);
            file.Save(Path.Combine(target, Path.GetFileName(path)));
        }
        return target;
    }

    private static async Task WaitUpAsync(HttpClient http, string path, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var rsp = await http.GetAsync(path);
                if (rsp.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > until) throw new TimeoutException($"{what} did not come up within 60 s");
            await Task.Delay(100);
        }
    }

}
