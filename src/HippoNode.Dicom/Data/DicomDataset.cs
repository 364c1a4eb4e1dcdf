using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace HippoNode.Dicom;

/// <summary>An ordered set of DICOM items (a data set or a sequence item), with typed accessors.</summary>
public sealed class DicomDataset : IEnumerable<DicomItem>
{
    private readonly SortedList<uint, DicomItem> _items = [];

    /// <summary>An empty data set.</summary>
    public DicomDataset() { }

    /// <summary>A data set holding the given items.</summary>
    public DicomDataset(IEnumerable<DicomItem> items)
    {
        foreach (var i in items) Add(i);
    }

    /// <summary>The data set that holds the sequence this item belongs to; null at top level.</summary>
    public DicomDataset? Parent { get; internal set; }

    /// <summary>Number of items directly in this data set.</summary>
    public int Count => _items.Count;

    /// <summary>True when the tag is present (with or without a value).</summary>
    public bool Contains(DicomTag tag) => _items.ContainsKey(tag.Value);

    /// <summary>The item for a tag, or null.</summary>
    public DicomItem? this[DicomTag tag] => _items.GetValueOrDefault(tag.Value);

    /// <summary>The item for a tag, or null.</summary>
    public DicomItem? GetItem(DicomTag tag) => _items.GetValueOrDefault(tag.Value);

    /// <summary>Adds or replaces an item; sequence items get this data set as their parent.</summary>
    public DicomDataset Add(DicomItem item)
    {
        if (item is DicomSequence sq) foreach (var ds in sq.Items) ds.Parent = this;
        _items[item.Tag.Value] = item;
        return this;
    }

    /// <summary>Removes a tag; true when it was present.</summary>
    public bool Remove(DicomTag tag) => _items.Remove(tag.Value);

    /// <summary>Removes every item for which the predicate holds.</summary>
    public int RemoveAll(Func<DicomItem, bool> predicate)
    {
        var doomed = _items.Values.Where(predicate).Select(i => i.Tag.Value).ToList();
        foreach (var t in doomed) _items.Remove(t);
        return doomed.Count;
    }

    /// <inheritdoc />
    public IEnumerator<DicomItem> GetEnumerator() => _items.Values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The text encoding in force here: this data set's Specific Character Set, else its parent's.</summary>
    public Encoding Encoding
    {
        get
        {
            for (var ds = this; ds is not null; ds = ds.Parent)
            {
                if (ds._items.GetValueOrDefault(DicomTags.SpecificCharacterSet.Value) is DicomElement e)
                    return DicomCharacterSet.GetEncoding(SplitStrings(DicomCharacterSet.Latin1.GetString(e.Buffer.GetMemory().Span), DicomVR.CS));
            }
            return DicomCharacterSet.Latin1;
        }
    }

    /// <summary>A deep copy (value buffers are shared; they are immutable).</summary>
    public DicomDataset Clone()
    {
        var copy = new DicomDataset();
        foreach (var item in this)
        {
            switch (item)
            {
                case DicomSequence sq:
                    var nsq = new DicomSequence(sq.Tag);
                    foreach (var ds in sq.Items) nsq.Items.Add(ds.Clone());
                    copy.Add(nsq);
                    break;
                case DicomFragmentSequence fs:
                    var nfs = new DicomFragmentSequence(fs.Tag, fs.VR) { OffsetTable = fs.OffsetTable };
                    nfs.Fragments.AddRange(fs.Fragments);
                    copy.Add(nfs);
                    break;
                default:
                    copy.Add(item);
                    break;
            }
        }
        return copy;
    }

    // ---- strings -------------------------------------------------------------------------------

    /// <summary>The whole value of a string element, decoded, trailing padding (and leading spaces where insignificant) removed; null when absent.</summary>
    public string? GetString(DicomTag tag)
    {
        if (GetItem(tag) is not DicomElement e) return null;
        return DecodeString(e);
    }

    /// <summary>Like <see cref="GetString"/>, false when the tag is absent or not an element.</summary>
    public bool TryGetString(DicomTag tag, out string value)
    {
        var s = GetString(tag);
        value = s ?? "";
        return s is not null;
    }

