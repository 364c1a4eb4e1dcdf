namespace HippoNode.Training;

/// <summary>Adam (Kingma and Ba 2015) with optional decoupled weight decay (AdamW), in float, with the bias corrections kept as running products (no Math.Pow) so a resumed run continues bit for bit.</summary>
internal sealed class AdamOptimizer
{
    public AdamOptimizer(int parameters, double beta1, double beta2, double epsilon, double weightDecay)
    {
        M = new float[parameters];
        V = new float[parameters];
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    public double WeightDecay { get; }

    /// <summary>First-moment estimates.</summary>
    public float[] M { get; }

    /// <summary>Second-moment estimates.</summary>
    public float[] V { get; }

    /// <summary>Updates taken so far.</summary>
    public long Step { get; set; }

    /// <summary>beta1^Step.</summary>
    public double Beta1Power { get; set; } = 1;

    /// <summary>beta2^Step.</summary>
    public double Beta2Power { get; set; } = 1;

    /// <summary>One update of <paramref name="parameters"/> with gradient <paramref name="gradient"/> at learning rate <paramref name="lr"/>.</summary>
    public void Update(Span<float> parameters, ReadOnlySpan<float> gradient, double lr)
    {
        Step++;
        Beta1Power *= Beta1;
        Beta2Power *= Beta2;
        var b1 = (float)Beta1;
        var b2 = (float)Beta2;
        var c1 = (float)(1 - Beta1);
        var c2 = (float)(1 - Beta2);
        var step = (float)(lr / (1 - Beta1Power));
        var corr2 = (float)(1 / (1 - Beta2Power));
        var eps = (float)Epsilon;
        var decay = (float)(lr * WeightDecay);
        for (var i = 0; i < parameters.Length; i++)
        {
            var g = gradient[i];
            var m = M[i] = b1 * M[i] + c1 * g;
            var v = V[i] = b2 * V[i] + c2 * g * g;
            parameters[i] -= step * m / (MathF.Sqrt(v * corr2) + eps) + decay * parameters[i];
        }
    }
}
