namespace HippoNode.Node.Storage;

/// <summary>
/// One lock per study: the spooler holds it while it files and records an instance, retention while it deletes the
/// study, so an instance arriving as its study is deleted is never lost with it (it waits, then starts the study anew).
/// </summary>
public sealed class StudyGate
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Waits for the study's lock; dispose the result to release it.</summary>
    public async Task<IDisposable> EnterAsync(string studyInstanceUid, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(studyInstanceUid, out entry!)) _entries[studyInstanceUid] = entry = new Entry();
            entry.Users++;
        }
        try
        {
            await entry.Semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(studyInstanceUid, entry, release: false);
            throw;
        }
        return new Releaser(this, studyInstanceUid, entry);
    }

    private void Leave(string key, Entry entry, bool release)
    {
        if (release) entry.Semaphore.Release();
        lock (_entries)
        {
            // The last user removes the entry, so the map holds only studies someone is working on.
            if (--entry.Users == 0)
            {
                _entries.Remove(key);
                entry.Semaphore.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Releaser(StudyGate gate, string key, Entry entry) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Leave(key, entry, release: true);
        }
    }
}
