// Elementwise ops with NumPy broadcasting. The broadcast loop walks the output in rows of its
// innermost dimension; within a row each operand is either contiguous (stride 1) or a repeated
// scalar (stride 0), so every row is one TensorPrimitives call.
using System.Numerics.Tensors;

namespace Glassbox.Tensors;

public static partial class Ops
{
    private enum Bin { Add, Sub, Mul, Div }

    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, Bin.Add, "Add");
    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, Bin.Sub, "Sub");
    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, Bin.Mul, "Mul");
    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, Bin.Div, "Div");

    private static Tensor Binary(Tensor a, Tensor b, Bin op, string name)
    {
        var shape = ShapeUtil.Equal(a.Shape, b.Shape) ? a.Shape : ShapeUtil.Broadcast(a.Shape, b.Shape, name);
        var y = Tensor.Empty(shape);
        BinaryInto(a, b, y, op);
        if (Tape.WouldRecord(a, b))
        {
            Tape.Add(y, [a, b], (g, needs) =>
            {
                Tensor? ga = null, gb = null;
                switch (op)
                {
                    case Bin.Add:
                        if (needs[0]) ga = SumTo(g, a.Shape);
                        if (needs[1]) gb = SumTo(g, b.Shape);
                        break;
                    case Bin.Sub:
                        if (needs[0]) ga = SumTo(g, a.Shape);
                        if (needs[1]) { using var n = Neg(g); gb = SumTo(n, b.Shape); }
                        break;
                    case Bin.Mul:
                        if (needs[0]) { using var t = Mul(g, b); ga = SumTo(t, a.Shape); }
                        if (needs[1]) { using var t = Mul(g, a); gb = SumTo(t, b.Shape); }
                        break;
                    case Bin.Div:
                        if (needs[0]) { using var t = Div(g, b); ga = SumTo(t, a.Shape); }
                        if (needs[1])
                        {
                            // d(a/b)/db = -a/b² = -y/b
                            using var t = Mul(g, y); using var u = Div(t, b); using var v = Neg(u);
                            gb = SumTo(v, b.Shape);
                        }
                        break;
                }
                return [ga, gb];
            }, name);
        }
        return y;
    }

    private static void BinaryInto(Tensor a, Tensor b, Tensor y, Bin op)
    {
        if (a.Length == y.Length && b.Length == y.Length && ShapeUtil.Equal(a.Shape, b.Shape))
        {
            RowOp(op, a.Span, b.Span, y.Span);
            return;
        }
        if (b.Length == 1 && a.Length == y.Length) { RowOpScalarB(op, a.Span, b.Span[0], y.Span); return; }
        if (a.Length == 1 && b.Length == y.Length) { RowOpScalarA(op, a.Span[0], b.Span, y.Span); return; }

        int r = y.Rank;
        var sa = BroadcastStrides(a.Shape, y.Shape);
        var sb = BroadcastStrides(b.Shape, y.Shape);
        // Merge as many trailing dims as are contiguous for both operands into one row.
        int inner = r == 0 ? 1 : y.Shape[r - 1];
        int innerDims = r == 0 ? 0 : 1;
        bool aContig = r == 0 || sa[r - 1] == 1, bContig = r == 0 || sb[r - 1] == 1;
        for (int d = r - 2; d >= 0; d--)
        {
            bool aOk = aContig ? sa[d] == sa[d + 1] * y.Shape[d + 1] : sa[d] == 0;
            bool bOk = bContig ? sb[d] == sb[d + 1] * y.Shape[d + 1] : sb[d] == 0;
            if (!aOk || !bOk) break;
            inner *= y.Shape[d];
            innerDims++;
        }
        int outer = inner == 0 ? 0 : y.Length / inner;
        var idx = new int[r - innerDims];
        var A = a.Span; var B = b.Span; var Y = y.Span;
        int offA = 0, offB = 0;
        for (int o = 0; o < outer; o++)
        {
            var dst = Y.Slice(o * inner, inner);
            if (aContig && bContig) RowOp(op, A.Slice(offA, inner), B.Slice(offB, inner), dst);
            else if (aContig) RowOpScalarB(op, A.Slice(offA, inner), B[offB], dst);
            else if (bContig) RowOpScalarA(op, A[offA], B.Slice(offB, inner), dst);
            else { dst.Fill(Apply(op, A[offA], B[offB])); }
            // advance the multi-index over the outer dims
            for (int d = idx.Length - 1; d >= 0; d--)
            {
                idx[d]++; offA += sa[d]; offB += sb[d];
                if (idx[d] < y.Shape[d]) break;
                offA -= sa[d] * idx[d]; offB -= sb[d] * idx[d]; idx[d] = 0;
            }
        }
    }

    /// <summary>Strides of <paramref name="shape"/> seen as <paramref name="outShape"/> (0 where broadcast).</summary>
    internal static int[] BroadcastStrides(int[] shape, int[] outShape)
    {
        int r = outShape.Length, off = r - shape.Length;
        var s = new int[r];
        int acc = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            s[d + off] = shape[d] == 1 && outShape[d + off] != 1 ? 0 : acc;
            acc *= shape[d];
        }
        return s;
    }

    private static float Apply(Bin op, float x, float y) => op switch
    {
        Bin.Add => x + y, Bin.Sub => x - y, Bin.Mul => x * y, _ => x / y,
    };

    private static void RowOp(Bin op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case Bin.Add: TensorPrimitives.Add(a, b, y); break;
            case Bin.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case Bin.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void RowOpScalarB(Bin op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case Bin.Add: TensorPrimitives.Add(a, b, y); break;
            case Bin.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case Bin.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void RowOpScalarA(Bin op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case Bin.Add: TensorPrimitives.Add(b, a, y); break;
            case Bin.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case Bin.Mul: TensorPrimitives.Multiply(b, a, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    /// <summary>Sums a broadcast result back to <paramref name="shape"/> (the backward of broadcasting).</summary>
    public static Tensor SumTo(Tensor t, int[] shape)
    {
        if (ShapeUtil.Equal(t.Shape, shape)) return t.Clone();
        if (shape.Length > t.Rank) throw new ArgumentException($"SumTo: cannot reduce shape {ShapeUtil.Format(t.Shape)} to larger rank {ShapeUtil.Format(shape)}.");
        ShapeUtil.Broadcast(shape, t.Shape, "SumTo");
        var y = Tensor.Zeros(shape);
        if (t.Length == 0) return y;
        var Y = y.Span; var T = t.Span;
        if (y.Length == 1) { Y[0] = TensorPrimitives.Sum(T); return y; }
        var st = BroadcastStrides(shape, t.Shape); // strides into y for each dim of t
        int r = t.Rank, inner = t.Shape[r - 1];
        int outer = t.Length / inner;
        bool contig = st[r - 1] == 1;
        var idx = new int[r - 1];
        int off = 0;
        for (int o = 0; o < outer; o++)
        {
            var row = T.Slice(o * inner, inner);
            if (contig) TensorPrimitives.Add(Y.Slice(off, inner), row, Y.Slice(off, inner));
            else Y[off] += TensorPrimitives.Sum(row);
            for (int d = idx.Length - 1; d >= 0; d--)
            {
                idx[d]++; off += st[d];
                if (idx[d] < t.Shape[d]) break;
                off -= st[d] * idx[d]; idx[d] = 0;
            }
        }
        return y;
    }

    /// <summary>acc += x (same shapes). Never recorded.</summary>
    public static void AddInPlace(Tensor acc, Tensor x)
    {
        if (!ShapeUtil.Equal(acc.Shape, x.Shape))
            throw new ArgumentException($"AddInPlace: shapes {ShapeUtil.Format(acc.Shape)} and {ShapeUtil.Format(x.Shape)} differ.");
        TensorPrimitives.Add(acc.Span, x.Span, acc.Span);
    }

    /// <summary>Materialises <paramref name="t"/> broadcast to <paramref name="shape"/>.</summary>
    public static Tensor BroadcastTo(Tensor t, params int[] shape)
    {
        var outShape = ShapeUtil.Broadcast(t.Shape, shape, "BroadcastTo");
        if (!ShapeUtil.Equal(outShape, shape))
            throw new ArgumentException($"BroadcastTo: shape {ShapeUtil.Format(t.Shape)} cannot be broadcast to {ShapeUtil.Format(shape)}.");
        using var zero = Tensor.Scalar(0f);
        var y = Tensor.Empty(shape);
        BinaryInto(t, zero, y, Bin.Add);
        if (Tape.WouldRecord(t)) Tape.Add(y, [t], (g, _) => [SumTo(g, t.Shape)], "BroadcastTo");
        return y;
    }

    // ---- scalar forms -------------------------------------------------------------------------

    public static Tensor Add(Tensor a, float s) => Affine(a, 1f, s, "AddScalar");
    public static Tensor Sub(Tensor a, float s) => Affine(a, 1f, -s, "SubScalar");
    public static Tensor Mul(Tensor a, float s) => Affine(a, s, 0f, "MulScalar");
    public static Tensor Div(Tensor a, float s) => Affine(a, 1f / s, 0f, "DivScalar");
    public static Tensor Neg(Tensor a) => Affine(a, -1f, 0f, "Neg");

    /// <summary>y = scale·a + shift.</summary>
    public static Tensor Affine(Tensor a, float scale, float shift, string name = "Affine")
    {
        var y = Tensor.Empty(a.Shape);
        if (shift == 0) TensorPrimitives.Multiply(a.Span, scale, y.Span);
        else if (scale == 1) TensorPrimitives.Add(a.Span, shift, y.Span);
        else { TensorPrimitives.Multiply(a.Span, scale, y.Span); TensorPrimitives.Add(y.Span, shift, y.Span); }
        if (Tape.WouldRecord(a)) Tape.Add(y, [a], (g, _) => [scale == 1 ? g : Mul(g, scale)], name);
        return y;
    }

    // ---- unary ----------------------------------------------------------------------------------

    public static Tensor Exp(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Exp(x.Span, y.Span);
        if (Tape.WouldRecord(x)) Tape.Add(y, [x], (g, _) => [Mul(g, y)], "Exp");
        return y;
    }

    public static Tensor Log(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Log(x.Span, y.Span);
        if (Tape.WouldRecord(x)) Tape.Add(y, [x], (g, _) => [Div(g, x)], "Log");
        return y;
    }

    public static Tensor Sqrt(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Sqrt(x.Span, y.Span);
        if (Tape.WouldRecord(x)) Tape.Add(y, [x], (g, _) => { using var t = Div(g, y); return [Mul(t, 0.5f)]; }, "Sqrt");
        return y;
    }

    public static Tensor Rsqrt(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.ReciprocalSqrt(x.Span, y.Span);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                // d/dx x^-1/2 = -1/2 · y³
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Y = y.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = -0.5f * G[i] * Y[i] * Y[i] * Y[i];
                return [r];
            }, "Rsqrt");
        return y;
    }

    public static Tensor Pow(Tensor x, float p)
    {
        var y = Tensor.Empty(x.Shape);
        var X = x.Span; var Y = y.Span;
        if (p == 2) TensorPrimitives.Multiply(X, X, Y);
        else if (p == 1) X.CopyTo(Y);
        else TensorPrimitives.Pow(X, p, Y);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Xs = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = G[i] * p * (p == 2 ? Xs[i] : MathF.Pow(Xs[i], p - 1));
                return [r];
            }, "Pow");
        return y;
    }

    public static Tensor Tanh(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Tanh(x.Span, y.Span);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Y = y.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = G[i] * (1 - Y[i] * Y[i]);
                return [r];
            }, "Tanh");
        return y;
    }

    public static Tensor Sigmoid(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        if (y.Length > 0) TensorPrimitives.Sigmoid(x.Span, y.Span);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Y = y.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = G[i] * Y[i] * (1 - Y[i]);
                return [r];
            }, "Sigmoid");
        return y;
    }

    /// <summary>|x|; the gradient at 0 is 0 (as torch).</summary>
    public static Tensor Abs(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Abs(x.Span, y.Span);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var X = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = X[i] > 0 ? G[i] : X[i] < 0 ? -G[i] : 0f;
                return [r];
            }, "Abs");
        return y;
    }

    public static Tensor Relu(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Max(x.Span, 0f, y.Span);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var X = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = X[i] > 0 ? G[i] : 0f;
                return [r];
            }, "Relu");
        return y;
    }

    /// <summary>x·sigmoid(x) (SiLU / swish).</summary>
    public static Tensor Silu(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        var X = x.Span; var Y = y.Span;
        if (Y.Length > 0) TensorPrimitives.Sigmoid(X, Y);
        TensorPrimitives.Multiply(X, Y, Y);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Xs = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++)
                {
                    float s = 1f / (1f + MathF.Exp(-Xs[i]));
                    R[i] = G[i] * s * (1 + Xs[i] * (1 - s));
                }
                return [r];
            }, "Silu");
        return y;
    }

    /// <summary>Exact GELU: x·Φ(x) with Φ the standard normal CDF (transformers' "gelu").</summary>
    public static Tensor Gelu(Tensor x)
    {
        var y = Tensor.Empty(x.Shape);
        var xd = x.Data; var yd = y.Data;
        const int Block = 4096;
        Par.Rows((x.Length + Block - 1) / Block, Block, (s, e) =>
        {
            int lo = s * Block, hi = Math.Min(x.Length, e * Block);
            GeluKernel(xd.AsSpan(lo, hi - lo), yd.AsSpan(lo, hi - lo));
        });
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Xs = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++)
                {
                    double v = Xs[i];
                    R[i] = (float)(G[i] * (Phi(v) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI)));
                }
                return [r];
            }, "Gelu");
        return y;
    }

    // x·Φ(x) with erf from Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, below float32's
    // resolution of Φ), vectorised with Vector512/256 where available.
    private static void GeluKernel(ReadOnlySpan<float> x, Span<float> y)
    {
        const float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f, a4 = -1.453152027f, a5 = 1.061405429f;
        const float invSqrt2 = 0.70710678118654752f;
        int i = 0;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            var vp = System.Runtime.Intrinsics.Vector512.Create(p);
            var one = System.Runtime.Intrinsics.Vector512.Create(1f);
            var half = System.Runtime.Intrinsics.Vector512.Create(0.5f);
            for (; i + 16 <= x.Length; i += 16)
            {
                var v = System.Runtime.Intrinsics.Vector512.Create(x.Slice(i, 16));
                var z = v * invSqrt2;
                var az = System.Runtime.Intrinsics.Vector512.Abs(z);
                var t = one / (one + vp * az);
                var poly = ((((a5 * t + System.Runtime.Intrinsics.Vector512.Create(a4)) * t + System.Runtime.Intrinsics.Vector512.Create(a3)) * t
                    + System.Runtime.Intrinsics.Vector512.Create(a2)) * t + System.Runtime.Intrinsics.Vector512.Create(a1)) * t;
                var erfAbs = one - poly * System.Runtime.Intrinsics.Vector512.Exp(-(az * az));
                var erf = System.Runtime.Intrinsics.Vector512.ConditionalSelect(System.Runtime.Intrinsics.Vector512.LessThan(z, System.Runtime.Intrinsics.Vector512<float>.Zero), -erfAbs, erfAbs);
                System.Runtime.Intrinsics.Vector512.CopyTo(half * v * (one + erf), y.Slice(i, 16));
            }
        }
        for (; i < x.Length; i++)
        {
            float z = x[i] * invSqrt2, az = MathF.Abs(z);
            float t = 1f / (1f + p * az);
            float erfAbs = 1f - (((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t) * MathF.Exp(-az * az);
            y[i] = 0.5f * x[i] * (1f + (z < 0 ? -erfAbs : erfAbs));
        }
    }

    /// <summary>Tanh-approximated GELU (transformers' "gelu_new", "gelu_pytorch_tanh").</summary>
    public static Tensor GeluTanh(Tensor x)
    {
        const float c = 0.7978845608028654f; // sqrt(2/pi)
        var y = Tensor.Empty(x.Shape);
        var X = x.Span; var Y = y.Span;
        for (int i = 0; i < Y.Length; i++)
        {
            float v = X[i];
            Y[i] = 0.5f * v * (1f + MathF.Tanh(c * (v + 0.044715f * v * v * v)));
        }
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var Xs = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++)
                {
                    float v = Xs[i];
                    float t = MathF.Tanh(c * (v + 0.044715f * v * v * v));
                    float dt = (1 - t * t) * c * (1 + 3 * 0.044715f * v * v);
                    R[i] = G[i] * (0.5f * (1 + t) + 0.5f * v * dt);
                }
                return [r];
            }, "GeluTanh");
        return y;
    }

    /// <summary>Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, |rel err| &lt; 1.2e-7).</summary>
    internal static double Phi(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    internal static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    public static Tensor Clamp(Tensor x, float min, float max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min {min} is greater than max {max}.");
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Max(x.Span, min, y.Span);
        TensorPrimitives.Min(y.Span, max, y.Span);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var r = Tensor.Empty(x.Shape);
                var G = g.Span; var X = x.Span; var R = r.Span;
                for (int i = 0; i < R.Length; i++) R[i] = X[i] >= min && X[i] <= max ? G[i] : 0f;
                return [r];
            }, "Clamp");
        return y;
    }

    /// <summary>cond ? a : b elementwise, with broadcasting of all three (cond nonzero = true).</summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        var shape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(cond.Shape, a.Shape, "Where"), b.Shape, "Where");
        Tensor c2, a2, b2;
        using (Tape.NoGrad())
        {
            c2 = ShapeUtil.Equal(cond.Shape, shape) ? cond : BroadcastTo(cond, shape);
            a2 = ShapeUtil.Equal(a.Shape, shape) ? a : BroadcastTo(a, shape);
            b2 = ShapeUtil.Equal(b.Shape, shape) ? b : BroadcastTo(b, shape);
        }
        var y = Tensor.Empty(shape);
        var C = c2.Span; var A = a2.Span; var B = b2.Span; var Y = y.Span;
        for (int i = 0; i < Y.Length; i++) Y[i] = C[i] != 0 ? A[i] : B[i];
        var mask = c2.ToArray();
        if (!ReferenceEquals(c2, cond)) c2.Dispose();
        if (!ReferenceEquals(a2, a)) a2.Dispose();
        if (!ReferenceEquals(b2, b)) b2.Dispose();
        if (Tape.WouldRecord(a, b))
            Tape.Add(y, [cond, a, b], (g, needs) =>
            {
                Tensor? ga = null, gb = null;
                var G = g.Span;
                if (needs[1])
                {
                    using var t = Tensor.Empty(shape); var T = t.Span;
                    for (int i = 0; i < T.Length; i++) T[i] = mask[i] != 0 ? G[i] : 0f;
                    ga = SumTo(t, a.Shape);
                }
                if (needs[2])
                {
                    using var t = Tensor.Empty(shape); var T = t.Span;
                    for (int i = 0; i < T.Length; i++) T[i] = mask[i] != 0 ? 0f : G[i];
                    gb = SumTo(t, b.Shape);
                }
                return [null, ga, gb];
            }, "Where");
        return y;
    }

    /// <summary>x with value wherever mask (broadcast to x) is nonzero.</summary>
    public static Tensor MaskedFill(Tensor x, Tensor mask, float value)
    {
        using var v = Tensor.Scalar(value);
        return Where(mask, v, x);
    }
}
