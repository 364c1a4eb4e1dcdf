using System.Buffers;
using System.Net;
using System.Net.Sockets;
using HippoNode.Dicom.Network.Tests.Support;

namespace HippoNode.Dicom.Network.Tests.Interop;

/// <summary>Real bytes from DCMTK: its A-ASSOCIATE-RQ parses field by field and re-encodes byte for byte.</summary>
public class DcmtkPduCaptureTests
{
    [ToolFact("echoscu")]
    public async Task EchoscuAssociateRq_ParsedAndReencodedIdentically()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var echoscu = Processes.RunAsync("echoscu", ["-aet", "CAPTURE", "-aec", "TARGET", "-pdu", "32768", "127.0.0.1", port.ToString()], TimeSpan.FromSeconds(30));

        using var socket = await listener.AcceptSocketAsync();
        var bytes = new List<byte>();
        var buffer = new byte[4096];
        Network.Pdu? pdu = null;
        while (pdu is null)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            Assert.True(n > 0, "echoscu closed before sending its request");
            bytes.AddRange(buffer.AsSpan(0, n));
            var seq = new ReadOnlySequence<byte>(bytes.ToArray());
            PduReader.TryRead(ref seq, uint.MaxValue, out pdu);
        }
        var raw = bytes.ToArray();
        // Answer so that echoscu ends: rejected, called AE not recognised.
        await socket.SendAsync(PduWriter.ToArray(new AAssociateRj(AssociateRejectResult.Permanent, AssociateRejectSource.ServiceUser, 7)), SocketFlags.None);
        var result = await echoscu;
        Assert.Contains("Called AE Title Not Recognized", result.Output, StringComparison.Ordinal);

        var rq = Assert.IsType<AAssociateRq>(pdu);
        Assert.Equal("TARGET", rq.CalledAeTitle);
        Assert.Equal("CAPTURE", rq.CallingAeTitle);
        Assert.Equal(DicomUid.ApplicationContext, rq.ApplicationContextName);
        var pc = Assert.Single(rq.PresentationContexts);
        Assert.Equal(DicomUid.Verification, pc.AbstractSyntax);
        Assert.Contains(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, pc.TransferSyntaxes);
        Assert.Equal(32768u, rq.UserInformation.MaxPduLength);
        Assert.StartsWith("1.2.276.0.7230010.3", rq.UserInformation.ImplementationClassUid, StringComparison.Ordinal); // DCMTK's root
        Assert.StartsWith("OFFIS_DCMTK", rq.UserInformation.ImplementationVersionName, StringComparison.Ordinal);
        // DCMTK puts FFH into the third (reserved, "not tested") byte of each proposed context item; we send 00H as
        // PS3.8 §9.3.2.2 asks. Everything else must be byte-identical.
        var normalised = (byte[])raw.Clone();
        for (var at = 6 + 68; at < normalised.Length;)
        {
            var length = (normalised[at + 2] << 8) | normalised[at + 3];
            if (normalised[at] == 0x20) normalised[at + 6] = 0;
            at += 4 + length;
        }
        Assert.Equal(Convert.ToHexString(normalised), Convert.ToHexString(PduWriter.ToArray(rq)));
    }
}
