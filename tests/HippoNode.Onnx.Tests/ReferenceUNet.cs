using HippoNode.Segmentation.Model;

namespace HippoNode.Testing.Reference;

/// <summary>
/// A deliberately naive forward pass of the U-Net in plain C#, in double precision, written from the architecture's
/// documentation and independently of the exporter. Only for tests: it is what the ONNX graph must reproduce.
/// </summary>
public static class ReferenceUNet
{
    /// <summary>A CDHW tensor of doubles.</summary>
    public sealed class Tensor(int c, int d, int h, int w)
    {
        public int C { get; } = c;
        public int D { get; } = d;
        public int H { get; } = h;
        public int W { get; } = w;
        public double[] V { get; } = new double[c * d * h * w];

        public double this[int c, int d, int h, int w]
        {
            get => V[((c * D + d) * H + h) * W + w];
            set => V[((c * D + d) * H + h) * W + w] = value;
        }
    }

    /// <summary>
    /// Softmax probabilities for a C x D x H x W input (C-order floats; D = z, H = y, W = x), padded symmetrically
    /// (floor(p/2) before) to multiples of 2^depth with zeros and cropped back, as model.json documents.
    /// </summary>
    public static float[] Forward(UNetWeights weights, float[] input, int d, int h, int w)
    {
        var a = weights.Architecture;
        var m = a.SizeMultiple;
        int Up(int n) => (n + m - 1) / m * m;
        var (pd, ph, pw) = (Up(d), Up(h), Up(w));
        var (bd, bh, bw) = ((pd - d) / 2, (ph - h) / 2, (pw - w) / 2);
        var x = new Tensor(a.InputChannels, pd, ph, pw);
        for (var c = 0; c < a.InputChannels; c++)
            for (var z = 0; z < d; z++)
                for (var y = 0; y < h; y++)
                    for (var i = 0; i < w; i++)
                        x[c, z + bd, y + bh, i + bw] = input[((c * d + z) * h + y) * w + i];

        var skips = new List<Tensor>();
        for (var l = 0; l <= a.Depth; l++)
        {
            if (l > 0 && a.Downsampling == DownsamplingLayer.MaxPool) x = MaxPool2(x);
            for (var u = 0; u < a.ConvolutionsPerBlock; u++)
            {
                var stride = u == 0 && l > 0 && a.Downsampling == DownsamplingLayer.StridedConv ? 2 : 1;
                x = Unit(weights, $"encoders.{l}.convs.{u}", x, stride);
            }
            skips.Add(x);
        }
        for (var l = a.Depth - 1; l >= 0; l--)
        {
            var up = a.Upsampling == UpsamplingLayer.TransposedConv
                ? ConvTranspose2(x, weights[$"upsamplers.{l}.weight"], weights[$"upsamplers.{l}.bias"].Data)
                : Nearest2(x);
            x = Concat(skips[l], up);
            for (var u = 0; u < a.ConvolutionsPerBlock; u++) x = Unit(weights, $"decoders.{l}.convs.{u}", x, 1);
        }
        var logits = Conv(x, weights["head.weight"], weights["head.bias"].Data, 1, 0);

        var classes = a.Classes;
        var result = new float[classes * d * h * w];
        var e = new double[classes];
        for (var z = 0; z < d; z++)
            for (var y = 0; y < h; y++)
                for (var i = 0; i < w; i++)
                {
                    var max = double.NegativeInfinity;
                    for (var c = 0; c < classes; c++) max = Math.Max(max, logits[c, z + bd, y + bh, i + bw]);
                    double sum = 0;
                    for (var c = 0; c < classes; c++) sum += e[c] = Math.Exp(logits[c, z + bd, y + bh, i + bw] - max);
                    for (var c = 0; c < classes; c++) result[((c * d + z) * h + y) * w + i] = (float)(e[c] / sum);
                }
        return result;
    }

    private static Tensor Unit(UNetWeights weights, string prefix, Tensor x, int stride)
    {
        var a = weights.Architecture;
        x = Conv(x, weights[prefix + ".conv.weight"], weights[prefix + ".conv.bias"].Data, stride, 1);
        if (a.Normalization == NormalizationLayer.InstanceNorm)
            x = InstanceNorm(x, weights[prefix + ".norm.weight"].Data, weights[prefix + ".norm.bias"].Data, a.NormEpsilon);
        else if (a.Normalization == NormalizationLayer.BatchNorm)
            x = BatchNorm(x, weights[prefix + ".norm.weight"].Data, weights[prefix + ".norm.bias"].Data,
                weights[prefix + ".norm.running_mean"].Data, weights[prefix + ".norm.running_var"].Data, a.NormEpsilon);
        var slope = a.Activation == ActivationLayer.LeakyRelu ? a.NegativeSlope : 0.0;
        for (var i = 0; i < x.V.Length; i++)
        {
            if (x.V[i] < 0) x.V[i] *= slope;
        }
        return x;
    }

