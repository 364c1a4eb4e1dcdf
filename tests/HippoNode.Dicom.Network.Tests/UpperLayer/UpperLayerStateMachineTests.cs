namespace HippoNode.Dicom.Network.Tests.UpperLayer;

/// <summary>The transition function against PS3.8 Table 9-10, cell by cell, transcribed here as text.</summary>
public class UpperLayerStateMachineTests
{
    // Rows: events Evt1-Evt19. Columns: Sta1-Sta13. A cell is ACTION>NEXTSTATE, or "-" where the standard has none.
    // AR-8 in Sta7 goes to Sta9 on the requestor side and to Sta10 on the acceptor side ("AR8>9|10").
    private static readonly string[] Table =
    [
        /* Evt1  */ "AE1>4  -      -      -      -      -      -      -      -      -      -      -      -",
        /* Evt2  */ "-      -      -      AE2>5  -      -      -      -      -      -      -      -      -",
        /* Evt3  */ "-      AA1>13 AA8>13 -      AE3>6  AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA6>13",
        /* Evt4  */ "-      AA1>13 AA8>13 -      AE4>1  AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA6>13",
        /* Evt5  */ "AE5>2  -      -      -      -      -      -      -      -      -      -      -      -",
        /* Evt6  */ "-      AE6>3  AA8>13 -      AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA7>13",
        /* Evt7  */ "-      -      AE7>6  -      -      -      -      -      -      -      -      -      -",
        /* Evt8  */ "-      -      AE8>13 -      -      -      -      -      -      -      -      -      -",
        /* Evt9  */ "-      -      -      -      -      DT1>6  -      AR7>8  -      -      -      -      -",
        /* Evt10 */ "-      AA1>13 AA8>13 -      AA8>13 DT2>6  AR6>7  AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA6>13",
        /* Evt11 */ "-      -      -      -      -      AR1>7  -      -      -      -      -      -      -",
        /* Evt12 */ "-      AA1>13 AA8>13 -      AA8>13 AR2>8  AR8>9|10 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA6>13",
        /* Evt13 */ "-      AA1>13 AA8>13 -      AA8>13 AA8>13 AR3>1  AA8>13 AA8>13 AR10>12 AR3>1 AA8>13 AA6>13",
        /* Evt14 */ "-      -      -      -      -      -      -      AR4>13 AR9>11 -      -      AR4>13 -",
        /* Evt15 */ "-      -      AA1>13 AA2>1  AA1>13 AA1>13 AA1>13 AA1>13 AA1>13 AA1>13 AA1>13 AA1>13 -",
        /* Evt16 */ "-      AA2>1  AA3>1  -      AA3>1  AA3>1  AA3>1  AA3>1  AA3>1  AA3>1  AA3>1  AA3>1  AA2>1",
        /* Evt17 */ "-      AA5>1  AA4>1  AA4>1  AA4>1  AA4>1  AA4>1  AA4>1  AA4>1  AA4>1  AA4>1  AA4>1  AR5>1",
        /* Evt18 */ "-      AA2>1  -      -      -      -      -      -      -      -      -      -      AA2>1",
        /* Evt19 */ "-      AA1>13 AA8>13 -      AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA8>13 AA7>13",
    ];

