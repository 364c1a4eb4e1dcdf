using System.Globalization;
using System.Text;

namespace HippoNode.Dicom.IO;

/// <summary>Renders a data set as text, one element per line, in the manner of DCMTK's dcmdump.</summary>
public static class DicomDumper
{
    /// <summary>Writes meta information and data set of a file.</summary>
    public static void Dump(DicomFile file, TextWriter output, int maxValueChars = 80)
    {
        output.WriteLine("# Dicom-File-Format");
        output.WriteLine();
        output.WriteLine("# Dicom-Meta-Information-Header");
        output.WriteLine("# Used TransferSyntax: Little Endian Explicit");
        Dump(file.FileMetaInformation, output, maxValueChars);
        output.WriteLine();
        output.WriteLine("# Dicom-Data-Set");
        output.WriteLine($"# Used TransferSyntax: {file.TransferSyntax.Name}");
        Dump(file.Dataset, output, maxValueChars);
    }

    /// <summary>Writes every item of a data set, nested items indented.</summary>
    public static void Dump(DicomDataset dataset, TextWriter output, int maxValueChars = 80, int depth = 0)
    {
        var indent = new string(' ', depth * 2);
        foreach (var item in dataset)
        {
            var keyword = DicomDictionary.KeywordOf(item.Tag);
            switch (item)
            {
                case DicomSequence sq:
                    output.WriteLine(Line(indent, item.Tag, "SQ", $"(Sequence with {sq.Items.Count} item{(sq.Items.Count == 1 ? "" : "s")})", "", keyword));
                    for (var i = 0; i < sq.Items.Count; i++)
                    {
                        output.WriteLine($"{indent}  (FFFE,E000) na (Item #{i + 1})");
                        Dump(sq.Items[i], output, maxValueChars, depth + 2);
                        output.WriteLine($"{indent}  (FFFE,E00D) na (ItemDelimitationItem)");
                    }
                    output.WriteLine($"{indent}(FFFE,E0DD) na (SequenceDelimitationItem)");
                    break;
                case DicomFragmentSequence fs:
                    output.WriteLine(Line(indent, item.Tag, fs.VR.Code(), $"(PixelSequence with {fs.Fragments.Count + 1} items)", "", keyword));
                    output.WriteLine($"{indent}  (FFFE,E000) pi {Hex(fs.OffsetTable.GetMemory().Span, 1, maxValueChars)}  # {fs.OffsetTable.Length}, 1 Item");
                    foreach (var f in fs.Fragments)
                        output.WriteLine($"{indent}  (FFFE,E000) pi {Hex(FirstBytes(f, maxValueChars), 1, maxValueChars)}  # {f.Length}, 1 Item");
                    output.WriteLine($"{indent}(FFFE,E0DD) na (SequenceDelimitationItem)");
                    break;
                case DicomElement e:
                    output.WriteLine(Line(indent, item.Tag, e.VR.Code(), FormatValue(dataset, e, maxValueChars),
                        $"{e.Length}, {e.ValueMultiplicity}", keyword));
                    break;
            }
        }
    }

    private static string Line(string indent, DicomTag tag, string vr, string value, string lengthAndVm, string keyword)
    {
        var left = $"{indent}{tag} {vr} {value}";
        var pad = left.Length < 56 ? new string(' ', 56 - left.Length) : " ";
        return lengthAndVm.Length == 0 ? $"{left}{pad}# {keyword}" : $"{left}{pad}# {lengthAndVm} {keyword}";
    }

    private static ReadOnlySpan<byte> FirstBytes(IByteBuffer buffer, int maxChars) =>
        buffer.Length <= maxChars || maxChars <= 0 ? buffer.GetMemory().Span : buffer.GetMemory().Span[..maxChars];

    /// <summary>The value as dcmdump shows it: [text] for strings, backslash-separated numbers, hex for OB/OW/UN; (no value available) when empty.</summary>
    public static string FormatValue(DicomDataset dataset, DicomElement e, int maxValueChars = 80)
    {
        if (e.Length == 0) return "(no value available)";
        string text;
        if (e.VR.IsString())
        {
            var raw = dataset.RawString(e).TrimEnd('\0', ' ');
            text = "[" + Escape(raw) + "]";
        }
        else
        {
            text = e.VR switch
            {
                DicomVR.OB or DicomVR.UN => Hex(FirstBytes(e.Buffer, maxValueChars), 1, maxValueChars),
                DicomVR.OW => Hex(FirstBytes(e.Buffer, maxValueChars * 2), 2, maxValueChars),
                DicomVR.AT => string.Join('\\', dataset.GetTags(e.Tag).Select(t => t.ToString())),
                DicomVR.FL or DicomVR.OF => Join(dataset.GetValues<float>(e.Tag).Select(v => v.ToString("R", CultureInfo.InvariantCulture)), maxValueChars),
                DicomVR.FD or DicomVR.OD => Join(dataset.GetValues<double>(e.Tag).Select(v => v.ToString("R", CultureInfo.InvariantCulture)), maxValueChars),
                DicomVR.SS => Join(dataset.GetValues<short>(e.Tag).Select(v => v.ToString(CultureInfo.InvariantCulture)), maxValueChars),
                DicomVR.SL => Join(dataset.GetValues<int>(e.Tag).Select(v => v.ToString(CultureInfo.InvariantCulture)), maxValueChars),
                DicomVR.SV => Join(dataset.GetValues<long>(e.Tag).Select(v => v.ToString(CultureInfo.InvariantCulture)), maxValueChars),
                DicomVR.UV or DicomVR.OV => Join(dataset.GetValues<ulong>(e.Tag).Select(v => v.ToString(CultureInfo.InvariantCulture)), maxValueChars),
                _ => Join(dataset.GetValues<ulong>(e.Tag).Select(v => v.ToString(CultureInfo.InvariantCulture)), maxValueChars),
            };
        }
        return maxValueChars > 0 && text.Length > maxValueChars ? text[..maxValueChars] + "..." : text;
    }

    private static string Join(IEnumerable<string> values, int maxChars)
    {
        var sb = new StringBuilder();
        foreach (var v in values)
        {
            if (sb.Length > 0) sb.Append('\\');
            sb.Append(v);
            if (maxChars > 0 && sb.Length > maxChars) break;
        }
        return sb.ToString();
    }

    private static string Hex(ReadOnlySpan<byte> bytes, int wordSize, int maxChars)
    {
        if (bytes.Length == 0) return "(no value available)";
        var sb = new StringBuilder();
        for (var i = 0; i + wordSize <= bytes.Length; i += wordSize)
        {
            if (sb.Length > 0) sb.Append('\\');
            if (wordSize == 2) sb.Append((bytes[i] | (bytes[i + 1] << 8)).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
            if (maxChars > 0 && sb.Length > maxChars) break;
        }
        return sb.ToString();
    }

    private static string Escape(string s)
    {
        if (!s.Any(char.IsControl)) return s;
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return sb.ToString();
    }
}
