using System.Diagnostics;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using static HippoNode.Bench.BenchUtil;

namespace HippoNode.Bench;

/// <summary>
/// `parse`: read every file of a folder with our reader (pixel data into memory, every value touched) for several
/// rounds, then dcmdump the same files the same number of rounds, and print MB/s and ours/dcmdump ratios.
/// </summary>
internal static class ParseBenchmark
{
    public static int Run(string[] args)
    {
        var dir = "../shared/data/TestVolumes";
        var rounds = 5;
        var dcmtk = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds" when i + 1 < args.Length: rounds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--no-dcmtk": dcmtk = false; break;
                default: dir = args[i]; break;
            }
        }
        dir = ResolvePath(dir);
        if (!Directory.Exists(dir))
        {
            Console.Error.WriteLine($"parse: no folder {dir}");
            return 2;
        }
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(IsDicom).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            Console.Error.WriteLine($"parse: no DICOM files under {dir}");
            return 2;
        }
        var bytes = files.Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"parse: {files.Count} files, {F(bytes / 1e6)} MB under {dir}; {rounds} rounds each; {Environment.ProcessorCount} CPUs, one thread each side");

        // Warm-up: JIT for us, page cache for both.
        ReadAll(files, fromMemory: false);
        var results = new List<(string Name, TimeSpan Time)>
        {
            ("ours: DicomFile.Open, all values read", Time(rounds, () => ReadAll(files, fromMemory: false))),
            ("ours: DicomFile.Read from memory", Time(rounds, () => ReadAll(files, fromMemory: true))),
        };

        if (dcmtk && HasTool("dcmdump"))
        {
            foreach (var (name, flags) in new[] { ("dcmdump -q (loads all)", new[] { "-q" }), ("dcmdump -q +L (prints all)", ["-q", "+L"]), ("dcmdump -q -M (skips long values)", ["-q", "-M"]) })
            {
                Dcmdump(files, flags); // warm-up and a check that it works
                results.Add((name, Time(rounds, () => Dcmdump(files, flags))));
            }
        }
        else
        {
            Console.WriteLine(dcmtk ? "dcmdump not on PATH: DCMTK comparison skipped" : "DCMTK comparison skipped (--no-dcmtk)");
        }

        var total = bytes * rounds;
        var ours = results[0].Time;
        Console.WriteLine();
        Console.WriteLine($"{"reader",-40} {"seconds",8} {"MB/s",9} {"ours/this",10}");
        foreach (var (name, time) in results)
            Console.WriteLine($"{name,-40} {F(time.TotalSeconds, 2),8} {F(MBps(total, time)),9} {F(time.TotalSeconds / ours.TotalSeconds, 2),10}");
        Console.WriteLine("(ours/this = our MB/s over its MB/s, ours being the first line; > 1 means ours is faster)");
        return 0;
    }

    private static bool IsDicom(string path)
    {
        try
        {
            using var fs = File.OpenRead(path);
            Span<byte> head = stackalloc byte[132];
            return fs.ReadAtLeast(head, 132, throwOnEndOfStream: false) == 132 && head[128..].SequenceEqual("DICM"u8);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static TimeSpan Time(int rounds, Action action)
    {
        var sw = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++) action();
        return sw.Elapsed;
    }

    /// <summary>Everything in memory: values are not left in the file, and every byte of every value is visited.</summary>
    private static readonly DicomReadOptions InMemory = new() { LargeValueThreshold = long.MaxValue };

    private static long _sink;

    private static void ReadAll(List<string> files, bool fromMemory)
    {
        long sum = 0;
        foreach (var f in files)
        {
            var file = fromMemory ? DicomFile.Read(new MemoryStream(File.ReadAllBytes(f), writable: false), InMemory) : DicomFile.Open(f, InMemory);
            sum += Touch(file.FileMetaInformation) + Touch(file.Dataset);
        }
        _sink += sum;
    }

    private static long Touch(DicomDataset ds)
    {
        long sum = 0;
        foreach (var item in ds)
        {
            switch (item)
            {
                case DicomSequence sq:
                    foreach (var i in sq.Items) sum += Touch(i);
                    break;
                case DicomFragmentSequence fs:
                    sum += Sum(fs.OffsetTable.GetMemory().Span);
                    foreach (var fr in fs.Fragments) sum += Sum(fr.GetMemory().Span);
                    break;
                case DicomElement e:
                    sum += Sum(e.Buffer.GetMemory().Span);
                    break;
            }
        }
        return sum;
    }

    private static long Sum(ReadOnlySpan<byte> s)
    {
        // Visit every byte (vectorised) so that a lazy value would have to be materialised.
        var ints = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(s);
        uint acc = 0;
        foreach (var v in ints) acc ^= v;
        for (var i = ints.Length * 4; i < s.Length; i++) acc ^= s[i];
        return acc;
    }

    private static void Dcmdump(List<string> files, string[] flags)
    {
        foreach (var batch in Batches(files))
        {
            var rc = RunQuiet("dcmdump", [.. flags, .. batch]);
            if (rc != 0) Console.Error.WriteLine($"dcmdump {string.Join(' ', flags)} exited with {rc} on a batch of {batch.Count} files");
        }
    }
}
