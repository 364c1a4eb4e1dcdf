using System.IO.Compression;
using System.Text;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Testing;

namespace HippoNode.Fuzzing;

/// <summary>
/// The Part 10 reader: mutated files read from a seekable or a non-seekable stream (the chunked path), every value
/// touched, dumped, written back as Explicit VR LE and read again. Seeds: pydicom's test files and two TestVolumes
/// slices from ../shared/data when present, plus files we write ourselves (every native syntax, deflate, encapsulated,
/// an undefined-length UN sequence, a bare data set).
/// </summary>
public sealed class Part10Target : FuzzTarget
{
    private sealed record Seed(string Name, byte[] Bytes, int[] Headers, bool BigEndian);

    private List<Seed> _seeds = [];

    /// <inheritdoc />
    public override string Name => "part10";

    /// <inheritdoc />
    public override string Invariant => "read ends in success (then write-back and re-read succeed) or in a DicomException (DicomParseException for the reader)";

    /// <inheritdoc />
    public override TimeSpan HangLimit => TimeSpan.FromSeconds(5);

    /// <summary>Seeds that are malformed on purpose (DCMTK rejects them too).</summary>
    public static readonly string[] BrokenSeeds = ["MR_truncated.dcm", "no_meta.dcm"];

    /// <summary>The seed files: name and bytes.</summary>
    public IEnumerable<(string Name, byte[] Bytes)> Seeds => _seeds.Select(s => (s.Name, s.Bytes));

