// Elementwise ops with NumPy broadcasting. The broadcast loop walks the output in rows of its
// innermost dimension; within a row each operand is either contiguous (stride 1) or a repeated
// scalar (stride 0), so every row is one TensorPrimitives call.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
                // Where a gradient has g's shape the tape may take g itself (it copies when g is
                // needed twice); products are reduced in place of a copy.
                switch (op)
                {
                    case Bin.Add:
                        if (needs[0]) ga = SameShape(g, a) ? g : SumTo(g, a.Shape);
                        if (needs[1]) gb = SameShape(g, b) ? g : SumTo(g, b.Shape);
                        break;
                    case Bin.Sub:
                        if (needs[0]) ga = SameShape(g, a) ? g : SumTo(g, a.Shape);
                        if (needs[1]) gb = SumToOwned(Neg(g), b.Shape);
                        break;
                    case Bin.Mul:
                        if (needs[0]) ga = SumToOwned(Mul(g, b), a.Shape);
                        if (needs[1]) gb = SumToOwned(Mul(g, a), b.Shape);
                        break;
                    case Bin.Div:
                        if (needs[0]) ga = SumToOwned(Div(g, b), a.Shape);
                        if (needs[1])
                        {
                            // d(a/b)/db = -a/b² = -y/b
                            using var t = Mul(g, y); using var u = Div(t, b);
                            gb = SumToOwned(Neg(u), b.Shape);
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

    private static bool SameShape(Tensor g, Tensor x) => ShapeUtil.Equal(g.Shape, x.Shape);

    /// <summary>SumTo for a temporary: returns t itself when it already has the shape, otherwise
    /// the reduction (and releases t).</summary>
    internal static Tensor SumToOwned(Tensor t, int[] shape)
    {
        if (ShapeUtil.Equal(t.Shape, shape)) return t;
        var r = SumTo(t, shape);
        t.Dispose();
        return r;
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
                var gd = g.Data; var rd = r.Data;
                Par.Rows((x.Length + Block - 1) / Block, Block, (s, e) =>
                {
                    int lo = s * Block, hi = Math.Min(x.Length, e * Block);
                    GeluGradKernel(xd.AsSpan(lo, hi - lo), gd.AsSpan(lo, hi - lo), rd.AsSpan(lo, hi - lo));
                });
                return [r];
            }, "Gelu");
        return y;
    }

    // x·Φ(x) with erf from Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, below float32's
    // resolution of Φ), vectorised with Vector512/256 where available. The backward,
    // Φ(x) + x·φ(x), uses the same erf, and exp(−x²/2) serves both erf and φ.
    private const float GeluP = 0.3275911f, GeluA1 = 0.254829592f, GeluA2 = -0.284496736f, GeluA3 = 1.421413741f,
        GeluA4 = -1.453152027f, GeluA5 = 1.061405429f, InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f;

    private static void GeluKernel(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= x.Length; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                var (phi, _) = PhiAndExp512(v);
                (v * phi).CopyTo(y.Slice(i, 16));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= x.Length; i += 8)
            {
                var v = Vector256.Create(x.Slice(i, 8));
                var (phi, _) = PhiAndExp256(v);
                (v * phi).CopyTo(y.Slice(i, 8));
            }
        for (; i < x.Length; i++)
        {
            var (phi, _) = PhiAndExp(x[i]);
            y[i] = x[i] * phi;
        }
    }

    private static void GeluGradKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> r)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= x.Length; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                var (phi, e) = PhiAndExp512(v);
                (Vector512.Create(g.Slice(i, 16)) * (phi + v * e * InvSqrt2Pi)).CopyTo(r.Slice(i, 16));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= x.Length; i += 8)
            {
                var v = Vector256.Create(x.Slice(i, 8));
                var (phi, e) = PhiAndExp256(v);
                (Vector256.Create(g.Slice(i, 8)) * (phi + v * e * InvSqrt2Pi)).CopyTo(r.Slice(i, 8));
            }
        for (; i < x.Length; i++)
        {
            var (phi, e) = PhiAndExp(x[i]);
            r[i] = g[i] * (phi + x[i] * e * InvSqrt2Pi);
        }
    }

    /// <summary>Φ(x) and exp(−x²/2).</summary>
    private static (float Phi, float Exp) PhiAndExp(float x)
    {
        float z = x * InvSqrt2, az = MathF.Abs(z);
        float t = 1f / (1f + GeluP * az);
        float e = MathF.Exp(-az * az);
        float erfAbs = 1f - (((((GeluA5 * t + GeluA4) * t + GeluA3) * t + GeluA2) * t + GeluA1) * t) * e;
        return (0.5f * (1f + (z < 0 ? -erfAbs : erfAbs)), e);
    }

    private static (Vector512<float> Phi, Vector512<float> Exp) PhiAndExp512(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var z = x * InvSqrt2;
        var az = Vector512.Abs(z);
        var t = one / (one + Vector512.Create(GeluP) * az);
        var poly = ((((GeluA5 * t + Vector512.Create(GeluA4)) * t + Vector512.Create(GeluA3)) * t
            + Vector512.Create(GeluA2)) * t + Vector512.Create(GeluA1)) * t;
        var e = Vector512.Exp(-(az * az));
        var erfAbs = one - poly * e;
        var erf = Vector512.ConditionalSelect(Vector512.LessThan(z, Vector512<float>.Zero), -erfAbs, erfAbs);
        return (Vector512.Create(0.5f) * (one + erf), e);
    }

    private static (Vector256<float> Phi, Vector256<float> Exp) PhiAndExp256(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var z = x * InvSqrt2;
        var az = Vector256.Abs(z);
        var t = one / (one + Vector256.Create(GeluP) * az);
        var poly = ((((GeluA5 * t + Vector256.Create(GeluA4)) * t + Vector256.Create(GeluA3)) * t
            + Vector256.Create(GeluA2)) * t + Vector256.Create(GeluA1)) * t;
        var e = Vector256.Exp(-(az * az));
        var erfAbs = one - poly * e;
        var erf = Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.Zero), -erfAbs, erfAbs);
        return (Vector256.Create(0.5f) * (one + erf), e);
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
