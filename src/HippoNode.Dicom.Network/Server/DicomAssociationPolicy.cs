using System.Net;

namespace HippoNode.Dicom.Network;

/// <summary>What the server knows about an association request beyond the PDU itself.</summary>
/// <param name="RemoteEndPoint">The peer's address.</param>
/// <param name="AssociationId">Our correlation ID for logs.</param>
public sealed record AssociationRequestContext(EndPoint? RemoteEndPoint, long AssociationId);

/// <summary>An association policy's answer: a rejection, or a result for every proposed presentation context.</summary>
public sealed record AssociationDecision
{
    private AssociationDecision(AAssociateRj? reject, IReadOnlyList<PresentationContextResponse> contexts, IReadOnlyList<RoleSelection> roles)
    {
        Reject = reject;
        PresentationContexts = contexts;
        RoleSelections = roles;
    }

    /// <summary>The rejection to send, or null when the association is accepted.</summary>
    public AAssociateRj? Reject { get; }

    /// <summary>One result per proposed context (empty for a rejection).</summary>
    public IReadOnlyList<PresentationContextResponse> PresentationContexts { get; }

    /// <summary>Role selection answers to put in the A-ASSOCIATE-AC.</summary>
    public IReadOnlyList<RoleSelection> RoleSelections { get; }

    /// <summary>True when the association is accepted.</summary>
    public bool IsAccepted => Reject is null;

    /// <summary>Rejects the association.</summary>
    public static AssociationDecision Rejected(AssociateRejectResult result, AssociateRejectSource source, byte reason) =>
        new(new AAssociateRj(result, source, reason), [], []);

    /// <summary>Accepts with these per-context results.</summary>
    public static AssociationDecision Accepted(IReadOnlyList<PresentationContextResponse> contexts, IReadOnlyList<RoleSelection>? roles = null) =>
        new(null, contexts, roles ?? []);
}

/// <summary>Decides whether to accept an association and which contexts, in which transfer syntax (injected into <see cref="DicomServer"/>).</summary>
public interface IDicomAssociationPolicy
{
    /// <summary>The decision for <paramref name="request"/>.</summary>
    AssociationDecision Negotiate(AAssociateRq request, AssociationRequestContext context);
}

/// <summary>
/// The standard policy from <see cref="DicomServerOptions"/>: DICOM application context, called AE title check,
/// optional calling AE allow-list, optional per-peer host check, accepted abstract syntaxes, transfer syntax by our
/// preference order.
/// </summary>
public sealed class DicomAssociationPolicy(DicomServerOptions options) : IDicomAssociationPolicy
{
    private readonly HashSet<string> _abstractSyntaxes = new(options.AcceptedAbstractSyntaxes, StringComparer.Ordinal);

    /// <inheritdoc />
    public AssociationDecision Negotiate(AAssociateRq request, AssociationRequestContext context)
    {
        if (request.ApplicationContextName != DicomUid.ApplicationContext)
        {
            return AssociationDecision.Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser,
                AssociateRejectReason.ApplicationContextNameNotSupported);
        }
        if (options.CheckCalledAeTitle && !string.Equals(request.CalledAeTitle.Trim(), options.AeTitle.Trim(), StringComparison.Ordinal))
        {
            return AssociationDecision.Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser,
                AssociateRejectReason.CalledAeTitleNotRecognized);
        }
        if (options.AllowedCallingAeTitles is { } allowed && !allowed.Contains(request.CallingAeTitle.Trim(), StringComparer.Ordinal))
        {
            return AssociationDecision.Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser,
                AssociateRejectReason.CallingAeTitleNotRecognized);
        }
        if (!FromAllowedAddress(request.CallingAeTitle.Trim(), context.RemoteEndPoint))
        {
            // PS3.8 has no reason for "wrong host"; the calling AE title is not recognised from there.
            return AssociationDecision.Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser,
                AssociateRejectReason.CallingAeTitleNotRecognized);
        }

        var results = new List<PresentationContextResponse>(request.PresentationContexts.Count);
        foreach (var pc in request.PresentationContexts)
        {
            if (!_abstractSyntaxes.Contains(pc.AbstractSyntax))
            {
                results.Add(new PresentationContextResponse(pc.Id, PresentationContextResult.AbstractSyntaxNotSupported, pc.TransferSyntaxes.FirstOrDefault() ?? ""));
                continue;
            }
            var chosen = options.TransferSyntaxPreference.FirstOrDefault(ts => pc.TransferSyntaxes.Contains(ts, StringComparer.Ordinal));
            results.Add(chosen is null
                ? new PresentationContextResponse(pc.Id, PresentationContextResult.TransferSyntaxesNotSupported, pc.TransferSyntaxes.FirstOrDefault() ?? "")
                : new PresentationContextResponse(pc.Id, PresentationContextResult.Acceptance, chosen));
        }
        if (!results.Any(r => r.IsAccepted))
        {
            // PS3.8 has no reason code for "nothing acceptable"; DCMTK answers the same way.
            return AssociationDecision.Rejected(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, AssociateRejectReason.NoReasonGiven);
        }

        // We only perform the SCP role: answer role proposals with the requestor's SCU role kept and no SCP role.
        var roles = request.UserInformation.RoleSelections
            .Where(r => _abstractSyntaxes.Contains(r.SopClassUid))
            .Select(r => new RoleSelection(r.SopClassUid, r.ScuRole, false))
            .ToList();
        return AssociationDecision.Accepted(results, roles);
    }

    /// <summary>True unless the calling AE title has a host entry that does not list the peer's address (IPv4-mapped IPv6 compared as IPv4).</summary>
    private bool FromAllowedAddress(string callingAeTitle, EndPoint? remote)
    {
        if (options.AllowedPeerAddresses is not { } hosts || !hosts.TryGetValue(callingAeTitle, out var allowed)) return true;
        if (remote is not IPEndPoint ip) return false;
        var address = Normalize(ip.Address);
        return allowed.Any(a => Normalize(a).Equals(address));
    }

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
