using Glassbox.Tensors;

namespace Glassbox.Tensors.Tests;

/// <summary>The backward pass releases what it has used: scope intermediates recorded on a tape go
/// back to the pool as soon as the backward is done with them, output gradients are handed on
/// instead of copied, and none of this changes a gradient or touches what the caller holds.</summary>
public class BackwardMemoryTests
{
    [Fact]
    public void ScopeIntermediatesAreReleasedByTheBackwardNotBefore()
    {
        var x = Tensor.FromArray([0.5f, -1f, 2f], 3);
        using var tape = Tape.Record();
        tape.Watch(x);
        Tensor e, y;
        using (var scope = TensorScope.Enter())
        {
            e = Ops.Exp(x);                      // read by Exp's own backward (it saves y = eˣ)
            y = scope.Keep(Ops.Mul(e, 3f));
        }
        Assert.False(e.IsDisposed);              // the tape holds it until the backward has run
        var loss = Ops.Sum(y);
        var g = tape.Gradient(loss, [x])[0];
        Assert.True(e.IsDisposed);               // released by the backward
        Assert.False(y.IsDisposed);              // kept: the caller's
        Assert.False(x.IsDisposed);
        Assert.False(loss.IsDisposed);
        for (int i = 0; i < 3; i++) Assert.Equal(3 * MathF.Exp(x.Span[i]), g.Span[i], 5);
    }

    [Fact]
    public void RetainGraphKeepsIntermediatesForASecondBackward()
    {
        var x = Tensor.FromArray([0.3f, 0.7f], 2);
        using var tape = Tape.Record();
        tape.Watch(x);
        Tensor t, loss;
        using (var scope = TensorScope.Enter())
        {
            t = Ops.Tanh(x);
            loss = scope.Keep(Ops.Sum(Ops.Mul(t, t)));
        }
        var g1 = tape.Gradient(loss, [x], retainGraph: true)[0];
        Assert.False(t.IsDisposed);
        var g2 = tape.Gradient(loss, [x])[0];
        Assert.True(t.IsDisposed);
        Assert.Equal(g1.ToArray(), g2.ToArray());
        float th = MathF.Tanh(0.3f);
        Assert.Equal(2 * th * (1 - th * th), g1.Span[0], 5);
    }

