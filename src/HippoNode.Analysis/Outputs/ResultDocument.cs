using System.Text.Encodings.Web;
using System.Text.Json;
using HippoNode.Analysis.Selection;
using HippoNode.Analysis.Volumes;
using HippoNode.Reporting;
using HippoNode.Segmentation.Inference;
using HippoNode.Segmentation.Model;

namespace HippoNode.Analysis.Outputs;

/// <summary>Everything result.json says; null parts are left out (e.g. no geometry when no series was eligible).</summary>
internal sealed class ResultDocument
{
    /// <summary>The format name in result.json.</summary>
    public const string Format = "hipponode-analysis-result";

    /// <summary>The format version in result.json.</summary>
    public const int FormatVersion = 1;

    public required string Status { get; init; }

    public required string StudyInstanceUid { get; init; }

    public required DateTimeOffset AnalysedAt { get; init; }

    public required SelectionRules Rules { get; init; }

    public required IReadOnlyList<SeriesDecision> Decisions { get; init; }

    public required IReadOnlyList<ScannedSeries> Series { get; init; }

    public IReadOnlyList<string> SkippedFiles { get; init; } = [];

    public string? Error { get; init; }

    public SourceSeries? Source { get; init; }

    public AxisMapping? Mapping { get; init; }

    public ModelManifest? Manifest { get; init; }

    public string? ModelFolder { get; init; }

    public int MemberCount { get; init; }

    public SegmentationResult? Segmentation { get; init; }

    public StudyFindings? Findings { get; init; }

