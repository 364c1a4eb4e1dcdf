using System.Collections.Concurrent;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>
/// "Must show" 1 and 2 of the toolkit issue: every shared-data DICOM file reads with <see cref="DicomFile.Open"/> as
/// DCMTK's dcmdump reads it (tag, VR, value length, VM and value of every element at every depth, see
/// <see cref="DumpComparer"/>), and every deliberately broken file ends as the outcome table below says: a
/// <see cref="DicomParseException"/> naming offset (and tag where there is one), or a lenient read that
/// <see cref="DicomFile.ReadWarnings"/> reports. Never another exception, never a hang.
/// </summary>
public sealed class DcmdumpConformanceTests
{
    private static readonly TimeSpan ReadLimit = TimeSpan.FromSeconds(20);

    /// <summary>How a file must end.</summary>
    internal enum Outcome
    {
        /// <summary>Our reader throws DicomParseException; its message names the byte offset (and the tag when given).</summary>
        ParseError,

        /// <summary>Our reader reads it, says so in ReadWarnings (the text given), and agrees with dcmdump.</summary>
        LenientRead,

        /// <summary>A clean read without warnings that agrees with dcmdump; listed here only to record why an odd file is fine.</summary>
        Reads,
    }

    /// <param name="Outcome">What our reader must do.</param>
    /// <param name="DcmtkFails">True when dcmdump (default options) also gives up on the file.</param>
    /// <param name="Text">For ParseError: a phrase of the message; for LenientRead: a phrase of one ReadWarnings entry.</param>
    /// <param name="Tag">For ParseError: the element the message must name (null: none, the fault is before any element).</param>
    /// <param name="SequenceLengths">False where the file's own sequence/item lengths are wrong, so that the lengths our writer computes cannot match them.</param>
    /// <param name="Why">What is odd about the file and why this outcome is right.</param>
    internal sealed record Expectation(Outcome Outcome, bool DcmtkFails, string? Text, DicomTag? Tag, string Why, bool SequenceLengths = true);

