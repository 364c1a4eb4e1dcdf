using HippoNode.Classification;

namespace HippoNode.Testing.Reference;

/// <summary>
/// A deliberately naive forward pass of the ResNet classifier in plain C#, in double precision, written from the
/// architecture's documentation (torchvision's BasicBlock) and independently of the exporter. Only for tests: it is
/// what the ONNX graph and the class activation map must reproduce.
/// </summary>
public static class ReferenceResNet
{
    /// <summary>A CHW tensor of doubles.</summary>
    public sealed class Tensor(int c, int h, int w)
    {
        public int C { get; } = c;
        public int H { get; } = h;
        public int W { get; } = w;
        public double[] V { get; } = new double[c * h * w];

        public double this[int c, int y, int x]
        {
            get => V[(c * H + y) * W + x];
            set => V[(c * H + y) * W + x] = value;
        }
    }

    /// <summary>The outputs: positive-class probability, logits, and the last block's features.</summary>
    public sealed record Output(double Probability, double[] Logits, Tensor Features);

    /// <summary>Runs the network on one C x H x W input (C-order floats).</summary>
    public static Output Forward(ClassifierWeights weights, float[] input, int h, int w)
    {
        var a = weights.Architecture;
        var x = new Tensor(a.InputChannels, h, w);
        for (var i = 0; i < x.V.Length; i++) x.V[i] = input[i];

        x = Relu(BatchNorm(Conv(x, weights["conv1.weight"], a.StemStride, a.StemKernel / 2), weights, "bn1", a.BatchNormEpsilon));
        if (a.StemMaxPool) x = MaxPool3(x);
        for (var s = 0; s < a.Stages; s++)
        {
            for (var b = 0; b < a.BlocksPerStage[s]; b++)
            {
                var p = $"layer{s + 1}.{b}";
                var stride = s > 0 && b == 0 ? 2 : 1;
                var y = Relu(BatchNorm(Conv(x, weights[p + ".conv1.weight"], stride, 1), weights, p + ".bn1", a.BatchNormEpsilon));
                y = BatchNorm(Conv(y, weights[p + ".conv2.weight"], 1, 1), weights, p + ".bn2", a.BatchNormEpsilon);
                var shortcut = weights.Contains(p + ".downsample.0.weight")
                    ? BatchNorm(Conv(x, weights[p + ".downsample.0.weight"], stride, 0), weights, p + ".downsample.1", a.BatchNormEpsilon)
                    : x;
                for (var i = 0; i < y.V.Length; i++) y.V[i] = Math.Max(0, y.V[i] + shortcut.V[i]);
                x = y;
            }
        }

        var fc = weights["fc.weight"].Data;
        var bias = weights["fc.bias"].Data;
        var n = x.H * x.W;
        var logits = new double[a.Classes];
        for (var k = 0; k < a.Classes; k++)
        {
            double s = bias[k];
            for (var c = 0; c < x.C; c++)
            {
                double mean = 0;
                for (var i = 0; i < n; i++) mean += x.V[c * n + i];
                s += fc[k * x.C + c] * (mean / n);
            }
            logits[k] = s;
        }
        var probability = a.Classes == 1
            ? 1 / (1 + Math.Exp(-logits[0]))
            : Math.Exp(logits[1]) / (Math.Exp(logits[0]) + Math.Exp(logits[1]));
        return new Output(probability, logits, x);
    }

    private static Tensor Conv(Tensor x, HippoNode.Segmentation.Model.WeightTensor weight, int stride, int pad)
    {
        var (co, ci, k) = (weight.Shape[0], weight.Shape[1], weight.Shape[2]);
        if (ci != x.C) throw new InvalidOperationException($"conv expects {ci} channels, got {x.C}");
        int Out(int n) => (n + 2 * pad - k) / stride + 1;
        var y = new Tensor(co, Out(x.H), Out(x.W));
        var wv = weight.Data;
        for (var o = 0; o < co; o++)
            for (var r = 0; r < y.H; r++)
                for (var c = 0; c < y.W; c++)
                {
                    double s = 0;
                    for (var i = 0; i < ci; i++)
                        for (var ky = 0; ky < k; ky++)
                        {
                            var iy = r * stride + ky - pad;
                            if (iy < 0 || iy >= x.H) continue;
                            for (var kx = 0; kx < k; kx++)
                            {
                                var ix = c * stride + kx - pad;
                                if (ix < 0 || ix >= x.W) continue;
                                s += x[i, iy, ix] * wv[((o * ci + i) * k + ky) * k + kx];
                            }
                        }
                    y[o, r, c] = s;
                }
        return y;
    }

    private static Tensor BatchNorm(Tensor x, ClassifierWeights weights, string prefix, double eps)
    {
        var (gamma, beta) = (weights[prefix + ".weight"].Data, weights[prefix + ".bias"].Data);
        var (mean, var) = (weights[prefix + ".running_mean"].Data, weights[prefix + ".running_var"].Data);
        var n = x.H * x.W;
        for (var c = 0; c < x.C; c++)
        {
            var inv = 1 / Math.Sqrt(var[c] + eps);
            for (var i = 0; i < n; i++) x.V[c * n + i] = (x.V[c * n + i] - mean[c]) * inv * gamma[c] + beta[c];
        }
        return x;
    }

    private static Tensor Relu(Tensor x)
    {
        for (var i = 0; i < x.V.Length; i++) x.V[i] = Math.Max(0, x.V[i]);
        return x;
    }

    private static Tensor MaxPool3(Tensor x)
    {
        var y = new Tensor(x.C, (x.H + 2 - 3) / 2 + 1, (x.W + 2 - 3) / 2 + 1);
        for (var c = 0; c < y.C; c++)
            for (var r = 0; r < y.H; r++)
                for (var i = 0; i < y.W; i++)
                {
                    var m = double.NegativeInfinity;
                    for (var dy = 0; dy < 3; dy++)
                        for (var dx = 0; dx < 3; dx++)
                        {
                            var (iy, ix) = (r * 2 + dy - 1, i * 2 + dx - 1);
                            if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W) m = Math.Max(m, x[c, iy, ix]);
                        }
                    y[c, r, i] = m;
                }
        return y;
    }
}
