using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>The shared TestVolumes studies and an index of their instances.</summary>
public static class TestFiles
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Index = new(BuildIndex);

    /// <summary>../shared/data/TestVolumes.</summary>
    public static string Volumes => TestData.Shared("TestVolumes");

    /// <summary>One study folder ("Study1" or "Study2").</summary>
    public static string Study(string name) => Path.Combine(Volumes, name);

    /// <summary>Every file under a folder, sorted.</summary>
    public static IReadOnlyList<string> FilesUnder(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    /// <summary>Every file of TestVolumes.</summary>
    public static IReadOnlyList<string> All => FilesUnder(Volumes);

    /// <summary>The source file of a SOP instance UID.</summary>
    public static string SourceOf(string sopInstanceUid) =>
        Index.Value.TryGetValue(sopInstanceUid, out var p) ? p : throw new KeyNotFoundException($"{sopInstanceUid} is not in TestVolumes");

    /// <summary>SOP instance UIDs of the files under a folder.</summary>
    public static IReadOnlySet<string> InstancesUnder(string dir) =>
        Index.Value.Where(kv => kv.Value.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal)).Select(kv => kv.Key).ToHashSet();

    private static Dictionary<string, string> BuildIndex()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in All)
        {
            var uid = DicomReader.ReadFileHeader(f).FileMetaInformation.GetString(DicomTags.MediaStorageSOPInstanceUID)!;
            d.Add(uid, f);
        }
        return d;
    }
}
