using System.Text;
using HippoNode.Dicom.IO;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>Compares data sets read by our reader: same elements, same values (little-endian as read), recursively.</summary>
public static class DatasetAssert
{
    /// <summary>Fails with the first differences when the received file's data set differs from the sent one's.</summary>
    /// <param name="sentPath">The file that was sent.</param>
    /// <param name="receivedPath">The file that arrived.</param>
    /// <param name="compareVR">False when the transfer went through Implicit VR (VRs then come from the dictionary).</param>
    public static void SameDataset(string sentPath, string receivedPath, bool compareVR = true)
    {
        var sent = DicomFile.Open(sentPath).Dataset;
        var received = DicomFile.Open(receivedPath).Dataset;
        var diffs = new List<string>();
        Compare(sent, received, "", compareVR, diffs);
        if (diffs.Count > 0)
            Assert.Fail($"{receivedPath} differs from {sentPath}:\n" + string.Join('\n', diffs.Take(10)));
    }

    /// <summary>Data Set Trailing Padding (FFFC,FFFC): meaningless filler that senders may drop (PS3.10 §7.2).</summary>
    private static readonly DicomTag TrailingPadding = new(0xFFFC, 0xFFFC);

    private static void Compare(DicomDataset a, DicomDataset b, string path, bool compareVR, List<string> diffs)
    {
        var tagsA = a.Select(i => i.Tag).Where(t => t != TrailingPadding).ToList();
        var tagsB = b.Select(i => i.Tag).Where(t => t != TrailingPadding).ToList();
        foreach (var t in tagsA.Except(tagsB)) diffs.Add($"{path}{t} missing in received");
        foreach (var t in tagsB.Except(tagsA)) diffs.Add($"{path}{t} added in received");
        foreach (var ia in a)
        {
            if (ia.Tag == TrailingPadding || b.GetItem(ia.Tag) is not { } ib) continue;
            var where = path + ia.Tag;
            if (compareVR && ia.VR != ib.VR) diffs.Add($"{where} VR {ia.VR.Code()} became {ib.VR.Code()}");
            switch (ia, ib)
            {
                case (DicomElement ea, DicomElement eb):
                    if (!ea.Buffer.GetMemory().Span.SequenceEqual(eb.Buffer.GetMemory().Span))
                        diffs.Add($"{where} value differs ({ea.Length} vs {eb.Length} bytes)");
                    break;
                case (DicomSequence sa, DicomSequence sb):
                    if (sa.Items.Count != sb.Items.Count) diffs.Add($"{where} has {sa.Items.Count} items, received {sb.Items.Count}");
                    else for (var k = 0; k < sa.Items.Count; k++) Compare(sa.Items[k], sb.Items[k], $"{where}[{k}].", compareVR, diffs);
                    break;
                case (DicomFragmentSequence fa, DicomFragmentSequence fb):
                    if (!fa.OffsetTable.GetMemory().Span.SequenceEqual(fb.OffsetTable.GetMemory().Span) ||
                        fa.Fragments.Count != fb.Fragments.Count ||
                        fa.Fragments.Zip(fb.Fragments).Any(p => !p.First.GetMemory().Span.SequenceEqual(p.Second.GetMemory().Span)))
                        diffs.Add($"{where} fragments differ");
                    break;
                default:
                    // Implicit VR: a sequence may come back as UN bytes when the dictionary does not know it, and vice versa.
                    if (compareVR) diffs.Add($"{where} is a {ia.GetType().Name}, received {ib.GetType().Name}");
                    break;
            }
        }
    }

    /// <summary>Runs dcmdump over the files (in batches) and fails on any error or warning line.</summary>
    public static async Task DcmdumpReadsCleanlyAsync(IReadOnlyList<string> files)
    {
        foreach (var chunk in files.Chunk(100))
        {
            var r = await Processes.RunAsync("dcmdump", ["-q", .. chunk], TimeSpan.FromMinutes(1));
            var problems = (r.StdErr + r.StdOut).Split('\n').Where(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("W:", StringComparison.Ordinal) || l.StartsWith("F:", StringComparison.Ordinal)).ToList();
            Assert.True(r.ExitCode == 0 && problems.Count == 0, $"dcmdump exit {r.ExitCode}:\n{string.Join('\n', problems.Take(10))}");
        }
    }
}
