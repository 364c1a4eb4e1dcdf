namespace HippoNode.Dicom;

/// <summary>The root of every error the DICOM toolkit raises.</summary>
public class DicomException : Exception
{
    /// <summary>An error with a message.</summary>
    public DicomException(string message) : base(message) { }

    /// <summary>An error with a message and its cause.</summary>
    public DicomException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Malformed DICOM input: says where (byte offset) and in which element it went wrong.</summary>
public sealed class DicomParseException : DicomException
{
    /// <summary>A parse error at <paramref name="offset"/>, inside <paramref name="tag"/> when known.</summary>
    public DicomParseException(string reason, long offset, DicomTag? tag, Exception? inner = null)
        : base(Format(reason, offset, tag), inner ?? new InvalidDataException(reason))
    {
        Reason = reason;
        Offset = offset;
        Tag = tag;
    }

    /// <summary>What was wrong, without the position.</summary>
    public string Reason { get; }

    /// <summary>Byte offset in the stream where the faulty element or field starts.</summary>
    public long Offset { get; }

    /// <summary>The element being read, when the fault is inside one.</summary>
    public DicomTag? Tag { get; }

    private static string Format(string reason, long offset, DicomTag? tag) =>
        tag is { } t ? $"{reason} (element {t} at byte offset {offset})" : $"{reason} (at byte offset {offset})";
}