    [Fact]
    public void DisposingTheTapeReleasesIntermediatesWithoutABackward()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        Tensor t;
        using (var tape = Tape.Record())
        {
            tape.Watch(x);
            using (TensorScope.Enter()) t = Ops.Exp(x);
            Assert.False(t.IsDisposed);
        }
        Assert.True(t.IsDisposed);
    }

    [Fact]
    public void EscapedAndWrtTensorsAreNeverReleased()
    {
        var x = Tensor.FromArray([1f, -2f, 3f], 3);
        using var tape = Tape.Record();
        tape.Watch(x);
        Tensor h, escaped, loss;
        using (var scope = TensorScope.Enter())
        {
            h = Ops.Mul(x, 2f);                  // an intermediate the caller also asks about
            escaped = TensorScope.Escape(Ops.Exp(h));
            loss = scope.Keep(Ops.Sum(Ops.Mul(escaped, h)));
        }
        var g = tape.Gradient(loss, [x, h]);
        Assert.False(h.IsDisposed);
        Assert.False(escaped.IsDisposed);
        // d/dh Σ eʰ·h = eʰ(1 + h); d/dx = 2·that.
        for (int i = 0; i < 3; i++)
        {
            float hv = 2 * x.Span[i], dh = MathF.Exp(hv) * (1 + hv);
            Assert.Equal(dh, g[1].Span[i], MathF.Abs(dh) * 1e-5f);
            Assert.Equal(2 * dh, g[0].Span[i], MathF.Abs(2 * dh) * 1e-5f);
        }
    }

    [Fact]
    public void ScopesThatBeganBeforeTheTapeKeepTheirOldRules()
    {
        // A scope opened before recording starts registers nothing recorded under that tape, so
        // intermediates survive the scope (the tape may still need them) and the backward.
        var x = Tensor.FromArray([1f, 2f], 2);
        Tensor y;
        using (TensorScope.Enter())
        {
            using var tape = Tape.Record();
            tape.Watch(x);
            y = Ops.Mul(Ops.Exp(x), 2f);
            var g = tape.Gradient(Ops.Sum(y), [x])[0]; // made untaped inside the scope: the scope's
            Assert.Equal(2 * MathF.Exp(2f), g.Span[1], 4);
        }
        Assert.False(y.IsDisposed);
    }

    [Fact]
    public void PassThroughGradientsAreSharedSafely()
    {
        // Add hands g on unchanged: once to the first input, a copy to the second, and twice to
        // the same tensor (a + a) it must add up to 2g without aliasing.
        var a = Tensor.FromArray([1f, 2f, 3f], 3);
        var b = Tensor.FromArray([4f, 5f, 6f], 3);
        using var tape = Tape.Record();
        tape.Watch(a); tape.Watch(b);
        var s = Ops.Add(a, b);                   // ∂/∂a = ∂/∂b = w
        var d = Ops.Add(a, a);                   // ∂/∂a = 2w
        var w = Tensor.FromArray([1f, 10f, 100f], 3);
        var loss = Ops.Sum(Ops.Add(Ops.Mul(s, w), Ops.Mul(d, w)));
        var g = tape.Gradient(loss, [a, b, s]);
        Assert.Equal([3f, 30f, 300f], g[0].ToArray());
        Assert.Equal([1f, 10f, 100f], g[1].ToArray());
        Assert.Equal([1f, 10f, 100f], g[2].ToArray());
        Assert.False(ReferenceEquals(g[1], g[2]));
        g[1].Span[0] = -7f;                      // results own their storage
        Assert.Equal(1f, g[2].Span[0]);
    }

    [Fact]
    public void WantedIntermediateGradientIsNotGivenAway()
    {
        // h is both a requested result and an input to Add's pass-through backward.
        var x = Tensor.FromArray([2f, 3f], 2);
        using var tape = Tape.Record();
        tape.Watch(x);
        var h = Ops.Mul(x, x);
        var y = Ops.Add(h, x);
        var loss = Ops.Sum(Ops.Mul(y, Tensor.FromArray([1f, 2f], 2)));
        var g = tape.Gradient(loss, [y, x]);
        Assert.Equal([1f, 2f], g[0].ToArray());
        Assert.Equal([1f * (2 * 2 + 1), 2f * (2 * 3 + 1)], g[1].ToArray());
    }

    [Fact]
    public void GeluBackwardMatchesDoubleTwin()
    {
        // Long enough for the 16- and 8-wide vector paths and the scalar tail.
        const int n = 1000 + 16 + 8 + 3;
        var x = Tensor.RandomNormal([n], 5, std: 3f);
        var w = Tensor.RandomUniform([n], 6, -1, 1);
        using var tape = Tape.Record();
        tape.Watch(x);
        var loss = Ops.Sum(Ops.Mul(Ops.Gelu(x), w));
        var g = tape.Gradient(loss, [x])[0];
        for (int i = 0; i < n; i++)
        {
            double v = x.Span[i];
            double d = 0.5 * (1 + Erf(v / Math.Sqrt(2))) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
            Assert.True(Math.Abs(w.Span[i] * d - g.Span[i]) <= 1e-6 * Math.Max(1, Math.Abs(w.Span[i] * d)), $"x = {v}: expected {w.Span[i] * d}, got {g.Span[i]}");
        }
    }

    [Fact]
    public void LayerNormBackwardMatchesDoubleTwinAndIgnoresThreadCount()
    {
        // 96 rows × 768 is above the parallel threshold, so the rows are split across threads.
        int rows = 96, d = 768;
        var x = Tensor.RandomNormal([rows, d], 11, mean: 0.3f, std: 2f);
        var wt = Tensor.RandomNormal([d], 12);
        var bs = Tensor.RandomNormal([d], 13);
        var gy = Tensor.RandomNormal([rows, d], 14);
        Tensor[] Grads()
        {
            using var tape = Tape.Record();
            tape.Watch(x); tape.Watch(wt); tape.Watch(bs);
            var y = Ops.LayerNorm(x, wt, bs, 1e-5f);
            return tape.Gradient(y, [x, wt, bs], seed: gy);
        }
        int saved = Parallelism.ThreadCount;
        Tensor[] g1, g2;
        try
        {
            Parallelism.ThreadCount = 1; g1 = Grads();
            Parallelism.ThreadCount = 3; g2 = Grads();
        }
        finally { Parallelism.ThreadCount = saved; }
        for (int i = 0; i < 3; i++) Assert.Equal(g1[i].ToArray(), g2[i].ToArray());

        var X = x.Span; var W = wt.Span; var G = gy.Span;
        var gw = new double[d]; var gb = new double[d];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < d; i++) mean += X[r * d + i];
            mean /= d;
            for (int i = 0; i < d; i++) var += (X[r * d + i] - mean) * (X[r * d + i] - mean);
            double rs = 1 / Math.Sqrt(var / d + 1e-5);
            var xh = new double[d]; var dxh = new double[d];
            double m1 = 0, m2 = 0;
            for (int i = 0; i < d; i++)
            {
                xh[i] = (X[r * d + i] - mean) * rs; dxh[i] = G[r * d + i] * W[i];
                m1 += dxh[i]; m2 += dxh[i] * xh[i];
                gw[i] += G[r * d + i] * xh[i]; gb[i] += G[r * d + i];
            }
            m1 /= d; m2 /= d;
            for (int i = 0; i < d; i++)
            {
                double e = rs * (dxh[i] - m1 - xh[i] * m2);
                Assert.True(Math.Abs(e - g1[0].Span[r * d + i]) <= 1e-4 * Math.Max(1, Math.Abs(e)), $"dx[{r},{i}]: expected {e}, got {g1[0].Span[r * d + i]}");
            }
        }
        for (int i = 0; i < d; i++)
        {
            Assert.True(Math.Abs(gw[i] - g1[1].Span[i]) <= 1e-4 * Math.Max(1, Math.Abs(gw[i])), $"dweight[{i}]: expected {gw[i]}, got {g1[1].Span[i]}");
            Assert.True(Math.Abs(gb[i] - g1[2].Span[i]) <= 1e-4 * Math.Max(1, Math.Abs(gb[i])), $"dbias[{i}]: expected {gb[i]}, got {g1[2].Span[i]}");
        }
    }

    // erf by its Taylor series (|x| ≤ 3) and continued fraction beyond; double-accurate.
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax > 3)
        {
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (ax + f);
            return Math.Sign(x) * (1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f));
        }
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}

