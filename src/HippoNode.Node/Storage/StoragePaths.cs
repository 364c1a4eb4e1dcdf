using HippoNode.Dicom.Network;

namespace HippoNode.Node.Storage;

/// <summary>The layout under the storage folder.</summary>
/// <param name="Root">The storage folder (absolute).</param>
public sealed record StoragePaths(string Root)
{
    /// <summary>node.db: the SQLite database.</summary>
    public string Database => Path.Combine(Root, "node.db");

    /// <summary>incoming/: instances being received (scratch; emptied at startup).</summary>
    public string Incoming => Path.Combine(Root, "incoming");

    /// <summary>studies/: spooled instances, studies/&lt;StudyInstanceUID&gt;/&lt;SOPInstanceUID&gt;.dcm.</summary>
    public string Studies => Path.Combine(Root, "studies");

    /// <summary>results/: analysis outputs, results/&lt;job id&gt;/.</summary>
    public string Results => Path.Combine(Root, "results");

    /// <summary>rejected/: files found in the spool at startup that are not readable DICOM.</summary>
    public string Rejected => Path.Combine(Root, "rejected");

    /// <summary>logs/: the rolling log files.</summary>
    public string Logs => Path.Combine(Root, "logs");

    /// <summary>node.lock: held while a node runs on this folder (one node per folder).</summary>
    public string LockFile => Path.Combine(Root, "node.lock");

    /// <summary>The spool folder of a study.</summary>
    public string StudyFolder(string studyInstanceUid) => Path.Combine(Studies, DicomFileNames.Sanitize(studyInstanceUid));

    /// <summary>The output folder of a job.</summary>
    public string JobResults(long jobId) => Path.Combine(Results, jobId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
