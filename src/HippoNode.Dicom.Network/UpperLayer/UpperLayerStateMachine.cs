namespace HippoNode.Dicom.Network;

/// <summary>The states of the DICOM Upper Layer protocol machine (PS3.8 Table 9-1).</summary>
public enum UpperLayerState
{
    /// <summary>Sta1: idle.</summary>
    Sta1 = 1,

    /// <summary>Sta2: transport connection open, awaiting A-ASSOCIATE-RQ PDU.</summary>
    Sta2,

    /// <summary>Sta3: awaiting the local A-ASSOCIATE response primitive.</summary>
    Sta3,

    /// <summary>Sta4: awaiting the transport connection opening to complete.</summary>
    Sta4,

    /// <summary>Sta5: awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU.</summary>
    Sta5,

    /// <summary>Sta6: association established, ready for data transfer.</summary>
    Sta6,

    /// <summary>Sta7: awaiting A-RELEASE-RP PDU.</summary>
    Sta7,

    /// <summary>Sta8: awaiting the local A-RELEASE response primitive.</summary>
    Sta8,

    /// <summary>Sta9: release collision, requestor side, awaiting A-RELEASE response primitive.</summary>
    Sta9,

    /// <summary>Sta10: release collision, acceptor side, awaiting A-RELEASE-RP PDU.</summary>
    Sta10,

    /// <summary>Sta11: release collision, requestor side, awaiting A-RELEASE-RP PDU.</summary>
    Sta11,

    /// <summary>Sta12: release collision, acceptor side, awaiting A-RELEASE response primitive.</summary>
    Sta12,

    /// <summary>Sta13: awaiting the transport connection close indication.</summary>
    Sta13,
}

/// <summary>The events of the Upper Layer protocol machine (PS3.8 Table 9-2).</summary>
public enum UpperLayerEvent
{
    /// <summary>Evt1: A-ASSOCIATE request (local user).</summary>
    Evt1 = 1,

    /// <summary>Evt2: transport connect confirmation (local transport service).</summary>
    Evt2,

    /// <summary>Evt3: A-ASSOCIATE-AC PDU received.</summary>
    Evt3,

    /// <summary>Evt4: A-ASSOCIATE-RJ PDU received.</summary>
    Evt4,

    /// <summary>Evt5: transport connection indication (local transport service).</summary>
    Evt5,

    /// <summary>Evt6: A-ASSOCIATE-RQ PDU received.</summary>
    Evt6,

    /// <summary>Evt7: A-ASSOCIATE response primitive (accept).</summary>
    Evt7,

    /// <summary>Evt8: A-ASSOCIATE response primitive (reject).</summary>
    Evt8,

    /// <summary>Evt9: P-DATA request primitive.</summary>
    Evt9,

    /// <summary>Evt10: P-DATA-TF PDU received.</summary>
    Evt10,

    /// <summary>Evt11: A-RELEASE request primitive.</summary>
    Evt11,

    /// <summary>Evt12: A-RELEASE-RQ PDU received.</summary>
    Evt12,

    /// <summary>Evt13: A-RELEASE-RP PDU received.</summary>
    Evt13,

    /// <summary>Evt14: A-RELEASE response primitive.</summary>
    Evt14,

    /// <summary>Evt15: A-ABORT request primitive.</summary>
    Evt15,

    /// <summary>Evt16: A-ABORT PDU received.</summary>
    Evt16,

    /// <summary>Evt17: transport connection closed indication.</summary>
    Evt17,

    /// <summary>Evt18: ARTIM timer expired.</summary>
    Evt18,

    /// <summary>Evt19: unrecognised or invalid PDU received.</summary>
    Evt19,
}

/// <summary>The actions of the Upper Layer protocol machine (PS3.8 Table 9-6 to 9-9).</summary>
public enum UpperLayerAction
{
    /// <summary>AE-1: issue TRANSPORT CONNECT request.</summary>
    AE1 = 1,

    /// <summary>AE-2: send A-ASSOCIATE-RQ PDU.</summary>
    AE2,

    /// <summary>AE-3: issue A-ASSOCIATE confirmation (accept).</summary>
    AE3,

    /// <summary>AE-4: issue A-ASSOCIATE confirmation (reject), close transport.</summary>
    AE4,

    /// <summary>AE-5: issue transport connection response, start ARTIM.</summary>
    AE5,

    /// <summary>AE-6: stop ARTIM; issue A-ASSOCIATE indication when acceptable to the provider, else send A-ASSOCIATE-RJ, start ARTIM (Sta13).</summary>
    AE6,

    /// <summary>AE-7: send A-ASSOCIATE-AC PDU.</summary>
    AE7,

