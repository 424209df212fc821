// Reductions along one axis. The tensor is viewed as [outer, dim, inner]; the last-axis case
// (inner = 1) is the hot one and runs row by row through TensorPrimitives.
using System.Numerics.Tensors;

namespace Glassbox.Tensors;

public static partial class Ops
{
    private static (int outer, int dim, int inner) Split(Tensor x, int axis, string op)
    {
        int a = ShapeUtil.Axis(axis, x.Rank, op);
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= x.Shape[i];
        for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        return (outer, x.Shape[a], inner);
    }

    private static int[] Reduced(int[] shape, int axis, bool keepDim)
    {
        var s = shape.ToList();
        if (keepDim) s[axis] = 1; else s.RemoveAt(axis);
        return [.. s];
    }

    /// <summary>Sum of every element (a one-element tensor of shape []).</summary>
    public static Tensor Sum(Tensor x)
    {
        var y = Tensor.Scalar(TensorPrimitives.Sum(x.Span));
        if (Tape.WouldRecord(x)) Tape.Add(y, [x], (g, _) => [Tensor.Full(g.Span[0], x.Shape)], "Sum");
        return y;
    }

    public static Tensor Mean(Tensor x)
    {
        if (x.Length == 0) throw new ArgumentException($"Mean: tensor of shape {ShapeUtil.Format(x.Shape)} is empty.");
        using var s = Sum(x);
        return Mul(s, 1f / x.Length);
    }

