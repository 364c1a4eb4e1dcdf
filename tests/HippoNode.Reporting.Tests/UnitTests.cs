using HippoNode.Dicom;
using HippoNode.Reporting;
using SkiaSharp;

namespace HippoNode.Reporting.Tests;

/// <summary>Colour conversion, bit packing and page rendering without the shared data.</summary>
public sealed class UnitTests
{
    [Fact]
    public void CieLab_White_IsL100AndNeutral()
    {
        Assert.Equal(new ushort[] { 65535, 32896, 32896 }, CieLab.ToDicom(new RgbColour(255, 255, 255)));
        Assert.Equal(new ushort[] { 0, 32896, 32896 }, CieLab.ToDicom(new RgbColour(0, 0, 0)));
    }

    [Fact]
    public void CieLab_SrgbRed_MatchesIccD50Lab()
    {
        // sRGB red in ICC (D50) Lab: 54.29, 80.80, 69.89 (Lindbloom; Photoshop shows 54/81/70).
        var (l, a, b) = CieLab.FromSrgb(new RgbColour(255, 0, 0));
        Assert.Equal(54.29, l, 0.05);
        Assert.Equal(80.80, a, 0.1);
        Assert.Equal(69.89, b, 0.1);
        var dicom = CieLab.ToDicom(new RgbColour(255, 0, 0));
        Assert.InRange(dicom[0], 35540, 35620); // 54.29 / 100 * 65535
        Assert.InRange(dicom[1], 53660, 53740); // (80.80 + 128) / 255 * 65535
    }

    [Fact]
    public void PackFrames_OddFrameSize_FramesAreBitContiguous()
    {
        // 3x5 = 15 pixels: frame 2 starts at bit 15, inside byte 1, not at a byte boundary.
        var slices = TestStudies.SyntheticSlices(3, 5, 2);
        var f = TestStudies.Findings(slices, empty: true);
        f.Labels[0][14] = 1; // last pixel of frame 1 -> bit 14
        f.Labels[1][0] = 1;  // first pixel of frame 2 -> bit 15
        f.Labels[1][2] = 2;  // segment 2, slice 1 -> frame 3, pixel 2 -> bit 32
        var frames = SegmentationWriter.Frames(f);
        Assert.Equal([(1, 0), (1, 1), (2, 1)], frames.Select(x => (x.Segment.Number, x.Slice)));
        var bytes = SegmentationWriter.PackFrames(f, frames);
        Assert.Equal(6, bytes.Length); // 45 bits -> 6 bytes, already even
        Assert.Equal((byte)0b1100_0000, bytes[1]);
        Assert.Equal(0b0000_0001, bytes[4]);
        Assert.Equal(1, SegmentationWriter.UnpackFrame(bytes, 3, 5, 1)[0]);
    }

    [Fact]
    public void Frames_OddPackedByteCount_GetsAnEmptyNeighbourFrame_SoNoPadByteIsNeeded()
    {
        // 3x7 = 21 bits: one frame fills 3 bytes (odd, would need a pad byte OHIF rejects); two fill 6.
        var slices = TestStudies.SyntheticSlices(3, 7, 3);
        var f = TestStudies.Findings(slices, empty: true);
        f.Labels[1][4] = 1;
        var frames = SegmentationWriter.Frames(f);
        Assert.Equal(2, frames.Count);
        Assert.Contains((1, 1), frames.Select(x => (x.Segment.Number, x.Slice)));
        Assert.Equal(frames.OrderBy(x => x.Slice).ToList(), frames); // still in slice order
        var bytes = SegmentationWriter.PackFrames(f, frames);
        Assert.Equal(6, bytes.Length);
        Assert.Equal(1, bytes.Count(b => b != 0));
    }

    [Fact]
    public void Outline_OfASquare_IsItsFourCornersInPixelEdgeCoordinates_OnTheLargestSlice()
    {
        // 4x5 grid (rows x columns); slice 1 holds a 2x3 block at rows 1-2, columns 1-3, slice 0 a single pixel.
        var labels = new List<byte[]> { new byte[20], new byte[20] };
        labels[0][0] = 1;
        foreach (var (r, c) in new[] { (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3) }) labels[1][r * 5 + c] = 1;
        var outline = SegmentOutline.Trace(labels, 4, 5, v => v == 1)!;
        Assert.Equal(1, outline.Slice);
        // Clockwise on screen (y down), closed: column\row pairs.
        Assert.Equal([1f, 1f, 4f, 1f, 4f, 3f, 1f, 3f, 1f, 1f], outline.GraphicData);
    }

    [Fact]
    public void Outline_OfAnLShape_FollowsTheConcaveCorner_AndPicksTheLargestRegion()
    {
        // 5x5: an L of 4 pixels (rows 1-3 at column 1, row 3 at column 2) and, touching it only diagonally, one pixel at (0, 2).
        var slice = new byte[25];
        foreach (var (r, c) in new[] { (1, 1), (2, 1), (3, 1), (3, 2), (0, 2) }) slice[r * 5 + c] = 2;
        var outline = SegmentOutline.Trace([slice], 5, 5, v => v == 2)!;
        Assert.Equal([1f, 1f, 2f, 1f, 2f, 3f, 3f, 3f, 3f, 4f, 1f, 4f, 1f, 1f], outline.GraphicData);
        Assert.Null(SegmentOutline.Trace([new byte[25]], 5, 5, v => v == 2));
    }

    [Fact]
    public void Renderer_DrawsTextAndViews_OnA1024x1280Page()
    {
        var f = TestStudies.Findings(TestStudies.SyntheticSlices(40, 30, 24));
        for (var k = 0; k < f.Pixels.Count; k++) for (var p = 0; p < f.Pixels[k].Length; p++) f.Pixels[k][p] = p % 97;
        Assert.NotEqual("none", ReportPageRenderer.TypefaceSource);
        using var bmp = ReportPageRenderer.Render(f, new ReportingOptions());
        Assert.Equal((1024, 1280), (bmp.Width, bmp.Height));
        // The title band holds antialiased text: many non-black pixels.
        var lit = 0;
        for (var y = 20; y < 60; y++) for (var x = 32; x < 500; x++) if (bmp.GetPixel(x, y) != SKColors.Black) lit++;
        Assert.True(lit > 500, $"only {lit} lit pixels in the title: no glyphs?");
        var png = ReportPageRenderer.RenderPng(f, new ReportingOptions());
        Assert.Equal((byte)0x89, png[0]);
        var sc = SecondaryCaptureWriter.Create(f, new ReportingOptions());
        Assert.Equal(1024 * 1280 * 3, ((DicomElement)sc.GetItem(DicomTags.PixelData)!).Length);
        Assert.Equal("RGB", sc.GetString(DicomTags.PhotometricInterpretation));
        Assert.Equal("WSD", sc.GetString(DicomTags.ConversionType));
    }

    [Fact]
    public void Centroid_OfTheEllipsoids_IsInsideTheGrid()
    {
        var f = TestStudies.Findings(TestStudies.SyntheticSlices(40, 30, 24));
        var (i, j, k) = ReportPageRenderer.Centroid(f);
        Assert.InRange(i, 13, 16);
        Assert.InRange(j, 17, 22);
        Assert.InRange(k, 10, 13);
    }
}
