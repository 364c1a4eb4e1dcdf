using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Imaging;
using HippoNode.Onnx;
using HippoNode.Segmentation.Model;

namespace HippoNode.Analysis.Tests;

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hipponode-analysis-" + Guid.NewGuid().ToString("N"));

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// How a model-axis (RAS) volume is laid out as a DICOM series: which model axis (0 = i, 1 = j, 2 = k) runs along the
/// columns, the rows and the slices, and whether each runs backwards. Written independently of the code under test:
/// the tests know the answer from here.
/// </summary>
internal sealed record SeriesLayout(string Name, int ColumnAxis, bool ColumnFlip, int RowAxis, bool RowFlip, int SliceAxis, bool SliceFlip)
{
    /// <summary>IOP 1\0\0\0\1\0 with slices ascending in z: the TestVolumes HippoCrop layout (i = C-1-column, j = R-1-row, k = slice).</summary>
    public static SeriesLayout HippoCrop { get; } = new("hippocrop", 0, true, 1, true, 2, false);

    public static IReadOnlyList<SeriesLayout> All { get; } =
    [
        new("identity", 0, false, 1, false, 2, false),
        HippoCrop,
        new("transposed", 1, false, 0, true, 2, false),
        new("sagittal", 1, true, 2, true, 0, false),
        new("coronal-descending", 0, false, 2, true, 1, true),
    ];

    /// <summary>The model voxel index that source voxel (column, row, slice) holds.</summary>
    public (int I, int J, int K) ModelIndex(VolumeShape model, int column, int row, int slice)
    {
        var m = new int[3];
        m[ColumnAxis] = ColumnFlip ? model[ColumnAxis] - 1 - column : column;
        m[RowAxis] = RowFlip ? model[RowAxis] - 1 - row : row;
        m[SliceAxis] = SliceFlip ? model[SliceAxis] - 1 - slice : slice;
        return (m[0], m[1], m[2]);
    }

    public override string ToString() => Name;
}

/// <summary>Writes volumes as DICOM series with exact geometry, for the tests.</summary>
internal static class SeriesWriter
{
    public const string PatientId = "TEST-0001";

    /// <summary>An asymmetric phantom: every voxel has a different value (1 + i + 20 j + 400 k), anisotropic spacing, an offset origin.</summary>
    public static Volume3D Phantom(VolumeShape? shape = null, Spacing3? spacing = null)
    {
        var s = shape ?? new VolumeShape(7, 9, 5);
        var sp = spacing ?? new Spacing3(0.8, 1.1, 1.7);
        var affine = AffineMatrix.FromRowMajor([sp.X, 0, 0, 10, 0, sp.Y, 0, -20, 0, 0, sp.Z, 30]);
        var v = Volume3D.Create(s, sp, affine);
        for (var k = 0; k < s.Z; k++)
            for (var j = 0; j < s.Y; j++)
                for (var i = 0; i < s.X; i++) v[i, j, k] = 1 + i + 20 * j + 400 * k;
        return v;
    }