    public static Tensor Sum(Tensor x, int axis, bool keepDim = false)
    {
        var (outer, dim, inner) = Split(x, axis, "Sum");
        int a = ShapeUtil.Axis(axis, x.Rank, "Sum");
        var y = Tensor.Zeros(Reduced(x.Shape, a, keepDim));
        var X = x.Span; var Y = y.Span;
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1) Y[o] = TensorPrimitives.Sum(X.Slice(o * dim, dim));
            else
            {
                var dst = Y.Slice(o * inner, inner);
                for (int d = 0; d < dim; d++) TensorPrimitives.Add(dst, X.Slice((o * dim + d) * inner, inner), dst);
            }
        }
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Empty(x.Shape);
                var G = g.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++)
                    for (int d = 0; d < dim; d++)
                        if (inner == 1) GX[o * dim + d] = G[o];
                        else G.Slice(o * inner, inner).CopyTo(GX.Slice((o * dim + d) * inner, inner));
                return [gx];
            }, "SumAxis");
        return y;
    }

    public static Tensor Mean(Tensor x, int axis, bool keepDim = false)
    {
        int dim = x.Shape[ShapeUtil.Axis(axis, x.Rank, "Mean")];
        if (dim == 0) throw new ArgumentException($"Mean: axis {axis} of shape {ShapeUtil.Format(x.Shape)} is empty.");
        using var s = Sum(x, axis, keepDim);
        return Mul(s, 1f / dim);
    }

    /// <summary>Maximum along an axis; the gradient flows to the (first) maximal element.</summary>
    public static Tensor Max(Tensor x, int axis, bool keepDim = false)
    {
        var idx = ArgMax(x, axis);
        var (outer, dim, inner) = Split(x, axis, "Max");
        int a = ShapeUtil.Axis(axis, x.Rank, "Max");
        var y = Tensor.Empty(Reduced(x.Shape, a, keepDim));
        var X = x.Span; var Y = y.Span;
        for (int o = 0; o < outer; o++)
            for (int n = 0; n < inner; n++) Y[o * inner + n] = X[(o * dim + idx[o * inner + n]) * inner + n];
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Zeros(x.Shape);
                var G = g.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++)
                    for (int n = 0; n < inner; n++) GX[(o * dim + idx[o * inner + n]) * inner + n] = G[o * inner + n];
                return [gx];
            }, "Max");
        return y;
    }

    /// <summary>Index of the maximum along an axis (first one on ties; NaN counts as maximal).</summary>
    public static int[] ArgMax(Tensor x, int axis = -1)
    {
        var (outer, dim, inner) = Split(x, axis, "ArgMax");
        if (dim == 0) throw new ArgumentException($"ArgMax: axis {axis} of shape {ShapeUtil.Format(x.Shape)} is empty.");
        var res = new int[outer * inner];
        var X = x.Span;
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1) { res[o] = TensorPrimitives.IndexOfMax(X.Slice(o * dim, dim)); continue; }
            for (int n = 0; n < inner; n++)
            {
                int best = 0; float bv = X[o * dim * inner + n];
                for (int d = 1; d < dim; d++)
                {
                    float v = X[(o * dim + d) * inner + n];
                    if (v > bv || (float.IsNaN(v) && !float.IsNaN(bv))) { bv = v; best = d; }
                }
                res[o * inner + n] = best;
            }
        }
        return res;
    }

    /// <summary>The k largest values along the last axis, sorted descending (ties: lower index first).</summary>
    public static (Tensor Values, int[] Indices) TopK(Tensor x, int k)
    {
        var (outer, dim, _) = Split(x, -1, "TopK");
        if (k < 0 || k > dim) throw new ArgumentOutOfRangeException(nameof(k), $"TopK: k = {k} is outside [0, {dim}] for shape {ShapeUtil.Format(x.Shape)}.");
        var s = (int[])x.Shape.Clone(); s[^1] = k;
        var values = Tensor.Empty(s);
        var indices = new int[outer * k];
        var X = x.Span; var V = values.Span;
        var order = new int[dim];
        for (int o = 0; o < outer; o++)
        {
            var row = X.Slice(o * dim, dim).ToArray();
            for (int i = 0; i < dim; i++) order[i] = i;
            // partial selection via a sort of the index array (stable on ties)
            Array.Sort(order, (i, j) => row[j].CompareTo(row[i]) is var c && c != 0 ? c : i.CompareTo(j));
            for (int j = 0; j < k; j++) { indices[o * k + j] = order[j]; V[o * k + j] = row[order[j]]; }
        }
        return (values, indices);
    }

    /// <summary>log Σ exp along an axis, computed stably (max subtracted).</summary>
    public static Tensor LogSumExp(Tensor x, int axis = -1, bool keepDim = false)
    {
        var (outer, dim, inner) = Split(x, axis, "LogSumExp");
        int a = ShapeUtil.Axis(axis, x.Rank, "LogSumExp");
        var y = Tensor.Empty(Reduced(x.Shape, a, keepDim));
        var X = x.Span; var Y = y.Span;
        for (int o = 0; o < outer; o++)
            for (int n = 0; n < inner; n++)
            {
                float m = float.NegativeInfinity;
                for (int d = 0; d < dim; d++) m = MathF.Max(m, X[(o * dim + d) * inner + n]);
                if (float.IsNegativeInfinity(m)) { Y[o * inner + n] = m; continue; }
                double s = 0;
                for (int d = 0; d < dim; d++) s += Math.Exp(X[(o * dim + d) * inner + n] - m);
                Y[o * inner + n] = m + (float)Math.Log(s);
            }
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Empty(x.Shape);
                var G = g.Span; var GX = gx.Span; var Xs = x.Span; var Ys = y.Span;
                for (int o = 0; o < outer; o++)
                    for (int n = 0; n < inner; n++)
                        for (int d = 0; d < dim; d++)
                        {
                            int p = (o * dim + d) * inner + n;
                            GX[p] = G[o * inner + n] * MathF.Exp(Xs[p] - Ys[o * inner + n]);
                        }
                return [gx];
            }, "LogSumExp");
        return y;
    }

    /// <summary>Softmax along an axis (default last). Stable for any finite input.</summary>
    public static Tensor Softmax(Tensor x, int axis = -1)
    {
        var (outer, dim, inner) = Split(x, axis, "Softmax");
        var y = Tensor.Empty(x.Shape);
        SoftmaxRows(x.Data, y.Data, outer, dim, inner, log: false);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                // dx = y ⊙ (g − Σ g·y)
                var gx = Tensor.Empty(x.Shape);
                var G = g.Span; var Y = y.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++)
                {
                    if (inner == 1)
                    {
                        var gy = G.Slice(o * dim, dim); var yy = Y.Slice(o * dim, dim); var dst = GX.Slice(o * dim, dim);
                        float dot = TensorPrimitives.Dot(gy, yy);
                        TensorPrimitives.Subtract(gy, dot, dst);
                        TensorPrimitives.Multiply(dst, yy, dst);
                        continue;
                    }
                    for (int n = 0; n < inner; n++)
                    {
                        float dot = 0;
                        for (int d = 0; d < dim; d++) { int p = (o * dim + d) * inner + n; dot += G[p] * Y[p]; }
                        for (int d = 0; d < dim; d++) { int p = (o * dim + d) * inner + n; GX[p] = Y[p] * (G[p] - dot); }
                    }
                }
                return [gx];
            }, "Softmax");
        return y;
    }

    public static Tensor LogSoftmax(Tensor x, int axis = -1)
    {
        var (outer, dim, inner) = Split(x, axis, "LogSoftmax");
        var y = Tensor.Empty(x.Shape);
        SoftmaxRows(x.Data, y.Data, outer, dim, inner, log: true);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                // dx = g − softmax·Σg
                var gx = Tensor.Empty(x.Shape);
                var G = g.Span; var Y = y.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++)
                    for (int n = 0; n < inner; n++)
                    {
                        float sg = 0;
                        for (int d = 0; d < dim; d++) sg += G[(o * dim + d) * inner + n];
                        for (int d = 0; d < dim; d++) { int p = (o * dim + d) * inner + n; GX[p] = G[p] - MathF.Exp(Y[p]) * sg; }
                    }
                return [gx];
            }, "LogSoftmax");
        return y;
    }

    internal static void SoftmaxRows(float[] X, float[] Y, int outer, int dim, int inner, bool log)
    {
        if (dim == 0) return;
        if (inner == 1)
        {
            Par.Rows(outer, dim, (start, end) =>
            {
                float[]? tmp = log ? new float[dim] : null;
                for (int o = start; o < end; o++)
                {
                    var src = X.AsSpan(o * dim, dim); var dst = Y.AsSpan(o * dim, dim);
                    float m = TensorPrimitives.Max(src);
                    if (float.IsNegativeInfinity(m)) m = 0; // all -inf: keep NaN out of the max subtraction
                    TensorPrimitives.Subtract(src, m, dst);
                    if (log)
                    {
                        TensorPrimitives.Exp(dst, tmp);
                        float lse = MathF.Log(TensorPrimitives.Sum(tmp));
                        TensorPrimitives.Subtract(dst, lse, dst);
                    }
                    else
                    {
                        TensorPrimitives.Exp(dst, dst);
                        float sum = TensorPrimitives.Sum(dst);
                        TensorPrimitives.Divide(dst, sum, dst);
                    }
                }
            });
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int n = 0; n < inner; n++)
            {
                float m = float.NegativeInfinity;
                for (int d = 0; d < dim; d++) m = MathF.Max(m, X[(o * dim + d) * inner + n]);
                if (float.IsNegativeInfinity(m)) m = 0;
                float s = 0;
                for (int d = 0; d < dim; d++) { int p = (o * dim + d) * inner + n; float e = MathF.Exp(X[p] - m); Y[p] = log ? X[p] - m : e; s += e; }
                float ls = MathF.Log(s);
                for (int d = 0; d < dim; d++) { int p = (o * dim + d) * inner + n; Y[p] = log ? Y[p] - ls : Y[p] / s; }
            }
    }
}