    /// <summary>AE-8: send A-ASSOCIATE-RJ PDU, start ARTIM.</summary>
    AE8,

    /// <summary>DT-1: send P-DATA-TF PDU.</summary>
    DT1,

    /// <summary>DT-2: issue P-DATA indication.</summary>
    DT2,

    /// <summary>AR-1: send A-RELEASE-RQ PDU.</summary>
    AR1,

    /// <summary>AR-2: issue A-RELEASE indication.</summary>
    AR2,

    /// <summary>AR-3: issue A-RELEASE confirmation, close transport.</summary>
    AR3,

    /// <summary>AR-4: send A-RELEASE-RP PDU, start ARTIM.</summary>
    AR4,

    /// <summary>AR-5: stop ARTIM.</summary>
    AR5,

    /// <summary>AR-6: issue P-DATA indication (while awaiting A-RELEASE-RP).</summary>
    AR6,

    /// <summary>AR-7: send P-DATA-TF PDU (while awaiting the local release response).</summary>
    AR7,

    /// <summary>AR-8: issue A-RELEASE indication (release collision).</summary>
    AR8,

    /// <summary>AR-9: send A-RELEASE-RP PDU (collision, requestor).</summary>
    AR9,

    /// <summary>AR-10: issue A-RELEASE confirmation (collision, acceptor).</summary>
    AR10,

    /// <summary>AA-1: send A-ABORT PDU (service-user source), start or restart ARTIM.</summary>
    AA1,

    /// <summary>AA-2: stop ARTIM if running, close transport.</summary>
    AA2,

    /// <summary>AA-3: issue A-ABORT or A-P-ABORT indication, close transport.</summary>
    AA3,

    /// <summary>AA-4: issue A-P-ABORT indication.</summary>
    AA4,

    /// <summary>AA-5: stop ARTIM.</summary>
    AA5,

    /// <summary>AA-6: ignore the PDU.</summary>
    AA6,

    /// <summary>AA-7: send A-ABORT PDU.</summary>
    AA7,

    /// <summary>AA-8: send A-ABORT PDU (service-provider source), issue A-P-ABORT indication, start ARTIM.</summary>
    AA8,
}

/// <summary>One cell of the state table: the action to perform and the state that follows.</summary>
/// <param name="Action">The action.</param>
/// <param name="NextState">The next state (for AE-6, the state when the request is acceptable to the provider).</param>
public readonly record struct UpperLayerTransition(UpperLayerAction Action, UpperLayerState NextState);

/// <summary>
/// The Upper Layer state transition table (PS3.8 Table 9-10) as a pure function. Cells the standard leaves empty
/// (an event that cannot happen in that state) have no transition.
/// </summary>
public static class UpperLayerStateMachine
{
    /// <summary>The transition for <paramref name="evt"/> in <paramref name="state"/>; false when the table has none.</summary>
    /// <param name="state">The current state.</param>
    /// <param name="evt">The event.</param>
    /// <param name="isRequestor">True on the association-requestor side (decides AR-8's next state).</param>
    /// <param name="transition">The action and next state.</param>
    public static bool TryGetTransition(UpperLayerState state, UpperLayerEvent evt, bool isRequestor, out UpperLayerTransition transition)
    {
        var t = Lookup(state, evt, isRequestor);
        transition = t ?? default;
        return t is not null;
    }

    /// <summary>The event a received PDU raises (Evt3, 4, 6, 10, 12, 13 or 16).</summary>
    public static UpperLayerEvent EventFor(Pdu pdu) => pdu.Type switch
    {
        PduType.AAssociateAc => UpperLayerEvent.Evt3,
        PduType.AAssociateRj => UpperLayerEvent.Evt4,
        PduType.AAssociateRq => UpperLayerEvent.Evt6,
        PduType.PDataTf => UpperLayerEvent.Evt10,
        PduType.AReleaseRq => UpperLayerEvent.Evt12,
        PduType.AReleaseRp => UpperLayerEvent.Evt13,
        PduType.AAbort => UpperLayerEvent.Evt16,
        _ => UpperLayerEvent.Evt19,
    };