    public static Tensor Conv(Tensor x, WeightTensor weight, float[] bias, int stride, int pad)
    {
        var (co, ci, k) = (weight.Shape[0], weight.Shape[1], weight.Shape[2]);
        if (ci != x.C) throw new InvalidOperationException($"conv expects {ci} channels, got {x.C}");
        int Out(int n) => (n + 2 * pad - k) / stride + 1;
        var y = new Tensor(co, Out(x.D), Out(x.H), Out(x.W));
        var wv = weight.Data;
        for (var o = 0; o < co; o++)
            for (var z = 0; z < y.D; z++)
                for (var r = 0; r < y.H; r++)
                    for (var c = 0; c < y.W; c++)
                    {
                        double s = bias[o];
                        for (var i = 0; i < ci; i++)
                            for (var kz = 0; kz < k; kz++)
                            {
                                var iz = z * stride + kz - pad;
                                if (iz < 0 || iz >= x.D) continue;
                                for (var ky = 0; ky < k; ky++)
                                {
                                    var iy = r * stride + ky - pad;
                                    if (iy < 0 || iy >= x.H) continue;
                                    for (var kx = 0; kx < k; kx++)
                                    {
                                        var ix = c * stride + kx - pad;
                                        if (ix < 0 || ix >= x.W) continue;
                                        s += x[i, iz, iy, ix] * wv[(((o * ci + i) * k + kz) * k + ky) * k + kx];
                                    }
                                }
                            }
                        y[o, z, r, c] = s;
                    }
        return y;
    }

    private static Tensor InstanceNorm(Tensor x, float[] gamma, float[] beta, double eps)
    {
        var n = x.D * x.H * x.W;
        for (var c = 0; c < x.C; c++)
        {
            var span = x.V.AsSpan(c * n, n);
            double mean = 0;
            foreach (var v in span) mean += v;
            mean /= n;
            double var = 0;
            foreach (var v in span) var += (v - mean) * (v - mean);
            var /= n;
            var inv = 1 / Math.Sqrt(var + eps);
            for (var i = 0; i < n; i++) span[i] = (span[i] - mean) * inv * gamma[c] + beta[c];
        }
        return x;
    }

    private static Tensor BatchNorm(Tensor x, float[] gamma, float[] beta, float[] mean, float[] var, double eps)
    {
        var n = x.D * x.H * x.W;
        for (var c = 0; c < x.C; c++)
        {
            var inv = 1 / Math.Sqrt(var[c] + eps);
            for (var i = 0; i < n; i++) x.V[c * n + i] = (x.V[c * n + i] - mean[c]) * inv * gamma[c] + beta[c];
        }
        return x;
    }

    private static Tensor MaxPool2(Tensor x)
    {
        var y = new Tensor(x.C, x.D / 2, x.H / 2, x.W / 2);
        for (var c = 0; c < y.C; c++)
            for (var z = 0; z < y.D; z++)
                for (var r = 0; r < y.H; r++)
                    for (var i = 0; i < y.W; i++)
                    {
                        var m = double.NegativeInfinity;
                        for (var dz = 0; dz < 2; dz++)
                            for (var dy = 0; dy < 2; dy++)
                                for (var dx = 0; dx < 2; dx++)
                                    m = Math.Max(m, x[c, 2 * z + dz, 2 * r + dy, 2 * i + dx]);
                        y[c, z, r, i] = m;
                    }
        return y;
    }

    private static Tensor ConvTranspose2(Tensor x, WeightTensor weight, float[] bias)
    {
        var (ci, co) = (weight.Shape[0], weight.Shape[1]);
        var y = new Tensor(co, x.D * 2, x.H * 2, x.W * 2);
        var wv = weight.Data;
        for (var o = 0; o < co; o++)
            for (var z = 0; z < y.D; z++)
                for (var r = 0; r < y.H; r++)
                    for (var c = 0; c < y.W; c++)
                    {
                        double s = bias[o];
                        var (kz, ky, kx) = (z % 2, r % 2, c % 2);
                        for (var i = 0; i < ci; i++)
                            s += x[i, z / 2, r / 2, c / 2] * wv[(((i * co + o) * 2 + kz) * 2 + ky) * 2 + kx];
                        y[o, z, r, c] = s;
                    }
        return y;
    }

    private static Tensor Nearest2(Tensor x)
    {
        var y = new Tensor(x.C, x.D * 2, x.H * 2, x.W * 2);
        for (var c = 0; c < y.C; c++)
            for (var z = 0; z < y.D; z++)
                for (var r = 0; r < y.H; r++)
                    for (var i = 0; i < y.W; i++)
                        y[c, z, r, i] = x[c, z / 2, r / 2, i / 2];
        return y;
    }

    private static Tensor Concat(Tensor first, Tensor second)
    {
        if (first.D != second.D || first.H != second.H || first.W != second.W) throw new InvalidOperationException("concat of different grids");
        var y = new Tensor(first.C + second.C, first.D, first.H, first.W);
        first.V.CopyTo(y.V, 0);
        second.V.CopyTo(y.V, first.V.Length);
        return y;
    }
}