    /// <inheritdoc />
    public override Task InitializeAsync(CancellationToken cancellationToken)
    {
        _seeds = LoadSeeds();
        SeedSummary = $"{_seeds.Count} files ({(FuzzData.SharedAvailable ? "shared data + synthetic" : "synthetic only: shared data missing")})";
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override FuzzInput Generate(int seed)
    {
        var rng = new Random(seed);
        var s = _seeds[rng.Next(_seeds.Count)];
        var (bytes, mutations) = ByteMutator.Mutate(s.Bytes, s.Headers, s.BigEndian, rng);
        var seekable = rng.Next(4) != 0; // one input in four goes through a non-seekable stream (the chunked path)
        return new FuzzInput(seed, $"{s.Name} [{mutations}] {(seekable ? "seekable" : "non-seekable")}", bytes, seekable);
    }

    /// <inheritdoc />
    public override Task<FuzzResult> RunAsync(FuzzInput input, CancellationToken cancellationToken) =>
        Task.FromResult(Exercise(input.Bytes, (bool)input.State!));

    /// <summary>Read (touching every value), dump, write back as Explicit VR LE and read that again.</summary>
    public static FuzzResult Exercise(byte[] input, bool seekable)
    {
        DicomFile file;
        try
        {
            file = Read(input, seekable);
            TouchAll(file.FileMetaInformation);
            TouchAll(file.Dataset);
            DicomDumper.Dump(file, TextWriter.Null);
        }
        catch (DicomException)
        {
            return FuzzResult.Rejected;
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash($"read: {Describe(ex)}");
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
            // Read fine; not writable as Explicit VR LE (encapsulated pixel data, a value the syntax cannot hold): a
            // documented refusal of the writer, the read itself was accepted.
            return new FuzzResult(Verdict.Accepted, "not writable as Explicit VR LE");
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash($"write as Explicit VR LE: {Describe(ex)}");
        }

        // What we wrote, we must be able to read.
        try
        {
            var again = Read(written, true);
            TouchAll(again.Dataset);
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash($"re-read of our own Explicit VR LE output: {Describe(ex)}");
        }
        return FuzzResult.Accepted;
    }

    /// <summary>Reads Part 10 bytes from a seekable stream or a non-seekable one that hands out odd-sized chunks.</summary>
    public static DicomFile Read(byte[] bytes, bool seekable) =>
        DicomFile.Read(seekable ? new MemoryStream(bytes, writable: false) : new NonSeekableStream(bytes, 4093));

    /// <summary>Touches every value the way a consumer would: buffers, multiplicity, strings, nested items.</summary>
    public static void TouchAll(DicomDataset ds)
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
        if (!FuzzData.SharedAvailable) return seeds;
        var pydicom = FuzzData.Shared("dicom-corpus", "pydicom-test-files");
        foreach (var name in SharedSeedFiles)
        {
            var path = Path.Combine(pydicom, name);
            if (File.Exists(path)) seeds.Add(MakeSeed("pydicom/" + name, File.ReadAllBytes(path)));
        }
        var volumes = FuzzData.Shared("TestVolumes");
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

    private static Seed MakeSeed(string name, byte[] bytes) =>
        new(name, bytes, ByteMutator.FindHeaders(bytes), name.Contains("big", StringComparison.OrdinalIgnoreCase) || name.Contains("expb", StringComparison.Ordinal));


    /// <summary>Files we write ourselves, so the fuzzer always has work even without ../shared/data.</summary>
    private static IEnumerable<(string Name, byte[] Bytes)> SyntheticSeeds()
    {
        static DicomDataset Rich()
        {
            var ds = new DicomDataset()
                .AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, Part10Bytes.SecondaryCapture)
                .AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3.4.5.6.7.8.9")
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
        var undefined = new DicomWriteOptions { UndefinedLengthSequences = true };
        yield return ("synthetic/explicit-le", Part10Bytes.Write(native, DicomTransferSyntax.ExplicitVRLittleEndian));
        yield return ("synthetic/explicit-le-undefined", Part10Bytes.Write(native, DicomTransferSyntax.ExplicitVRLittleEndian, undefined));
        yield return ("synthetic/implicit-le-undefined", Part10Bytes.Write(native, DicomTransferSyntax.ImplicitVRLittleEndian, undefined));
        yield return ("synthetic/implicit-le", Part10Bytes.Write(native, DicomTransferSyntax.ImplicitVRLittleEndian));
        yield return ("synthetic/big-endian", Part10Bytes.Write(native, DicomTransferSyntax.ExplicitVRBigEndian));
        yield return ("synthetic/deflated", Part10Bytes.Write(native, DicomTransferSyntax.DeflatedExplicitVRLittleEndian));

        var encapsulated = Rich();
        var fs = new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB) { OffsetTable = new MemoryByteBuffer(new byte[] { 0, 0, 0, 0, 16, 0, 0, 0 }) };
        fs.Fragments.Add(new MemoryByteBuffer(new byte[] { 0xFF, 0xD8, 1, 2, 3, 4, 0xFF, 0xD9 }));
        fs.Fragments.Add(new MemoryByteBuffer(new byte[] { 0xFF, 0xD8, 5, 6, 0xFF, 0xD9 }));
        encapsulated.Add(fs);
        yield return ("synthetic/encapsulated", Part10Bytes.Write(encapsulated, DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.50")));

        // An undefined-length UN holding an implicit sequence, written by hand.
        var un = new MemoryStream();
        void Header(ushort g, ushort e) { un.Write(BitConverter.GetBytes(g)); un.Write(BitConverter.GetBytes(e)); }
        Header(0x0008, 0x0016); un.Write("UI"u8); un.Write(BitConverter.GetBytes((ushort)26)); un.Write(Encoding.ASCII.GetBytes(Part10Bytes.SecondaryCapture + "\0"));
        Header(0x0029, 0x1020); un.Write("UN"u8); un.Write(new byte[2]); un.Write(BitConverter.GetBytes(0xFFFFFFFFu));
        Header(0xFFFE, 0xE000); un.Write(BitConverter.GetBytes(0xFFFFFFFFu));
        Header(0x0020, 0x000E); un.Write(BitConverter.GetBytes(4u)); un.Write("1.2\0"u8);
        Header(0xFFFE, 0xE00D); un.Write(new byte[4]);
        Header(0xFFFE, 0xE0DD); un.Write(new byte[4]);
        Header(0x0010, 0x0010); un.Write("PN"u8); un.Write(BitConverter.GetBytes((ushort)6)); un.Write("After "u8);
        yield return ("synthetic/un-sequence", Part10Bytes.Wrap(un.ToArray(), DicomTransferSyntax.ExplicitVRLittleEndian.Uid));

        // A bare data set (no preamble, no meta).
        yield return ("synthetic/bare-implicit", Encode(Rich(), DicomTransferSyntax.ImplicitVRLittleEndian));

        // Deflated, with the deflate stream made by hand (so the fuzzer corrupts a real deflate stream).
        var raw = Encode(Rich(), DicomTransferSyntax.ExplicitVRLittleEndian);
        var z = new MemoryStream();
        using (var d = new DeflateStream(z, CompressionLevel.Fastest, leaveOpen: true)) d.Write(raw);
        yield return ("synthetic/deflated-hand", Part10Bytes.Wrap(z.ToArray(), DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid));
    }

    private static byte[] Encode(DicomDataset ds, DicomTransferSyntax syntax)
    {
        var ms = new MemoryStream();
        new DicomWriter(ms, syntax).WriteDataset(ds);
        return ms.ToArray();
    }
}
