using HippoNode.Bench;

// Benchmarks, one verb each, one file per benchmark. Each prints its own numbers, ours against a peer (DCMTK)
// measured in the same run, and returns a process exit code.
//
//   dotnet run -c Release --project bench/HippoNode.Bench -- parse [DIR] [--rounds N] [--no-dcmtk]
//
// To add a benchmark: write a static class with `public static int Run(string[] args)` in its own file and add
// a case below (the network receive benchmark goes in as `receive`).
var verb = args.Length > 0 ? args[0] : "";
var rest = args.Length > 0 ? args[1..] : [];
switch (verb)
{
    case "parse":
        return ParseBenchmark.Run(rest);

    case "receive":
        return await ReceiveBenchmark.RunAsync(rest);

    case "inference":
        return InferenceBenchmark.Run(rest);

    case "pipeline":
        return await PipelineBenchmark.RunAsync(rest);

    case "fuzz":
        return await FuzzCommand.RunAsync(rest);

    case "soak":
        return await SoakCommand.RunAsync(rest);

    default:
        Console.Error.WriteLine("""
            usage: HippoNode.Bench <verb> [options]
              parse [DIR] [--rounds N] [--no-dcmtk]
                    read every file under DIR (default ../shared/data/TestVolumes) with our reader, pixel data
                    included and every value touched, N rounds (default 5); run dcmdump on the same files; print
                    MB/s for each and the ratio ours/dcmdump
              receive [DIR] [--rounds N]
                    storescu +sd +r of DIR into our SCP and into DCMTK storescp (defaults, and -pdu 65536), best of
                    N rounds (default 3); MB/s, instances/s and the ratio ours/storescp
              inference [--models DIR] [--data DIR] [--split FILE] [--threads N] [--warmup N] [--random-members N] [--provider cpu|cuda]
                    ONNX Runtime time per volume (one member, whole ensemble), median over the split's test list
              pipeline [--studies N] [--orthanc-stable S] [--node-stable S]
                    Orthanc (our config + Lua) and `hipponode serve` on loopback: last instance stored in Orthanc ->
                    our SR stored in Orthanc, minus the stable waits, median and p95 over N studies (default 20);
                    the node's stage timings
              fuzz [--inputs N] [--target part10,dimse,pdu,volume] [--seed S] [--out DIR] [--fresh]
                    seeded mutation fuzzing, N inputs per target (default 100,000), one target after another; a
                    progress line per 1,000 inputs; resumable (checkpoint per target in DIR, default fuzz-out/);
                    writes DIR/fuzz-report.json and .txt (inputs, crashes, hangs, peak memory, elapsed)
              fuzz capture
                    re-captures the network seed corpus (storescu, echoscu, our SCU -> our SCP)
              soak [--studies N] [--concurrency C] [--kills K] [--scu-share F] [--out DIR]
                    `hipponode serve` fed N synthetic studies over C concurrent associations (storescu and our SCU),
                    results to a loopback storescp; throughput, p50/p95 latency, RSS, fds, temp files over time
                    (CSV); checks every study analysed once and every result delivered once; --kills K: kill -9
                    the node K times during the soak and restart it on the same storage
            """);
        return verb is "" or "-h" or "--help" ? 0 : 2;
}
