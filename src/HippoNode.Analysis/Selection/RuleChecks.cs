using System.Text.RegularExpressions;
using HippoNode.Dicom;

namespace HippoNode.Analysis.Selection;

/// <summary>The attribute rules of <see cref="SelectionRules"/> checked on one header; shared by the series selection (hippocampus) and the image selection (chest X-ray).</summary>
internal static class RuleChecks
{
    /// <summary>Adds to <paramref name="failures"/> every attribute rule <paramref name="header"/> breaks: modality, SOP class, series description, body part, view position.</summary>
    public static void Attributes(DicomDataset header, SelectionRules rules, List<string> failures)
    {
        var modality = Text(header, DicomTags.Modality);
        if (rules.Modalities is { } modalities && (modality is null || !modalities.Contains(modality, StringComparer.Ordinal)))
            failures.Add($"modality {modality ?? "(none)"} is not one of [{string.Join(", ", modalities)}]");
        var sopClass = Text(header, DicomTags.SOPClassUID);
        if (rules.SopClassUids is { } classes && (sopClass is null || !classes.Contains(sopClass, StringComparer.Ordinal)))
            failures.Add($"SOP class {NameOf(sopClass)} is not one of [{string.Join(", ", classes.Select(NameOf))}]");
        var description = Text(header, DicomTags.SeriesDescription);
        if (rules.SeriesDescriptionPattern is { } pattern && !Matches(pattern, description))
            failures.Add($"description '{description ?? ""}' does not match /{pattern}/");
        if (rules.BodyPartPattern is { } bodyPart && BodyPart(header, bodyPart) is { } why) failures.Add(why);
        var view = Text(header, DicomTags.ViewPosition);
        if (rules.ViewPositions is { } views && (view is null || !views.Contains(view, StringComparer.OrdinalIgnoreCase)))
            failures.Add(view is null ? $"no View Position (need one of [{string.Join(", ", views)}])" : $"view position {view} is not one of [{string.Join(", ", views)}]");
    }

    /// <summary>Null when the body part matches: Body Part Examined when present, else Series Description, Study Description or Protocol Name; otherwise why not.</summary>
    private static string? BodyPart(DicomDataset header, Regex pattern)
    {
        if (Text(header, DicomTags.BodyPartExamined) is { } examined)
            return Matches(pattern, examined) ? null : $"body part {examined} does not match /{pattern}/";
        foreach (var tag in new[] { DicomTags.SeriesDescription, DicomTags.StudyDescription, DicomTags.ProtocolName })
        {
            if (Text(header, tag) is { } text && Matches(pattern, text)) return null;
        }
        return $"no Body Part Examined, and no series or study description or protocol name matches /{pattern}/";
    }

    /// <summary>True when <paramref name="pattern"/> finds a match in <paramref name="text"/> (null counts as empty); a pattern that runs too long counts as no match.</summary>
    public static bool Matches(Regex pattern, string? text)
    {
        try
        {
            return pattern.IsMatch(text ?? "");
        }
        catch (RegexMatchTimeoutException)
        {
            return false; // a pathological pattern must not hang the node; the reason text shows the pattern
        }
    }

    /// <summary>"Name (uid)" when the UID is known, else the UID; "(none)" for null.</summary>
    public static string NameOf(string? uid) => uid is null ? "(none)" : DicomUid.NameOf(uid) is { } n ? $"{n} ({uid})" : uid;

    private static string? Text(DicomDataset header, DicomTag tag) => header.GetString(tag)?.Trim() is { Length: > 0 } t ? t : null;
}
