namespace HippoNode.Reporting;

/// <summary>The outline of a segment on the source slice where it is largest, as SCOORD graphic data.</summary>
/// <param name="Slice">The source slice (index into <see cref="StudyFindings.SourceSlices"/>).</param>
/// <param name="GraphicData">Closed polyline, column\row pairs in image coordinates (PS3.3 C.18.6.1.1: 0\0 is the top left corner of the top left pixel); the last point repeats the first.</param>
public sealed record SegmentOutline(int Slice, float[] GraphicData)
{
    /// <summary>
    /// Traces the outer boundary, along pixel edges, of the largest region of pixels for which <paramref name="inside"/>
    /// holds, on the slice with the most such pixels; null when no slice has any.
    /// </summary>
    /// <remarks>
    /// Why an outline at all: the volumes are measured on the whole segmentation (the SEG), but viewers such as OHIF 3.13
    /// place and list a TID 1500 measurement only when it carries spatial coordinates, and fail on one without. The
    /// outline on the largest slice is the image region the measurement is inferred from that a viewer can draw.
    /// </remarks>
    public static SegmentOutline? Trace(IReadOnlyList<byte[]> labels, int rows, int columns, Func<byte, bool> inside)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(inside);
        var best = -1;
        var bestCount = 0;
        for (var k = 0; k < labels.Count; k++)
        {
            var count = 0;
            foreach (var v in labels[k]) if (inside(v)) count++;
            if (count > bestCount) (best, bestCount) = (k, count);
        }
        if (best < 0) return null;

        var slice = labels[best];
        bool In(int r, int c) => r >= 0 && c >= 0 && r < rows && c < columns && inside(slice[r * columns + c]);

        // Directed boundary edges between pixel corners (x = column, y = row), the region on the right when walking them
        // in image coordinates (y down): top edges run left to right, right edges down, bottom edges right to left, left edges up.
        var outgoing = new Dictionary<(int X, int Y), List<(int X, int Y)>>();
        void Edge(int x0, int y0, int x1, int y1)
        {
            if (!outgoing.TryGetValue((x0, y0), out var list)) outgoing[(x0, y0)] = list = [];
            list.Add((x1, y1));
        }
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                if (!In(r, c)) continue;
                if (!In(r - 1, c)) Edge(c, r, c + 1, r);
                if (!In(r, c + 1)) Edge(c + 1, r, c + 1, r + 1);
                if (!In(r + 1, c)) Edge(c + 1, r + 1, c, r + 1);
                if (!In(r, c - 1)) Edge(c, r + 1, c, r);
            }
        }

        // Chain the edges into closed loops; keep the longest (the outer boundary of the largest region).
        List<(int X, int Y)>? longest = null;
        while (outgoing.Count > 0)
        {
            var start = outgoing.Keys.OrderBy(p => p.Y).ThenBy(p => p.X).First();
            var loop = new List<(int X, int Y)> { start };
            var current = start;
            (int X, int Y) direction = (1, 0);
            while (true)
            {
                var next = TakeEdge(outgoing, current, direction);
                direction = (next.X - current.X, next.Y - current.Y);
                current = next;
                if (current == start) break;
                loop.Add(current);
            }
            if (longest is null || loop.Count > longest.Count) longest = loop;
        }

        // Drop the corners that lie on a straight run, then close the polyline.
        var corners = new List<(int X, int Y)>();
        for (var i = 0; i < longest!.Count; i++)
        {
            var prev = longest[(i - 1 + longest.Count) % longest.Count];
            var here = longest[i];
            var next = longest[(i + 1) % longest.Count];
            if ((here.X - prev.X) * (next.Y - here.Y) != (here.Y - prev.Y) * (next.X - here.X)) corners.Add(here);
        }
        corners.Add(corners[0]);
        var data = new float[corners.Count * 2];
        for (var i = 0; i < corners.Count; i++)
        {
            data[2 * i] = corners[i].X;
            data[2 * i + 1] = corners[i].Y;
        }
        return new SegmentOutline(best, data);
    }

    // At a corner where two regions touch diagonally two edges leave; turning right keeps each loop around one
    // 4-connected region, so loops never cross.
    private static (int X, int Y) TakeEdge(Dictionary<(int X, int Y), List<(int X, int Y)>> outgoing, (int X, int Y) at, (int X, int Y) direction)
    {
        var list = outgoing[at];
        var pick = 0;
        if (list.Count > 1)
        {
            (int X, int Y) right = (-direction.Y, direction.X);
            for (var i = 0; i < list.Count; i++)
            {
                if ((list[i].X - at.X, list[i].Y - at.Y) == right) pick = i;
            }
        }
        var next = list[pick];
        list.RemoveAt(pick);
        if (list.Count == 0) outgoing.Remove(at);
        return next;
    }
}
