using HippoNode.Dicom;

namespace HippoNode.Node;

/// <summary>How the node recognises the objects it produced when the PACS routes them back (never a loop).</summary>
public static class OwnObjects
{
    /// <summary>The Manufacturer (0008,0070) every object we produce carries.</summary>
    public const string Manufacturer = "HippoNode";

    /// <summary>True when the data set says it was made by us.</summary>
    public static bool IsMarkedOurs(DicomDataset dataset) =>
        string.Equals(dataset.GetString(DicomTags.Manufacturer)?.Trim(), Manufacturer, StringComparison.OrdinalIgnoreCase);
}
