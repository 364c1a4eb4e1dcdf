using System.Globalization;
using System.Text;
using HippoNode.Analysis;
using HippoNode.Analysis.Selection;
using HippoNode.Analysis.Volumes;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Imaging;
using HippoNode.Node.Demo;

namespace HippoNode.Fuzzing;

/// <summary>
/// The pixel-data and geometry path of series to volume, as <see cref="StudyAnalyzer"/> runs it up to the model:
/// scan, select, <c>SeriesVolumeReader.Read</c>, the axis mapping, the model-grid volume. Inputs are short runs
/// (2-8 slices) of real HippoCrop series from ../shared/data/TestVolumes and of the synthetic HippoCrop series, with
/// the attributes that matter mutated (orientation, position, spacing, size, bits, sign, rescale, photometric,
/// samples, frames, pixel data, transfer syntax) or the bytes of a file mutated. The selection rules are relaxed
/// (any description, modality, class and size) so that mutated series reach the reader instead of being skipped.
/// </summary>
public sealed class SeriesVolumeTarget : FuzzTarget
{
    private sealed record SeedSlice(string Name, byte[] Bytes, int[] Headers);

    private readonly List<(string Name, List<SeedSlice> Slices)> _series = [];
    private string _root = "";

    /// <summary>The fuzz rules: everything goes to the reader except multi-frame instances.</summary>
    public static SelectionRules Rules { get; } = SelectionRules.Parse("""{ "name": "fuzz", "slices": { "min": 2, "max": 128 } }""", "fuzz rules");

    /// <inheritdoc />
    public override string Name => "volume";

    /// <inheritdoc />
    public override string Invariant =>
        "the series becomes a model-grid volume with finite geometry and finite pixel values, or is refused with an AnalysisException (or skipped by the selection rules, or left out by the scanner as unreadable)";

