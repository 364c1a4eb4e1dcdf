using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Interop;

/// <summary>Our rejections as DCMTK reports them: A-ASSOCIATE-RJ reasons and per-context results per PS3.8.</summary>
public class DcmtkRejectionTests
{
    [ToolFact("echoscu")]
    public async Task EchoScu_WrongCalledAe_SeesCalledAeTitleNotRecognized()
    {
        await using var scp = await TestServer.StartAsync();
        var r = await Processes.RunAsync("echoscu", ["-aec", "NOT-HIPPO", "127.0.0.1", scp.Port.ToString()]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Association Rejected", r.Output, StringComparison.Ordinal);
        Assert.Contains("Rejected Permanent, Source: Service User", r.Output, StringComparison.Ordinal);
        Assert.Contains("Reason: Called AE Title Not Recognized", r.Output, StringComparison.Ordinal);
    }

    [ToolFact("echoscu")]
    public async Task EchoScu_CallingAeNotAllowed_SeesCallingAeTitleNotRecognized()
    {
        await using var scp = await TestServer.StartAsync(o => o.AllowedCallingAeTitles = ["PACS"]);
        var r = await Processes.RunAsync("echoscu", ["-aet", "INTRUDER", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Reason: Calling AE Title Not Recognized", r.Output, StringComparison.Ordinal);

        var allowed = await Processes.RunAsync("echoscu", ["-aet", "PACS", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
        Assert.True(allowed.ExitCode == 0, allowed.Output);
    }

    [ToolFact("echoscu")]
    public async Task EchoScu_NoAcceptableContext_SeesAssociationRejected()
    {
        // A storage-only SCP: Verification, the only context echoscu proposes, is not accepted.
        await using var scp = await TestServer.StartAsync(o => o.AcceptedAbstractSyntaxes = DicomUid.StorageSopClasses.ToArray());
        var r = await Processes.RunAsync("echoscu", ["-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString()]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Association Rejected", r.Output, StringComparison.Ordinal);
        Assert.Contains("Rejected Permanent, Source: Service User", r.Output, StringComparison.Ordinal);
    }

    [SharedDataFact("storescu")]
    public async Task StoreScu_SopClassWeDoNotAccept_ContextRejectedOtherFileStored()
    {
        // CT is accepted, MR is not: storescu gets "abstract syntax not supported" for MR and still sends the CT file.
        await using var scp = await TestServer.StartAsync(o => o.AcceptedAbstractSyntaxes = [DicomUid.Verification, DicomUid.CTImageStorage]);
        var ct = TestData.Shared("dicom-corpus", "pydicom-test-files", "CT_small.dcm");
        var mr = TestData.Shared("dicom-corpus", "pydicom-test-files", "MR_small.dcm");
        var r = await Processes.RunAsync("storescu", ["-d", "-R", "-nh", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), mr, ct]);
        Assert.Contains("Abstract Syntax Not Supported", r.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("No presentation context for: (MR)", r.Output, StringComparison.Ordinal);
        var stored = Assert.Single(scp.StoredFiles());
        DatasetAssert.SameDataset(ct, stored);
    }

    [SharedDataFact("storescu")]
    public async Task StoreScu_OnlyUnacceptedSopClass_SeesAssociationRejected()
    {
        await using var scp = await TestServer.StartAsync(o => o.AcceptedAbstractSyntaxes = [DicomUid.Verification, DicomUid.CTImageStorage]);
        var mr = TestData.Shared("dicom-corpus", "pydicom-test-files", "MR_small.dcm");
        var r = await Processes.RunAsync("storescu", ["-R", "-aec", scp.AeTitle, "127.0.0.1", scp.Port.ToString(), mr]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Association Rejected", r.Output, StringComparison.Ordinal);
        Assert.Empty(scp.StoredFiles());
    }
}
