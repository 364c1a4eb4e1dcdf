using HippoNode.Dicom.Network;

namespace HippoNode.Node.Tests.Support;

/// <summary>A free-space probe whose answer the test sets (the disk fills and empties on command).</summary>
public sealed class SettableProbe : IFreeSpaceProbe
{
    /// <summary>The free bytes reported.</summary>
    public long Free { get; set; }

    public long GetFreeBytes(string directory) => Free;
}
