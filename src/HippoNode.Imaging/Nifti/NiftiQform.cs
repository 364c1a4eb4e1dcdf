namespace HippoNode.Imaging.Nifti;

/// <summary>A NIfTI qform: a rotation as the unit quaternion (a, b, c, d) with a ≥ 0 derived, an offset, and qfac (±1) that flips the third axis.</summary>
/// <remarks>The conversions follow nifti_quatern_to_mat44 and nifti_mat44_to_quatern of the reference nifti1_io.c.</remarks>
public readonly record struct NiftiQform(double B, double C, double D, double OffsetX, double OffsetY, double OffsetZ, int Qfac)
{
    /// <summary>The affine of this qform with voxel sizes <paramref name="dx"/>, <paramref name="dy"/>, <paramref name="dz"/> (a size ≤ 0 is read as 1, as nifti1_io does).</summary>
    public static AffineMatrix ToAffine(NiftiQform q, double dx, double dy, double dz)
    {
        double b = q.B, c = q.C, d = q.D;
        var a = 1.0 - (b * b + c * c + d * d);
        if (a < 1e-7)
        {
            // Rounding pushed |(b, c, d)| to 1 or past it: a 180° rotation; renormalise (b, c, d) and take a = 0.
            var n = Math.Sqrt(b * b + c * c + d * d);
            if (n > 0)
            {
                b /= n;
                c /= n;
                d /= n;
            }
            a = 0;
        }
        else
        {
            a = Math.Sqrt(a);
        }
        var xd = dx > 0 ? dx : 1;
        var yd = dy > 0 ? dy : 1;
        var zd = dz > 0 ? dz : 1;
        if (q.Qfac < 0) zd = -zd;
        return AffineMatrix.FromRowMajor(
        [
            (a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, q.OffsetX,
            2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, q.OffsetY,
            2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, q.OffsetZ,
        ]);
    }

    /// <summary>The qform closest to <paramref name="affine"/> (its rotation part made orthogonal) and the column lengths as voxel sizes.</summary>
    public static (NiftiQform Qform, Spacing3 VoxelSize) FromAffine(AffineMatrix affine)
    {
        ArgumentNullException.ThrowIfNull(affine);
        var m = new double[3, 3];
        for (var r = 0; r < 3; r++)
        {
            for (var col = 0; col < 3; col++) m[r, col] = affine[r, col];
        }
        var size = new double[3];
        for (var col = 0; col < 3; col++)
        {
            var len = Math.Sqrt(m[0, col] * m[0, col] + m[1, col] * m[1, col] + m[2, col] * m[2, col]);
            if (len == 0)
            {
                // A degenerate column: nifti1_io substitutes the unit axis so a rotation still exists.
                m[0, col] = m[1, col] = m[2, col] = 0;
                m[col, col] = 1;
                len = 1;
            }
            else
            {
                for (var r = 0; r < 3; r++) m[r, col] /= len;
            }
            size[col] = len;
        }

        var rot = Orthogonalize(m);
        var qfac = 1;
        if (Det(rot) <= 0)
        {
            // A left-handed grid: flip the third column so the rest is a proper rotation, and record the flip in qfac.
            qfac = -1;
            for (var r = 0; r < 3; r++) rot[r, 2] = -rot[r, 2];
        }

        double r11 = rot[0, 0], r12 = rot[0, 1], r13 = rot[0, 2];
        double r21 = rot[1, 0], r22 = rot[1, 1], r23 = rot[1, 2];
        double r31 = rot[2, 0], r32 = rot[2, 1], r33 = rot[2, 2];
        double a, b, c, d;
        var trace = r11 + r22 + r33 + 1.0;
        if (trace > 0.5)
        {
            a = 0.5 * Math.Sqrt(trace);
            b = 0.25 * (r32 - r23) / a;
            c = 0.25 * (r13 - r31) / a;
            d = 0.25 * (r21 - r12) / a;
        }
        else
        {
            // Near a 180° rotation a is tiny; derive the quaternion from the largest diagonal term instead.
            var xd = 1.0 + r11 - (r22 + r33);
            var yd = 1.0 + r22 - (r11 + r33);
            var zd = 1.0 + r33 - (r11 + r22);
            if (xd > 1.0)
            {
                b = 0.5 * Math.Sqrt(xd);
                c = 0.25 * (r12 + r21) / b;
                d = 0.25 * (r13 + r31) / b;
                a = 0.25 * (r32 - r23) / b;
            }
            else if (yd > 1.0)
            {
                c = 0.5 * Math.Sqrt(yd);
                b = 0.25 * (r12 + r21) / c;
                d = 0.25 * (r23 + r32) / c;
                a = 0.25 * (r13 - r31) / c;
            }
            else
            {
                d = 0.5 * Math.Sqrt(zd);
                b = 0.25 * (r13 + r31) / d;
                c = 0.25 * (r23 + r32) / d;
                a = 0.25 * (r21 - r12) / d;
            }
            if (a < 0)
            {
                b = -b;
                c = -c;
                d = -d;
            }
        }
        return (new NiftiQform(b, c, d, affine[0, 3], affine[1, 3], affine[2, 3], qfac), new Spacing3(size[0], size[1], size[2]));
    }

    // The orthogonal matrix nearest to m (polar decomposition) by the Newton iteration X ← (X + X⁻ᵀ)/2,
    // which converges quadratically for any non-singular start; a singular m has no rotation, so identity.
    private static double[,] Orthogonalize(double[,] m)
    {
        var x = (double[,])m.Clone();
        for (var iter = 0; iter < 100; iter++)
        {
            var det = Det(x);
            if (Math.Abs(det) < 1e-12) return new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
            var invT = InverseTranspose(x, det);
            var change = 0.0;
            for (var r = 0; r < 3; r++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var v = 0.5 * (x[r, c] + invT[r, c]);
                    change = Math.Max(change, Math.Abs(v - x[r, c]));
                    x[r, c] = v;
                }
            }
            if (change < 1e-15) break;
        }
        return x;
    }

    private static double Det(double[,] m) =>
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);

    // (M⁻¹)ᵀ is the cofactor matrix divided by the determinant.
    private static double[,] InverseTranspose(double[,] m, double det) => new double[,]
    {
        { (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) / det, -(m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0]) / det, (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]) / det },
        { -(m[0, 1] * m[2, 2] - m[0, 2] * m[2, 1]) / det, (m[0, 0] * m[2, 2] - m[0, 2] * m[2, 0]) / det, -(m[0, 0] * m[2, 1] - m[0, 1] * m[2, 0]) / det },
        { (m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]) / det, -(m[0, 0] * m[1, 2] - m[0, 2] * m[1, 0]) / det, (m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]) / det },
    };
}