    /// <summary>The backslash-separated values of a string element, each trimmed; empty when absent.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        if (GetItem(tag) is not DicomElement e || e.Length == 0) return [];
        var raw = RawString(e);
        return SplitStrings(raw, e.VR);
    }

    /// <summary>The decoded text of an element before any trimming (padding included).</summary>
    public string RawString(DicomElement element)
    {
        var enc = element.VR.UsesSpecificCharacterSet() ? Encoding : DicomCharacterSet.Latin1;
        return enc.GetString(element.Buffer.GetMemory().Span);
    }

    private string DecodeString(DicomElement e)
    {
        var raw = RawString(e);
        return e.VR.IsSingleValuedText() ? raw.TrimEnd(' ', '\0') : raw.Trim(' ', '\0');
    }

    internal static string[] SplitStrings(string raw, DicomVR vr)
    {
        if (raw.Length == 0) return [];
        if (vr.IsSingleValuedText()) return [raw.TrimEnd(' ', '\0')];
        var parts = raw.Split('\\');
        for (var i = 0; i < parts.Length; i++) parts[i] = parts[i].Trim(' ', '\0');
        return parts;
    }

    /// <summary>Sets a string element; several values are joined with backslashes, encoded with this data set's character set.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, params string[] values)
    {
        if (!vr.IsString()) throw new ArgumentException($"{vr.Code()} is not a string VR; use a typed setter.", nameof(vr));
        if (vr.IsSingleValuedText() && values.Length > 1) throw new ArgumentException($"{vr.Code()} holds one value only.", nameof(values));
        var text = string.Join('\\', values);
        var enc = vr.UsesSpecificCharacterSet() ? Encoding : Encoding.ASCII;
        if (!vr.UsesSpecificCharacterSet() && text.Any(c => c > 0x7F))
            throw new ArgumentException($"{vr.Code()} allows the default repertoire only.", nameof(values));
        Add(new DicomElement(tag, vr, new MemoryByteBuffer(enc.GetBytes(text))));
        return this;
    }

    /// <summary>Sets a string element with the VR the dictionary gives for the tag.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, params string[] values) => AddOrUpdate(tag, DictionaryVR(tag), values);

    // ---- numbers -------------------------------------------------------------------------------

    /// <summary>The value at <paramref name="index"/> as <typeparamref name="T"/>, from binary VRs or IS/DS text; throws when absent or not convertible.</summary>
    public T GetValue<T>(DicomTag tag, int index = 0) where T : struct, INumber<T>
    {
        if (TryGetValue<T>(tag, out var v, index)) return v;
        throw new DicomException($"{tag} {DicomDictionary.KeywordOf(tag)} has no value {index} convertible to {typeof(T).Name}.");
    }

    /// <summary>The value at <paramref name="index"/> as <typeparamref name="T"/>; false when absent or not convertible.</summary>
    public bool TryGetValue<T>(DicomTag tag, out T value, int index = 0) where T : struct, INumber<T>
    {
        value = default;
        T[] all;
        try
        {
            all = GetValues<T>(tag);
        }
        catch (DicomException)
        {
            // A VR that holds no numbers (a sender that put Samples per Pixel in an LO): "not convertible", as this
            // method promises; readers of untrusted data rely on it never throwing.
            return false;
        }
        if (index < 0 || index >= all.Length) return false;
        value = all[index];
        return true;
    }

    /// <summary>All values of a numeric element (binary VRs, or IS/DS parsed culture-invariantly); empty when absent or unparsable.</summary>
    public T[] GetValues<T>(DicomTag tag) where T : struct, INumber<T>
    {
        try
        {
            return GetValuesChecked<T>(tag);
        }
        catch (OverflowException)
        {
            return []; // a value that T cannot hold is "not convertible", not a crash
        }
    }

    private T[] GetValuesChecked<T>(DicomTag tag) where T : struct, INumber<T>
    {
        if (GetItem(tag) is not DicomElement e || e.Length == 0) return [];
        if (e.VR is DicomVR.IS or DicomVR.DS)
        {
            var parts = GetStrings(tag);
            var result = new T[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return [];
                result[i] = T.CreateChecked(d);
            }
            return result;
        }
        var span = e.Buffer.GetMemory().Span;
        var size = e.VR.ValueSize();
        if (e.VR is DicomVR.OB or DicomVR.UN) size = 1;
        var n = span.Length / size;
        var values = new T[n];
        for (var i = 0; i < n; i++)
        {
            var s = span.Slice(i * size, size);
            values[i] = e.VR switch
            {
                DicomVR.US or DicomVR.OW => T.CreateChecked(BinaryPrimitives.ReadUInt16LittleEndian(s)),
                DicomVR.SS => T.CreateChecked(BinaryPrimitives.ReadInt16LittleEndian(s)),
                DicomVR.UL or DicomVR.OL => T.CreateChecked(BinaryPrimitives.ReadUInt32LittleEndian(s)),
                DicomVR.SL => T.CreateChecked(BinaryPrimitives.ReadInt32LittleEndian(s)),
                DicomVR.FL or DicomVR.OF => T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(s)),
                DicomVR.FD or DicomVR.OD => T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(s)),
                DicomVR.SV => T.CreateChecked(BinaryPrimitives.ReadInt64LittleEndian(s)),
                DicomVR.UV or DicomVR.OV => T.CreateChecked(BinaryPrimitives.ReadUInt64LittleEndian(s)),
                DicomVR.OB or DicomVR.UN => T.CreateChecked(s[0]),
                _ => throw new DicomException($"{tag} has VR {e.VR.Code()}, which holds no numbers."),
            };
        }
        return values;
    }

    /// <summary>Sets a numeric element: binary VRs are encoded little-endian, IS/DS as invariant text (DS within 16 characters).</summary>
    public DicomDataset AddOrUpdate<T>(DicomTag tag, DicomVR vr, params T[] values) where T : struct, INumber<T>
    {
        if (vr is DicomVR.IS or DicomVR.DS)
        {
            var text = values.Select(v => vr == DicomVR.IS
                ? long.CreateChecked(v).ToString(CultureInfo.InvariantCulture)
                : FormatDecimalString(double.CreateChecked(v))).ToArray();
            return AddOrUpdate(tag, vr, text);
        }
        var size = vr.ValueSize();
        if (vr is DicomVR.OB or DicomVR.UN) size = 1;
        var bytes = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            var s = bytes.AsSpan(i * size, size);
            switch (vr)
            {
                case DicomVR.US or DicomVR.OW: BinaryPrimitives.WriteUInt16LittleEndian(s, ushort.CreateChecked(values[i])); break;
                case DicomVR.SS: BinaryPrimitives.WriteInt16LittleEndian(s, short.CreateChecked(values[i])); break;
                case DicomVR.UL or DicomVR.OL: BinaryPrimitives.WriteUInt32LittleEndian(s, uint.CreateChecked(values[i])); break;
                case DicomVR.SL: BinaryPrimitives.WriteInt32LittleEndian(s, int.CreateChecked(values[i])); break;
                case DicomVR.FL or DicomVR.OF: BinaryPrimitives.WriteSingleLittleEndian(s, float.CreateChecked(values[i])); break;
                case DicomVR.FD or DicomVR.OD: BinaryPrimitives.WriteDoubleLittleEndian(s, double.CreateChecked(values[i])); break;
                case DicomVR.SV: BinaryPrimitives.WriteInt64LittleEndian(s, long.CreateChecked(values[i])); break;
                case DicomVR.UV or DicomVR.OV: BinaryPrimitives.WriteUInt64LittleEndian(s, ulong.CreateChecked(values[i])); break;
                case DicomVR.OB or DicomVR.UN: s[0] = byte.CreateChecked(values[i]); break;
                default: throw new ArgumentException($"{vr.Code()} does not hold numbers.", nameof(vr));
            }
        }
        Add(new DicomElement(tag, vr, new MemoryByteBuffer(bytes)));
        return this;
    }

    /// <summary>Sets raw bytes (OB, UN, OW already little-endian, ...).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes)
    {
        Add(new DicomElement(tag, vr, new MemoryByteBuffer(bytes)));
        return this;
    }

    /// <summary>Sets raw bytes; without this overload a byte[] would bind to the numeric setter and be re-encoded one value per byte.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, byte[] bytes) => AddOrUpdate(tag, vr, (ReadOnlyMemory<byte>)bytes);

    /// <summary>Formats a number as a DS value: invariant, at most 16 characters (PS3.5 Table 6.2-1).</summary>
    public static string FormatDecimalString(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), "DS cannot hold NaN or infinity.");
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        // Rounding near double.MaxValue can round past it ("1.797693135E+308" reads back as infinity): go shorter then.
        for (var precision = 16; precision > 0 && (s.Length > 16 || double.IsInfinity(double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture))); precision--)
            s = value.ToString("G" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return s;
    }

    // ---- dates, times, UIDs, tags --------------------------------------------------------------

    /// <summary>A DA value (YYYYMMDD) as a date; null when absent or malformed.</summary>
    public DateOnly? GetDate(DicomTag tag)
    {
        var s = GetString(tag);
        return s is not null && DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
    }

    /// <summary>A TM value (HH[MM[SS[.F{1-6}]]], optional colons of old files accepted) as a time; null when absent or malformed.</summary>
    public TimeOnly? GetTime(DicomTag tag)
    {
        var s = GetString(tag);
        return s is null ? null : ParseTime(s.Replace(":", "", StringComparison.Ordinal));
    }

    /// <summary>A DT value (YYYY[MM[DD[HH[MM[SS[.F]]]]]][&amp;ZZXX]) as a date-time with offset; null when absent or malformed.</summary>
    public DateTimeOffset? GetDateTime(DicomTag tag)
    {
        var s = GetString(tag);
        if (string.IsNullOrEmpty(s)) return null;
        var offset = TimeSpan.Zero;
        var signAt = s.Length > 4 ? s.IndexOfAny(['+', '-'], 4) : -1;
        if (signAt > 0)
        {
            var z = s[signAt..];
            if (z.Length != 5 || !int.TryParse(z.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var zh) ||
                !int.TryParse(z.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var zm)) return null;
            offset = new TimeSpan(zh, zm, 0) * (z[0] == '-' ? -1 : 1);
            s = s[..signAt];
        }
        if (s.Length < 4 || !int.TryParse(s.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)) return null;
        var month = 1;
        var day = 1;
        if (s.Length >= 6 && !int.TryParse(s.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out month)) return null;
        if (s.Length >= 8 && !int.TryParse(s.AsSpan(6, 2), NumberStyles.None, CultureInfo.InvariantCulture, out day)) return null;
        var time = s.Length > 8 ? ParseTime(s[8..]) : TimeOnly.MinValue;
        if (time is null) return null;
        try
        {
            return new DateTimeOffset(new DateOnly(year, month, day), time.Value, offset);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static TimeOnly? ParseTime(string s)
    {
        if (s.Length < 2 || !int.TryParse(s.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var h)) return null;
        var m = 0;
        var sec = 0;
        long ticks = 0;
        if (s.Length >= 4 && !int.TryParse(s.AsSpan(2, 2), NumberStyles.None, CultureInfo.InvariantCulture, out m)) return null;
        if (s.Length >= 6 && !int.TryParse(s.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out sec)) return null;
        if (s.Length > 7 && s[6] == '.')
        {
            var frac = s[7..];
            if (frac.Length > 6 || !int.TryParse(frac, NumberStyles.None, CultureInfo.InvariantCulture, out var f)) return null;
            ticks = f * (long)Math.Pow(10, 7 - frac.Length);
        }
        if (h > 23 || m > 59 || sec > 60) return null;
        return new TimeOnly(h, m, Math.Min(sec, 59)).Add(TimeSpan.FromTicks(ticks));
    }

    /// <summary>Sets a DA element.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DateOnly date) =>
        AddOrUpdate(tag, DicomVR.DA, date.ToString("yyyyMMdd", CultureInfo.InvariantCulture));

    /// <summary>Sets a TM element (HHMMSS.FFFFFF).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, TimeOnly time) =>
        AddOrUpdate(tag, DicomVR.TM, time.ToString("HHmmss.ffffff", CultureInfo.InvariantCulture));

    /// <summary>Sets a DT element with its UTC offset.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DateTimeOffset dateTime) =>
        AddOrUpdate(tag, DicomVR.DT, dateTime.ToString("yyyyMMddHHmmss.ffffff", CultureInfo.InvariantCulture) +
            (dateTime.Offset < TimeSpan.Zero ? "-" : "+") + dateTime.Offset.ToString("hhmm", CultureInfo.InvariantCulture));

    /// <summary>The values of an AT element as tags.</summary>
    public DicomTag[] GetTags(DicomTag tag)
    {
        if (GetItem(tag) is not DicomElement { VR: DicomVR.AT } e) return [];
        var span = e.Buffer.GetMemory().Span;
        var r = new DicomTag[span.Length / 4];
        for (var i = 0; i < r.Length; i++)
            r[i] = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(span[(i * 4)..]), BinaryPrimitives.ReadUInt16LittleEndian(span[(i * 4 + 2)..]));
        return r;
    }

    /// <summary>Sets an AT element.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, params DicomTag[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4), values[i].Group);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4 + 2), values[i].Element);
        }
        Add(new DicomElement(tag, DicomVR.AT, new MemoryByteBuffer(bytes)));
        return this;
    }

    /// <summary>The sequence at a tag, or null.</summary>
    public DicomSequence? GetSequence(DicomTag tag) => GetItem(tag) as DicomSequence;

    /// <summary>Adds a sequence with the given items (their parent becomes this data set).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, params DicomDataset[] items)
    {
        var sq = new DicomSequence(tag);
        sq.Items.AddRange(items);
        Add(sq);
        return this;
    }

    private static DicomVR DictionaryVR(DicomTag tag)
    {
        var vr = DicomDictionary.Find(tag)?.VR ?? DicomVR.UN;
        return vr == DicomVR.UN ? throw new ArgumentException($"{tag} is not in the dictionary; give its VR.", nameof(tag)) : vr;
    }
}
