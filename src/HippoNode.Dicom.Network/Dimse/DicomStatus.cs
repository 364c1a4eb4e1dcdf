using System.Globalization;

namespace HippoNode.Dicom.Network;

/// <summary>What kind of outcome a DIMSE status code reports (PS3.7 Annex C).</summary>
public enum DicomStatusCategory
{
    /// <summary>0000: the operation succeeded.</summary>
    Success,

    /// <summary>0001, 0107, 0116, Bxxx: done, with a warning.</summary>
    Warning,

    /// <summary>FF00, FF01: more responses follow.</summary>
    Pending,

    /// <summary>FE00: the operation was cancelled.</summary>
    Cancel,

    /// <summary>Everything else: refused or failed.</summary>
    Failure,
}

/// <summary>A DIMSE status code (0000,0900) with the codes C-ECHO and C-STORE use named (PS3.7 Annex C, PS3.4 B.2.3).</summary>
/// <param name="Code">The 16-bit status.</param>
public readonly record struct DicomStatus(ushort Code)
{
    /// <summary>0000 Success.</summary>
    public static readonly DicomStatus Success = new(0x0000);

    /// <summary>FF00 Pending.</summary>
    public static readonly DicomStatus Pending = new(0xFF00);

    /// <summary>FE00 Cancel.</summary>
    public static readonly DicomStatus Cancel = new(0xFE00);

    /// <summary>B000 Warning: coercion of data elements.</summary>
    public static readonly DicomStatus CoercionOfDataElements = new(0xB000);

    /// <summary>B006 Warning: elements discarded.</summary>
    public static readonly DicomStatus ElementsDiscarded = new(0xB006);

    /// <summary>B007 Warning: data set does not match SOP class.</summary>
    public static readonly DicomStatus DataSetDoesNotMatchSopClassWarning = new(0xB007);

    /// <summary>0110 Failure: processing failure.</summary>
    public static readonly DicomStatus ProcessingFailure = new(0x0110);

    /// <summary>0111 Failure: duplicate SOP instance.</summary>
    public static readonly DicomStatus DuplicateSopInstance = new(0x0111);

    /// <summary>0117 Failure: invalid object instance.</summary>
    public static readonly DicomStatus InvalidObjectInstance = new(0x0117);

    /// <summary>0122 Refused: SOP class not supported.</summary>
    public static readonly DicomStatus SopClassNotSupported = new(0x0122);

    /// <summary>0124 Refused: not authorized.</summary>
    public static readonly DicomStatus NotAuthorized = new(0x0124);

    /// <summary>0210 Failure: duplicate invocation (a message ID already in use).</summary>
    public static readonly DicomStatus DuplicateInvocation = new(0x0210);

    /// <summary>0211 Failure: unrecognized operation.</summary>
    public static readonly DicomStatus UnrecognizedOperation = new(0x0211);

    /// <summary>0212 Failure: mistyped argument.</summary>
    public static readonly DicomStatus MistypedArgument = new(0x0212);

    /// <summary>A700 Refused: out of resources.</summary>
    public static readonly DicomStatus OutOfResources = new(0xA700);

    /// <summary>A900 Error: data set does not match SOP class.</summary>
    public static readonly DicomStatus DataSetDoesNotMatchSopClassError = new(0xA900);

    /// <summary>C000 Error: cannot understand.</summary>
    public static readonly DicomStatus CannotUnderstand = new(0xC000);

    /// <summary>The category of this code.</summary>
    public DicomStatusCategory Category => Code switch
    {
        0x0000 => DicomStatusCategory.Success,
        0xFF00 or 0xFF01 => DicomStatusCategory.Pending,
        0xFE00 => DicomStatusCategory.Cancel,
        0x0001 or 0x0107 or 0x0116 or (>= 0xB000 and <= 0xBFFF) => DicomStatusCategory.Warning,
        _ => DicomStatusCategory.Failure,
    };

    /// <summary>True for success.</summary>
    public bool IsSuccess => Category == DicomStatusCategory.Success;

    /// <summary>True for a warning (the operation was still performed).</summary>
    public bool IsWarning => Category == DicomStatusCategory.Warning;

    /// <summary>True for a failure or refusal.</summary>
    public bool IsFailure => Category == DicomStatusCategory.Failure;

    /// <summary>
    /// True for a C-STORE failure that the same request to the same SCP will meet again (PS3.4 B.2.3, PS3.7 C):
    /// 0122 SOP class not supported, 0124 not authorized, 0117 invalid object instance, 0211 unrecognized operation,
    /// 0212 mistyped argument, A9xx data set does not match SOP class, Cxxx cannot understand. Not permanent: A7xx out
    /// of resources, 0110 processing failure, 0210 duplicate invocation, FE00 cancel, and codes we do not know (a
    /// retry costs little; giving up on a transient fault loses a result).
    /// </summary>
    public bool IsPermanentStoreFailure => Code switch
    {
        0x0122 or 0x0124 or 0x0117 or 0x0211 or 0x0212 => true,
        >= 0xA900 and <= 0xA9FF => true,
        >= 0xC000 and <= 0xCFFF => true,
        _ => false,
    };

    /// <summary>A short description of the code.</summary>
    public string Description => Code switch
    {
        0x0000 => "Success",
        0xFF00 or 0xFF01 => "Pending",
        0xFE00 => "Cancel",
        0xB000 => "Warning: coercion of data elements",
        0xB006 => "Warning: elements discarded",
        0xB007 => "Warning: data set does not match SOP class",
        0x0110 => "Failure: processing failure",
        0x0111 => "Failure: duplicate SOP instance",
        0x0117 => "Failure: invalid object instance",
        0x0122 => "Refused: SOP class not supported",
        0x0124 => "Refused: not authorized",
        0x0210 => "Failure: duplicate invocation",
        0x0211 => "Failure: unrecognized operation",
        0x0212 => "Failure: mistyped argument",
        >= 0xA700 and <= 0xA7FF => "Refused: out of resources",
        >= 0xA900 and <= 0xA9FF => "Error: data set does not match SOP class",
        >= 0xC000 and <= 0xCFFF => "Error: cannot understand",
        _ => Category.ToString(),
    };

    /// <summary>"0000 Success" style text.</summary>
    public override string ToString() => Code.ToString("X4", CultureInfo.InvariantCulture) + " " + Description;

    /// <summary>
    /// The status a C-STORE SCP answers when its handler throws: the handler's own status, out of resources for
    /// file-system trouble, cannot understand for malformed DICOM, processing failure for anything else.
    /// </summary>
    public static DicomStatus FromException(Exception exception) => exception switch
    {
        DicomStatusException s => s.Status,
        IOException or UnauthorizedAccessException or OutOfMemoryException => OutOfResources,
        DicomException => CannotUnderstand,
        _ => ProcessingFailure,
    };
}
