using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Tests.IO;
using Xunit.Abstractions;

namespace HippoNode.Dicom.Tests.Fuzz;

/// <summary>
/// Seeded mutation fuzzing of the reader (and of writing back what it read): every mutated input must end in success
/// or a <see cref="DicomException"/>, within <see cref="PerInputLimit"/>. Reproduce a failure with
/// HIPPONODE_FUZZ_SEED=&lt;seed&gt; HIPPONODE_FUZZ_COUNT=1 (the report names the seed of each failing input).
/// </summary>
public sealed class MutationFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(2);
    private const int DefaultCount = 20_000;
    private const int DefaultSeed = 20_240_601;

    private sealed record Seed(string Name, byte[] Bytes, int[] HeaderPositions);

    private sealed record Failure(int InputSeed, string SeedName, string Mutations, string Problem);

    [Fact]
    public async Task MutatedInputs_EndInSuccessOrDicomException_InTime()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("HIPPONODE_FUZZ_COUNT"), out var c) ? c : DefaultCount;
        var baseSeed = int.TryParse(Environment.GetEnvironmentVariable("HIPPONODE_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        var seeds = LoadSeeds();
        output.WriteLine($"{seeds.Count} seed files ({(TestData.SharedAvailable ? "shared data + synthetic" : "synthetic only: shared data missing")}), {count} inputs from seed {baseSeed}");

        var failures = new ConcurrentBag<Failure>();
        var running = new ConcurrentDictionary<int, (int InputSeed, string Describe, long Started)>();
        long parsedOk = 0, parseErrors = 0, writeErrors = 0;
        var total = Stopwatch.StartNew();

        var work = Task.Run(() => Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, i =>
        {
            if (failures.Count >= 20) return;
            var inputSeed = baseSeed + i;
            var rng = new Random(inputSeed);
            var seed = seeds[rng.Next(seeds.Count)];
            var (input, mutations) = Mutate(seed, rng);
            var seekable = rng.Next(4) != 0; // one input in four goes through a non-seekable stream (the chunked path)
            var describe = $"{seed.Name} [{mutations}] {(seekable ? "seekable" : "non-seekable")}";
            var tid = Environment.CurrentManagedThreadId;
            running[tid] = (inputSeed, describe, Stopwatch.GetTimestamp());
            var started = Stopwatch.GetTimestamp();
            var outcome = Exercise(input, seekable);
            running.TryRemove(tid, out _);
            var elapsed = Stopwatch.GetElapsedTime(started);
            switch (outcome)
            {
                case Outcome.ParsedOutcome: Interlocked.Increment(ref parsedOk); break;
                case Outcome.ParseErrorOutcome: Interlocked.Increment(ref parseErrors); break;
                case Outcome.WriteErrorOutcome: Interlocked.Increment(ref writeErrors); break;
                case Outcome.Crash crash:
                    failures.Add(new Failure(inputSeed, seed.Name, describe, crash.Problem));
                    Save(inputSeed, input);
                    break;
            }
            if (elapsed > PerInputLimit)
                failures.Add(new Failure(inputSeed, seed.Name, describe, $"took {elapsed.TotalSeconds:F1} s (limit {PerInputLimit.TotalSeconds} s)"));
        }));

        // Watchdog: an input that hangs never returns, so look at what is running.
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(100));
            foreach (var (_, r) in running)
            {
                if (Stopwatch.GetElapsedTime(r.Started) > PerInputLimit + TimeSpan.FromSeconds(1))
                    Assert.Fail($"input seed {r.InputSeed} ({r.Describe}) still running after {PerInputLimit.TotalSeconds + 1} s: hang");
            }
        }
        await work;
        output.WriteLine($"{count} inputs in {total.Elapsed.TotalSeconds:F1} s: {parsedOk} parsed and rewritten, {parseErrors} DicomParseException, {writeErrors} DicomException on write; {failures.Count} failures");
        if (!failures.IsEmpty)
        {
            var lines = failures.OrderBy(f => f.InputSeed).Take(20).Select(f => $"  seed {f.InputSeed}: {f.Mutations}\n    {f.Problem}");
            Assert.Fail($"{failures.Count} fuzz failures (inputs saved under {SaveDir}):\n{string.Join("\n", lines)}");
        }
        Assert.True(count < 100 || parsedOk > 0 && parseErrors > 0, "the mutations should produce both readable and unreadable inputs");
    }

    /// <summary>Seeds that are malformed on purpose (DCMTK rejects them too).</summary>
    private static readonly string[] BrokenSeeds = ["MR_truncated.dcm", "no_meta.dcm"];

    [Fact]
    public void SeedCorpus_ParsesAndRewrites()
    {
        var problems = new List<string>();
        foreach (var seed in LoadSeeds())
        {
            foreach (var seekable in new[] { true, false })
            {
                var outcome = Exercise(seed.Bytes, seekable);
                var broken = BrokenSeeds.Any(b => seed.Name.EndsWith(b, StringComparison.Ordinal));
                if (outcome is Outcome.Crash crash) problems.Add($"{seed.Name}: {crash.Problem}");
                else if (!broken && outcome is Outcome.ParseErrorOutcome) problems.Add($"{seed.Name} ({(seekable ? "seekable" : "non-seekable")}): does not parse");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    // ---- one input -----------------------------------------------------------------------------

    private abstract record Outcome
    {
        public sealed record ParsedOutcome : Outcome;
        public sealed record ParseErrorOutcome : Outcome;
        public sealed record WriteErrorOutcome : Outcome;
        public sealed record Crash(string Problem) : Outcome;
        public static readonly Outcome Parsed = new ParsedOutcome();
        public static readonly Outcome ParseError = new ParseErrorOutcome();
        public static readonly Outcome WriteError = new WriteErrorOutcome();
    }

    /// <summary>Read (touching every value), dump, write back as Explicit VR LE and read that again.</summary>
    private static Outcome Exercise(byte[] input, bool seekable)
    {
        DicomFile file;
        try
        {
            file = DicomTestUtil.Read(input, seekable);
            TouchAll(file.FileMetaInformation);
            TouchAll(file.Dataset);
            DicomDumper.Dump(file, TextWriter.Null);
        }
        catch (DicomException)
        {
            return Outcome.ParseError;
        }
        catch (Exception ex)
        {
            return new Outcome.Crash($"read: {Describe(ex)}");
        }

        byte[] written;
        try
        {
            var ms = new MemoryStream();
            file.Write(ms, DicomTransferSyntax.ExplicitVRLittleEndian);
            written = ms.ToArray();
        }
        catch (DicomException)
        {
            return Outcome.WriteError;
        }
        catch (Exception ex)
        {
            return new Outcome.Crash($"write as Explicit VR LE: {Describe(ex)}");
        }

        // What we wrote, we must be able to read.
        try
        {
            var again = DicomTestUtil.Read(written);
            TouchAll(again.Dataset);
        }
        catch (Exception ex)
        {
            return new Outcome.Crash($"re-read of our own Explicit VR LE output: {Describe(ex)}");
        }
        return Outcome.Parsed;
    }

    private static void TouchAll(DicomDataset ds)
    {
        foreach (var item in ds)
        {
            switch (item)
            {
                case DicomSequence sq:
                    foreach (var i in sq.Items) TouchAll(i);
                    break;
                case DicomFragmentSequence fs:
                    _ = fs.OffsetTable.GetMemory().Length;
                    foreach (var f in fs.Fragments) _ = f.GetMemory().Length;
                    break;
                case DicomElement e:
                    _ = e.Buffer.GetMemory().Length;
                    _ = e.ValueMultiplicity;
                    if (e.VR.IsString()) _ = ds.GetStrings(e.Tag);
                    break;
            }
        }
        _ = ds.Encoding;
    }

    private static string Describe(Exception ex)
    {
        var frame = new StackTrace(ex, true).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("HippoNode.Dicom", StringComparison.Ordinal) == true);
        var where = frame is null ? "" : $" at {frame.GetMethod()?.DeclaringType?.Name}.{frame.GetMethod()?.Name}:{frame.GetFileLineNumber()}";
        return $"{ex.GetType().Name}: {ex.Message}{where}";
    }

    private static string SaveDir => Path.Combine(Path.GetTempPath(), "hipponode-fuzz");

    private static void Save(int seed, byte[] input)
    {
        try
        {
            Directory.CreateDirectory(SaveDir);
            File.WriteAllBytes(Path.Combine(SaveDir, $"fuzz-{seed}.dcm"), input);
        }
        catch (IOException)
        {
            // best effort only
        }
    }

    // ---- mutations -----------------------------------------------------------------------------

    private static readonly byte[] Interesting8 = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x20, 0x5C];

    private static readonly uint[] Interesting32 =
        [0, 1, 2, 3, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF];

    private static (byte[] Bytes, string Mutations) Mutate(Seed seed, Random rng)
    {
        var data = new List<byte>(seed.Bytes);
        var applied = new List<string>();
        var n = 1 + rng.Next(3);
        for (var k = 0; k < n && data.Count > 0; k++)
        {
            var op = rng.Next(10);
            switch (op)
            {
                case 0: // bit flips
                {
                    var flips = 1 + rng.Next(8);
                    for (var f = 0; f < flips; f++)
                    {
                        var p = Position(seed, data.Count, rng);
                        data[p] ^= (byte)(1 << rng.Next(8));
                    }
                    applied.Add($"flip{flips}");
                    break;
                }
                case 1: // interesting byte values
                {
                    var p = Position(seed, data.Count, rng);
                    var v = Interesting8[rng.Next(Interesting8.Length)];
                    var run = 1 + rng.Next(4);
                    for (var j = 0; j < run && p + j < data.Count; j++) data[p + j] = v;
                    applied.Add($"set@{p}x{run}=0x{v:X2}");
                    break;
                }
                case 2: // truncation
                {
                    var p = rng.Next(2) == 0 ? Position(seed, data.Count, rng) : rng.Next(data.Count);
                    data.RemoveRange(p, data.Count - p);
                    applied.Add($"truncate@{p}");
                    break;
                }
                case 3:
                case 4: // length field corruption at an element header
                {
                    if (seed.HeaderPositions.Length == 0) goto case 0;
                    var h = seed.HeaderPositions[rng.Next(seed.HeaderPositions.Length)];
                    var value = rng.Next(3) == 0 ? (uint)rng.Next() : Interesting32[rng.Next(Interesting32.Length)];
                    // The header's length field: 16-bit at +6 (short explicit), 32-bit at +8 (long explicit) or +4 (implicit, items).
                    var at = rng.Next(3) switch { 0 => h + 6, 1 => h + 8, _ => h + 4 };
                    var wide = at != h + 6;
                    if (at + (wide ? 4 : 2) > data.Count) goto case 2;
                    var big = seed.Name.Contains("big", StringComparison.OrdinalIgnoreCase) || seed.Name.Contains("expb", StringComparison.Ordinal);
                    Span<byte> tmp = stackalloc byte[4];
                    if (wide) { if (big) BinaryPrimitives.WriteUInt32BigEndian(tmp, value); else BinaryPrimitives.WriteUInt32LittleEndian(tmp, value); }
                    else { if (big) BinaryPrimitives.WriteUInt16BigEndian(tmp, (ushort)value); else BinaryPrimitives.WriteUInt16LittleEndian(tmp, (ushort)value); }
                    for (var j = 0; j < (wide ? 4 : 2); j++) data[at + j] = tmp[j];
                    applied.Add($"len@{at}={(wide ? value : (ushort)value):X}");
                    break;
                }
                case 5: // chunk duplication
                {
                    var a = Position(seed, data.Count, rng);
                    var len = Math.Min(1 + rng.Next(64), data.Count - a);
                    var chunk = data.GetRange(a, len);
                    var b = Position(seed, data.Count, rng);
                    data.InsertRange(b, chunk);
                    applied.Add($"dup[{a}+{len}]@{b}");
                    break;
                }
                case 6: // chunk removal
                {
                    var a = Position(seed, data.Count, rng);
                    var len = Math.Min(1 + rng.Next(64), data.Count - a);
                    data.RemoveRange(a, len);
                    applied.Add($"cut[{a}+{len}]");
                    break;
                }
                case 7: // VR corruption at an element header
                {
                    if (seed.HeaderPositions.Length == 0) goto case 1;
                    var h = seed.HeaderPositions[rng.Next(seed.HeaderPositions.Length)];
                    if (h + 6 > data.Count) goto case 2;
                    string[] vrs = ["SQ", "UN", "OB", "OW", "UT", "US", "AT", "FD", "LO", "XX", "\0\0"];
                    var vr = vrs[rng.Next(vrs.Length)];
                    data[h + 4] = (byte)vr[0];
                    data[h + 5] = (byte)vr[1];
                    applied.Add($"vr@{h}={vr.Replace("\0", "00", StringComparison.Ordinal)}");
                    break;
                }
                case 8: // tag corruption: into an item / delimiter / private / pixel data tag
                {
                    if (seed.HeaderPositions.Length == 0) goto case 0;
                    var h = seed.HeaderPositions[rng.Next(seed.HeaderPositions.Length)];
                    if (h + 4 > data.Count) goto case 2;
                    (ushort G, ushort E)[] tags = [(0xFFFE, 0xE000), (0xFFFE, 0xE00D), (0xFFFE, 0xE0DD), (0x0029, 0x1010), (0x7FE0, 0x0010), (0x0008, 0x0005), (0x0002, 0x0010), (0x0000, 0x0000)];
                    var (g, e) = tags[rng.Next(tags.Length)];
                    data[h] = (byte)g; data[h + 1] = (byte)(g >> 8); data[h + 2] = (byte)e; data[h + 3] = (byte)(e >> 8);
                    applied.Add($"tag@{h}=({g:X4},{e:X4})");
                    break;
                }
                default: // random bytes overwrite
                {
                    var p = Position(seed, data.Count, rng);
                    var len = Math.Min(1 + rng.Next(16), data.Count - p);
                    for (var j = 0; j < len; j++) data[p + j] = (byte)rng.Next(256);
                    applied.Add($"rand@{p}+{len}");
                    break;
                }
            }
        }
        return (data.ToArray(), string.Join(' ', applied));
    }

    /// <summary>A position biased toward element headers and the first KiBs, where the structure is.</summary>
    private static int Position(Seed seed, int length, Random rng)
    {
        var r = rng.Next(10);
        int p;
        if (r < 5 && seed.HeaderPositions.Length > 0) p = seed.HeaderPositions[rng.Next(seed.HeaderPositions.Length)] + rng.Next(12);
        else if (r < 8) p = rng.Next(Math.Min(length, 4096));
        else p = rng.Next(length);
        return Math.Clamp(p, 0, length - 1);
    }

    // ---- seeds ---------------------------------------------------------------------------------

    private static readonly string[] SharedSeedFiles =
    [
        "CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "ExplVR_BigEndNoMeta.dcm",
        "image_dfl.dcm", "JPEG2000.dcm", "JPEG2000-embedded-sequence-delimiter.dcm", "MR_small_RLE.dcm", "SC_rgb_small_odd_jpeg.dcm",
        "rtplan.dcm", "rtstruct.dcm", "reportsi.dcm", "test-SR.dcm", "nested_priv_SQ.dcm", "priv_SQ.dcm", "UN_sequence.dcm",
        "no_meta.dcm", "meta_missing_tsyntax.dcm", "empty_charset_LEI.dcm", "rtdose_expb_1frame.dcm", "MR_truncated.dcm",
    ];

    private static List<Seed> LoadSeeds()
    {
        var seeds = SyntheticSeeds().Select(p => MakeSeed(p.Name, p.Bytes)).ToList();
        if (!TestData.SharedAvailable) return seeds;
        var pydicom = TestData.Shared("dicom-corpus", "pydicom-test-files");
        foreach (var name in SharedSeedFiles)
        {
            var path = Path.Combine(pydicom, name);
            if (File.Exists(path)) seeds.Add(MakeSeed("pydicom/" + name, File.ReadAllBytes(path)));
        }
        var volumes = TestData.Shared("TestVolumes");
        if (Directory.Exists(volumes))
        {
            // One slice from two series: real MR headers (pixel data makes them large, so only a couple).
            foreach (var series in Directory.EnumerateDirectories(volumes, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                         .Where(d => Directory.EnumerateFiles(d).Any()).Take(2))
            {
                var first = Directory.EnumerateFiles(series).Order(StringComparer.Ordinal).FirstOrDefault();
                if (first is not null) seeds.Add(MakeSeed("TestVolumes/" + Path.GetFileName(series) + "/" + Path.GetFileName(first), File.ReadAllBytes(first)));
            }
        }
        return seeds;
    }

    private static Seed MakeSeed(string name, byte[] bytes) => new(name, bytes, FindHeaders(bytes));

    /// <summary>Offsets that look like element headers: an explicit VR at +4, or an item/delimiter tag, or a dictionary tag with a plausible 32-bit length.</summary>
    private static int[] FindHeaders(byte[] b)
    {
        var found = new List<int>();
        for (var i = 0; i + 8 <= b.Length; i += 2)
        {
            var vr = (DicomVR)((b[i + 4] << 8) | b[i + 5]);
            var groupLE = (ushort)(b[i] | (b[i + 1] << 8));
            var groupBE = (ushort)((b[i] << 8) | b[i + 1]);
            var elementLE = (ushort)(b[i + 2] | (b[i + 3] << 8));
            if (vr.IsKnown() && (groupLE is >= 0x0002 and <= 0x7FE0 || groupBE is >= 0x0002 and <= 0x7FE0)) found.Add(i);
            else if (groupLE == 0xFFFE && elementLE is 0xE000 or 0xE00D or 0xE0DD) found.Add(i);
            else if (groupLE is >= 0x0008 and <= 0x7FE0 && DicomDictionary.Find(new DicomTag(groupLE, elementLE)) is not null
                     && BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i + 4)) is var len && (len == 0xFFFFFFFF || len <= b.Length - i - 8)) found.Add(i);
            if (found.Count >= 4096) break;
        }
        return found.ToArray();
    }

    /// <summary>Files we write ourselves, so the fuzzer always has work even without ../shared/data.</summary>
    private static IEnumerable<(string Name, byte[] Bytes)> SyntheticSeeds()
    {
        DicomDataset Rich()
        {
            var ds = DicomTestUtil.NewDataset()
                .AddOrUpdate(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192")
                .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Fuzz^Ölaf=ファズ")
                .AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "ID-7")
                .AddOrUpdate(DicomTags.StudyDate, new DateOnly(2024, 1, 2))
                .AddOrUpdate(DicomTags.AcquisitionDateTime, new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(1)))
                .AddOrUpdate(DicomTags.ImagePositionPatient, DicomVR.DS, -1.5, 2.25, 1e-3)
                .AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, 12)
                .AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)4).AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)4)
                .AddOrUpdate(DicomTags.DimensionIndexPointer, DicomTags.PixelData)
                .AddOrUpdate(new DicomTag(0x0029, 0x0010), DicomVR.LO, "FUZZ CREATOR")
                .AddOrUpdate(new DicomTag(0x0029, 0x1010), DicomVR.OB, new byte[] { 1, 2, 3 })
                .AddOrUpdate(new DicomTag(0x0029, 0x1011), DicomVR.FD, 1.0, 2.0)
                .AddOrUpdate(new DicomTag(0x0072, 0x0082), DicomVR.SV, -5L)
                .AddOrUpdate(DicomTags.ReferencedSeriesSequence,
                    new DicomDataset().AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, "1.2.3")
                        .AddOrUpdate(DicomTags.ReferencedInstanceSequence,
                            new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3.4"),
                            new DicomDataset()),
                    new DicomDataset().AddOrUpdate(DicomTags.SeriesDescription, DicomVR.LO, "second"));
            return ds;
        }
        var native = Rich().AddOrUpdate(DicomTags.PixelData, DicomVR.OW, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        yield return ("synthetic/explicit-le", DicomTestUtil.ToPart10(native, DicomTransferSyntax.ExplicitVRLittleEndian));
        yield return ("synthetic/explicit-le-undefined", DicomTestUtil.ToPart10(native, DicomTransferSyntax.ExplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = true }));
        yield return ("synthetic/implicit-le-undefined", DicomTestUtil.ToPart10(native, DicomTransferSyntax.ImplicitVRLittleEndian, new DicomWriteOptions { UndefinedLengthSequences = true }));
        yield return ("synthetic/implicit-le", DicomTestUtil.ToPart10(native, DicomTransferSyntax.ImplicitVRLittleEndian));
        yield return ("synthetic/big-endian", DicomTestUtil.ToPart10(native, DicomTransferSyntax.ExplicitVRBigEndian));
        yield return ("synthetic/deflated", DicomTestUtil.ToPart10(native, DicomTransferSyntax.DeflatedExplicitVRLittleEndian));

        var encapsulated = Rich();
        var fs = new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB) { OffsetTable = new MemoryByteBuffer(new byte[] { 0, 0, 0, 0, 16, 0, 0, 0 }) };
        fs.Fragments.Add(new MemoryByteBuffer(new byte[] { 0xFF, 0xD8, 1, 2, 3, 4, 0xFF, 0xD9 }));
        fs.Fragments.Add(new MemoryByteBuffer(new byte[] { 0xFF, 0xD8, 5, 6, 0xFF, 0xD9 }));
        encapsulated.Add(fs);
        yield return ("synthetic/encapsulated", DicomTestUtil.ToPart10(encapsulated, DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.50")));

        // An undefined-length UN holding an implicit sequence, written by hand.
        var un = new DicomBytes()
            .ExplicitText(0x0008, 0x0016, "UI", DicomTestUtil.SecondaryCapture)
            .ExplicitHeader(0x0029, 0x1020, "UN", 0xFFFFFFFF).Item()
            .Implicit(0x0020, 0x000E, "1.2\0"u8.ToArray()).ItemDelimiter().SequenceDelimiter()
            .ExplicitText(0x0010, 0x0010, "PN", "After").ToArray();
        yield return ("synthetic/un-sequence", DicomTestUtil.Part10(un, DicomTransferSyntax.ExplicitVRLittleEndian.Uid));

        // A bare data set (no preamble, no meta).
        yield return ("synthetic/bare-implicit", DicomTestUtil.Encode(Rich(), DicomTransferSyntax.ImplicitVRLittleEndian));

        // Deflated, with the deflate stream made by hand (so the fuzzer corrupts a real deflate stream).
        var raw = DicomTestUtil.Encode(Rich(), DicomTransferSyntax.ExplicitVRLittleEndian);
        var z = new MemoryStream();
        using (var d = new DeflateStream(z, CompressionLevel.Fastest, leaveOpen: true)) d.Write(raw);
        yield return ("synthetic/deflated-hand", DicomTestUtil.Part10(z.ToArray(), DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid));
    }
}