public class TensorPoolTests
{
    [Fact]
    public void SizeClassesFitAndWasteAtMostAQuarter()
    {
        int prevIndex = -1, prevLength = 0;
        var rng = new Random(4);
        var sizes = Enumerable.Range(1, 20000).Concat(Enumerable.Range(0, 2000).Select(_ => rng.Next(1, int.MaxValue / 2)))
            .Concat([1 << 20, (1 << 20) + 1, 319_488, 1_277_952, int.MaxValue / 2]).Distinct().Order().ToArray();
        foreach (int n in sizes)
        {
            var (index, length) = TensorPool.ClassOf(n);
            Assert.True(length >= n, $"class of {n} has length {length}");
            if (n > 4096) Assert.True(length <= n + n / 3, $"class of {n} wastes {length - n}");
            Assert.True(index >= prevIndex && length >= prevLength, $"classes not monotonic at {n}");
            if (index == prevIndex) Assert.Equal(prevLength, length);
            // a class's own length maps back to the same class
            Assert.Equal((index, length), TensorPool.ClassOf(length));
            prevIndex = index; prevLength = length;
        }
    }

    [Fact]
    public void ReturnedArraysAreRentedAgain()
    {
        var a = TensorPool.Rent(7_777_777);          // a class no other test uses
        Assert.True(a.Length >= 7_777_777);
        TensorPool.Return(a);
        var b = TensorPool.Rent(7_700_000);          // same class
        Assert.Same(a, b);
        TensorPool.Return(b);
        var t = Tensor.Zeros(300_003);               // zero-filling constructors clear what they rent
        Assert.All(t.ToArray(), v => Assert.Equal(0f, v));
        Assert.Empty(TensorPool.Rent(0));
    }
}
