namespace HippoNode.Dicom.Network.Tests.Server;

/// <summary>The standard policy's decisions: rejection reasons and per-context results.</summary>
public class DicomAssociationPolicyTests
{
    private static readonly AssociationRequestContext Ctx = new(null, 1);

    private static AAssociateRq Request(string called = "HIPPO", string calling = "SCU", params PresentationContextRequest[] contexts) =>
        new(called, calling, contexts.Length > 0 ? contexts : [new PresentationContextRequest(1, DicomUid.Verification, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid])],
            UserInformation.Ours(16384));

    [Fact]
    public void Negotiate_WrongCalledAe_RejectsPermanentServiceUserReason7()
    {
        var d = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO" }).Negotiate(Request(called: "OTHER"), Ctx);
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 7), d.Reject);
    }

    [Fact]
    public void Negotiate_CalledAeCheckOff_AcceptsAnyTitle()
    {
        var d = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO", CheckCalledAeTitle = false }).Negotiate(Request(called: "OTHER"), Ctx);
        Assert.True(d.IsAccepted);
    }

    [Fact]
    public void Negotiate_CallingAeNotAllowed_RejectsReason3()
    {
        var policy = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO", AllowedCallingAeTitles = ["PACS"] });
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 3), policy.Negotiate(Request(calling: "MODALITY"), Ctx).Reject);
        Assert.True(policy.Negotiate(Request(calling: "PACS"), Ctx).IsAccepted);
    }

    [Fact]
    public void Negotiate_OtherApplicationContext_RejectsReason2()
    {
        var d = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO" }).Negotiate(Request() with { ApplicationContextName = "1.2.3" }, Ctx);
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 2), d.Reject);
    }

    [Fact]
    public void Negotiate_MixedContexts_GivesResultPerContext()
    {
        var d = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO" }).Negotiate(Request("HIPPO", "SCU",
            new PresentationContextRequest(1, DicomUid.MRImageStorage, [DicomTransferSyntax.ImplicitVRLittleEndian.Uid, DicomTransferSyntax.ExplicitVRLittleEndian.Uid]),
            new PresentationContextRequest(3, "1.2.840.10008.5.1.4.1.2.2.1", [DicomTransferSyntax.ImplicitVRLittleEndian.Uid]),
            new PresentationContextRequest(5, DicomUid.CTImageStorage, ["1.2.3.4.5.6"]),
            new PresentationContextRequest(7, DicomUid.CTImageStorage, ["1.2.840.10008.1.2.4.90"])), Ctx);
        Assert.True(d.IsAccepted);
        Assert.Equal(
        [
            new PresentationContextResponse(1, PresentationContextResult.Acceptance, DicomTransferSyntax.ExplicitVRLittleEndian.Uid),
            new PresentationContextResponse(3, PresentationContextResult.AbstractSyntaxNotSupported, DicomTransferSyntax.ImplicitVRLittleEndian.Uid),
            new PresentationContextResponse(5, PresentationContextResult.TransferSyntaxesNotSupported, "1.2.3.4.5.6"),
            new PresentationContextResponse(7, PresentationContextResult.Acceptance, "1.2.840.10008.1.2.4.90"),
        ], d.PresentationContexts);
    }

    [Fact]
    public void Negotiate_PreferenceOrder_PicksOursNotTheRequestors()
    {
        var options = new DicomServerOptions { AeTitle = "HIPPO" };
        var d = new DicomAssociationPolicy(options).Negotiate(Request("HIPPO", "SCU",
            new PresentationContextRequest(1, DicomUid.MRImageStorage,
            [DicomTransferSyntax.ExplicitVRBigEndian.Uid, DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid])), Ctx);
        Assert.Equal(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, Assert.Single(d.PresentationContexts).TransferSyntax);
        Assert.Equal(
            [DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid, DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid, DicomTransferSyntax.ExplicitVRBigEndian.Uid],
            DicomServerOptions.DefaultTransferSyntaxPreference.Take(4));
    }

    [Fact]
    public void Negotiate_NothingAcceptable_RejectsTheAssociation()
    {
        var d = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO", AcceptedAbstractSyntaxes = DicomUid.StorageSopClasses.ToArray() }).Negotiate(Request(), Ctx);
        Assert.Equal(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 1), d.Reject);
        Assert.Empty(d.PresentationContexts);
    }

    [Fact]
    public void Negotiate_RoleSelection_KeepsScuRoleRefusesScpRole()
    {
        var rq = Request() with { UserInformation = UserInformation.Ours(16384) with { RoleSelections = [new RoleSelection(DicomUid.Verification, true, true)] } };
        var d = new DicomAssociationPolicy(new DicomServerOptions { AeTitle = "HIPPO" }).Negotiate(rq, Ctx);
        Assert.Equal(new RoleSelection(DicomUid.Verification, true, false), Assert.Single(d.RoleSelections));
    }
}
