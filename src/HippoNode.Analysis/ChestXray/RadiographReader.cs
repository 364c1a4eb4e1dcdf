using System.Globalization;
using HippoNode.Analysis.Selection;
using HippoNode.Analysis.Volumes;
using HippoNode.Classification;
using HippoNode.Dicom;

namespace HippoNode.Analysis.ChestXray;

/// <summary>A radiograph ready for display and classification: the grayscale image in [0, 1] (bright bone) and what was done to get it.</summary>
internal sealed class Radiograph
{
    public required ScannedInstance Instance { get; init; }

    /// <summary>The full data set (pixels included).</summary>
    public required DicomDataset Dataset { get; init; }

    /// <summary>The display image, source geometry (Columns x Rows), row-major.</summary>
    public required GrayscaleImage Image { get; init; }

    public int Rows => Image.Height;

    public int Columns => Image.Width;

    public required string PhotometricInterpretation { get; init; }

    public required int BitsStored { get; init; }

    /// <summary>How stored values became modality values: "Modality LUT Sequence", "rescale 1/-1024" or "identity".</summary>
    public required string ModalityStep { get; init; }

    /// <summary>How modality values became display values: "VOI LUT Sequence ...", "window C/W (LINEAR)" or "percentile window".</summary>
    public required string VoiStep { get; init; }

    /// <summary>True when the values were inverted for display (MONOCHROME1, or a Presentation LUT Shape INVERSE).</summary>
    public required bool Inverted { get; init; }

    /// <summary>Millimetres between rows and between columns, and the attribute they came from; null when the image has neither.</summary>
    public required (double Row, double Column, string Source)? PixelSpacing { get; init; }

    /// <summary>The whole pipeline in one line (report page, result.json).</summary>
    public string Pipeline => $"{ModalityStep}; {VoiStep}{(Inverted ? "; inverted (" + PhotometricInterpretation + ")" : "")}";
}

/// <summary>
/// Reads DX, DX-for-processing and CR images into a display image, following the grayscale pipeline of PS3.3 C.11:
/// stored values → Modality LUT (Modality LUT Sequence, else Rescale Slope/Intercept) → VOI LUT (the first VOI LUT
/// Sequence item, else the first Window Center/Width with its VOI LUT Function, else a robust percentile window) →
/// polarity (MONOCHROME1 is inverted; so is MONOCHROME2 with Presentation LUT Shape INVERSE).
/// </summary>
internal static class RadiographReader
{
    /// <summary>The percentiles of the robust window used when the image carries no VOI: values outside map to black or white.</summary>
    public const double LowPercentile = 0.005, HighPercentile = 0.995;

    /// <summary>Reads and converts one instance; faults end in an <see cref="AnalysisException"/> naming the series, the instance and the problem.</summary>
    public static Radiograph Read(string seriesLabel, ScannedInstance instance)
    {
        var name = SeriesVolumeReader.Name(instance);
        if (instance.Compressed)
            throw SeriesVolumeReader.Fault(seriesLabel, $"{name} is compressed ({instance.TransferSyntax}); HippoNode decodes uncompressed transfer syntaxes only. " +
                "Let the PACS send it uncompressed: Orthanc transcodes on send when the node does not accept the syntax (orthanc/orthanc.json, AllowTranscoding)");
        var rows = SeriesVolumeReader.RequiredInt(seriesLabel, instance, DicomTags.Rows);
        var columns = SeriesVolumeReader.RequiredInt(seriesLabel, instance, DicomTags.Columns);
        if (instance.Header.TryGetValue<int>(DicomTags.NumberOfFrames, out var frames) && frames > 1)
            throw SeriesVolumeReader.Fault(seriesLabel, $"{name} has {frames} frames; a radiograph is one frame");
        var (ds, values) = StoredPixels.Read(seriesLabel, instance, rows, columns, allowMonochrome1: true);
        var photometric = ds.GetString(DicomTags.PhotometricInterpretation) ?? "MONOCHROME2";
        var signed = ds.TryGetValue<int>(DicomTags.PixelRepresentation, out var pr) && pr == 1;
        var bitsStored = ds.TryGetValue<int>(DicomTags.BitsStored, out var bs) ? bs : ds.GetValue<int>(DicomTags.BitsAllocated);
        var padding = ds.TryGetValue<double>(DicomTags.PixelPaddingValue, out var pad) ? pad : (double?)null;

        // Padding pixels (outside the collimated field) must not pull the percentile window: marked on the stored values.
        bool[]? isPadding = padding is { } p ? [.. values.Select(v => v == p)] : null;
        string modalityStep;
        try
        {
            modalityStep = ApplyModality(ds, values, signed);
        }
        catch (FormatException ex)
        {
            throw SeriesVolumeReader.Fault(seriesLabel, $"{name}: {ex.Message}", ex);
        }

        string voiStep;
        try
        {
            voiStep = ApplyVoi(ds, values, isPadding);
        }
        catch (FormatException ex)
        {
            throw SeriesVolumeReader.Fault(seriesLabel, $"{name}: {ex.Message}", ex);
        }
        var shape = ds.GetString(DicomTags.PresentationLUTShape)?.Trim();
        var inverted = photometric == "MONOCHROME1" || (photometric == "MONOCHROME2" && shape == "INVERSE");
        if (inverted)
        {
            for (var i = 0; i < values.Length; i++) values[i] = 1 - values[i];
        }
        return new Radiograph
        {
            Instance = instance,
            Dataset = ds,
            Image = new GrayscaleImage(columns, rows, values),
            PhotometricInterpretation = photometric,
            BitsStored = bitsStored,
            ModalityStep = modalityStep,
            VoiStep = voiStep,
            Inverted = inverted,
            PixelSpacing = Spacing(ds),
        };
    }

