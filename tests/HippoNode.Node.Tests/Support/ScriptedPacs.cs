using System.Collections.Concurrent;
using System.Net;
using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Dicom.Network;

namespace HippoNode.Node.Tests.Support;

/// <summary>
/// A PACS on loopback made of our own SCP (a real association over TCP) whose answers a test sets: success (the file
/// is kept), any failure status, silence (the C-STORE is never answered), or a permanent rejection of our AE title.
/// </summary>
public sealed class ScriptedPacs : IDicomStoreHandler, IAsyncDisposable
{
    private readonly ConcurrentBag<string> _stored = [];
    private int _calls, _inFlight;

    private ScriptedPacs(string folder) => Folder = folder;

    public DicomServer Server { get; private set; } = null!;

    public DicomServerOptions Options { get; private set; } = null!;

    public string Folder { get; }

    public int Port => Server.Port;

    /// <summary>The status every C-STORE gets (success keeps the instance).</summary>
    public DicomStatus Answer { get; set; } = DicomStatus.Success;

    /// <summary>When set, C-STOREs are held unanswered until the association goes.</summary>
    public bool Silent { get; set; }

    /// <summary>C-STORE requests seen.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>C-STOREs being held right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Set once a held C-STORE arrived.</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>SOP Instance UIDs stored (answered success).</summary>
    public IReadOnlyCollection<string> Stored => _stored.ToArray();

    /// <summary>Rejects every association permanently (calling AE title not recognised) while set.</summary>
    public bool RejectAssociations
    {
        get => Options.AllowedCallingAeTitles is not null;
        set => Options.AllowedCallingAeTitles = value ? ["SOMEONE-ELSE"] : null;
    }

    public static async Task<ScriptedPacs> StartAsync(string folder, Action<DicomServerOptions>? configure = null)
    {
        Directory.CreateDirectory(folder);
        var pacs = new ScriptedPacs(folder);
        pacs.Options = new DicomServerOptions
        {
            AeTitle = "PACS",
            BindAddress = IPAddress.Loopback,
            Port = 0,
            IncomingDirectory = Path.Combine(folder, ".incoming"),
        };
        configure?.Invoke(pacs.Options);
        pacs.Server = new DicomServer(pacs.Options, pacs);
        await pacs.Server.StartAsync(CancellationToken.None);
        return pacs;
    }

    public async ValueTask<DicomStatus> StoreAsync(DicomStoreRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        if (Silent)
        {
            Interlocked.Increment(ref _inFlight);
            Holding.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
        var status = Answer;
        if (status.IsSuccess)
        {
            var uid = DicomReader.ReadFileHeader(request.FilePath).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!.Trim();
            File.Move(request.FilePath, Path.Combine(Folder, DicomFileNames.Sanitize(uid) + ".dcm"), overwrite: true);
            _stored.Add(uid);
        }
        return status;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