    /// <summary>
    /// Per-file expected outcomes for the broken and odd files of the shared data (paths relative to ../shared/data).
    /// Every file not listed must read cleanly (no ReadWarnings), dcmdump must read it too, and the two must agree.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, Expectation> Table = new Dictionary<string, Expectation>(StringComparer.Ordinal)
    {
        // ---- truncated and corrupt: no sensible reading; DCMTK fails on each as well --------------------------------
        ["dicom-corpus/pydicom-test-files/MR_truncated.dcm"] = new(Outcome.ParseError, DcmtkFails: true, "exceeds the", new DicomTag(0x7FE0, 0x0010),
            "Pixel Data claims 8192 bytes, 8130 are left: the file was cut. DCMTK: 'PixelData larger (8192) than remaining bytes in file'."),
        ["dicom-corpus/pydicom-test-files/rtplan_truncated.dcm"] = new(Outcome.ParseError, DcmtkFails: true, "exceeds the", new DicomTag(0x300A, 0x00B0),
            "Beam Sequence claims 976 bytes, 711 are left. We stop at the sequence header; DCMTK reads on into it and stops at "
            + "IsocenterPosition (300A,012C) inside it ('larger (50) than remaining bytes (29)'). Same verdict: truncated."),
        ["dicom-corpus/pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm"] = new(Outcome.ParseError, DcmtkFails: true, "end of data", new DicomTag(0x7FE0, 0x0010),
            "The last JPEG 2000 fragment is cut and the Sequence Delimitation Item is missing. DCMTK: 'Sequence Delimitation Item missing'."),
        ["dicom-corpus/pydicom-test-files/SC_rgb_jpeg.dcm"] = new(Outcome.ParseError, DcmtkFails: true, "Invalid VR", new DicomTag(0x0008, 0x0008),
            "The meta information says JPEG Baseline (Explicit VR) but the data set is encoded Implicit VR: the first element's "
            + "'VR' is length bytes 18 00. Guessing another encoding than the declared one is not a reading we stand behind; DCMTK "
            + "tries (non-standard VR warnings) and then fails on a garbage length."),
        ["dicom-corpus/pydicom-test-files/no_meta.dcm"] = new(Outcome.ParseError, DcmtkFails: true, "Not a DICOM file", null,
            "No preamble, no meta information, and one stray byte (0x20) before the first element, so nothing at offset 0 is an "
            + "element header. DCMTK reads a tag (0820,0500) out of step and fails on its length."),

        // ---- odd but readable: a lenient read, reported in ReadWarnings ---------------------------------------------
        ["dicom-corpus/pydicom-test-files/dicomdirtests/DICOMDIR-nooffset"] = new(Outcome.LenientRead, DcmtkFails: false, "claims 248 bytes", null,
            "Offset elements were removed from the last directory record without updating its item length (248, 224 are there). "
            + "The Directory Record Sequence's own length bounds the item: read to the sequence end (as DCMTK does).",
            SequenceLengths: false),
        ["dicom-corpus/pydicom-test-files/meta_missing_tsyntax.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "no Transfer Syntax UID", null,
            "Meta information without (0002,0010): the syntax is guessed from the first data element (Implicit VR LE), as DCMTK does. "
            + "Its private UN sequence of undefined length is read as Implicit VR (CP-246), like DCMTK."),
        ["dicom-corpus/pydicom-test-files/no_meta_group_length.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "no group length", null,
            "Meta information without (0002,0000): read while the group is 0002 (DCMTK warns the same)."),
        ["dicom-corpus/pydicom-test-files/ExplVR_BigEndNoMeta.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "bare data set", null,
            "No preamble and no meta information: Explicit VR Big Endian recognised from the first element header (DCMTK likewise)."),
        ["dicom-corpus/pydicom-test-files/ExplVR_LitEndNoMeta.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "bare data set", null,
            "No preamble and no meta information: Explicit VR Little Endian recognised from the first element header."),
        ["dicom-corpus/pydicom-test-files/rtstruct.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "bare data set", null,
            "A bare Implicit VR data set (no preamble, no meta)."),
        ["dicom-corpus/pydicom-data/OT-PAL-8-face.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "bare data set", null,
            "A bare Implicit VR data set (no preamble, no meta)."),
        ["dicom-corpus/pydicom-data/JLSL_RGB_ILV0.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "read from offset 0", null,
            "Meta information at offset 0 without preamble and 'DICM'; its Transfer Syntax UID (JPEG-LS) decides the encoding, as in DCMTK."),
        ["dicom-corpus/pydicom-data/JLSL_RGB_ILV1.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "read from offset 0", null, "As JLSL_RGB_ILV0."),
        ["dicom-corpus/pydicom-data/JLSL_RGB_ILV2.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "read from offset 0", null, "As JLSL_RGB_ILV0."),
        ["dicom-corpus/pydicom-data/JLSN_RGB_ILV0.dcm"] = new(Outcome.LenientRead, DcmtkFails: false, "read from offset 0", null, "As JLSL_RGB_ILV0 (JPEG-LS near-lossless)."),

        // ---- named "broken" but well-formed at the encoding level: clean reads that agree with dcmdump --------------
        ["dicom-corpus/pydicom-test-files/badVR.dcm"] = new(Outcome.Reads, DcmtkFails: false, null, null,
            "The encoding is sound; Number of Frames (0028,0008) IS holds '1A', not an integer string. Kept as read "
            + "(GetValues<int> finds no number), as DCMTK prints it."),
        ["dicom-corpus/pydicom-data/bad_sequence.dcm"] = new(Outcome.Reads, DcmtkFails: false, null, null,
            "A sequence with explicit VR UN and undefined length holding Implicit VR items: CP-246 (PS3.5 6.2.2) says read it as "
            + "Implicit VR LE, which we and DCMTK do."),
        ["dicom-corpus/pydicom-test-files/UN_sequence.dcm"] = new(Outcome.Reads, DcmtkFails: false, null, null,
            "A private sequence with VR UN and undefined length: read as an Implicit VR sequence (CP-246), as DCMTK does."),
        ["seg-sr-examples/highdicom/dx_image.dcm"] = new(Outcome.Reads, DcmtkFails: false, null, null,
            "Pixel Data OB of odd length 35659 (PS3.5 7.1.1 wants even). We keep the bytes read and pad on write; DCMTK pads on "
            + "load and reports 35660: the comparison adds the pad byte."),
        ["dicom-corpus/pydicom-data/emri_small_jpeg_2k_lossless.dcm"] = new(Outcome.Reads, DcmtkFails: false, null, null,
            "Encapsulated Pixel Data labelled OW (PS3.5 A.4 says OB): read as OB, as DCMTK does. Same in emri_small_jpeg_ls_lossless, "
            + "explicit_VR-UN, 693_J2KI, MR_small_jp2klossless, MR_small_jpeg_ls_lossless, SC_rgb_rle_16bit*, rtdose_rle*."),
    };

    [SharedDataFact("dcmdump")]
    public void Every_TestVolumes_file_reads_as_dcmdump_reads_it()
    {
        var files = CorpusFiles.TestVolumes();
        Assert.True(files.Count >= 200, $"expected the two TestVolumes studies (~250 files), found {files.Count}");
        var failures = CheckAll(files);
        Assert.True(failures.IsEmpty, Report(failures, files.Count));
    }

    [SharedDataFact("dcmdump")]
    public void Every_dicom_corpus_file_reads_as_dcmdump_reads_it_or_ends_as_the_outcome_table_says()
    {
        var files = CorpusFiles.Corpus();
        Assert.True(files.Count >= 200, $"expected the dicom-corpus (~270 DICOM files), found {files.Count}");
        var failures = CheckAll(files);
        Assert.True(failures.IsEmpty, Report(failures, files.Count));
    }

    [SharedDataFact("dcmdump")]
    public void Every_seg_sr_example_reads_as_dcmdump_reads_it()
    {
        var files = CorpusFiles.SegSr();
        Assert.Contains(files, f => Path.GetFileName(f) == "label.seg");
        Assert.True(files.Count >= 40, $"expected the seg-sr-examples DICOM objects, found {files.Count}");
        var failures = CheckAll(files);
        Assert.True(failures.IsEmpty, Report(failures, files.Count));
    }

    [SharedDataFact]
    public void The_outcome_table_lists_only_files_that_exist()
    {
        var missing = Table.Keys.Where(k => !File.Exists(TestData.Shared(k.Split('/')))).ToList();
        Assert.True(missing.Count == 0, "outcome table names files not in ../shared/data: " + string.Join(", ", missing));
    }

    /// <summary>Reads every file with our reader and dcmdump and returns one message per file that does not end as it must.</summary>
    private static ConcurrentDictionary<string, string> CheckAll(IReadOnlyList<string> files)
    {
        var failures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        DcmtkDump.DumpEach(files, dump =>
        {
            var problem = Check(dump.Path, dump);
            if (problem is not null) failures[CorpusFiles.Relative(dump.Path)] = problem;
        });
        return failures;
    }

    private static string? Check(string path, DumpFile dump)
    {
        var rel = CorpusFiles.Relative(path);
        var expectation = Table.GetValueOrDefault(rel) ?? new Expectation(Outcome.Reads, false, null, null, "");
        var read = CorpusFiles.Open(path, ReadLimit);
        if (read.TimedOut) return $"our reader did not finish within {ReadLimit.TotalSeconds} s (a hang)";

        if (expectation.DcmtkFails != dump.Failed)
            return expectation.DcmtkFails
                ? $"the table says DCMTK fails on it, but dcmdump read it (exit {dump.ExitCode})"
                : $"dcmdump fails on it (exit {dump.ExitCode}: {FirstLines(dump.StdErr)}) but it is not in the outcome table";

        if (expectation.Outcome == Outcome.ParseError)
        {
            if (read.Error is not DicomParseException pe)
                return read.Error is null ? "expected a DicomParseException, but it read" : $"expected a DicomParseException, got {read.Error.GetType().Name}: {read.Error.Message}";
            if (!pe.Message.Contains("offset", StringComparison.Ordinal)) return $"the message does not name the byte offset: {pe.Message}";
            if (expectation.Text is { } text && !pe.Message.Contains(text, StringComparison.OrdinalIgnoreCase)) return $"the message lacks '{text}': {pe.Message}";
            if (expectation.Tag is { } tag && (pe.Tag != tag || !pe.Message.Contains(tag.ToString(), StringComparison.Ordinal)))
                return $"the message should name {tag}: {pe.Message}";
            if (pe.Offset < 0 || pe.Offset > new FileInfo(path).Length) return $"offset {pe.Offset} outside the file: {pe.Message}";
            return null;
        }

        if (read.Error is not null) return $"our reader failed where it must read: {read.Error.GetType().Name}: {read.Error.Message}";
        var file = read.File!;
        if (expectation.Outcome == Outcome.LenientRead)
        {
            if (!file.ReadWarnings.Any(w => w.Contains(expectation.Text!, StringComparison.OrdinalIgnoreCase)))
                return $"a lenient read must be reported with '{expectation.Text}' in ReadWarnings; got [{string.Join(" | ", file.ReadWarnings)}]";
        }
        else if (file.ReadWarnings.Count > 0)
        {
            return $"a clean file read with warnings: {string.Join(" | ", file.ReadWarnings)}";
        }
        if (!dump.HasDataset) return "dcmdump printed no data set";
        var diffs = DumpComparer.Compare(file, dump, compareSequenceLengths: expectation.SequenceLengths);
        return diffs.Count == 0 ? null : $"differs from dcmdump ({file.TransferSyntax.Name}):\n      " + string.Join("\n      ", diffs);
    }

    private static string FirstLines(string s) => string.Join(" | ", s.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(3));

    private static string Report(ConcurrentDictionary<string, string> failures, int total) =>
        $"{failures.Count} of {total} files do not end as they must:\n" +
        string.Join("\n", failures.OrderBy(f => f.Key, StringComparer.Ordinal).Take(30).Select(f => $"  {f.Key}: {f.Value}"));
}
