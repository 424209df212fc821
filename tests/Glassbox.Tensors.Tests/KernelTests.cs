using Glassbox.Tensors;

namespace Glassbox.Tensors.Tests;

/// <summary>Every kernel against a naive scalar twin (double accumulation) over many sizes.</summary>
public class KernelTests
{
    public static IEnumerable<object[]> Sizes() =>
        new[] { 0, 1, 2, 3, 5, 7, 8, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257 }.Select(n => new object[] { n });

    private static void Near(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tol = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            Assert.True(Math.Abs(e - a) <= tol * Math.Max(1, Math.Abs(e)), $"element {i}: expected {e}, got {a}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ElementwiseMatchesScalarTwin(int n)
    {
        using var a = Tensor.RandomNormal([n], 1);
        using var b0 = Tensor.RandomNormal([n], 2);
        using var b = Ops.Add(Ops.Abs(b0), 0.5f);
        var A = a.ToArray(); var B = b.ToArray();
        Near(A.Zip(B, (x, y) => x + y).ToArray(), Ops.Add(a, b).Span);
        Near(A.Zip(B, (x, y) => x - y).ToArray(), Ops.Sub(a, b).Span);
        Near(A.Zip(B, (x, y) => x * y).ToArray(), Ops.Mul(a, b).Span);
        Near(A.Zip(B, (x, y) => x / y).ToArray(), Ops.Div(a, b).Span);
        Near(A.Select(x => (float)Math.Exp(x)).ToArray(), Ops.Exp(a).Span);
        Near(B.Select(x => (float)Math.Log(x)).ToArray(), Ops.Log(b).Span);
        Near(B.Select(x => (float)Math.Sqrt(x)).ToArray(), Ops.Sqrt(b).Span);
        Near(B.Select(x => (float)(1 / Math.Sqrt(x))).ToArray(), Ops.Rsqrt(b).Span);
        Near(B.Select(x => (float)Math.Pow(x, 1.7)).ToArray(), Ops.Pow(b, 1.7f).Span);
        Near(A.Select(x => (float)Math.Tanh(x)).ToArray(), Ops.Tanh(a).Span);
        Near(A.Select(x => (float)(1 / (1 + Math.Exp(-x)))).ToArray(), Ops.Sigmoid(a).Span);
        Near(A.Select(x => Math.Max(x, 0)).ToArray(), Ops.Relu(a).Span);
        Near(A.Select(x => (float)(x / (1 + Math.Exp(-x)))).ToArray(), Ops.Silu(a).Span);
        Near(A.Select(x => (float)(0.5 * x * (1 + Erf(x / Math.Sqrt(2))))).ToArray(), Ops.Gelu(a).Span, 1e-6);
        Near(A.Select(x => (float)(0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))))).ToArray(), Ops.GeluTanh(a).Span);
        Near(A.Select(x => Math.Clamp(x, -0.3f, 0.4f)).ToArray(), Ops.Clamp(a, -0.3f, 0.4f).Span);
        Near(A.Select(x => x * 2 + 1).ToArray(), Ops.Affine(a, 2, 1).Span);
    }

    private static void Close(double expected, double actual, double tol = 2e-5)
        => Assert.True(Math.Abs(expected - actual) <= tol * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    // erf by its Maclaurin series in double (|x| ≤ 6 here; terms shrink quickly enough).
    private static double Erf(double x)
    {
        if (Math.Abs(x) > 5) return Math.Sign(x);
        double sum = 0, term = x;
        for (int k = 0; k < 200; k++)
        {
            sum += term / (2 * k + 1);
            term *= -x * x / (k + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 2, 1, 4 }, new[] { 3, 1 })]
    [InlineData(new[] { 5, 1, 3, 1 }, new[] { 1, 7, 1, 2 })]
    [InlineData(new[] { 1, 1 }, new[] { 17, 257 })]
    [InlineData(new[] { 129, 1 }, new[] { 1, 65 })]
    [InlineData(new[] { 0, 3 }, new[] { 1, 3 })]
    public void BroadcastingMatchesScalarTwin(int[] sa, int[] sb)
    {
        using var a = Tensor.RandomNormal(sa, 1);
        using var b = Tensor.RandomNormal(sb, 2);
        var shape = ShapeUtil.Broadcast(sa, sb, "test");
        var exp = new float[ShapeUtil.Count(shape, "test")];
        var idx = new int[shape.Length];
        for (int i = 0; i < exp.Length; i++)
        {
            int r = i;
            for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = r % shape[d]; r /= shape[d]; }
            exp[i] = a.Span[Off(sa, idx)] * b.Span[Off(sb, idx)];
        }
        using var y = Ops.Mul(a, b);
        Assert.Equal(shape, y.Shape);
        Near(exp, y.Span);

        static int Off(int[] s, int[] idx)
        {
            int off = 0, k = idx.Length - s.Length;
            for (int d = 0; d < s.Length; d++) off = off * s[d] + (s[d] == 1 ? 0 : idx[d + k]);
            return off;
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RowReductionsMatchScalarTwin(int n)
    {
        int rows = 3;
        using var x = Tensor.RandomNormal([rows, n], 5);
        var X = x.ToArray();
        using var sum = Ops.Sum(x, 1);
        using var lse = n > 0 ? Ops.LogSumExp(x, 1) : null;
        using var sm = Ops.Softmax(x);
        using var lsm = Ops.LogSoftmax(x);
        for (int r = 0; r < rows; r++)
        {
            var row = X.Skip(r * n).Take(n).Select(v => (double)v).ToArray();
            Close(row.Sum(), sum.Span[r]);
            if (n == 0) continue;
            double m = row.Max(), s = row.Sum(v => Math.Exp(v - m));
            Close(m + Math.Log(s), lse!.Span[r]);
            for (int j = 0; j < n; j++)
            {
                Close(Math.Exp(row[j] - m) / s, sm.Span[r * n + j]);
                Close(row[j] - m - Math.Log(s), lsm.Span[r * n + j]);
            }
            Assert.Equal(Array.IndexOf(row, row.Max()), Ops.ArgMax(x)[r]);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void LayerNormAndRmsNormMatchScalarTwin(int n)
    {
        if (n == 0) return;
        using var x = Tensor.RandomNormal([4, n], 3, mean: 2, std: 3);
        using var w = Tensor.RandomNormal([n], 4);
        using var b = Tensor.RandomNormal([n], 5);
        using var ln = Ops.LayerNorm(x, w, b, 1e-5f);
        using var rms = Ops.RmsNorm(x, w, 1e-6f);
        for (int r = 0; r < 4; r++)
        {
            var row = Enumerable.Range(0, n).Select(j => (double)x.Span[r * n + j]).ToArray();
            double mean = row.Average(), var = row.Sum(v => (v - mean) * (v - mean)) / n, ms = row.Sum(v => v * v) / n;
            for (int j = 0; j < n; j++)
            {
                Close((row[j] - mean) / Math.Sqrt(var + 1e-5) * w.Span[j] + b.Span[j], ln.Span[r * n + j]);
                Close(row[j] / Math.Sqrt(ms + 1e-6) * w.Span[j], rms.Span[r * n + j]);
            }
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 7, 1)]
    [InlineData(7, 1, 13)]
    [InlineData(3, 5, 2)]
    [InlineData(17, 31, 13)]
    [InlineData(64, 65, 63)]
    [InlineData(2, 257, 3)]
    public void MatMulAndLinearMatchScalarTwin(int m, int n, int k)
    {
        using var a = Tensor.RandomNormal([2, m, k], 1);
        using var bt = Tensor.RandomNormal([n, k], 2);
        using var bias = Tensor.RandomNormal([n], 3);
        using var lin = Ops.Linear(a, bt, bias);
        using var mm = Ops.MatMul(a, bt, transB: true);
        for (int z = 0; z < 2; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double)a.Span[(z * m + i) * k + p] * bt.Span[j * k + p];
                    Close(s, mm.Span[(z * m + i) * n + j]);
                    Close(s + bias.Span[j], lin.Span[(z * m + i) * n + j]);
                }
    }

    [Fact]
    public void PermuteMatchesIndexArithmetic()
    {
        using var x = Tensor.Arange(2 * 3 * 4 * 5).Reshape(2, 3, 4, 5);
        foreach (var perm in new[] { new[] { 0, 2, 1, 3 }, new[] { 3, 2, 1, 0 }, new[] { 1, 0, 3, 2 }, new[] { 0, 1, 3, 2 }, new[] { 0, 1, 2, 3 } })
        {
            using var y = Ops.Permute(x, perm);
            var idx = new int[4];
            for (int i = 0; i < y.Length; i++)
            {
                int r = i;
                for (int d = 3; d >= 0; d--) { idx[d] = r % y.Shape[d]; r /= y.Shape[d]; }
                var src = new int[4];
                for (int d = 0; d < 4; d++) src[perm[d]] = idx[d];
                Assert.Equal(x[src], y.Span[i]);
            }
        }
    }

    [Fact]
    public void TopKSortedDescendingWithIndices()
    {
        using var x = Tensor.FromArray([0.1f, 3f, -1f, 3f, 2f, 5f], 2, 3);
        var (v, i) = Ops.TopK(x, 2);
        Assert.Equal([3f, 0.1f, 5f, 3f], v.ToArray());
        Assert.Equal([1, 0, 2, 0], i);
    }

    [Fact]
    public void RotaryMatchesRotationFormula()
    {
        using var x = Tensor.RandomNormal([1, 1, 3, 4], 1);
        using var y = Ops.Rotary(x, [0, 1, 2], 4, 10000, RotaryStyle.Half);
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 2; i++)
            {
                double ang = s * (double)(float)(1 / Math.Pow(10000, 2.0 * i / 4));
                double x1 = x.Span[s * 4 + i], x2 = x.Span[s * 4 + i + 2];
                Close(x1 * Math.Cos(ang) - x2 * Math.Sin(ang), y.Span[s * 4 + i]);
                Close(x2 * Math.Cos(ang) + x1 * Math.Sin(ang), y.Span[s * 4 + i + 2]);
            }
    }

    [Fact]
    public void AttentionBiasMasksPaddingAndFuture()
    {
        using var bias = Ops.AttentionBias([0, 1, 1], 1, 3, 3, causal: true);
        var B = bias.ToArray();
        Assert.Equal([float.MinValue, float.MinValue, float.MinValue, float.MinValue, 0, float.MinValue, float.MinValue, 0, 0], B);
    }
}
