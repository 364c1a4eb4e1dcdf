using HippoNode.Dicom;

namespace HippoNode.Dicom.Tests.Conformance;

/// <summary>
/// Deep comparison of two data sets as our reader holds them: tags, VRs, value bytes, sequence items and fragments.
/// Used for "what we (or dcmconv) wrote reads back as the original".
/// </summary>
/// <remarks>
/// Allowed differences, each a consequence of the encoding and not a loss:
/// <list type="bullet">
/// <item>Odd-length values come back one pad byte longer (NUL for UI and binary VRs, space for text): PS3.5 7.1.1.</item>
/// <item>Group length values (gggg,0000) are recomputed by every writer: only their presence is compared.</item>
/// <item>Implicit VR output loses VRs: a reader can only take the dictionary's (UN for private and unknown tags).</item>
/// <item>US vs SS for "US or SS" attributes where one side came through Implicit VR (DCMTK resolves those from Pixel
/// Representation, our dictionary says US).</item>
/// <item>A private sequence that another writer put into Implicit VR with a defined length comes back as UN bytes (no
/// reader can know it is a sequence): those bytes must parse as the original items.</item>
/// <item>With <c>trimPadding</c> (DCMTK's writer): string values may lose surplus trailing padding ("OTHER  " → "OTHER").</item>
/// </list>
/// </remarks>
internal static class DatasetDiff
{
    private const int MaxDifferences = 30;

    /// <summary>Differences between an original and what came back; <paramref name="viaImplicit"/> when either side went through Implicit VR.</summary>
    public static List<string> Compare(DicomDataset original, DicomDataset reread, bool viaImplicit, bool trimPadding = false)
    {
        var diffs = new List<string>();
        new Context(viaImplicit, trimPadding, diffs).CompareSets("", original, reread);
        return diffs;
    }

    private sealed record Context(bool ViaImplicit, bool TrimPadding, List<string> Diffs)
    {
        public void CompareSets(string path, DicomDataset a, DicomDataset b) => DatasetDiff.CompareSets(path, a, b, this);
    }

    private static void Add(Context c, string path, string what)
    {
        if (c.Diffs.Count < MaxDifferences) c.Diffs.Add($"{path}: {what}");
    }

    private static void CompareSets(string path, DicomDataset a, DicomDataset b, Context c)
    {
        var x = a.ToList();
        var y = b.ToList();
        int i = 0, j = 0;
        while (i < x.Count || j < y.Count)
        {
            if (j >= y.Count || (i < x.Count && x[i].Tag < y[j].Tag))
            {
                Add(c, Child(path, x[i].Tag), $"lost ({x[i]})");
                i++;
            }
            else if (i >= x.Count || y[j].Tag < x[i].Tag)
            {
                Add(c, Child(path, y[j].Tag), $"appeared ({y[j]})");
                j++;
            }
            else
            {
                CompareItems(Child(path, x[i].Tag), x[i], y[j], c);
                i++;
                j++;
            }
        }
    }

    private static string Child(string path, DicomTag tag) => path.Length == 0 ? tag.ToString() : $"{path}.{tag}";