    public IReadOnlyList<string> OutputFiles { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public IReadOnlyList<StageTiming> Stages { get; init; } = [];

    /// <summary>Writes the document as indented UTF-8 JSON (atomically: a temporary file, then a rename).</summary>
    /// <remarks>Relaxed escaping keeps quotes in reasons readable; the file is data, never embedded in HTML.</remarks>
    public Task WriteAsync(string path, CancellationToken cancellationToken) => WriteJsonAsync(path, Write, cancellationToken);

    /// <summary>Writes a JSON document to <paramref name="path"/> as indented UTF-8, atomically (a temporary file, then a rename).</summary>
    internal static async Task WriteJsonAsync(string path, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var tmp = path + ".tmp";
        await using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            write(w);
            await w.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The members every module's result.json starts with: format, version, module, status, error, study, time.</summary>
    internal static void WriteHeader(Utf8JsonWriter w, string module, string status, string? error, string studyInstanceUid, DateTimeOffset analysedAt)
    {
        w.WriteString("format", Format);
        w.WriteNumber("formatVersion", FormatVersion);
        w.WriteString("module", module);
        w.WriteString("status", status);
        if (error is not null) w.WriteString("error", error);
        w.WriteString("studyInstanceUid", studyInstanceUid);
        w.WriteString("analysedAt", analysedAt);
    }

    /// <summary>The "selection" object: rules, tie-break, the chosen series and every series with its decision, and the skipped files.</summary>
    internal static void WriteSelection(Utf8JsonWriter w, SelectionRules rules, string tieBreak, IReadOnlyList<SeriesDecision> decisions, IReadOnlyList<ScannedSeries> series,
        IReadOnlyList<string> skippedFiles, Action<Utf8JsonWriter>? extra = null)
    {
        w.WriteStartObject("selection");
        w.WriteString("rules", rules.Name);
        w.WriteString("tieBreak", tieBreak);
        var chosen = decisions.FirstOrDefault(d => d.Chosen);
        if (chosen is null) w.WriteNull("chosenSeriesInstanceUid");
        else w.WriteString("chosenSeriesInstanceUid", chosen.SeriesInstanceUid);
        extra?.Invoke(w);
        w.WriteStartArray("series");
        foreach (var d in decisions)
        {
            var s = series.First(x => x.SeriesInstanceUid == d.SeriesInstanceUid);
            w.WriteStartObject();
            w.WriteString("seriesInstanceUid", d.SeriesInstanceUid);
            if (s.SeriesNumber is { } n) w.WriteNumber("seriesNumber", n);
            else w.WriteNull("seriesNumber");
            w.WriteString("seriesDescription", d.SeriesDescription);
            w.WriteString("modality", d.Modality);
            w.WriteString("sopClassUid", s.SopClassUid);
            w.WriteNumber("instances", d.Instances);
            Ints(w, "rows", s.RowValues);
            Ints(w, "columns", s.ColumnValues);
            w.WriteBoolean("chosen", d.Chosen);
            w.WriteString("reason", d.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Strings(w, "skippedFiles", skippedFiles);
        w.WriteEndObject();
    }

    /// <summary>The members every module's result.json ends with: output file names, warnings, stages.</summary>
    internal static void WriteFooter(Utf8JsonWriter w, IReadOnlyList<string> outputFiles, IReadOnlyList<string> warnings, IReadOnlyList<StageTiming> stages)
    {
        Strings(w, "outputs", [.. outputFiles.Select(Path.GetFileName).OfType<string>()]);
        Strings(w, "warnings", warnings);
        w.WriteStartArray("stages");
        foreach (var s in stages)
        {
            w.WriteStartObject();
            w.WriteString("stage", s.Stage);
            w.WriteNumber("seconds", Math.Round(s.Duration.TotalSeconds, 4));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        WriteHeader(w, StudyAnalyzer.ModuleName, Status, Error, StudyInstanceUid, AnalysedAt);
        WriteSelection(w, Rules, SeriesSelector.TieBreak, Decisions, Series, SkippedFiles);

        if (Source is { } src && Mapping is { } map)
        {
            w.WriteStartObject("geometry");
            w.WriteString("frameOfReferenceUid", src.FrameOfReferenceUid);
            Ints(w, "sourceSize", [src.Columns, src.Rows, src.Slices.Count]);
            w.WriteString("sourceSizeOrder", "columns, rows, slices");
            Doubles(w, "pixelSpacing", [src.PixelSpacing.Row, src.PixelSpacing.Column]);
            w.WriteNumber("sliceSpacing", Math.Round(src.SliceSpacing, 6));
            Doubles(w, "imageOrientationPatient", [src.RowDirection.X, src.RowDirection.Y, src.RowDirection.Z, src.ColumnDirection.X, src.ColumnDirection.Y, src.ColumnDirection.Z]);
            Doubles(w, "firstImagePositionPatient", [src.Origin.X, src.Origin.Y, src.Origin.Z]);
            w.WriteString("modelAxes", map.Describe());
            Ints(w, "modelSize", [map.ModelShape.X, map.ModelShape.Y, map.ModelShape.Z]);
            var sp = map.ModelSpacing(src.Spacing);
            Doubles(w, "modelSpacing", [sp.X, sp.Y, sp.Z]);
            Doubles(w, "modelAffineRas", map.ModelAffine(src.RasAffine).ToArray()[..12]);
            w.WriteNumber("obliquityDegrees", Math.Round(map.ObliquityDegrees, 3));
            w.WriteEndObject();
        }

        if (Manifest is { } m)
        {
            w.WriteStartObject("model");
            w.WriteString("name", m.Name);
            w.WriteString("version", m.Version);
            w.WriteNumber("members", MemberCount);
            if (ModelFolder is not null) w.WriteString("folder", ModelFolder);
            w.WriteString("ensemble", "mean of member probabilities, argmax");
            w.WriteEndObject();
        }

        if (Segmentation is { } seg && Findings is { } f)
        {
            w.WriteStartObject("volumesMm3");
            foreach (var v in seg.Volumes) w.WriteNumber(v.Structure, Math.Round(v.VolumeMm3, 3));
            w.WriteEndObject();
            w.WriteStartObject("voxels");
            foreach (var v in seg.Volumes) w.WriteNumber(v.Structure, v.Voxels);
            w.WriteEndObject();
            w.WriteNumber("voxelVolumeMm3", Math.Round(seg.Spacing.VoxelVolume, 6));
            w.WriteStartArray("segments");
            foreach (var s in f.Segments)
            {
                w.WriteStartObject();
                w.WriteNumber("number", s.Number);
                w.WriteNumber("labelValue", s.LabelValue);
                w.WriteString("label", s.Label);
                Code(w, "category", s.Category);
                Code(w, "type", s.Type);
                if (s.TypeModifier is { } mod) Code(w, "typeModifier", mod);
                Ints(w, "colour", [s.Colour.R, s.Colour.G, s.Colour.B]);
                w.WriteNumber("volumeMm3", Math.Round(s.VolumeMm3, 3));
                w.WriteNumber("voxels", s.VoxelCount);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("quality");
            w.WriteNumber("agreement", Math.Round(f.Quality.Agreement, 6));
            w.WriteString("agreementDefinition", "mean pairwise Dice of the members' whole-hippocampus (all foreground labels) maps");
            w.WriteNumber("threshold", f.Quality.Threshold);
            w.WriteBoolean("flagged", f.Quality.Flagged);
            w.WriteStartArray("pairs");
            foreach (var p in f.Quality.Pairs)
            {
                w.WriteStartObject();
                w.WriteNumber("memberA", p.MemberA);
                w.WriteNumber("memberB", p.MemberB);
                w.WriteNumber("dice", Math.Round(p.Dice, 6));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        WriteFooter(w, OutputFiles, Warnings, Stages);
        w.WriteEndObject();
    }

    internal static void Code(Utf8JsonWriter w, string name, CodedConcept c)
    {
        w.WriteStartObject(name);
        w.WriteString("value", c.Value);
        w.WriteString("scheme", c.Scheme);
        w.WriteString("meaning", c.Meaning);
        w.WriteEndObject();
    }

    internal static void Ints(Utf8JsonWriter w, string name, IEnumerable<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    internal static void Doubles(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(Math.Round(v, 6));
        w.WriteEndArray();
    }

    internal static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
