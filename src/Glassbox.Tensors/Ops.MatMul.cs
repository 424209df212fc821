// Matrix products on top of Kernels.Gemm. MatMul follows torch.matmul for rank ≥ 2 with optional
// transposes of the last two axes; batch axes must agree, or one side is a plain matrix that is
// shared across the batch. Linear is x·Wᵀ + b with W stored [out, in] as in nn.Linear.
using System.Numerics.Tensors;
using Glassbox.Tensors.Kernels;

namespace Glassbox.Tensors;

public static partial class Ops
{
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        var y = MatMulRaw(a, b, transA, transB, "MatMul");
        if (Tape.WouldRecord(a, b))
            Tape.Add(y, [a, b], (g, needs) =>
            {
                Tensor? ga = null, gb = null;
                if (needs[0])
                {
                    var t = transA ? MatMulRaw(b, g, transB, true, "MatMul backward") : MatMulRaw(g, b, false, !transB, "MatMul backward");
                    ga = SumToOwned(t, a.Shape);
                }
                if (needs[1])
                {
                    if (b.Rank == 2 && a.Rank > 2 && !transA)
                    {
                        // Shared weight: fold the batch into the reduction dimension (one GEMM).
                        int k = a.Shape[^1], n = g.Shape[^1], rows = a.Length / k;
                        gb = Tensor.Empty(b.Shape);
                        if (!transB) Gemm.Sgemm(true, false, k, n, rows, 1f, a.Span, k, g.Span, n, 0f, gb.Span, n);
                        else Gemm.Sgemm(true, false, n, k, rows, 1f, g.Span, n, a.Span, k, 0f, gb.Span, k);
                    }
                    else
                    {
                        var t = transB ? MatMulRaw(g, a, true, transA, "MatMul backward") : MatMulRaw(a, g, !transA, false, "MatMul backward");
                        gb = SumToOwned(t, b.Shape);
                    }
                }
                return [ga, gb];
            }, "MatMul");
        return y;
    }

    private static Tensor MatMulRaw(Tensor a, Tensor b, bool transA, bool transB, string op)
    {
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"{op}: operands must have rank ≥ 2, got {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        int m = transA ? a.Shape[^1] : a.Shape[^2];
        int ka = transA ? a.Shape[^2] : a.Shape[^1];
        int kb = transB ? b.Shape[^1] : b.Shape[^2];
        int n = transB ? b.Shape[^2] : b.Shape[^1];
        if (ka != kb)
            throw new ArgumentException($"{op}: inner dimensions differ: {ShapeUtil.Format(a.Shape)}{(transA ? "ᵀ" : "")} · {ShapeUtil.Format(b.Shape)}{(transB ? "ᵀ" : "")} ({ka} vs {kb}).");
        int k = ka;
        var batchA = a.Shape[..^2]; var batchB = b.Shape[..^2];
        int[] batch;
        if (batchA.Length == 0) batch = batchB;
        else if (batchB.Length == 0 || ShapeUtil.Equal(batchA, batchB)) batch = batchA;
        else throw new ArgumentException($"{op}: batch dimensions {ShapeUtil.Format(batchA)} and {ShapeUtil.Format(batchB)} differ ({ShapeUtil.Format(a.Shape)} · {ShapeUtil.Format(b.Shape)}).");
        var y = Tensor.Empty([.. batch, m, n]);
        int lda = a.Shape[^1], ldb = b.Shape[^1];
        int nb = ShapeUtil.Count(batch, op);
        if (nb == 0 || m == 0 || n == 0) return y;
        if (batchB.Length == 0 && !transA)
        {
            // [.., m, k] · [k, n]: the batch folds into m.
            Gemm.Sgemm(false, transB, nb * m, n, k, 1f, a.Span, lda, b.Span, ldb, 0f, y.Span, n);
            return y;
        }
        long sa = batchA.Length == 0 ? 0 : (long)a.Shape[^2] * a.Shape[^1];
        long sb = batchB.Length == 0 ? 0 : (long)b.Shape[^2] * b.Shape[^1];
        Gemm.SgemmStrided(nb, transA, transB, m, n, k, 1f, a.Span, lda, sa, b.Span, ldb, sb, 0f, y.Span, n, (long)m * n);
        return y;
    }

    /// <summary>y = x·Wᵀ + b with x [..., in], W [out, in], b [out] (optional).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2 || x.Rank < 1 || x.Shape[^1] != weight.Shape[1])
            throw new ArgumentException($"Linear: input {ShapeUtil.Format(x.Shape)} does not fit weight {ShapeUtil.Format(weight.Shape)} (expected [..., {(weight.Rank == 2 ? weight.Shape[1] : -1)}]).");
        int inF = weight.Shape[1], outF = weight.Shape[0];
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw new ArgumentException($"Linear: bias {ShapeUtil.Format(bias.Shape)} does not fit weight {ShapeUtil.Format(weight.Shape)} (expected [{outF}]).");
        int rows = ShapeUtil.Count(x.Shape[..^1], "Linear");
        var y = Tensor.Empty([.. x.Shape[..^1], outF]);
        var Y = y.Span;
        if (bias is not null)
        {
            var B = bias.Span;
            for (int r = 0; r < rows; r++) B.CopyTo(Y.Slice(r * outF, outF));
        }
        Gemm.Sgemm(false, true, rows, outF, inF, 1f, x.Span, inF, weight.Span, inF, bias is null ? 0f : 1f, Y, outF);
        bool rec = Tape.WouldRecord(x, weight) || (bias is not null && Tape.WouldRecord(bias));
        if (rec)
        {
            Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
            Tape.Add(y, inputs, (g, needs) =>
            {
                var res = new Tensor?[inputs.Length];
                if (needs[0])
                {
                    var gx = Tensor.Empty(x.Shape);
                    Gemm.Sgemm(false, false, rows, inF, outF, 1f, g.Span, outF, weight.Span, inF, 0f, gx.Span, inF);
                    res[0] = gx;
                }
                if (needs[1])
                {
                    var gw = Tensor.Empty(weight.Shape);
                    Gemm.Sgemm(true, false, outF, inF, rows, 1f, g.Span, outF, x.Span, inF, 0f, gw.Span, inF);
                    res[1] = gw;
                }
                if (bias is not null && needs[2])
                {
                    var gb = Tensor.Zeros(outF);
                    var G = g.Span; var GB = gb.Span;
                    for (int r = 0; r < rows; r++) TensorPrimitives.Add(GB, G.Slice(r * outF, outF), GB);
                    res[2] = gb;
                }
                return res;
            }, "Linear");
        }
        return y;
    }
}
