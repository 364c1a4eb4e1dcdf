using System.Buffers.Binary;
using System.Text;
using HippoNode.Dicom;
using HippoNode.Dicom.Network;

namespace HippoNode.Fuzzing;

/// <summary>
/// The DIMSE command parser: command sets (Implicit VR LE, group 0000) taken from the captured associations and made
/// by our own builders, mutated at the element level (values, lengths, order, foreign and duplicate tags) and at the
/// byte level, decoded with <see cref="DimseCommand.Decode"/> and then read the way the SCP and SCU read them.
/// </summary>
public sealed class DimseCommandTarget : FuzzTarget
{
    private sealed record Seed(string Name, byte[] Bytes, int[] Headers);

    private readonly List<Seed> _seeds = [];

    /// <inheritdoc />
    public override string Name => "dimse";

    /// <inheritdoc />
    public override string Invariant =>
        "Decode returns a command or throws DicomNetworkException; every property the SCP/SCU reads (command field, IDs, UIDs, status, data set type, text) then works without throwing, and the response built for it encodes and decodes";

    /// <inheritdoc />
    public override TimeSpan HangLimit => TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public override Task InitializeAsync(CancellationToken cancellationToken)
    {
        var captured = 0;
        foreach (var (name, bytes) in PduCorpus.Load())
        {
            var k = 0;
            foreach (var set in PduCorpus.CommandSets(bytes))
            {
                _seeds.Add(new Seed($"{name}/command{k++}", set, ByteMutator.ImplicitHeaders(set)));
                captured++;
            }
        }
        const string mr = "1.2.840.10008.5.1.4.1.1.4";
        var store = DimseCommand.StoreRequest(7, mr, "1.2.826.0.1.3680043.2.1125.1");
        var find = new DicomDataset()
            .AddOrUpdate(DicomTags.CommandGroupLength, DicomVR.UL, 0u)
            .AddOrUpdate(DicomTags.AffectedSOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.2.2.1")
            .AddOrUpdate(DicomTags.CommandField, DicomVR.US, (ushort)DimseCommandField.CFindRq)
            .AddOrUpdate(DicomTags.MessageID, DicomVR.US, (ushort)3)
            .AddOrUpdate(DicomTags.Priority, DicomVR.US, (ushort)0)
            .AddOrUpdate(DicomTags.CommandDataSetType, DicomVR.US, (ushort)0);
        (string, byte[])[] synthetic =
        [
            ("echo-rq", DimseCommand.EchoRequest(1).Encode()),
            ("store-rq", store.Encode()),
            ("store-rsp-success", DimseCommand.ResponseTo(store, DicomStatus.Success).Encode()),
            ("store-rsp-failure", DimseCommand.ResponseTo(store, DicomStatus.ProcessingFailure, "could not \\ store").Encode()),
            ("find-rq", new DimseCommand(find).Encode()),
        ];
        foreach (var (name, bytes) in synthetic) _seeds.Add(new Seed("synthetic/" + name, bytes, ByteMutator.ImplicitHeaders(bytes)));
        SeedSummary = $"{_seeds.Count} command sets ({captured} captured from storescu/echoscu/our SCU, {synthetic.Length} from our builders)";
        return Task.CompletedTask;
    }

    private static readonly (ushort G, ushort E)[] CommandTags =
    [
        (0x0000, 0x0000), (0x0000, 0x0002), (0x0000, 0x0003), (0x0000, 0x0100), (0x0000, 0x0110), (0x0000, 0x0120),
        (0x0000, 0x0600), (0x0000, 0x0700), (0x0000, 0x0800), (0x0000, 0x0900), (0x0000, 0x0901), (0x0000, 0x0902),
        (0x0000, 0x0903), (0x0000, 0x1000), (0x0000, 0x1001), (0x0000, 0x1030), (0x0000, 0x1031), (0x0008, 0x0018),
        (0x0000, 0x4000), (0xFFFE, 0xE000), (0xFFFE, 0xE0DD), (0x0001, 0x0001), (0x7FE0, 0x0010),
    ];

    /// <inheritdoc />
    public override FuzzInput Generate(int seed)
    {
        var rng = new Random(seed);
        var s = _seeds[rng.Next(_seeds.Count)];
        var applied = new List<string>();
        byte[] bytes = s.Bytes;
        if (rng.Next(2) == 0) bytes = MutateElements(s.Bytes, rng, applied);
        if (applied.Count == 0 || rng.Next(3) == 0)
        {
            var (mutated, what) = ByteMutator.Mutate(bytes, ReferenceEquals(bytes, s.Bytes) ? s.Headers : ByteMutator.ImplicitHeaders(bytes), bigEndian: false, rng);
            bytes = mutated;
            applied.Add(what);
        }
        return new FuzzInput(seed, $"{s.Name} [{string.Join(' ', applied)}]", bytes);
    }

    /// <summary>Element-level mutations on the walked command set, re-encoded with (mostly) consistent lengths.</summary>
    private static byte[] MutateElements(byte[] source, Random rng, List<string> applied)
    {
        var elements = new List<(uint Tag, byte[] Value)>();
        for (var i = 0; i + 8 <= source.Length;)
        {
            var tag = BinaryPrimitives.ReadUInt32LittleEndian(source.AsSpan(i));
            var len = BinaryPrimitives.ReadUInt32LittleEndian(source.AsSpan(i + 4));
            if (len > source.Length - i - 8) break;
            elements.Add((tag, source.AsSpan(i + 8, (int)len).ToArray()));
            i += 8 + (int)len;
        }
        var n = 1 + rng.Next(3);
        for (var k = 0; k < n; k++)
        {
            var idx = elements.Count == 0 ? -1 : rng.Next(elements.Count);
            switch (idx < 0 ? 1 : rng.Next(6))
            {
                case 0: // a value replaced: random bytes, empty, odd, long, UID-like, non-ASCII text
                {
                    byte[][] values =
                    [
                        [], [0], [1, 2, 3], new byte[2], [0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF], Encoding.ASCII.GetBytes("1.2.3\\4.5"),
                        Encoding.UTF8.GetBytes("ÄÖÜ\u0000\u0001x"), Encoding.ASCII.GetBytes(new string('9', 70)), Encoding.ASCII.GetBytes(new string('1', 1025)),
                    ];
                    var v = rng.Next(3) == 0 ? RandomBytes(rng, rng.Next(20)) : values[rng.Next(values.Length)];
                    elements[idx] = (elements[idx].Tag, v);
                    applied.Add($"value{idx}={v.Length}B");
                    break;
                }
                case 1: // a foreign or duplicate tag inserted
                {
                    var (g, e) = CommandTags[rng.Next(CommandTags.Length)];
                    var value = RandomBytes(rng, new[] { 0, 1, 2, 4, 8, 16 }[rng.Next(6)]);
                    var at = rng.Next(elements.Count + 1);
                    elements.Insert(at, ((uint)(g | (e << 16)), value));
                    applied.Add($"insert({g:X4},{e:X4})@{at}");
                    break;
                }
                case 2:
                    elements.RemoveAt(idx);
                    applied.Add($"remove{idx}");
                    break;
                case 3: // out of order
                {
                    var j = rng.Next(elements.Count);
                    (elements[idx], elements[j]) = (elements[j], elements[idx]);
                    applied.Add($"swap{idx},{j}");
                    break;
                }
                case 4: // a 16-bit value widened or narrowed
                {
                    var v = elements[idx].Value;
                    var resized = new byte[new[] { 0, 1, 3, 4, 6 }[rng.Next(5)]];
                    v.AsSpan(0, Math.Min(v.Length, resized.Length)).CopyTo(resized);
                    elements[idx] = (elements[idx].Tag, resized);
                    applied.Add($"resize{idx}={resized.Length}");
                    break;
                }
                default: // the group length made wrong
                {
                    var gl = elements.FindIndex(x => x.Tag == 0);
                    if (gl < 0) goto case 1;
                    var v = new byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(v, ByteMutator.Interesting32[rng.Next(ByteMutator.Interesting32.Length)]);
                    elements[gl] = (0, v);
                    applied.Add("grouplength");
                    break;
                }
            }
        }
        var ms = new MemoryStream();
        Span<byte> header = stackalloc byte[8];
        foreach (var (tag, value) in elements)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header, tag);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)value.Length);
            ms.Write(header);
            ms.Write(value);
        }
        return ms.ToArray();
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }

    /// <inheritdoc />
    public override Task<FuzzResult> RunAsync(FuzzInput input, CancellationToken cancellationToken) => Task.FromResult(Exercise(input.Bytes));

    /// <summary>Decode, then read the command as the SCP and SCU do, answer it, and decode the answer.</summary>
    public static FuzzResult Exercise(byte[] bytes)
    {
        DimseCommand command;
        try
        {
            command = DimseCommand.Decode(bytes);
        }
        catch (DicomNetworkException)
        {
            return FuzzResult.Rejected;
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash("Decode: " + Describe(ex));
        }
        try
        {
            _ = command.IsResponse;
            _ = command.CommandField;
            _ = command.HasDataset;
            _ = command.AffectedSopClassUid;
            _ = command.AffectedSopInstanceUid;
            _ = command.MessageId;
            _ = command.MessageIdBeingRespondedTo;
            _ = command.Status;
            _ = command.ErrorComment;
            _ = command.ToString();
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash("a decoded command's property: " + Describe(ex));
        }
        try
        {
            var response = DimseCommand.ResponseTo(command, DicomStatus.ProcessingFailure, "fuzz \u00e9\\ comment");
            var again = DimseCommand.Decode(response.Encode());
            if (again.MessageIdBeingRespondedTo != command.MessageId) return FuzzResult.Crash("the response does not carry the request's Message ID");
        }
        catch (Exception ex)
        {
            return FuzzResult.Crash("the response to a decoded command: " + Describe(ex));
        }
        return FuzzResult.Accepted;
    }
}