    private static UpperLayerTransition? Lookup(UpperLayerState s, UpperLayerEvent e, bool isRequestor)
    {
        const UpperLayerState Sta1 = UpperLayerState.Sta1, Sta2 = UpperLayerState.Sta2, Sta3 = UpperLayerState.Sta3,
            Sta4 = UpperLayerState.Sta4, Sta5 = UpperLayerState.Sta5, Sta6 = UpperLayerState.Sta6, Sta7 = UpperLayerState.Sta7,
            Sta8 = UpperLayerState.Sta8, Sta9 = UpperLayerState.Sta9, Sta10 = UpperLayerState.Sta10, Sta11 = UpperLayerState.Sta11,
            Sta12 = UpperLayerState.Sta12, Sta13 = UpperLayerState.Sta13;
        // States where an association PDU or data is a protocol violation answered by AA-8 (Sta3 and Sta5-Sta12).
        var violation = s is Sta3 or (>= Sta5 and <= Sta12);

        return e switch
        {
            UpperLayerEvent.Evt1 => s == Sta1 ? T(UpperLayerAction.AE1, Sta4) : null,
            UpperLayerEvent.Evt2 => s == Sta4 ? T(UpperLayerAction.AE2, Sta5) : null,
            UpperLayerEvent.Evt3 => s switch
            {
                Sta2 => T(UpperLayerAction.AA1, Sta13),
                Sta5 => T(UpperLayerAction.AE3, Sta6),
                Sta13 => T(UpperLayerAction.AA6, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt4 => s switch
            {
                Sta2 => T(UpperLayerAction.AA1, Sta13),
                Sta5 => T(UpperLayerAction.AE4, Sta1),
                Sta13 => T(UpperLayerAction.AA6, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt5 => s == Sta1 ? T(UpperLayerAction.AE5, Sta2) : null,
            UpperLayerEvent.Evt6 => s switch
            {
                Sta2 => T(UpperLayerAction.AE6, Sta3),
                Sta13 => T(UpperLayerAction.AA7, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt7 => s == Sta3 ? T(UpperLayerAction.AE7, Sta6) : null,
            UpperLayerEvent.Evt8 => s == Sta3 ? T(UpperLayerAction.AE8, Sta13) : null,
            UpperLayerEvent.Evt9 => s switch
            {
                Sta6 => T(UpperLayerAction.DT1, Sta6),
                Sta8 => T(UpperLayerAction.AR7, Sta8),
                _ => null,
            },
            UpperLayerEvent.Evt10 => s switch
            {
                Sta2 => T(UpperLayerAction.AA1, Sta13),
                Sta6 => T(UpperLayerAction.DT2, Sta6),
                Sta7 => T(UpperLayerAction.AR6, Sta7),
                Sta13 => T(UpperLayerAction.AA6, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt11 => s == Sta6 ? T(UpperLayerAction.AR1, Sta7) : null,
            UpperLayerEvent.Evt12 => s switch
            {
                Sta2 => T(UpperLayerAction.AA1, Sta13),
                Sta6 => T(UpperLayerAction.AR2, Sta8),
                Sta7 => T(UpperLayerAction.AR8, isRequestor ? Sta9 : Sta10),
                Sta13 => T(UpperLayerAction.AA6, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt13 => s switch
            {
                Sta2 => T(UpperLayerAction.AA1, Sta13),
                Sta7 => T(UpperLayerAction.AR3, Sta1),
                Sta10 => T(UpperLayerAction.AR10, Sta12),
                Sta11 => T(UpperLayerAction.AR3, Sta1),
                Sta13 => T(UpperLayerAction.AA6, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt14 => s switch
            {
                Sta8 => T(UpperLayerAction.AR4, Sta13),
                Sta9 => T(UpperLayerAction.AR9, Sta11),
                Sta12 => T(UpperLayerAction.AR4, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt15 => s switch
            {
                Sta4 => T(UpperLayerAction.AA2, Sta1),
                Sta3 or (>= Sta5 and <= Sta12) => T(UpperLayerAction.AA1, Sta13),
                _ => null,
            },
            UpperLayerEvent.Evt16 => s switch
            {
                Sta2 => T(UpperLayerAction.AA2, Sta1),
                Sta13 => T(UpperLayerAction.AA2, Sta1),
                _ when violation => T(UpperLayerAction.AA3, Sta1),
                _ => null,
            },
            UpperLayerEvent.Evt17 => s switch
            {
                Sta2 => T(UpperLayerAction.AA5, Sta1),
                Sta13 => T(UpperLayerAction.AR5, Sta1),
                Sta3 or Sta4 or (>= Sta5 and <= Sta12) => T(UpperLayerAction.AA4, Sta1),
                _ => null,
            },
            UpperLayerEvent.Evt18 => s is Sta2 or Sta13 ? T(UpperLayerAction.AA2, Sta1) : null,
            UpperLayerEvent.Evt19 => s switch
            {
                Sta2 => T(UpperLayerAction.AA1, Sta13),
                Sta13 => T(UpperLayerAction.AA7, Sta13),
                _ when violation => T(UpperLayerAction.AA8, Sta13),
                _ => null,
            },
            _ => null,
        };

        static UpperLayerTransition T(UpperLayerAction a, UpperLayerState next) => new(a, next);
    }
}