    /// <inheritdoc />
    public override TimeSpan HangLimit => TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public override Task InitializeAsync(CancellationToken cancellationToken)
    {
        _root = Directory.Exists("/dev/shm") ? Directory.CreateDirectory(Path.Combine("/dev/shm", $"hipponode-fuzz-volume-{Environment.ProcessId}")).FullName
            : Directory.CreateTempSubdirectory("hipponode-fuzz-volume").FullName;
        var synthetic = Path.Combine(_root, "synthetic-seed");
        SyntheticStudy.Write(synthetic);
        AddSeries("synthetic/HippoCrop", synthetic);
        Directory.Delete(synthetic, true);
        var volumes = FuzzData.Shared("TestVolumes");
        if (Directory.Exists(volumes))
        {
            foreach (var dir in Directory.EnumerateDirectories(volumes, "*", SearchOption.AllDirectories).Where(d => d.Contains("HCrop", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                AddSeries("TestVolumes/" + Path.GetFileName(Path.GetDirectoryName(dir)) + "/" + Path.GetFileName(dir), dir);
        }
        SeedSummary = string.Join(", ", _series.Select(s => $"{s.Name} ({s.Slices.Count} slices)")) + (Directory.Exists(volumes) ? "" : " (shared data missing: synthetic only)");
        return Task.CompletedTask;
    }

    private void AddSeries(string name, string dir)
    {
        var slices = Directory.GetFiles(dir).Order(StringComparer.Ordinal)
            .Select(f => File.ReadAllBytes(f)).Select((b, i) => new SeedSlice($"{i:D3}.dcm", b, ByteMutator.FindHeaders(b))).ToList();
        if (slices.Count >= 2) _series.Add((name, slices));
    }

    // ---- generation ----------------------------------------------------------------------------

    /// <inheritdoc />
    public override FuzzInput Generate(int seed)
    {
        var rng = new Random(seed);
        var (name, all) = _series[rng.Next(_series.Count)];
        var count = 2 + rng.Next(Math.Min(7, all.Count - 1));
        var start = rng.Next(all.Count - count + 1);
        var files = all.Skip(start).Take(count).Select(s => (s.Name, s.Bytes)).ToList();
        var applied = new List<string>();
        var mutations = 1 + rng.Next(3);
        for (var k = 0; k < mutations; k++)
        {
            var i = rng.Next(files.Count);
            var fileName = files[i].Name;
            if (rng.Next(10) < 7)
            {
                var what = MutateAttributes(files, i, rng);
                applied.Add($"{fileName}:{what}");
            }
            else
            {
                var src = all.FirstOrDefault(a => ReferenceEquals(a.Bytes, files[i].Bytes));
                var (bytes, what) = ByteMutator.Mutate(files[i].Bytes, src?.Headers ?? ByteMutator.FindHeaders(files[i].Bytes), false, rng);
                files[i] = (fileName, bytes);
                applied.Add($"{fileName}:bytes[{what}]");
            }
        }
        return new FuzzInput(seed, $"{name} slices {start}..{start + count - 1} [{string.Join("; ", applied)}]", Pack(files), files);
    }

    private static readonly string[] Numbers =
        ["NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e-320", "0", "-0", "abc", "", "1e400", "   ", "+5", "0x10", "1,5", "12345678901234567", "-1", "1", "0.5", "1e-12", "3.4e38", "-3.5e38"];

    private static readonly string[] Orientations =
    [
        "1\\0\\0\\0\\1\\0", "0\\1\\0\\0\\0\\-1", "1\\0\\0\\0\\0\\-1", "0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0", "0.7071068\\0.7071068\\0\\-0.7071068\\0.7071068\\0",
        "0.99\\0.141\\0\\-0.141\\0.99\\0", "1\\0\\0\\0\\1", "1\\0\\0\\0\\1\\0\\0", "2\\0\\0\\0\\2\\0", "-1\\0\\0\\0\\-1\\0", "1e-9\\0\\0\\0\\1e-9\\0",
    ];

    private static readonly int[] Shorts = [0, 1, 2, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 35, 51, 64, 255, 32767, 32768, 65535];

    /// <summary>One attribute of one slice changed; returns what was done.</summary>
    private static string MutateAttributes(List<(string Name, byte[] Bytes)> files, int index, Random rng)
    {
        try
        {
            return MutateAttributesCore(files, index, rng);
        }
        catch (DicomException ex)
        {
            return $"(slice or neighbour unreadable after an earlier mutation: {ex.GetType().Name})";
        }
    }

    private static string MutateAttributesCore(List<(string Name, byte[] Bytes)> files, int index, Random rng)
    {
        DicomFile file;
        try
        {
            file = DicomFile.Read(new MemoryStream(files[index].Bytes, writable: false));
        }
        catch (DicomException)
        {
            return "unreadable-before";
        }
        var ds = file.Dataset;
        var syntax = file.TransferSyntax;
        string what;
        switch (rng.Next(16))
        {
            case 0:
                what = SetText(ds, DicomTags.ImageOrientationPatient, DicomVR.DS, rng.Next(2) == 0 ? Orientations[rng.Next(Orientations.Length)] : RandomNumbers(rng, 6));
                break;
            case 1:
                what = SetText(ds, DicomTags.ImagePositionPatient, DicomVR.DS, RandomNumbers(rng, 3));
                break;
            case 2: // a position copied from, or moved off, a neighbour: duplicate, uneven, off the line
            {
                var other = DicomFile.Read(new MemoryStream(files[rng.Next(files.Count)].Bytes, writable: false)).Dataset;
                var p = other.GetValues<double>(DicomTags.ImagePositionPatient);
                if (p.Length == 3)
                {
                    var axis = rng.Next(3);
                    p[axis] += new[] { 0, 0.001, 0.005, 0.02, 0.3, 1, 2, -1, 1e6 }[rng.Next(9)];
                }
                what = SetText(ds, DicomTags.ImagePositionPatient, DicomVR.DS, string.Join('\\', p.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
                break;
            }
            case 3:
                what = SetText(ds, DicomTags.PixelSpacing, DicomVR.DS, RandomNumbers(rng, 2));
                break;
            case 4:
            case 5:
            {
                DicomTag[] tags = [DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated, DicomTags.BitsStored, DicomTags.HighBit, DicomTags.PixelRepresentation, DicomTags.SamplesPerPixel];
                var tag = tags[rng.Next(tags.Length)];
                switch (rng.Next(4))
                {
                    case 0:
                        ds.Remove(tag);
                        what = $"remove {DicomDictionary.KeywordOf(tag)}";
                        break;
                    case 1:
                        var raw = new byte[new[] { 0, 1, 3, 4, 6 }[rng.Next(5)]];
                        rng.NextBytes(raw);
                        ds.AddOrUpdate(tag, DicomVR.US, raw);
                        what = $"{DicomDictionary.KeywordOf(tag)}={raw.Length} raw bytes";
                        break;
                    default:
                        var v = (ushort)Shorts[rng.Next(Shorts.Length)];
                        ds.AddOrUpdate(tag, DicomVR.US, v);
                        what = $"{DicomDictionary.KeywordOf(tag)}={v}";
                        break;
                }
                break;
            }
            case 6:
                what = SetText(ds, rng.Next(2) == 0 ? DicomTags.RescaleSlope : DicomTags.RescaleIntercept, DicomVR.DS, RandomNumbers(rng, 1 + rng.Next(2) * rng.Next(3)));
                break;
            case 7:
            {
                string[] values = ["MONOCHROME1", "RGB", "", "PALETTE COLOR", "YBR_FULL", "MONOCHROME2 ", "monochrome2", "\u00ff\u00fe"];
                what = SetText(ds, DicomTags.PhotometricInterpretation, DicomVR.CS, values[rng.Next(values.Length)]);
                break;
            }
            case 8:
            case 9: // pixel data: truncated, empty, odd, grown, VR changed, removed, encapsulated
            {
                var pd = ds.GetItem(DicomTags.PixelData) as DicomElement;
                var bytes = pd?.Buffer.GetMemory().ToArray() ?? [];
                switch (rng.Next(6))
                {
                    case 0:
                        var keep = bytes.Length == 0 ? 0 : rng.Next(bytes.Length);
                        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, bytes[..keep]);
                        what = $"PixelData truncated to {keep}";
                        break;
                    case 1:
                        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, Array.Empty<byte>());
                        what = "PixelData empty";
                        break;
                    case 2:
                        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OB, [.. bytes, .. new byte[1 + rng.Next(5000)]]);
                        what = "PixelData grown (OB)";
                        break;
                    case 3:
                        ds.Remove(DicomTags.PixelData);
                        what = "PixelData removed";
                        break;
                    case 4:
                        var fs = new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB) { OffsetTable = new MemoryByteBuffer(Array.Empty<byte>()) };
                        fs.Fragments.Add(new MemoryByteBuffer(bytes.Length > 1 ? bytes[..(bytes.Length & ~1)] : new byte[2]));
                        ds.Remove(DicomTags.PixelData);
                        ds.Add(fs);
                        syntax = DicomTransferSyntax.FromUid("1.2.840.10008.1.2.4.70");
                        what = "PixelData encapsulated (JPEG lossless syntax)";
                        break;
                    default:
                        rng.NextBytes(bytes);
                        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, bytes);
                        what = "PixelData random";
                        break;
                }
                break;
            }
            case 10:
                what = SetText(ds, DicomTags.NumberOfFrames, DicomVR.IS, new[] { "0", "1", "2", "-1", "abc", "" }[rng.Next(6)]);
                break;
            case 11:
            {
                DicomTag[] uids = [DicomTags.SeriesInstanceUID, DicomTags.StudyInstanceUID, DicomTags.SOPInstanceUID, DicomTags.SOPClassUID, DicomTags.FrameOfReferenceUID];
                var tag = uids[rng.Next(uids.Length)];
                if (rng.Next(3) == 0)
                {
                    ds.Remove(tag);
                    what = $"remove {DicomDictionary.KeywordOf(tag)}";
                }
                else
                {
                    what = SetText(ds, tag, DicomVR.UI, new[] { "1.2.3", "", "../../x", "1.2.840.10008.5.1.4.1.1.7", new string('1', 80) }[rng.Next(5)]);
                }
                break;
            }
            case 12: // the whole slice in another transfer syntax
            {
                DicomTransferSyntax[] syntaxes = [DicomTransferSyntax.ImplicitVRLittleEndian, DicomTransferSyntax.ExplicitVRBigEndian, DicomTransferSyntax.DeflatedExplicitVRLittleEndian];
                syntax = syntaxes[rng.Next(syntaxes.Length)];
                what = $"written as {syntax}";
                break;
            }
            case 13: // the meta claims a compressed syntax for native data
                file.FileMetaInformation.AddOrUpdate(DicomTags.TransferSyntaxUID, DicomVR.UI, "1.2.840.10008.1.2.4.50");
                what = "meta says JPEG baseline";
                break;
            case 14:
                what = SetText(ds, DicomTags.Modality, DicomVR.CS, new[] { "CT", "", "SEG" }[rng.Next(3)]);
                break;
            default: // a slice dropped or duplicated (same bytes twice, or a second copy under a new SOP Instance UID)
                if (files.Count > 2 && rng.Next(2) == 0)
                {
                    files.RemoveAt(index);
                    return "slice dropped";
                }
                ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, "2.25." + rng.Next(1, int.MaxValue).ToString(CultureInfo.InvariantCulture));
                files.Add(($"{files.Count + 100:D3}.dcm", Write(file, ds, syntax)));
                return "slice duplicated";
        }
        try
        {
            files[index] = (files[index].Name, Write(file, ds, syntax));
        }
        catch (DicomException ex)
        {
            return what + $" (not writable: {ex.Message}; slice unchanged)";
        }
        return what;
    }

    private static byte[] Write(DicomFile file, DicomDataset ds, DicomTransferSyntax syntax)
    {
        var ms = new MemoryStream();
        var meta = file.FileMetaInformation.GetString(DicomTags.TransferSyntaxUID);
        var copy = new DicomFile(ds, syntax);
        if (meta == "1.2.840.10008.1.2.4.50" && !syntax.IsEncapsulated)
        {
            // Keep the lie: native data under a meta that announces JPEG.
            copy.Write(ms, syntax);
            var bytes = ms.ToArray();
            var text = Encoding.ASCII.GetBytes(syntax.Uid);
            var at = bytes.AsSpan().IndexOf(text);
            if (at > 0 && text.Length >= "1.2.840.10008.1.2.4.50".Length - 3)
            {
                var lie = Encoding.ASCII.GetBytes("1.2.840.10008.1.2.4.50".PadRight(text.Length, '\0')[..text.Length]);
                lie.CopyTo(bytes, at);
            }
            return bytes;
        }
        copy.Write(ms, syntax);
        return ms.ToArray();
    }

    /// <summary>Sets a text value as raw bytes (no validation: the point is to write what a broken sender writes).</summary>
    private static string SetText(DicomDataset ds, DicomTag tag, DicomVR vr, string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        if (bytes.Length % 2 == 1) bytes = [.. bytes, vr == DicomVR.UI ? (byte)0 : (byte)' '];
        ds.AddOrUpdate(tag, vr, bytes);
        return $"{DicomDictionary.KeywordOf(tag)}='{value}'";
    }

    private static string RandomNumbers(Random rng, int count)
    {
        var vm = rng.Next(4) == 0 ? rng.Next(count + 3) : count;
        return string.Join('\\', Enumerable.Range(0, vm).Select(_ => rng.Next(3) == 0
            ? Numbers[rng.Next(Numbers.Length)]
            : (rng.NextDouble() * 400 - 200).ToString("0.###", CultureInfo.InvariantCulture)));
    }

    // ---- the packed form of an input (what a finding saves) ------------------------------------

    /// <summary>The files of an input in one blob: per file, a name line and a length line, then the bytes.</summary>
    public static byte[] Pack(IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        var ms = new MemoryStream();
        foreach (var (name, bytes) in files)
        {
            ms.Write(Encoding.ASCII.GetBytes($"{name}\n{bytes.Length}\n"));
            ms.Write(bytes);
        }
        return ms.ToArray();
    }

    /// <summary>The files of a packed input.</summary>
    public static List<(string Name, byte[] Bytes)> Unpack(byte[] packed)
    {
        var files = new List<(string, byte[])>();
        for (var at = 0; at < packed.Length;)
        {
            var nl = Array.IndexOf(packed, (byte)'\n', at);
            var name = Encoding.ASCII.GetString(packed, at, nl - at);
            var nl2 = Array.IndexOf(packed, (byte)'\n', nl + 1);
            var length = int.Parse(Encoding.ASCII.GetString(packed, nl + 1, nl2 - nl - 1), CultureInfo.InvariantCulture);
            files.Add((name, packed.AsSpan(nl2 + 1, length).ToArray()));
            at = nl2 + 1 + length;
        }
        return files;
    }

    // ---- running -------------------------------------------------------------------------------

    /// <inheritdoc />
    public override Task<FuzzResult> RunAsync(FuzzInput input, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(_root, input.Seed.ToString(CultureInfo.InvariantCulture));
        try
        {
            return Task.FromResult(Exercise((List<(string Name, byte[] Bytes)>)input.State!, dir, cancellationToken));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>Writes the files into <paramref name="dir"/> and runs the analyser's path up to the model input.</summary>
    public static FuzzResult Exercise(IReadOnlyList<(string Name, byte[] Bytes)> files, string dir, CancellationToken ct)
    {
        Directory.CreateDirectory(dir);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        try
        {
            var scan = StudyScanner.Scan(dir, ct);
            if (scan.Series.Count == 0 || scan.StudyInstanceUids.Count != 1) return FuzzResult.Rejected; // AnalysisException in StudyAnalyzer
            var (_, chosen) = SeriesSelector.Select(scan.Series, Rules);
            if (chosen is null) return FuzzResult.Rejected; // no eligible series: a documented outcome
            var source = SeriesVolumeReader.Read(chosen, ct);
            var mapping = AxisMapping.FromAffine(source.RasAffine, source.Shape);
            if (mapping.ObliquityDegrees > new AnalysisOptions().MaxObliquityDegrees) return FuzzResult.Rejected; // AnalysisException in StudyAnalyzer
            var spacing = mapping.ModelSpacing(source.Spacing);
            var data = mapping.ToModel<float>(source.Data());
            var affine = mapping.ModelAffine(source.RasAffine);
            var image = new Volume3D(mapping.ModelShape, data, spacing, affine);
            if (data.Length != source.Rows * source.Columns * source.Slices.Count) return FuzzResult.Crash($"a volume of {data.Length} voxels for {source.Columns}x{source.Rows}x{source.Slices.Count}");
            for (var r = 0; r < 3; r++)
            {
                for (var c = 0; c < 4; c++)
                {
                    if (!double.IsFinite(affine[r, c])) return FuzzResult.Crash($"accepted with a non-finite affine {affine}");
                }
            }
            if (!(spacing.X > 0 && spacing.Y > 0 && spacing.Z > 0 && double.IsFinite(spacing.X) && double.IsFinite(spacing.Y) && double.IsFinite(spacing.Z)))
                return FuzzResult.Crash($"accepted with spacing {spacing}");
            var bad = Array.FindIndex(image.Data, v => !float.IsFinite(v));
            if (bad >= 0) return FuzzResult.Crash($"accepted with a non-finite pixel value {image.Data[bad]} at voxel {bad}");
            return FuzzResult.Accepted;
        }
        catch (AnalysisException)
        {
            return FuzzResult.Rejected;
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash(Describe(ex));
        }
    }

    /// <summary>Removes the work folder.</summary>
    public override async ValueTask DisposeAsync()
    {
        try { if (_root.Length > 0) Directory.Delete(_root, true); } catch (IOException) { }
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
