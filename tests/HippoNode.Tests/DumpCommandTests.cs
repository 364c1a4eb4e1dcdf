using System.Globalization;
using HippoNode.Commands;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Tests;

/// <summary>
/// `hipponode dump`: a good file dumps with exit 0; a bad file among good ones gives exit 1 and one line on stderr
/// naming it, and the others are still dumped; --all prints long values in full. Synthetic files written by our own
/// writer, plus one test on the shared data and one through the built program.
/// </summary>
public sealed class DumpCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hipponode-dump-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string LongText = string.Concat(Enumerable.Range(0, 40).Select(i => $"word{i:D2} ")) + "THE-END";

    private static DicomDataset Sample(string patient)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.SecondaryCaptureImageStorage);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.AddOrUpdate(DicomTags.Modality, DicomVR.CS, "OT");
        ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, patient);
        ds.AddOrUpdate(DicomTags.PatientComments, DicomVR.LT, LongText);
        ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)4);
        ds.AddOrUpdate(DicomTags.ReferencedImageSequence, new DicomDataset().AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3"));
        var pixels = new byte[200];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (byte)i;
        pixels[^1] = 0xAB;
        ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OB, pixels);
        return ds;
    }

    private string Write(string name, string patient, DicomTransferSyntax? syntax = null)
    {
        var path = Path.Combine(_dir, name);
        new DicomFile(Sample(patient), syntax ?? DicomTransferSyntax.ExplicitVRLittleEndian).Save(path);
        return path;
    }

    private static (int Code, string Out, string Err) Dump(params string[] args)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = DumpCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    [Fact]
    public void A_good_file_dumps_with_exit_code_0()
    {
        var path = Write("good.dcm", "Doe^Jane");
        var (code, output, error) = Dump(path);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("# Dicom-File-Format", output, StringComparison.Ordinal);
        Assert.Contains("# Used TransferSyntax: Explicit VR Little Endian", output, StringComparison.Ordinal);
        Assert.Contains(Lines(output), l => l.StartsWith("(0010,0010) PN [Doe^Jane]", StringComparison.Ordinal) && l.EndsWith("# 8, 1 PatientName", StringComparison.Ordinal));
        Assert.Contains(Lines(output), l => l.StartsWith("(0028,0010) US 4 ", StringComparison.Ordinal));
        Assert.Contains(Lines(output), l => l.StartsWith("    (0008,1155) UI [1.2.3]", StringComparison.Ordinal)); // inside the sequence item
        Assert.DoesNotContain("# File:", output, StringComparison.Ordinal); // one file: no per-file header
    }

    [Fact]
    public void A_bad_file_among_good_ones_gives_exit_1_one_line_naming_it_and_the_others_are_still_dumped()
    {
        var first = Write("first.dcm", "First^Patient");
        var last = Write("last.dcm", "Last^Patient", DicomTransferSyntax.ExplicitVRBigEndian);
        // Cut inside Pixel Data: a truncated file.
        var truncated = Write("truncated.dcm", "Cut^Off");
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..^50]);

        var (code, output, error) = Dump(first, truncated, last);

        Assert.Equal(1, code);
        var line = Assert.Single(Lines(error));
        Assert.StartsWith($"hipponode dump: {truncated}: ", line, StringComparison.Ordinal);
        Assert.Contains("offset", line, StringComparison.Ordinal);
        Assert.Contains("(7FE0,0010)", line, StringComparison.Ordinal);
        Assert.Contains($"# File: {first}", output, StringComparison.Ordinal);
        Assert.Contains($"# File: {last}", output, StringComparison.Ordinal);
        Assert.Contains("[First^Patient]", output, StringComparison.Ordinal);
        Assert.Contains("[Last^Patient]", output, StringComparison.Ordinal);
        Assert.Contains("# Used TransferSyntax: Explicit VR Big Endian", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Cut^Off", output, StringComparison.Ordinal);
        // The good files come out in the order given.
        Assert.True(output.IndexOf("First^Patient", StringComparison.Ordinal) < output.IndexOf("Last^Patient", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_bad_file_gets_its_own_line_whatever_is_wrong_with_it()
    {
        var good = Write("good.dcm", "Good^One");
        var text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "this is not a DICOM file at all, just some text that is long enough to look at");
        var empty = Path.Combine(_dir, "empty.dcm");
        File.WriteAllBytes(empty, []);
        var missing = Path.Combine(_dir, "missing.dcm");

        var (code, output, error) = Dump(text, empty, good, missing);

        Assert.Equal(1, code);
        var lines = Lines(error);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"hipponode dump: {text}: ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"hipponode dump: {empty}: ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith($"hipponode dump: {missing}: ", lines[2], StringComparison.Ordinal);
        Assert.Contains("[Good^One]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_values_are_shortened_by_default_and_printed_in_full_with_all()
    {
        var path = Write("long.dcm", "Long^Values");

        var (code, shortOutput, _) = Dump(path);
        Assert.Equal(0, code);
        var shortComment = Assert.Single(Lines(shortOutput), l => l.StartsWith("(0010,4000)", StringComparison.Ordinal));
        Assert.Contains("...", shortComment, StringComparison.Ordinal);
        Assert.DoesNotContain("THE-END", shortComment, StringComparison.Ordinal);
        var shortPixels = Assert.Single(Lines(shortOutput), l => l.StartsWith("(7FE0,0010)", StringComparison.Ordinal));
        Assert.DoesNotContain("\\ab", shortPixels, StringComparison.Ordinal);

        var (codeAll, fullOutput, _) = Dump("--all", path);
        Assert.Equal(0, codeAll);
        var fullComment = Assert.Single(Lines(fullOutput), l => l.StartsWith("(0010,4000)", StringComparison.Ordinal));
        Assert.Contains($"[{LongText}]", fullComment, StringComparison.Ordinal);
        var fullPixels = Assert.Single(Lines(fullOutput), l => l.StartsWith("(7FE0,0010)", StringComparison.Ordinal));
        var hex = string.Join('\\', Enumerable.Range(0, 199).Select(i => i.ToString("x2", CultureInfo.InvariantCulture))) + "\\ab";
        Assert.Contains($"OB {hex} ", fullPixels, StringComparison.Ordinal);
        Assert.Contains("# 200, 1 PixelData", fullPixels, StringComparison.Ordinal);
        Assert.Equal(Dump("-a", path).Out, fullOutput);
    }

    [Fact]
    public void Command_line_mistakes_are_usage_errors()
    {
        Assert.Throws<UsageException>(() => Dump());
        Assert.Throws<UsageException>(() => Dump("--everything", "x.dcm"));
        Assert.Throws<UsageException>(() => Dump("--all"));
    }

    [SharedDataFact]
    public void Shared_data_good_files_dump_and_a_truncated_one_is_named()
    {
        var slice = TestData.Shared("TestVolumes", "Study1", "13_HCropVolume", "1.dcm");
        var truncated = TestData.Shared("dicom-corpus", "pydicom-test-files", "MR_truncated.dcm");
        var ct = TestData.Shared("dicom-corpus", "pydicom-test-files", "CT_small.dcm");

        var (code, output, error) = Dump(slice, truncated, ct);

        Assert.Equal(1, code);
        var line = Assert.Single(Lines(error));
        Assert.StartsWith($"hipponode dump: {truncated}: ", line, StringComparison.Ordinal);
        Assert.Contains("(7FE0,0010)", line, StringComparison.Ordinal);
        Assert.Contains("[HippoCrop]", output, StringComparison.Ordinal);           // the slice's Series Description
        Assert.Contains("[CompressedSamples^CT1]", output, StringComparison.Ordinal); // CT_small's Patient Name
        Assert.Contains("(Sequence with 2 items)", output, StringComparison.Ordinal); // CT_small's Other Patient IDs Sequence
    }

    [Fact]
    public void The_built_program_returns_the_verbs_exit_codes()
    {
        var program = Path.Combine(AppContext.BaseDirectory, "hipponode.dll");
        Assert.True(File.Exists(program), $"{program} not built next to the tests");
        var good = Write("good.dcm", "Program^Run");
        var bad = Path.Combine(_dir, "bad.dcm");
        File.WriteAllText(bad, "not DICOM, but long enough for the reader to look at its first bytes");

        var ok = TestData.Run("dotnet", [program, "dump", good], TimeSpan.FromSeconds(60));
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Contains("[Program^Run]", ok.StdOut, StringComparison.Ordinal);

        var failed = TestData.Run("dotnet", [program, "dump", good, bad], TimeSpan.FromSeconds(60));
        Assert.Equal(1, failed.ExitCode);
        Assert.StartsWith($"hipponode dump: {bad}: ", Assert.Single(Lines(failed.StdErr)), StringComparison.Ordinal);
        Assert.Contains("[Program^Run]", failed.StdOut, StringComparison.Ordinal);

        var usage = TestData.Run("dotnet", [program, "dump"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, usage.ExitCode);
    }
}
