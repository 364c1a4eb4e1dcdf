using Microsoft.Extensions.Logging;

namespace HippoNode.Analysis;

/// <summary>Log messages of the study analysis; event IDs 3000-3099. No patient names or IDs: studies and series are named by UID.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Information, "Analysing study folder {Folder}")]
    public static partial void Analysing(ILogger logger, string folder);

    [LoggerMessage(3001, LogLevel.Information, "Series {SeriesInstanceUid} '{Description}' ({Instances} instances): {Reason}")]
    public static partial void SeriesDecision(ILogger logger, string seriesInstanceUid, string? description, int instances, string reason);

    [LoggerMessage(3002, LogLevel.Information, "Study {StudyInstanceUid}: no eligible series under rules '{Rules}'")]
    public static partial void NoEligibleSeries(ILogger logger, string studyInstanceUid, string rules);

    [LoggerMessage(3003, LogLevel.Information, "Series {SeriesInstanceUid}: {Shape} voxels of {Spacing}; model axes {Mapping}; obliquity {Obliquity:0.##} degrees")]
    public static partial void VolumeRead(ILogger logger, string seriesInstanceUid, string shape, string spacing, string mapping, double obliquity);

    [LoggerMessage(3004, LogLevel.Information, "Study {StudyInstanceUid}: volumes {Volumes}; agreement {Agreement:0.###}")]
    public static partial void Measured(ILogger logger, string studyInstanceUid, string volumes, double agreement);

    [LoggerMessage(3005, LogLevel.Warning, "Study {StudyInstanceUid}: member agreement {Agreement:0.###} is below {Threshold}; result flagged for review")]
    public static partial void QualityFlagged(ILogger logger, string studyInstanceUid, double agreement, double threshold);

    [LoggerMessage(3006, LogLevel.Warning, "Report writers are not available in this build; no SEG, SR or SC written")]
    public static partial void NoWriters(ILogger logger);

    [LoggerMessage(3007, LogLevel.Information, "Study {StudyInstanceUid}: analysis {Status} in {Seconds:0.###} s, outputs in {Folder}")]
    public static partial void Finished(ILogger logger, string studyInstanceUid, string status, double seconds, string folder);

    [LoggerMessage(3008, LogLevel.Debug, "Skipped file: {Reason}")]
    public static partial void SkippedFile(ILogger logger, string reason);

    [LoggerMessage(3009, LogLevel.Information, "Loading model folder {Folder}")]
    public static partial void LoadingModel(ILogger logger, string folder);

    [LoggerMessage(3010, LogLevel.Warning, "Analysis of {Folder} failed: {Message}")]
    public static partial void Failed(ILogger logger, string folder, string message);

    [LoggerMessage(3011, LogLevel.Information, "Radiograph {SopInstanceUid}: {Columns}x{Rows}; {Pipeline}")]
    public static partial void RadiographRead(ILogger logger, string sopInstanceUid, int columns, int rows, string pipeline);

    [LoggerMessage(3012, LogLevel.Information, "Study {StudyInstanceUid}: probability {Probability:0.000}, threshold {Threshold:0.000}: {Decision}")]
    public static partial void Classified(ILogger logger, string studyInstanceUid, double probability, double threshold, string decision);

    [LoggerMessage(3024, LogLevel.Warning, "Study {StudyInstanceUid}: probability {Probability:0.000} within the review band {Low:0.000}-{High:0.000}; result flagged for review")]
    public static partial void Uncertain(ILogger logger, string studyInstanceUid, double probability, double low, double high);

    [LoggerMessage(3020, LogLevel.Information, "Study {StudyInstanceUid}: module {Module} {Verdict} (rules '{Rules}')")]
    public static partial void ModuleSelected(ILogger logger, string studyInstanceUid, string module, string verdict, string rules);

    [LoggerMessage(3021, LogLevel.Information, "Study {StudyInstanceUid}: no module applies ({Modules}); nothing analysed, nothing sent")]
    public static partial void NoModuleApplies(ILogger logger, string studyInstanceUid, string modules);

    [LoggerMessage(3022, LogLevel.Information, "Study {StudyInstanceUid}: module {Module} completed: {Summary}")]
    public static partial void ModuleCompleted(ILogger logger, string studyInstanceUid, string module, string? summary);

    [LoggerMessage(3023, LogLevel.Warning, "Study {StudyInstanceUid}: module {Module} failed (the other modules go on): {Error}")]
    public static partial void ModuleFailed(ILogger logger, string studyInstanceUid, string module, string error, Exception? exception);
}
