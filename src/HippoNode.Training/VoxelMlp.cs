using System.Numerics;
using HippoNode.Datasets;
using HippoNode.Onnx;

namespace HippoNode.Training;

/// <summary>The trainable per-voxel MLP: standardisation, dense layers with ReLU, softmax; all parameters in one array.</summary>
/// <remarks>
/// Layer l's weight is stored input-major ([in, out], row i holds the weights from input i) so that forward and
/// backward passes are sequences of axpy operations on contiguous rows; <see cref="ToWeights"/> transposes to the
/// [out, in] order of ONNX. Every sum runs in a fixed order (inputs ascending, samples in batch order, fixed chunks
/// reduced in chunk order), so results do not depend on thread scheduling or the SIMD width.
/// </remarks>
public sealed class VoxelMlp
{
    private readonly int[] _weightOffset;
    private readonly int[] _biasOffset;
    private readonly float[][] _transposed;

    /// <summary>An MLP of layer sizes <paramref name="sizes"/> (features, hidden..., classes) with zero parameters and identity standardisation.</summary>
    public VoxelMlp(IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count < 2 || sizes.Any(s => s < 1)) throw new ArgumentException("at least an input and an output size, all positive", nameof(sizes));
        Sizes = [.. sizes];
        _weightOffset = new int[Sizes.Length - 1];
        _biasOffset = new int[Sizes.Length - 1];
        var p = 0;
        for (var l = 0; l < Sizes.Length - 1; l++)
        {
            _weightOffset[l] = p;
            p += Sizes[l] * Sizes[l + 1];
            _biasOffset[l] = p;
            p += Sizes[l + 1];
        }
        Parameters = new float[p];
        _transposed = [.. Enumerable.Range(0, Sizes.Length - 1).Select(l => new float[Sizes[l] * Sizes[l + 1]])];
        FeatureMean = new float[Sizes[0]];
        FeatureScale = new float[Sizes[0]];
        Array.Fill(FeatureScale, 1f);
    }

    /// <summary>Layer sizes: features, hidden layers, classes.</summary>
    public int[] Sizes { get; }

    /// <summary>The number of layers (weight matrices).</summary>
    public int LayerCount => Sizes.Length - 1;

    /// <summary>The input features.</summary>
    public int Inputs => Sizes[0];

    /// <summary>The output classes.</summary>
    public int Classes => Sizes[^1];

    /// <summary>All weights and biases: per layer the [in, out] weight block, then the bias.</summary>
    public float[] Parameters { get; }

    /// <summary>Per-feature mean subtracted before the first layer.</summary>
    public float[] FeatureMean { get; }

    /// <summary>Per-feature factor applied after the subtraction (1 / std).</summary>
    public float[] FeatureScale { get; }

    /// <summary>Layer <paramref name="l"/>'s weights, [in, out] row-major.</summary>
    public Span<float> Weight(int l) => Parameters.AsSpan(_weightOffset[l], Sizes[l] * Sizes[l + 1]);

    /// <summary>Layer <paramref name="l"/>'s bias.</summary>
    public Span<float> Bias(int l) => Parameters.AsSpan(_biasOffset[l], Sizes[l + 1]);

    /// <summary>He-uniform initialisation (U(±sqrt(6 / fan_in)) for the weights, zero biases) from SplitMix64(<paramref name="seed"/>): arithmetic only, the same on every machine.</summary>
    public void Initialize(ulong seed)
    {
        var rng = new SplitMix64(seed);
        Array.Clear(Parameters);
        for (var l = 0; l < LayerCount; l++)
        {
            var bound = Math.Sqrt(6.0 / Sizes[l]);
            var w = Weight(l);
            for (var i = 0; i < w.Length; i++) w[i] = (float)((2 * rng.NextDouble() - 1) * bound);
        }
    }

    /// <summary>The exportable description: <paramref name="bank"/>, the standardisation and [out, in] layers.</summary>
    public VoxelClassifierWeights ToWeights(VoxelFeatureBank bank)
    {
        ArgumentNullException.ThrowIfNull(bank);
        if (bank.Count != Inputs) throw new ArgumentException($"the bank has {bank.Count} features, the MLP takes {Inputs}", nameof(bank));
        var layers = new List<VoxelDenseLayer>();
        for (var l = 0; l < LayerCount; l++)
        {
            int nIn = Sizes[l], nOut = Sizes[l + 1];
            var w = Weight(l);
            var t = new float[nIn * nOut];
            for (var i = 0; i < nIn; i++)
            {
                for (var o = 0; o < nOut; o++) t[o * nIn + i] = w[i * nOut + o];
            }
            layers.Add(new VoxelDenseLayer(nIn, nOut, t, Bias(l).ToArray(), l < LayerCount - 1));
        }
        return new VoxelClassifierWeights(bank, (float[])FeatureMean.Clone(), (float[])FeatureScale.Clone(), layers);
    }

    /// <summary>The trainable form of exported <paramref name="weights"/> (the inverse of <see cref="ToWeights"/>).</summary>
    public static VoxelMlp FromWeights(VoxelClassifierWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var mlp = new VoxelMlp([weights.Bank.Count, .. weights.Layers.Select(l => l.Outputs)]);
        for (var l = 0; l < mlp.LayerCount; l++)
        {
            var layer = weights.Layers[l];
            var w = mlp.Weight(l);
            for (var o = 0; o < layer.Outputs; o++)
            {
                for (var i = 0; i < layer.Inputs; i++) w[i * layer.Outputs + o] = layer.Weight[o * layer.Inputs + i];
            }
            layer.Bias.CopyTo(mlp.Bias(l));
        }
        weights.FeatureMean.CopyTo(mlp.FeatureMean, 0);
        weights.FeatureScale.CopyTo(mlp.FeatureScale, 0);
        return mlp;
    }

    /// <summary>A deep copy (parameters and standardisation).</summary>
    public VoxelMlp Clone()
    {
        var c = new VoxelMlp(Sizes);
        Parameters.CopyTo(c.Parameters, 0);
        FeatureMean.CopyTo(c.FeatureMean, 0);
        FeatureScale.CopyTo(c.FeatureScale, 0);
        return c;
    }

    /// <summary>Standardises raw features in place: (f - mean) · scale per feature, rows of <see cref="Inputs"/> values.</summary>
    public void Standardize(Span<float> rows)
    {
        var n = Inputs;
        for (var r = 0; r < rows.Length; r += n)
        {
            for (var i = 0; i < n; i++) rows[r + i] = (rows[r + i] - FeatureMean[i]) * FeatureScale[i];
        }
    }

    /// <summary>Softmax probabilities for every voxel of channel-major raw features (<c>FeatureExtractor.Compute</c>); returns channel-major [classes · voxels].</summary>
    public float[] Predict(ReadOnlyMemory<float> features, int voxels)
    {
        if (features.Length != (long)Inputs * voxels) throw new ArgumentException($"expected {Inputs} x {voxels} features, got {features.Length}", nameof(features));
        var probs = new float[Classes * voxels];
        const int block = 1024;
        var blocks = (voxels + block - 1) / block;
        Parallel.For(0, blocks, () => new Workspace(this, block), (b, _, ws) =>
        {
            var v0 = b * block;
            var n = Math.Min(block, voxels - v0);
            var x = ws.Input.AsSpan(0, n * Inputs);
            for (var i = 0; i < Inputs; i++)
            {
                var src = features.Span.Slice(i * voxels + v0, n);
                for (var k = 0; k < n; k++) x[k * Inputs + i] = src[k];
            }
            Standardize(x);
            Forward(ws, n);
            var logits = ws.Activations[^1];
            var p = new float[Classes];
            for (var k = 0; k < n; k++)
            {
                Softmax(logits.AsSpan(k * Classes, Classes), p);
                for (var c = 0; c < Classes; c++) probs[c * voxels + v0 + k] = p[c];
            }
            return ws;
        }, _ => { });
        return probs;
    }

    /// <summary>p = softmax(z): exp(z - max) / Σ exp(z - max).</summary>
    public static void Softmax(ReadOnlySpan<float> z, Span<float> p)
    {
        var max = z[0];
        for (var c = 1; c < z.Length; c++) max = Math.Max(max, z[c]);
        var sum = 0f;
        for (var c = 0; c < z.Length; c++) sum += p[c] = MathF.Exp(z[c] - max);
        for (var c = 0; c < z.Length; c++) p[c] /= sum;
    }

    /// <summary>Buffers for one chunk of rows: the activations of every layer and their gradients.</summary>
    internal sealed class Workspace
    {
        public Workspace(VoxelMlp mlp, int rows)
        {
            Rows = rows;
            Input = new float[rows * mlp.Inputs];
            Activations = [Input, .. mlp.Sizes.Skip(1).Select(s => new float[rows * s])];
            Deltas = [.. mlp.Sizes.Skip(1).Select(s => new float[rows * s])];
            Gradient = new float[mlp.Parameters.Length];
            Labels = new byte[rows];
            Weights = new float[rows];
        }

        /// <summary>Labels of the rows (training).</summary>
        public byte[] Labels { get; }

        /// <summary>Loss weights of the rows (training).</summary>
        public float[] Weights { get; }

        public int Rows { get; }

        /// <summary>Standardised input rows.</summary>
        public float[] Input { get; }

        /// <summary>Activations per stage: [0] the input, [l + 1] layer l's output (after ReLU for hidden layers; logits last).</summary>
        public float[][] Activations { get; }

        /// <summary>dLoss/d(pre-activation) per layer.</summary>
        public float[][] Deltas { get; }

        /// <summary>The gradient accumulated over this chunk, laid out like <see cref="Parameters"/>.</summary>
        public float[] Gradient { get; }
    }

    /// <summary>Forward pass for the first <paramref name="rows"/> rows of <see cref="Workspace.Input"/>.</summary>
    internal void Forward(Workspace ws, int rows)
    {
        for (var l = 0; l < LayerCount; l++)
        {
            Dense(ws.Activations[l], rows, Sizes[l], Weight(l), Bias(l), ws.Activations[l + 1], Sizes[l + 1], relu: l < LayerCount - 1);
        }
    }

    /// <summary>Forward and backward of weighted softmax cross-entropy on <paramref name="rows"/> rows; adds dLoss/dθ (loss = Σ w·CE · <paramref name="lossScale"/>) to <see cref="Workspace.Gradient"/> and returns Σ w·CE.</summary>
    internal double ForwardBackward(Workspace ws, int rows, ReadOnlySpan<byte> labels, ReadOnlySpan<float> weights, float lossScale)
    {
        Forward(ws, rows);
        var c = Classes;
        var logits = ws.Activations[^1];
        var delta = ws.Deltas[^1];
        double loss = 0;
        Span<float> p = stackalloc float[c];
        for (var r = 0; r < rows; r++)
        {
            var z = logits.AsSpan(r * c, c);
            Softmax(z, p);
            var y = labels[r];
            loss += weights[r] * -Math.Log(Math.Max(p[y], 1e-30f));
            var s = weights[r] * lossScale;
            for (var k = 0; k < c; k++) delta[r * c + k] = (p[k] - (k == y ? 1f : 0f)) * s;
        }
        var g = ws.Gradient;
        for (var l = LayerCount - 1; l >= 0; l--)
        {
            int nIn = Sizes[l], nOut = Sizes[l + 1];
            var d = ws.Deltas[l];
            var a = ws.Activations[l];
            var gw = g.AsSpan(_weightOffset[l], nIn * nOut);
            var gb = g.AsSpan(_biasOffset[l], nOut);
            for (var r = 0; r < rows; r++) Add(d.AsSpan(r * nOut, nOut), gb);
            // gW[i, :] += Σ_r a[r, i] · d[r, :], rows in batch order.
            for (var i = 0; i < nIn; i++) Kernels.AccumulateRows(a.AsSpan(i), nIn, rows, d, nOut, gw.Slice(i * nOut, nOut));
            if (l == 0) break;
            // dLoss/d(previous activation) = d · Wᵀ, then through the ReLU (active where the activation is positive).
            // Wᵀ rows (one per output) make this a sum of axpys over outputs, in output order.
            var wt = _transposed[l];
            var prev = ws.Deltas[l - 1];
            for (var r = 0; r < rows; r++)
            {
                var pr = prev.AsSpan(r * nIn, nIn);
                pr.Clear();
                Kernels.AccumulateRows(d.AsSpan(r * nOut, nOut), 1, nOut, wt, nIn, pr);
                var ar = a.AsSpan(r * nIn, nIn);
                for (var i = 0; i < nIn; i++)
                {
                    if (!(ar[i] > 0)) pr[i] = 0f;
                }
            }
        }
        return loss;
    }

    /// <summary>y[r] = bias + Σ_i x[r, i] · W[i, :] (inputs ascending), then ReLU.</summary>
    private static void Dense(float[] x, int rows, int nIn, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, float[] y, int nOut, bool relu)
    {
        for (var r = 0; r < rows; r++)
        {
            var yr = y.AsSpan(r * nOut, nOut);
            bias.CopyTo(yr);
            Kernels.AccumulateRows(x.AsSpan(r * nIn, nIn), 1, nIn, w, nOut, yr);
            if (relu)
            {
                for (var o = 0; o < nOut; o++)
                {
                    if (!(yr[o] > 0)) yr[o] = 0;
                }
            }
        }
    }

    /// <summary>y += x element by element.</summary>
    internal static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count) (new Vector<float>(y[i..]) + new Vector<float>(x[i..])).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] += x[i];
    }

    /// <summary>Copies every layer's weights transposed ([out, in]) for the backward pass; call after the parameters change and before <see cref="ForwardBackward"/>.</summary>
    internal void RefreshTransposed()
    {
        for (var l = 0; l < LayerCount; l++)
        {
            int nIn = Sizes[l], nOut = Sizes[l + 1];
            var w = Weight(l);
            var t = _transposed[l];
            for (var i = 0; i < nIn; i++)
            {
                for (var o = 0; o < nOut; o++) t[o * nIn + i] = w[i * nOut + o];
            }
        }
    }
}
