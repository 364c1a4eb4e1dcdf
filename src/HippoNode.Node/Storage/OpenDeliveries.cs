using System.Collections.Concurrent;

namespace HippoNode.Node.Storage;

/// <summary>
/// The study each open association is delivering (the study of its last instance). A study is not queued while a
/// sender still delivers it, however long the sender pauses between instances: the quiet time alone split a study
/// whose sender stalled longer than it (seen on a loaded machine). The hold ends when the association ends (released,
/// aborted, or dropped by the server's idle timeout) or when it moves on to another study.
/// </summary>
public sealed class OpenDeliveries
{
    private readonly ConcurrentDictionary<long, string> _current = new();

    /// <summary>Notes that <paramref name="associationId"/> has just delivered an instance of <paramref name="studyInstanceUid"/>.</summary>
    public void Delivering(long associationId, string studyInstanceUid) => _current[associationId] = studyInstanceUid;

    /// <summary>Forgets an association that has ended.</summary>
    public void Ended(long associationId) => _current.TryRemove(associationId, out _);

    /// <summary>The studies some open association is delivering now.</summary>
    public IReadOnlySet<string> Studies() => _current.Values.ToHashSet(StringComparer.Ordinal);
}
