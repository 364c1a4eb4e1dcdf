namespace HippoNode.Dicom.IO;

/// <summary>Receives what the parse core reads, in stream order (the reader → observer → builder pattern).</summary>
public interface IDicomReaderObserver
{
    /// <summary>An element with its value (little-endian; big-endian input already swapped).</summary>
    void OnElement(DicomTag tag, DicomVR vr, IByteBuffer value);

    /// <summary>A sequence starts; items and then <see cref="OnEndSequence"/> follow.</summary>
    void OnBeginSequence(DicomTag tag, bool undefinedLength);

    /// <summary>An item of the current sequence starts.</summary>
    void OnBeginItem(bool undefinedLength);

    /// <summary>The current item ends.</summary>
    void OnEndItem();

    /// <summary>The current sequence ends.</summary>
    void OnEndSequence();

    /// <summary>Encapsulated pixel data starts; the offset table and fragments follow.</summary>
    void OnBeginFragments(DicomTag tag, DicomVR vr);

    /// <summary>One fragment item; the first one of a fragment sequence is the Basic Offset Table.</summary>
    void OnFragment(IByteBuffer value);

    /// <summary>The fragment sequence ends.</summary>
    void OnEndFragments();
}

/// <summary>Builds a <see cref="DicomDataset"/> tree from reader events.</summary>
public sealed class DicomDatasetBuilder : IDicomReaderObserver
{
    private readonly Stack<DicomDataset> _datasets = new();
    private readonly Stack<DicomSequence> _sequences = new();
    private DicomFragmentSequence? _fragments;
    private bool _firstFragment;

    /// <summary>Builds into <paramref name="root"/>, or a new data set.</summary>
    public DicomDatasetBuilder(DicomDataset? root = null)
    {
        Root = root ?? new DicomDataset();
        _datasets.Push(Root);
    }

    /// <summary>The top-level data set being built.</summary>
    public DicomDataset Root { get; }

    /// <inheritdoc />
    public void OnElement(DicomTag tag, DicomVR vr, IByteBuffer value) => _datasets.Peek().Add(new DicomElement(tag, vr, value));

    /// <inheritdoc />
    public void OnBeginSequence(DicomTag tag, bool undefinedLength)
    {
        var sq = new DicomSequence(tag);
        _datasets.Peek().Add(sq);
        _sequences.Push(sq);
    }

    /// <inheritdoc />
    public void OnBeginItem(bool undefinedLength)
    {
        var item = new DicomDataset { Parent = _datasets.Peek() };
        _sequences.Peek().Items.Add(item);
        _datasets.Push(item);
    }

    /// <inheritdoc />
    public void OnEndItem() => _datasets.Pop();

    /// <inheritdoc />
    public void OnEndSequence() => _sequences.Pop();

    /// <inheritdoc />
    public void OnBeginFragments(DicomTag tag, DicomVR vr)
    {
        _fragments = new DicomFragmentSequence(tag, vr);
        _firstFragment = true;
        _datasets.Peek().Add(_fragments);
    }

    /// <inheritdoc />
    public void OnFragment(IByteBuffer value)
    {
        if (_fragments is null) return;
        if (_firstFragment) _fragments.OffsetTable = value;
        else _fragments.Fragments.Add(value);
        _firstFragment = false;
    }

    /// <inheritdoc />
    public void OnEndFragments() => _fragments = null;
}