    private static void CompareItems(string path, DicomItem a, DicomItem b, Context c)
    {
        switch (a, b)
        {
            case (DicomSequence sa, DicomSequence sb):
                if (sa.Items.Count != sb.Items.Count)
                {
                    Add(c, path, $"{sa.Items.Count} items became {sb.Items.Count}");
                    return;
                }
                for (var k = 0; k < sa.Items.Count; k++) CompareSets($"{path}[{k}]", sa.Items[k], sb.Items[k], c);
                return;
            case (DicomFragmentSequence fa, DicomFragmentSequence fb):
                if (fa.VR != fb.VR) Add(c, path, $"VR {fa.VR.Code()} became {fb.VR.Code()}");
                if (fa.Fragments.Count != fb.Fragments.Count)
                {
                    Add(c, path, $"{fa.Fragments.Count} fragments became {fb.Fragments.Count}");
                    return;
                }
                CompareBytes($"{path}[offset table]", fa.OffsetTable.GetMemory().Span, fb.OffsetTable.GetMemory().Span, 0, c);
                for (var k = 0; k < fa.Fragments.Count; k++)
                    CompareBytes($"{path}[fragment {k + 1}]", fa.Fragments[k].GetMemory().Span, fb.Fragments[k].GetMemory().Span, 0, c);
                return;
            case (DicomElement ea, DicomElement eb):
                if (ea.VR != eb.VR && !VRChangeAllowed(ea, eb, c.ViaImplicit))
                {
                    Add(c, path, $"VR {ea.VR.Code()} became {eb.VR.Code()}");
                    return;
                }
                if (ea.Tag.IsGroupLength) return; // recomputed on write
                var va = ea.Buffer.GetMemory().Span;
                var vb = eb.Buffer.GetMemory().Span;
                if (c.TrimPadding && ea.VR.IsString() && eb.VR.IsString())
                {
                    va = va.TrimEnd(ea.VR.PaddingByte());
                    vb = vb.TrimEnd(eb.VR.PaddingByte());
                }
                CompareBytes(path, va, vb, eb.VR.PaddingByte(), c);
                return;
            case (DicomSequence sa, DicomElement { VR: DicomVR.UN } eb) when c.ViaImplicit && DicomDictionary.ImplicitVR(sa.Tag) != DicomVR.SQ:
                if (ParseItems(sa.Tag, eb.Buffer.GetMemory()) is { } parsed) CompareItems(path, sa, parsed, c);
                else Add(c, path, "a private sequence became UN bytes that do not parse as its items");
                return;
            default:
                Add(c, path, $"{a.GetType().Name} became {b.GetType().Name}");
                return;
        }
    }

    /// <summary>Parses the value of a defined-length private sequence read as UN (Implicit VR items) back into a sequence; null when it is not one.</summary>
    private static DicomSequence? ParseItems(DicomTag tag, ReadOnlyMemory<byte> value)
    {
        // A bare Implicit VR data set: one harmless element (so that the encoding is recognised), then the sequence with
        // undefined length around the items, then its delimiter.
        using var ms = new MemoryStream();
        ms.Write([0x08, 0x00, 0x16, 0x00, 0x02, 0x00, 0x00, 0x00, (byte)'1', 0x00]);
        Span<byte> header = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header, tag.Group);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header[2..], tag.Element);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 0xFFFFFFFF);
        ms.Write(header);
        ms.Write(value.Span);
        ms.Write([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        ms.Position = 0;
        try
        {
            return HippoNode.Dicom.IO.DicomFile.Read(ms).Dataset.GetSequence(tag);
        }
        catch (DicomException)
        {
            return null;
        }
    }

    private static bool VRChangeAllowed(DicomElement a, DicomElement b, bool viaImplicit)
    {
        if (!viaImplicit) return false;
        if (b.VR == DicomDictionary.ImplicitVR(b.Tag) || a.VR == DicomDictionary.ImplicitVR(a.Tag)) return true;
        var entry = DicomDictionary.Find(a.Tag);
        return entry is not null && entry.AllowedVRs.Contains(a.VR) && entry.AllowedVRs.Contains(b.VR);
    }

    private static void CompareBytes(string path, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, byte pad, Context c)
    {
        if (a.SequenceEqual(b)) return;
        // An odd value comes back padded to even length.
        if ((a.Length & 1) == 1 && b.Length == a.Length + 1 && b[..a.Length].SequenceEqual(a) && (b[^1] == pad || b[^1] == 0)) return;
        var at = 0;
        while (at < a.Length && at < b.Length && a[at] == b[at]) at++;
        Add(c, path, $"value differs ({a.Length} bytes became {b.Length}; first difference at byte {at})");
    }
}
