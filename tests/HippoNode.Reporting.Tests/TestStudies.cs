using HippoNode.Dicom;
using HippoNode.Dicom.IO;
using HippoNode.Reporting;

namespace HippoNode.Reporting.Tests;

/// <summary>Findings over a real source series (or a synthetic grid) with a synthetic label map: two ellipsoids, label 1 and 2.</summary>
internal static class TestStudies
{
    public static readonly RgbColour Anterior = new(230, 159, 0);
    public static readonly RgbColour Posterior = new(86, 180, 233);

    public static (List<DicomDataset> Slices, List<string> Paths) ReadSeries(string folder)
    {
        var files = Directory.GetFiles(folder, "*.dcm").Select(p => (Path: p, Ds: DicomFile.Open(p).Dataset)).ToList();
        var o = files[0].Ds.GetValues<double>(DicomTags.ImageOrientationPatient);
        double[] n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
        var sorted = files.OrderBy(f =>
        {
            var p = f.Ds.GetValues<double>(DicomTags.ImagePositionPatient);
            return p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
        }).ToList();
        return (sorted.Select(f => f.Ds).ToList(), sorted.Select(f => f.Path).ToList());
    }

    // emptyPosterior: label 2 left out (a segment with no voxels); empty: no labelled voxel at all.
    public static StudyFindings Findings(IReadOnlyList<DicomDataset> slices, bool emptyPosterior = false, bool empty = false, bool flagged = false)
    {
        var first = slices[0];
        int rows = first.GetValue<int>(DicomTags.Rows), cols = first.GetValue<int>(DicomTags.Columns);
        var spacing = first.GetValues<double>(DicomTags.PixelSpacing);
        var labels = new List<byte[]>();
        var pixels = new List<float[]>();
        int ns = slices.Count;
        long n1 = 0, n2 = 0;
        for (var k = 0; k < ns; k++)
        {
            var l = new byte[rows * cols];
            for (var j = 0; j < rows; j++)
                for (var i = 0; i < cols; i++)
                {
                    if (empty) continue;
                    // Two ellipsoids stacked along the rows: label 1 above, label 2 below.
                    double dx = (i - cols / 2.0) / (cols / 4.0), dz = (k - ns / 2.0) / (ns / 3.0);
                    double d1 = (j - rows * 0.3) / (rows / 6.0), d2 = (j - rows * 0.68) / (rows / 6.0);
                    if (dx * dx + d1 * d1 + dz * dz <= 1) { l[j * cols + i] = 1; n1++; }
                    else if (!emptyPosterior && dx * dx + d2 * d2 + dz * dz <= 1) { l[j * cols + i] = 2; n2++; }
                }
            labels.Add(l);
            var raw = slices[k].GetItem(DicomTags.PixelData) is DicomElement pe ? pe.Buffer.GetMemory().ToArray() : new byte[rows * cols * 2];
            var px = new float[rows * cols];
            for (var p = 0; p < px.Length && p * 2 + 1 < raw.Length; p++) px[p] = BitConverter.ToInt16(raw, p * 2);
            pixels.Add(px);
        }
        double sliceSpacing = ns > 1
            ? Math.Abs(slices[1].GetValue<double>(DicomTags.ImagePositionPatient, 2) - slices[0].GetValue<double>(DicomTags.ImagePositionPatient, 2))
            : 1;
        if (sliceSpacing == 0) sliceSpacing = 1;
        var voxel = spacing[0] * spacing[1] * sliceSpacing;
        var segs = new List<SegmentFinding>
        {
            new(1, 1, "anterior hippocampus", Codes.AnatomicalStructure, Codes.Hippocampus, new CodedConcept("255549009", "SCT", "Anterior"), Anterior, n1 * voxel, n1),
            new(2, 2, "posterior hippocampus", Codes.AnatomicalStructure, Codes.Hippocampus, new CodedConcept("255551008", "SCT", "Posterior"), Posterior, n2 * voxel, n2),
        };
        return new StudyFindings
        {
            SourceSlices = slices,
            Rows = rows,
            Columns = cols,
            Labels = labels,
            Pixels = pixels,
            PixelSpacing = (spacing[0], spacing[1]),
            SliceSpacing = sliceSpacing,
            Segments = segs,
            Structures =
            [
                new("anterior hippocampus", segs[0].VolumeMm3),
                new("posterior hippocampus", segs[1].VolumeMm3),
                new("whole hippocampus", segs[0].VolumeMm3 + segs[1].VolumeMm3),
            ],
            Quality = new QualityFindings(flagged ? 0.61 : 0.873, 0.7, flagged, [new(1, 2, 0.87), new(1, 3, 0.88), new(2, 3, 0.869)]),
            Algorithm = new AlgorithmInfo("HippoNode U-Net ensemble", "1.0.0", "3D U-Net", 3),
            ContentTime = new DateTimeOffset(2026, 11, 23, 14, 5, 9, TimeSpan.FromHours(1)),
        };
    }

    /// <summary>A synthetic source grid (no shared data): Rows x Columns x slices with MR-like attributes.</summary>
    public static List<DicomDataset> SyntheticSlices(int rows, int cols, int count)
    {
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var frame = DicomUid.Generate();
        return Enumerable.Range(0, count).Select(k => new DicomDataset()
            .AddOrUpdate(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.MRImageStorage)
            .AddOrUpdate(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, study)
            .AddOrUpdate(DicomTags.SeriesInstanceUID, DicomVR.UI, series)
            .AddOrUpdate(DicomTags.FrameOfReferenceUID, DicomVR.UI, frame)
            .AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "Test^Synthetic")
            .AddOrUpdate(DicomTags.PatientID, DicomVR.LO, "SYN-1")
            .AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)rows)
            .AddOrUpdate(DicomTags.Columns, DicomVR.US, (ushort)cols)
            .AddOrUpdate(DicomTags.PixelSpacing, DicomVR.DS, 0.9, 1.1)
            .AddOrUpdate(DicomTags.SliceThickness, DicomVR.DS, 2.0)
            .AddOrUpdate(DicomTags.ImageOrientationPatient, DicomVR.DS, 1.0, 0, 0, 0, 1, 0)
            .AddOrUpdate(DicomTags.ImagePositionPatient, DicomVR.DS, 0.0, 0, 2.0 * k)).ToList();
    }
}