    public static TheoryData<int, int, bool> Cells()
    {
        var data = new TheoryData<int, int, bool>();
        for (var e = 1; e <= 19; e++)
            for (var s = 1; s <= 13; s++)
                foreach (var requestor in new[] { true, false })
                    data.Add(e, s, requestor);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void TryGetTransition_EveryCell_MatchesTable910(int evt, int state, bool isRequestor)
    {
        var cell = Table[evt - 1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[state - 1];
        var found = UpperLayerStateMachine.TryGetTransition((UpperLayerState)state, (UpperLayerEvent)evt, isRequestor, out var t);
        if (cell == "-")
        {
            Assert.False(found, $"Evt{evt} in Sta{state} should have no transition, got {t}");
            return;
        }
        Assert.True(found, $"Evt{evt} in Sta{state} should be {cell}");
        var parts = cell.Split('>');
        var nexts = parts[1].Split('|');
        var next = nexts.Length == 2 ? (isRequestor ? nexts[0] : nexts[1]) : nexts[0];
        Assert.Equal(Enum.Parse<UpperLayerAction>(parts[0]), t.Action);
        Assert.Equal((UpperLayerState)int.Parse(next, System.Globalization.CultureInfo.InvariantCulture), t.NextState);
    }

    [Fact]
    public void EventFor_EachReceivedPdu_IsItsEvent()
    {
        Assert.Equal(UpperLayerEvent.Evt3, UpperLayerStateMachine.EventFor(Pdus.PduGoldenTests.AssociateAc()));
        Assert.Equal(UpperLayerEvent.Evt4, UpperLayerStateMachine.EventFor(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 1)));
        Assert.Equal(UpperLayerEvent.Evt6, UpperLayerStateMachine.EventFor(Pdus.PduGoldenTests.AssociateRq()));
        Assert.Equal(UpperLayerEvent.Evt10, UpperLayerStateMachine.EventFor(Pdus.PduGoldenTests.PData()));
        Assert.Equal(UpperLayerEvent.Evt12, UpperLayerStateMachine.EventFor(new AReleaseRq()));
        Assert.Equal(UpperLayerEvent.Evt13, UpperLayerStateMachine.EventFor(new AReleaseRp()));
        Assert.Equal(UpperLayerEvent.Evt16, UpperLayerStateMachine.EventFor(new AAbort(AbortSource.ServiceUser, AbortReason.NotSpecified)));
    }

    [Fact]
    public void Walk_AcceptorLifeCycle_FollowsTheStandardsPath()
    {
        // SCP: connection, A-ASSOCIATE-RQ, accept, data both ways, A-RELEASE-RQ, response, close.
        var path = Walk(false, UpperLayerState.Sta1,
            UpperLayerEvent.Evt5, UpperLayerEvent.Evt6, UpperLayerEvent.Evt7, UpperLayerEvent.Evt10, UpperLayerEvent.Evt9,
            UpperLayerEvent.Evt12, UpperLayerEvent.Evt9, UpperLayerEvent.Evt14, UpperLayerEvent.Evt17);
        Assert.Equal("Sta2 Sta3 Sta6 Sta6 Sta6 Sta8 Sta8 Sta13 Sta1", path);
    }

    [Fact]
    public void Walk_RequestorLifeCycle_FollowsTheStandardsPath()
    {
        var path = Walk(true, UpperLayerState.Sta1,
            UpperLayerEvent.Evt1, UpperLayerEvent.Evt2, UpperLayerEvent.Evt3, UpperLayerEvent.Evt9, UpperLayerEvent.Evt10,
            UpperLayerEvent.Evt11, UpperLayerEvent.Evt13);
        Assert.Equal("Sta4 Sta5 Sta6 Sta6 Sta6 Sta7 Sta1", path);
    }

    [Fact]
    public void Walk_ReleaseCollisionOnBothSides_EndsIdle()
    {
        Assert.Equal("Sta7 Sta9 Sta11 Sta1", Walk(true, UpperLayerState.Sta6, UpperLayerEvent.Evt11, UpperLayerEvent.Evt12, UpperLayerEvent.Evt14, UpperLayerEvent.Evt13));
        Assert.Equal("Sta7 Sta10 Sta12 Sta13 Sta1", Walk(false, UpperLayerState.Sta6, UpperLayerEvent.Evt11, UpperLayerEvent.Evt12, UpperLayerEvent.Evt13, UpperLayerEvent.Evt14, UpperLayerEvent.Evt17));
    }

    [Fact]
    public void Walk_ArtimExpiresBeforeTheRequest_ClosesTheConnection()
    {
        Assert.Equal("Sta2 Sta1", Walk(false, UpperLayerState.Sta1, UpperLayerEvent.Evt5, UpperLayerEvent.Evt18));
    }

    private static string Walk(bool isRequestor, UpperLayerState state, params UpperLayerEvent[] events)
    {
        var seen = new List<string>();
        foreach (var e in events)
        {
            Assert.True(UpperLayerStateMachine.TryGetTransition(state, e, isRequestor, out var t), $"{e} in {state}");
            state = t.NextState;
            seen.Add(state.ToString());
        }
        return string.Join(' ', seen);
    }
}
