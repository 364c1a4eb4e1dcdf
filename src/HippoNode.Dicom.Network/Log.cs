using System.Net;
using Microsoft.Extensions.Logging;

namespace HippoNode.Dicom.Network;

/// <summary>Log messages of the network layer; event IDs 1000-1099 server, 1100-1199 association (SCP), 1200-1299 client.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "DICOM server {AeTitle} listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, string aeTitle, EndPoint endPoint);

    [LoggerMessage(1001, LogLevel.Information, "DICOM server stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1002, LogLevel.Warning, "Accepting a connection failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(1003, LogLevel.Error, "Association {AssociationId} ended with an unexpected error")]
    public static partial void AssociationCrashed(ILogger logger, long associationId, Exception exception);

    [LoggerMessage(1004, LogLevel.Warning, "TLS handshake with {Remote} failed; connection closed: {Reason}")]
    public static partial void TlsHandshakeFailed(ILogger logger, EndPoint? remote, string reason);

    [LoggerMessage(1005, LogLevel.Warning, "Free disk space {FreeMegabytes} MB is below the watermark of {MinFreeMegabytes} MB in {Directory}: C-STORE answered A700 (out of resources) until space returns")]
    public static partial void DiskSpaceLow(ILogger logger, long freeMegabytes, long minFreeMegabytes, string directory);

    [LoggerMessage(1006, LogLevel.Information, "Free disk space {FreeMegabytes} MB is above the watermark of {MinFreeMegabytes} MB again in {Directory}: receiving resumed")]
    public static partial void DiskSpaceRecovered(ILogger logger, long freeMegabytes, long minFreeMegabytes, string directory);

    [LoggerMessage(1007, LogLevel.Warning, "Cannot measure the free space of {Directory}: {Message}")]
    public static partial void FreeSpaceUnknown(ILogger logger, string directory, string message);

    [LoggerMessage(1100, LogLevel.Debug, "Connection from {Remote}")]
    public static partial void Connected(ILogger logger, EndPoint? remote);

    [LoggerMessage(1101, LogLevel.Information, "Association accepted: {Calling} -> {Called}, {Accepted} of {Proposed} presentation contexts")]
    public static partial void Accepted(ILogger logger, string calling, string called, int accepted, int proposed);

    [LoggerMessage(1102, LogLevel.Warning, "Association rejected: {Calling} -> {Called}: {Reason}")]
    public static partial void Rejected(ILogger logger, string calling, string called, string reason);

    [LoggerMessage(1103, LogLevel.Information, "Association released")]
    public static partial void Released(ILogger logger);

    [LoggerMessage(1104, LogLevel.Warning, "Association aborted by the peer (source {Source}, reason {Reason})")]
    public static partial void AbortedByPeer(ILogger logger, AbortSource source, AbortReason reason);

    [LoggerMessage(1105, LogLevel.Warning, "Protocol error, aborting: {Message}")]
    public static partial void ProtocolError(ILogger logger, string message);

    [LoggerMessage(1106, LogLevel.Warning, "No PDU for {Timeout} in {State}: timer expired, closing")]
    public static partial void TimerExpired(ILogger logger, TimeSpan timeout, UpperLayerState state);

    [LoggerMessage(1107, LogLevel.Warning, "Connection closed by the peer in {State}")]
    public static partial void PeerClosed(ILogger logger, UpperLayerState state);

    [LoggerMessage(1108, LogLevel.Information, "C-STORE {SopInstanceUid} ({SopClassUid}, {TransferSyntax}, {Bytes} bytes): {Status}")]
    public static partial void Stored(ILogger logger, string sopInstanceUid, string sopClassUid, string transferSyntax, long bytes, DicomStatus status);

    [LoggerMessage(1109, LogLevel.Warning, "C-STORE handler failed for {SopInstanceUid}; answering {Status}")]
    public static partial void HandlerFailed(ILogger logger, string sopInstanceUid, DicomStatus status, Exception exception);

    [LoggerMessage(1110, LogLevel.Debug, "C-ECHO from {Calling}")]
    public static partial void Echo(ILogger logger, string calling);

    [LoggerMessage(1111, LogLevel.Warning, "Unsupported DIMSE command {Command}; answering {Status}")]
    public static partial void UnsupportedCommand(ILogger logger, string command, DicomStatus status);

    [LoggerMessage(1112, LogLevel.Warning, "Writing the received instance failed; answering {Status}")]
    public static partial void WriteFailed(ILogger logger, DicomStatus status, Exception exception);

    [LoggerMessage(1113, LogLevel.Information, "Aborting the association: {Reason}")]
    public static partial void LocalAbort(ILogger logger, string reason);

    [LoggerMessage(1114, LogLevel.Debug, "Sending A-ABORT failed: {Message}")]
    public static partial void AbortSendFailed(ILogger logger, string message);

    [LoggerMessage(1115, LogLevel.Information, "TLS {Protocol} with {Remote} ({CipherSuite}); client certificate {ClientCertificate}")]
    public static partial void TlsEstablished(ILogger logger, EndPoint? remote, System.Security.Authentication.SslProtocols protocol, System.Net.Security.TlsCipherSuite cipherSuite, string clientCertificate);

    [LoggerMessage(1116, LogLevel.Debug, "C-STORE {SopInstanceUid} refused for lack of disk space: {Reason}")]
    public static partial void StoreRefusedNoSpace(ILogger logger, string sopInstanceUid, string reason);

    [LoggerMessage(1117, LogLevel.Warning, "The store handler failed when association {AssociationId} ended")]
    public static partial void AssociationEndHandlerFailed(ILogger logger, long associationId, Exception exception);

    [LoggerMessage(1200, LogLevel.Debug, "Association to {Host}:{Port} ({Called}) established, {Accepted} of {Proposed} contexts accepted")]
    public static partial void ClientAssociated(ILogger logger, string host, int port, string called, int accepted, int proposed);

    [LoggerMessage(1201, LogLevel.Warning, "Sending {Path} failed: {Message}")]
    public static partial void SendFailed(ILogger logger, string path, string message);
}
