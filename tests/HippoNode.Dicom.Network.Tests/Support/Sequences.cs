using System.Buffers;

namespace HippoNode.Dicom.Network.Tests.Support;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, as a socket delivers bytes.</summary>
public static class Sequences
{
    /// <summary>A sequence made of the given chunks, one segment each.</summary>
    public static ReadOnlySequence<byte> Of(params byte[][] chunks)
    {
        if (chunks.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(chunks[0], 0);
        var last = first;
        foreach (var c in chunks.Skip(1)) last = last.Append(c);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>The bytes split at <paramref name="at"/> into two segments.</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] bytes, int at) => Of(bytes[..at], bytes[at..]);

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> Bytewise(byte[] bytes) => Of(bytes.Select(b => new[] { b }).ToArray());

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>Hex helpers for golden vectors.</summary>
public static class Hex
{
    /// <summary>Bytes from hex with any spaces, newlines and "|" separators.</summary>
    public static byte[] Parse(string hex) => Convert.FromHexString(new string(hex.Where(Uri.IsHexDigit).ToArray()));

    /// <summary>ASCII text as bytes, padded with spaces to <paramref name="width"/> when given.</summary>
    public static byte[] Ascii(string text, int width = 0) => System.Text.Encoding.ASCII.GetBytes(width > 0 ? text.PadRight(width) : text);
}