    /// <summary>One data set per slice (in slice order) for <paramref name="volume"/> (voxel-to-RAS affine) laid out as <paramref name="layout"/>.</summary>
    /// <remarks>
    /// Voxel values must be integers that fit the stored range after (value - intercept) / slope, unless
    /// <paramref name="quantise"/> is set: then slope and intercept map the value range onto 0..65535 and values are rounded
    /// (an error of at most half the slope), as a scanner stores a float image.
    /// </remarks>
    public static List<DicomDataset> Build(Volume3D volume, SeriesLayout layout, string description = "HippoCrop", string? studyUid = null,
        string? seriesUid = null, int? seriesNumber = null, double slope = 1, double intercept = 0, string? frameOfReference = null, bool quantise = false)
    {
        if (quantise)
        {
            var (min, max) = volume.Range();
            // Both values go through DS text, so the writer quantises with exactly what the reader will apply.
            intercept = double.Parse(DicomDataset.FormatDecimalString(min), System.Globalization.CultureInfo.InvariantCulture);
            slope = double.Parse(DicomDataset.FormatDecimalString(max > min ? (max - intercept) / 65000 : 1), System.Globalization.CultureInfo.InvariantCulture);
        }
        var shape = volume.Shape;
        var columns = shape[layout.ColumnAxis];
        var rows = shape[layout.RowAxis];
        var slices = shape[layout.SliceAxis];
        var a = volume.Affine;
        // A model axis's RAS step, reversed when the layout runs it backwards; LPS negates x and y.
        double[] Step(int axis, bool flip) => [.. Enumerable.Range(0, 3).Select(r => (flip ? -1 : 1) * a[r, axis] * (r < 2 ? -1 : 1))];
        var colStep = Step(layout.ColumnAxis, layout.ColumnFlip);
        var rowStep = Step(layout.RowAxis, layout.RowFlip);
        static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));
        var (colSpacing, rowSpacing) = (Norm(colStep), Norm(rowStep));
        double[] iop = [.. colStep.Select(x => x / colSpacing), .. rowStep.Select(x => x / rowSpacing)];
        studyUid ??= DicomUid.Generate();
        seriesUid ??= DicomUid.Generate();
        frameOfReference ??= DicomUid.Generate();

        var list = new List<DicomDataset>();
        for (var s = 0; s < slices; s++)
        {
            var (i0, j0, k0) = layout.ModelIndex(shape, 0, 0, s);
            var ras = a.Transform(i0, j0, k0);
            var pixels = new byte[rows * columns * 2];
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < columns; c++)
                {
                    var (i, j, k) = layout.ModelIndex(shape, c, r, s);
                    var stored = (volume[i, j, k] - intercept) / slope;
                    if (quantise) stored = Math.Round(stored);
                    if (stored != Math.Round(stored) || stored < 0 || stored > ushort.MaxValue) throw new ArgumentException($"value {volume[i, j, k]} cannot be stored exactly");
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(pixels.AsSpan((r * columns + c) * 2), (ushort)stored);
                }
            var ds = new DicomDataset();
            ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUid.MRImageStorage);
            ds.AddOrUpdate(DicomTags.SOPInstanceUID, DicomUid.Generate());
            ds.AddOrUpdate(DicomTags.Modality, "MR");
            ds.AddOrUpdate(DicomTags.PatientName, "Test^Phantom");
            ds.AddOrUpdate(DicomTags.PatientID, PatientId);
            ds.AddOrUpdate(DicomTags.StudyInstanceUID, studyUid);
            ds.AddOrUpdate(DicomTags.SeriesInstanceUID, seriesUid);
            ds.AddOrUpdate(DicomTags.FrameOfReferenceUID, frameOfReference);
            ds.AddOrUpdate(DicomTags.SeriesDescription, description);
            if (seriesNumber is { } n) ds.AddOrUpdate<int>(DicomTags.SeriesNumber, DicomVR.IS, n);
            ds.AddOrUpdate<int>(DicomTags.InstanceNumber, DicomVR.IS, s + 1);
            ds.AddOrUpdate<double>(DicomTags.ImageOrientationPatient, DicomVR.DS, iop);
            ds.AddOrUpdate<double>(DicomTags.ImagePositionPatient, DicomVR.DS, -ras.X, -ras.Y, ras.Z);
            ds.AddOrUpdate<double>(DicomTags.PixelSpacing, DicomVR.DS, rowSpacing, colSpacing);
            ds.AddOrUpdate<double>(DicomTags.SliceThickness, DicomVR.DS, 99); // deliberately wrong: spacing must come from the positions
            ds.AddOrUpdate<ushort>(DicomTags.SamplesPerPixel, DicomVR.US, 1);
            ds.AddOrUpdate(DicomTags.PhotometricInterpretation, "MONOCHROME2");
            ds.AddOrUpdate<ushort>(DicomTags.Rows, DicomVR.US, (ushort)rows);
            ds.AddOrUpdate<ushort>(DicomTags.Columns, DicomVR.US, (ushort)columns);
            ds.AddOrUpdate<ushort>(DicomTags.BitsAllocated, DicomVR.US, 16);
            ds.AddOrUpdate<ushort>(DicomTags.BitsStored, DicomVR.US, 16);
            ds.AddOrUpdate<ushort>(DicomTags.HighBit, DicomVR.US, 15);
            ds.AddOrUpdate<ushort>(DicomTags.PixelRepresentation, DicomVR.US, 0);
            if (slope != 1 || intercept != 0)
            {
                ds.AddOrUpdate<double>(DicomTags.RescaleSlope, DicomVR.DS, slope);
                ds.AddOrUpdate<double>(DicomTags.RescaleIntercept, DicomVR.DS, intercept);
            }
            ds.AddOrUpdate(DicomTags.PixelData, DicomVR.OW, pixels);
            list.Add(ds);
        }
        return list;
    }

    /// <summary>Saves the slices under <paramref name="folder"/> in a scrambled file order (names do not follow position).</summary>
    public static void Save(IReadOnlyList<DicomDataset> slices, string folder, int seed = 7)
    {
        Directory.CreateDirectory(folder);
        var order = Enumerable.Range(0, slices.Count).ToArray();
        new Random(seed).Shuffle(order);
        for (var n = 0; n < slices.Count; n++)
            new DicomFile(slices[order[n]], DicomTransferSyntax.ExplicitVRLittleEndian).Save(Path.Combine(folder, $"im{n:D3}.dcm"));
    }
}

/// <summary>Tiny random model folders (random weights: for plumbing, not for accuracy).</summary>
internal static class TinyModel
{
    public static UNetArchitecture Architecture { get; } = new() { Channels = [4, 8] };

    public static ModelManifest Write(string folder, int members = 2, ulong seed = 100) =>
        ModelFolderWriter.Write(folder,
            [.. Enumerable.Range(0, members).Select(i => new ExportMember(UNetWeights.CreateRandom(Architecture, seed + (ulong)i), Fold: i))],
            new ModelFolderInfo { Name = "test-model", Version = "0.0.0-random", TrainingJson = """{"note":"random weights for tests"}""" });
}

/// <summary>One tiny random model folder for a whole test class.</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public TinyModelFixture() => TinyModel.Write(_dir.Path);

    public string Folder => _dir.Path;

    public void Dispose() => _dir.Dispose();
}

/// <summary>The trained model folder (models/hippocampus) and the shared data; tests that need both skip when either is absent.</summary>
public sealed class TrainedModelFactAttribute : FactAttribute
{
    public static string Folder => Path.Combine(TestData.RepoRoot, "models", "hippocampus");

    public TrainedModelFactAttribute()
    {
        if (!TestData.SharedAvailable) Skip = TestData.SharedMissingReason;
        else if (!File.Exists(Path.Combine(Folder, ModelManifest.FileName)))
            Skip = $"trained model not found ({Folder}/model.json is absent until the trained ensemble is committed); these tests check real volumes";
    }
}
