using System.Text.Json;
using HippoNode.Analysis.Outputs;
using HippoNode.Analysis.Selection;
using HippoNode.Classification;
using HippoNode.Dicom;

namespace HippoNode.Analysis.ChestXray;

/// <summary>The chest X-ray module's result.json; filled as the analysis goes, so a failure still says how far it got.</summary>
internal sealed class ChestResultDocument
{
    public string Status { get; set; } = "failed";

    public string? Error { get; set; }

    public string StudyInstanceUid { get; set; } = "";

    public required DateTimeOffset AnalysedAt { get; init; }

    public required SelectionRules Rules { get; init; }

    public StudyScan? Scan { get; set; }

    public IReadOnlyList<SeriesDecision> Decisions { get; set; } = [];

    public ScannedInstance? Image { get; set; }

    public Radiograph? Radiograph { get; set; }

    public ClassifierManifest? Model { get; set; }

    public string? ModelFolder { get; set; }

    public ClassificationResult? Classification { get; set; }

    public double Threshold { get; set; }

    public string ThresholdSource { get; set; } = "";

    public ReviewBand? Review { get; set; }

    public IReadOnlyList<string> OutputFiles { get; set; } = [];

    public required List<string> Warnings { get; init; }

    public required List<StageTiming> Stages { get; init; }

    public Task WriteAsync(string path, CancellationToken cancellationToken) => ResultDocument.WriteJsonAsync(path, Write, cancellationToken);

    /// <summary>Writes the failure record; a result.json that cannot be written must not replace the exception being thrown.</summary>
    public async Task TryWriteAsync(string path)
    {
        try
        {
            var dir = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            // Not cancellable: the failure record is short, and a cancelled token must not hide why the analysis failed.
            await WriteAsync(path, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        ResultDocument.WriteHeader(w, ChestXrayAnalyzer.ModuleName, Status, Error, StudyInstanceUid, AnalysedAt);
        ResultDocument.WriteSelection(w, Rules, ImageSelector.TieBreak, Decisions, Scan?.Series ?? [], Scan?.SkippedFiles ?? [], sel =>
        {
            if (Image is null) sel.WriteNull("chosenSopInstanceUid");
            else sel.WriteString("chosenSopInstanceUid", Image.Header.GetString(DicomTags.SOPInstanceUID));
        });

        if (Radiograph is { } r)
        {
            w.WriteStartObject("image");
            w.WriteString("sopClassUid", r.Dataset.GetString(DicomTags.SOPClassUID));
            w.WriteString("viewPosition", r.Dataset.GetString(DicomTags.ViewPosition));
            w.WriteString("bodyPartExamined", r.Dataset.GetString(DicomTags.BodyPartExamined));
            ResultDocument.Ints(w, "size", [r.Columns, r.Rows]);
            w.WriteString("sizeOrder", "columns, rows");
            w.WriteString("photometricInterpretation", r.PhotometricInterpretation);
            w.WriteNumber("bitsStored", r.BitsStored);
            w.WriteString("modalityLut", r.ModalityStep);
            w.WriteString("voiLut", r.VoiStep);
            w.WriteBoolean("inverted", r.Inverted);
            if (r.PixelSpacing is { } ps)
            {
                ResultDocument.Doubles(w, "pixelSpacing", [ps.Row, ps.Column]);
                w.WriteString("pixelSpacingSource", ps.Source);
            }
            else
            {
                w.WriteNull("pixelSpacing");
            }
            w.WriteEndObject();
        }

        if (Model is { } m)
        {
            w.WriteStartObject("model");
            w.WriteString("name", m.Name);
            w.WriteString("version", m.Version);
            w.WriteBoolean("untrained", m.Untrained);
            if (ModelFolder is not null) w.WriteString("folder", ModelFolder);
            w.WriteString("architecture", m.Architecture.ToString());
            ResultDocument.Ints(w, "inputSize", [m.Input.Width, m.Input.Height]);
            w.WriteString("resize", "whole image stretched to the input size (triangle filter), as the training images were");
            w.WriteEndObject();
        }

        if (Classification is { } c && Model is { } model)
        {
            w.WriteStartObject("classification");
            w.WriteString("positiveLabel", model.PositiveLabel);
            w.WriteNumber("probability", Math.Round(c.Probability, 6));
            w.WriteNumber("threshold", Threshold);
            w.WriteString("thresholdSource", ThresholdSource);
            var positive = c.Probability >= Threshold;
            w.WriteString("decision", positive ? model.PositiveLabel : model.NegativeLabel);
            w.WriteString("decisionRule", "positive when probability >= threshold");
            if (Review is { } band)
            {
                w.WriteStartObject("review");
                w.WriteNumber("margin", band.Margin);
                w.WriteString("marginUnit", "log-odds around the threshold");
                w.WriteNumber("low", Math.Round(band.Low, 6));
                w.WriteNumber("high", Math.Round(band.High, 6));
                w.WriteNumber("distance", Math.Round(band.Distance(c.Probability), 4));
                w.WriteBoolean("flagged", band.Contains(c.Probability));
                w.WriteString("rule", band.Margin > 0 ? "flagged for review when the probability lies strictly inside [low, high]" : "off (margin 0)");
                w.WriteEndObject();
            }
            ResultDocument.Doubles(w, "logits", [.. c.Logits.Select(v => (double)v)]);
            w.WriteStartObject("heatMap");
            w.WriteString("method", "class activation map (Zhou et al. 2016): bias + sum_c w_c F_c on the last feature map, upsampled bilinearly to the image, positive part relative to its maximum");
            ResultDocument.Ints(w, "grid", [c.Cam.Width, c.Cam.Height]);
            w.WriteNumber("meanEvidence", Math.Round(c.Cam.Mean, 6));
            w.WriteNumber("logitDeviation", c.CamDeviation);
            w.WriteNumber("maxEvidence", Math.Round(c.Cam.Values.Max(), 6));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        ResultDocument.WriteFooter(w, OutputFiles, Warnings, Stages);
        w.WriteEndObject();
    }
}