    /// <summary>Stored values → modality values, in place; returns what was applied.</summary>
    /// <exception cref="FormatException">A malformed Modality LUT or an unusable rescale.</exception>
    internal static string ApplyModality(DicomDataset ds, float[] values, bool signed)
    {
        if (ds.GetSequence(DicomTags.ModalityLUTSequence) is { Items.Count: > 0 } seq)
        {
            var lut = Lut.From(seq.Items[0], "Modality LUT Sequence", signed);
            for (var i = 0; i < values.Length; i++) values[i] = lut.Map(values[i]);
            return $"Modality LUT Sequence ({lut.Entries} entries from {lut.First})";
        }
        var slope = ds.TryGetValue<double>(DicomTags.RescaleSlope, out var sl) ? sl : 1.0;
        var intercept = ds.TryGetValue<double>(DicomTags.RescaleIntercept, out var ic) ? ic : 0.0;
        if (!double.IsFinite(slope) || slope == 0 || !double.IsFinite(intercept))
            throw new FormatException($"Rescale Slope {slope} / Intercept {intercept} cannot be used (the slope must be finite and non-zero)");
        if (slope == 1 && intercept == 0) return "stored values (no rescale)";
        for (var i = 0; i < values.Length; i++) values[i] = (float)(values[i] * slope + intercept);
        return string.Create(CultureInfo.InvariantCulture, $"rescale {slope:G6}/{intercept:G6}");
    }

    /// <summary>Modality values → [0, 1], in place; returns what was applied.</summary>
    /// <exception cref="FormatException">A malformed VOI LUT or window.</exception>
    internal static string ApplyVoi(DicomDataset ds, float[] values, bool[]? padding = null)
    {
        if (ds.GetSequence(DicomTags.VOILUTSequence) is { Items.Count: > 0 } seq)
        {
            // The LUT's input is a modality value: signed whenever the modality values can be negative.
            var lut = Lut.From(seq.Items[0], "VOI LUT Sequence", signed: true);
            var max = Math.Pow(2, lut.Bits) - 1;
            for (var i = 0; i < values.Length; i++) values[i] = (float)Math.Clamp(lut.Map(values[i]) / max, 0, 1);
            return $"VOI LUT Sequence ({lut.Entries} entries, {lut.Bits} bits{(seq.Items.Count > 1 ? $", first of {seq.Items.Count}" : "")})";
        }
        var centres = ds.GetValues<double>(DicomTags.WindowCenter);
        var widths = ds.GetValues<double>(DicomTags.WindowWidth);
        if (centres.Length > 0 && widths.Length > 0)
        {
            var (c, w) = (centres[0], widths[0]);
            var function = ds.GetString(DicomTags.VOILUTFunction)?.Trim() is { Length: > 0 } f ? f : "LINEAR";
            Window(values, c, w, function);
            return string.Create(CultureInfo.InvariantCulture, $"window {c:G6}/{w:G6} ({function}{(centres.Length > 1 ? $", first of {centres.Length}" : "")})");
        }
        var (lo, hi) = Percentiles(values, padding);
        Window(values, (lo + hi) / 2, hi - lo, "LINEAR_EXACT");
        return string.Create(CultureInfo.InvariantCulture, $"percentile window {LowPercentile:P1}-{HighPercentile:P1} = {lo:G6}..{hi:G6} (no VOI in the image)");
    }

