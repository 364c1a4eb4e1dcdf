namespace HippoNode.Reporting;

/// <summary>sRGB to the DICOM encoding of CIELab (PS3.3 C.10.7.1.1), as Recommended Display CIELab Value needs.</summary>
/// <remarks>
/// DICOM encodes CIELab as the ICC Profile Connection Space does (16-bit PCS Lab, D50 white): L* 0..100 onto 0..65535,
/// a* and b* -128..127 onto 0..65535 (0 at 0x8080). sRGB is defined under D65, so the XYZ values are adapted to D50 with
/// the Bradford transform before Lab, which maps sRGB white exactly to L*=100, a*=b*=0. (dcmqi computes Lab against a D65
/// white without adaptation; its values for saturated colours differ by a few Lab units.)
/// </remarks>
public static class CieLab
{
    // sRGB (D65) -> XYZ, then Bradford-adapted D65 -> D50: the combined matrix of IEC 61966-2-1 and ICC.1 Annex E.
    private static readonly double[,] SrgbToXyzD50 =
    {
        { 0.4360747, 0.3850649, 0.1430804 },
        { 0.2225045, 0.7168786, 0.0606169 },
        { 0.0139322, 0.0971045, 0.7141733 },
    };

    // The D50 white as the matrix maps sRGB white (0.9642, 1.0, 0.8249 to four places): white is then exactly neutral.
    private static readonly double WhiteX = SrgbToXyzD50[0, 0] + SrgbToXyzD50[0, 1] + SrgbToXyzD50[0, 2];
    private static readonly double WhiteY = SrgbToXyzD50[1, 0] + SrgbToXyzD50[1, 1] + SrgbToXyzD50[1, 2];
    private static readonly double WhiteZ = SrgbToXyzD50[2, 0] + SrgbToXyzD50[2, 1] + SrgbToXyzD50[2, 2];

    /// <summary>CIELab (D50) of an sRGB colour: L* 0..100, a* and b* about -128..127.</summary>
    public static (double L, double A, double B) FromSrgb(RgbColour c)
    {
        var r = Linear(c.R);
        var g = Linear(c.G);
        var b = Linear(c.B);
        var x = SrgbToXyzD50[0, 0] * r + SrgbToXyzD50[0, 1] * g + SrgbToXyzD50[0, 2] * b;
        var y = SrgbToXyzD50[1, 0] * r + SrgbToXyzD50[1, 1] * g + SrgbToXyzD50[1, 2] * b;
        var z = SrgbToXyzD50[2, 0] * r + SrgbToXyzD50[2, 1] * g + SrgbToXyzD50[2, 2] * b;
        var fx = F(x / WhiteX);
        var fy = F(y / WhiteY);
        var fz = F(z / WhiteZ);
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz));
    }

    /// <summary>The three unsigned 16-bit values of Recommended Display CIELab Value (0062,000D) for an sRGB colour.</summary>
    public static ushort[] ToDicom(RgbColour c)
    {
        var (l, a, b) = FromSrgb(c);
        return [Scale(l / 100.0), Scale((a + 128) / 255.0), Scale((b + 128) / 255.0)];
    }

    private static ushort Scale(double unit) => (ushort)Math.Round(Math.Clamp(unit, 0, 1) * 65535.0, MidpointRounding.AwayFromZero);

    private static double Linear(byte v)
    {
        var s = v / 255.0;
        return s <= 0.04045 ? s / 12.92 : Math.Pow((s + 0.055) / 1.055, 2.4);
    }

    private static double F(double t)
    {
        const double e = 216.0 / 24389.0, k = 24389.0 / 27.0;
        return t > e ? Math.Cbrt(t) : (k * t + 16) / 116;
    }
}
