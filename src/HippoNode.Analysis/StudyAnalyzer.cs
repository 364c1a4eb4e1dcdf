namespace HippoNode.Analysis;

// CONTRACT STUB (session scaffolding): the analysis helper replaces the bodies; signatures are what the node service codes against.

/// <summary>How one study analysis ended.</summary>
public enum AnalysisStatus
{
    /// <summary>Outputs written.</summary>
    Completed,

    /// <summary>No series met the selection rules; nothing written but result.json.</summary>
    NoEligibleSeries,
}

/// <summary>The selection decision for one series of the study.</summary>
public sealed record SeriesDecision(string SeriesInstanceUid, string? SeriesDescription, string? Modality, int Instances, bool Chosen, string Reason);

/// <summary>One stage of an analysis and how long it took.</summary>
public sealed record StageTiming(string Stage, TimeSpan Duration);

/// <summary>The outcome of <see cref="StudyAnalyzer.AnalyzeAsync"/>.</summary>
public sealed class StudyAnalysisResult
{
    /// <summary>How it ended.</summary>
    public required AnalysisStatus Status { get; init; }

    /// <summary>The study's Study Instance UID.</summary>
    public required string StudyInstanceUid { get; init; }

    /// <summary>Every series of the study with its decision.</summary>
    public required IReadOnlyList<SeriesDecision> Series { get; init; }

    /// <summary>Paths of the DICOM objects written (seg.dcm, sr.dcm, sc.dcm); empty when none.</summary>
    public required IReadOnlyList<string> OutputFiles { get; init; }

    /// <summary>Path of result.json.</summary>
    public required string ResultJson { get; init; }

    /// <summary>Volumes in mm3 by structure name (anterior, posterior, whole); empty when none.</summary>
    public required IReadOnlyDictionary<string, double> VolumesMm3 { get; init; }

    /// <summary>Mean pairwise Dice between ensemble members, or null when not analysed.</summary>
    public double? Agreement { get; init; }

    /// <summary>True when the agreement is below the configured threshold.</summary>
    public bool QualityFlagged { get; init; }

    /// <summary>Stage timings (load, select, volume, inference, outputs).</summary>
    public required IReadOnlyList<StageTiming> Stages { get; init; }
}

/// <summary>Analyses one study folder: selects the series, segments it, writes SEG, SR, SC and result.json.</summary>
public sealed class StudyAnalyzer
{
    /// <summary>Analyses the DICOM files under <paramref name="studyDirectory"/> (recursively) into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="AnalysisException">The study or its chosen series is broken (the message names the series and the fault).</exception>
    public Task<StudyAnalysisResult> AnalyzeAsync(string studyDirectory, string outputDirectory, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}

/// <summary>A study that cannot be analysed: broken series, unreadable files, model failure.</summary>
public sealed class AnalysisException(string message, Exception? inner = null) : Exception(message, inner);