    /// <summary>
    /// The VOI window functions of PS3.3 C.11.2.1.2 with output range [0, 1]: LINEAR (C.11.2.1.2.1, width at least 1),
    /// LINEAR_EXACT (C.11.2.1.3.2, width above 0) and SIGMOID (C.11.2.1.3.1).
    /// </summary>
    /// <exception cref="FormatException">An unknown function or a width it does not allow.</exception>
    internal static void Window(float[] values, double c, double w, string function)
    {
        switch (function)
        {
            case "LINEAR":
                if (!(w >= 1)) throw new FormatException($"Window Width {w} is below 1, which VOI LUT Function LINEAR does not allow");
                for (var i = 0; i < values.Length; i++)
                {
                    double x = values[i];
                    values[i] = x <= c - 0.5 - (w - 1) / 2 ? 0f
                        : x > c - 0.5 + (w - 1) / 2 ? 1f
                        : (float)((x - (c - 0.5)) / (w - 1) + 0.5);
                }
                break;
            case "LINEAR_EXACT":
                if (!(w > 0)) throw new FormatException($"Window Width {w} must be above 0");
                for (var i = 0; i < values.Length; i++) values[i] = (float)Math.Clamp((values[i] - c) / w + 0.5, 0, 1);
                break;
            case "SIGMOID":
                if (!(w > 0)) throw new FormatException($"Window Width {w} must be above 0");
                for (var i = 0; i < values.Length; i++) values[i] = (float)(1 / (1 + Math.Exp(-4 * (values[i] - c) / w)));
                break;
            default:
                throw new FormatException($"VOI LUT Function '{function}' is not one of LINEAR, LINEAR_EXACT, SIGMOID");
        }
    }

    /// <summary>The <see cref="LowPercentile"/> and <see cref="HighPercentile"/> values (padding left out); a flat image gets a width of 1.</summary>
    internal static (double Lo, double Hi) Percentiles(float[] values, bool[]? padding)
    {
        var sample = padding is null ? (float[])values.Clone() : [.. values.Where((_, i) => !padding[i])];
        if (sample.Length == 0) sample = (float[])values.Clone();
        Array.Sort(sample);
        double lo = sample[(int)Math.Floor(LowPercentile * (sample.Length - 1))];
        double hi = sample[(int)Math.Ceiling(HighPercentile * (sample.Length - 1))];
        return hi > lo ? (lo, hi) : (lo - 0.5, lo + 0.5);
    }

    /// <summary>Pixel Spacing, else Imager Pixel Spacing (at the detector: not corrected for magnification), else null.</summary>
    internal static (double Row, double Column, string Source)? Spacing(DicomDataset ds)
    {
        foreach (var (tag, source) in new[] { (DicomTags.PixelSpacing, "Pixel Spacing"), (DicomTags.ImagerPixelSpacing, "Imager Pixel Spacing, detector plane") })
        {
            var v = ds.GetValues<double>(tag);
            if (v.Length >= 2 && v[0] > 0 && v[1] > 0 && double.IsFinite(v[0]) && double.IsFinite(v[1])) return (v[0], v[1], source);
        }
        return null;
    }

    /// <summary>A LUT of PS3.3 C.11.1 / C.11.2: descriptor (entries, first input value, bits) and data; inputs outside are clamped to its ends.</summary>
    internal sealed class Lut
    {
        private readonly int[] _data;

        private Lut(int entries, int first, int bits, int[] data)
        {
            Entries = entries;
            First = first;
            Bits = bits;
            _data = data;
        }

        public int Entries { get; }

        public int First { get; }

        public int Bits { get; }

        public float Map(float value)
        {
            var index = (int)Math.Clamp(Math.Round(value) - First, 0, Entries - 1);
            return _data[index];
        }

        /// <exception cref="FormatException">The descriptor or data are malformed.</exception>
        public static Lut From(DicomDataset item, string what, bool signed)
        {
            var d = item.GetValues<int>(DicomTags.LUTDescriptor);
            if (d.Length != 3) throw new FormatException($"{what}: LUT Descriptor has {d.Length} values, not 3");
            var entries = d[0] == 0 ? 65536 : d[0] & 0xFFFF;
            // The first value mapped is US or SS as the pixels are: a US-coded 65535 means -1 for signed input.
            var first = signed && d[1] > 32767 ? d[1] - 65536 : d[1];
            var bits = d[2];
            if (bits is < 1 or > 16) throw new FormatException($"{what}: LUT Descriptor gives {bits} bits per entry (8 to 16 expected)");
            var element = item.GetItem(DicomTags.LUTData) as DicomElement ?? throw new FormatException($"{what}: no LUT Data");
            int[] data;
            if (bits <= 8 && element.Length == entries)
            {
                data = [.. element.Buffer.GetMemory().Span.ToArray().Select(b => (int)b)]; // one byte per entry
            }
            else
            {
                var words = item.GetValues<int>(DicomTags.LUTData);
                if (words.Length < entries) throw new FormatException($"{what}: LUT Data has {words.Length} entries, the descriptor says {entries}");
                data = words[..entries];
            }
            return new Lut(entries, first, bits, data);
        }
    }
}
