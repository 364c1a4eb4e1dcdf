using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>Small helpers shared by the network tests.</summary>
public static class TestHelpers
{
    /// <summary>Collects an async sequence.</summary>
    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source) list.Add(item);
        return list;
    }

    /// <summary>Client options calling <paramref name="calledAe"/> with short, test-sized timeouts.</summary>
    public static DicomClientOptions Client(string calledAe = "HIPPO") => new()
    {
        CalledAeTitle = calledAe,
        CallingAeTitle = "NETTEST",
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AssociationTimeout = TimeSpan.FromSeconds(10),
        ResponseTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The proposals our sender makes for these files.</summary>
    public static IReadOnlyList<PresentationContextProposal> ProposalsFor(IEnumerable<string> files) =>
        DicomSender.ProposalsFor(files.Select(f =>
        {
            var h = DicomReader.ReadFileHeader(f);
            return (h.FileMetaInformation.GetString(DicomTags.MediaStorageSOPClassUID)!, h.TransferSyntax);
        }));

    /// <summary>Waits until the server has no association left (cleanup after a close runs asynchronously).</summary>
    public static async Task WaitForNoAssociationsAsync(DicomServer server, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (server.ActiveAssociations > 0)
        {
            if (DateTime.UtcNow > until) Assert.Fail($"{server.ActiveAssociations} association(s) still open after {timeout.TotalSeconds} s");
            await Task.Delay(20);
        }
    }

    /// <summary>A C-ECHO through a fresh association: the server still serves.</summary>
    public static async Task AssertEchoAsync(TestServer scp)
    {
        await using var a = await DicomClientAssociation.ConnectAsync("127.0.0.1", scp.Port, Client(scp.AeTitle), [PresentationContextProposal.Verification], CancellationToken.None);
        Assert.Equal(DicomStatus.Success, await a.EchoAsync(CancellationToken.None));
    }

    /// <summary>A corpus file from pydicom's test files.</summary>
    public static string Corpus(string name) => TestData.Shared("dicom-corpus", "pydicom-test-files", name);
}
