// Shape and movement ops. Every result owns its storage (reshape copies too): tensors never alias,
// which keeps pooling and the tape simple. Copies are O(n) against O(n·k) GEMMs around them.
namespace Glassbox.Tensors;

public static partial class Ops
{
    /// <summary>Same elements, new shape; one dimension may be -1 (inferred).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var s = (int[])shape.Clone();
        int infer = -1; long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape: more than one -1 in target shape {ShapeUtil.Format(shape)}.");
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"Reshape: negative dimension in target shape {ShapeUtil.Format(shape)}.");
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
                throw new ArgumentException($"Reshape: cannot reshape {ShapeUtil.Format(x.Shape)} ({x.Length} elements) to {ShapeUtil.Format(shape)}.");
            s[infer] = (int)(x.Length / known);
        }
        if (ShapeUtil.Count(s, "Reshape") != x.Length)
            throw new ArgumentException($"Reshape: cannot reshape {ShapeUtil.Format(x.Shape)} ({x.Length} elements) to {ShapeUtil.Format(shape)}.");
        var y = Tensor.Empty(s);
        x.Span.CopyTo(y.Span);
        if (Tape.WouldRecord(x)) Tape.Add(y, [x], (g, _) => [ReshapeNoGrad(g, x.Shape)], "Reshape");
        return y;
    }

    private static Tensor ReshapeNoGrad(Tensor g, int[] shape)
    {
        var y = Tensor.Empty(shape);
        g.Span.CopyTo(y.Span);
        return y;
    }

    public static Tensor Unsqueeze(Tensor x, int axis)
    {
        int a = axis < 0 ? axis + x.Rank + 1 : axis;
        if (a < 0 || a > x.Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Unsqueeze: axis {axis} is out of range for shape {ShapeUtil.Format(x.Shape)}.");
        var s = x.Shape.ToList(); s.Insert(a, 1);
        return Reshape(x, [.. s]);
    }

    public static Tensor Squeeze(Tensor x, int axis)
    {
        int a = ShapeUtil.Axis(axis, x.Rank, "Squeeze");
        if (x.Shape[a] != 1) throw new ArgumentException($"Squeeze: dimension {axis} of {ShapeUtil.Format(x.Shape)} is not 1.");
        var s = x.Shape.ToList(); s.RemoveAt(a);
        return Reshape(x, [.. s]);
    }

    /// <summary>Swaps two axes (materialising copy).</summary>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        int a = ShapeUtil.Axis(axis0, x.Rank, "Transpose"), b = ShapeUtil.Axis(axis1, x.Rank, "Transpose");
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(x, perm);
    }

    /// <summary>Reorders axes: output axis i is input axis perm[i].</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        int r = x.Rank;
        if (perm.Length != r) throw new ArgumentException($"Permute: permutation {ShapeUtil.Format(perm)} has {perm.Length} axes for shape {ShapeUtil.Format(x.Shape)}.");
        var seen = new bool[r];
        foreach (int p in perm)
        {
            if ((uint)p >= (uint)r || seen[p]) throw new ArgumentException($"Permute: {ShapeUtil.Format(perm)} is not a permutation of the axes of {ShapeUtil.Format(x.Shape)}.");
            seen[p] = true;
        }
        var outShape = new int[r];
        for (int i = 0; i < r; i++) outShape[i] = x.Shape[perm[i]];
        var y = Tensor.Empty(outShape);
        PermuteInto(x.Span, x.Shape, perm, y.Span, outShape);
        if (Tape.WouldRecord(x))
        {
            var inv = new int[r];
            for (int i = 0; i < r; i++) inv[perm[i]] = i;
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Empty(x.Shape);
                PermuteInto(g.Span, g.Shape, inv, gx.Span, x.Shape);
                return [gx];
            }, "Permute");
        }
        return y;
    }

    private static void PermuteInto(ReadOnlySpan<float> src, int[] inShape, int[] perm, Span<float> dst, int[] outShape)
    {
        int r = inShape.Length;
        if (dst.Length == 0) return;
        var inStrides = ShapeUtil.Strides(inShape);
        // Trailing axes that stay in place form contiguous runs copied whole.
        int keep = 0, run = 1;
        while (keep < r && perm[r - 1 - keep] == r - 1 - keep)
        {
            bool allAfterKept = true;
            for (int j = 0; j < keep; j++) if (perm[r - 1 - j] != r - 1 - j) allAfterKept = false;
            if (!allAfterKept) break;
            run *= inShape[r - 1 - keep];
            keep++;
        }
        int outer = r - keep;
        if (outer == 0) { src.CopyTo(dst); return; }
        // Walk output multi-index over the first `outer` axes; innermost permuted axis unrolled.
        var ps = new int[outer];
        for (int i = 0; i < outer; i++) ps[i] = inStrides[perm[i]];
        int lastDim = outShape[outer - 1], lastStride = ps[outer - 1];
        var idx = new int[outer];
        int count = dst.Length / (run * lastDim);
        int o = 0, off = 0;
        for (int c = 0; c < count; c++)
        {
            if (run == 1)
                for (int j = 0, s = off; j < lastDim; j++, s += lastStride) dst[o++] = src[s];
            else
                for (int j = 0, s = off; j < lastDim; j++, s += lastStride) { src.Slice(s, run).CopyTo(dst.Slice(o, run)); o += run; }
            for (int d = outer - 2; d >= 0; d--)
            {
                idx[d]++; off += ps[d];
                if (idx[d] < outShape[d]) break;
                off -= ps[d] * idx[d]; idx[d] = 0;
            }
        }
    }

    /// <summary>Elements [start, start+length) along an axis.</summary>
    public static Tensor Narrow(Tensor x, int axis, int start, int length)
    {
        int a = ShapeUtil.Axis(axis, x.Rank, "Narrow");
        int dim = x.Shape[a];
        if (start < 0 || length < 0 || start + length > dim)
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: range [{start}, {start + length}) is outside axis {axis} of size {dim} in shape {ShapeUtil.Format(x.Shape)}.");
        var s = (int[])x.Shape.Clone(); s[a] = length;
        var y = Tensor.Empty(s);
        int inner = 1; for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        int outer = 1; for (int i = 0; i < a; i++) outer *= x.Shape[i];
        var X = x.Span; var Y = y.Span;
        int blk = length * inner;
        for (int o = 0; o < outer; o++) X.Slice((o * dim + start) * inner, blk).CopyTo(Y.Slice(o * blk, blk));
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Zeros(x.Shape);
                var G = g.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++) G.Slice(o * blk, blk).CopyTo(GX.Slice((o * dim + start) * inner, blk));
                return [gx];
            }, "Narrow");
        return y;
    }

    /// <summary>Python-style slice along an axis: start inclusive, end exclusive, negatives from the end.</summary>
    public static Tensor Slice(Tensor x, int axis, int start, int end)
    {
        int a = ShapeUtil.Axis(axis, x.Rank, "Slice");
        int dim = x.Shape[a];
        int s = Math.Clamp(start < 0 ? start + dim : start, 0, dim);
        int e = Math.Clamp(end < 0 ? end + dim : end, 0, dim);
        return Narrow(x, a, s, Math.Max(0, e - s));
    }

    /// <summary>Joins tensors along an existing axis; all other dimensions must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat: no tensors given.");
        var first = xs[0];
        int a = ShapeUtil.Axis(axis, first.Rank, "Concat");
        int total = 0;
        foreach (var t in xs)
        {
            bool ok = t.Rank == first.Rank;
            for (int i = 0; ok && i < t.Rank; i++) ok = i == a || t.Shape[i] == first.Shape[i];
            if (!ok) throw new ArgumentException($"Concat: shape {ShapeUtil.Format(t.Shape)} does not match {ShapeUtil.Format(first.Shape)} outside axis {axis}.");
            total += t.Shape[a];
        }
        var s = (int[])first.Shape.Clone(); s[a] = total;
        var y = Tensor.Empty(s);
        int inner = 1; for (int i = a + 1; i < first.Rank; i++) inner *= first.Shape[i];
        int outer = 1; for (int i = 0; i < a; i++) outer *= first.Shape[i];
        var Y = y.Span;
        int pos = 0;
        foreach (var t in xs)
        {
            int blk = t.Shape[a] * inner; var T = t.Span;
            for (int o = 0; o < outer; o++) T.Slice(o * blk, blk).CopyTo(Y.Slice(o * total * inner + pos * inner, blk));
            pos += t.Shape[a];
        }
        var inputs = xs.ToArray();
        bool rec = false;
        foreach (var t in inputs) rec |= Tape.WouldRecord(t);
        if (rec)
            Tape.Add(y, inputs, (g, needs) =>
            {
                var res = new Tensor?[inputs.Length];
                int p = 0;
                for (int i = 0; i < inputs.Length; i++)
                {
                    int len = inputs[i].Shape[a];
                    if (needs[i]) res[i] = Narrow(g, a, p, len);
                    p += len;
                }
                return res;
            }, "Concat");
        return y;
    }

    /// <summary>Joins equally shaped tensors along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("Stack: no tensors given.");
        int a = axis < 0 ? axis + xs[0].Rank + 1 : axis;
        foreach (var t in xs)
            if (!ShapeUtil.Equal(t.Shape, xs[0].Shape)) throw new ArgumentException($"Stack: shape {ShapeUtil.Format(t.Shape)} differs from {ShapeUtil.Format(xs[0].Shape)}.");
        var parts = new Tensor[xs.Count];
        for (int i = 0; i < xs.Count; i++) parts[i] = Unsqueeze(xs[i], a);
        var y = Concat(parts, a);
        if (Tape.Current is null) foreach (var p in parts) p.Dispose();
        return y;
    }

    /// <summary>Rows of x along an axis picked by indices: out.shape[axis] = indices.Length.</summary>
    public static Tensor IndexSelect(Tensor x, int axis, ReadOnlySpan<int> indices)
    {
        int a = ShapeUtil.Axis(axis, x.Rank, "IndexSelect");
        int dim = x.Shape[a];
        foreach (int i in indices)
            if ((uint)i >= (uint)dim) throw new IndexOutOfRangeException($"IndexSelect: index {i} is out of range for axis {axis} of size {dim} in shape {ShapeUtil.Format(x.Shape)}.");
        var idx = indices.ToArray();
        var s = (int[])x.Shape.Clone(); s[a] = idx.Length;
        var y = Tensor.Empty(s);
        int inner = 1; for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        int outer = 1; for (int i = 0; i < a; i++) outer *= x.Shape[i];
        var X = x.Span; var Y = y.Span;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < idx.Length; j++)
                X.Slice((o * dim + idx[j]) * inner, inner).CopyTo(Y.Slice((o * idx.Length + j) * inner, inner));
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Zeros(x.Shape);
                var G = g.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < idx.Length; j++)
                    {
                        var dst = GX.Slice((o * dim + idx[j]) * inner, inner);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, G.Slice((o * idx.Length + j) * inner, inner), dst);
                    }
                return [gx];
            }, "IndexSelect");
        return y;
    }

    /// <summary>Embedding lookup: weight [vocab, dim], ids of shape idsShape → [..idsShape, dim].</summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<int> ids, params int[] idsShape)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Embedding: weight must be [vocab, dim], got {ShapeUtil.Format(weight.Shape)}.");
        if (ShapeUtil.Count(idsShape, "Embedding") != ids.Length)
            throw new ArgumentException($"Embedding: {ids.Length} ids do not fill ids shape {ShapeUtil.Format(idsShape)}.");
        int vocab = weight.Shape[0];
        foreach (int i in ids)
            if ((uint)i >= (uint)vocab) throw new IndexOutOfRangeException($"Embedding: id {i} is out of range for an embedding table of shape {ShapeUtil.Format(weight.Shape)}.");
        using var flat = IndexSelect(weight, 0, ids);
        return Reshape(flat, [.. idsShape, weight.Shape[1]]);
    }

    /// <summary>torch.gather: out[i][j] = x[i][index[i][j]] along axis; index has x's shape except on axis.</summary>
    public static Tensor Gather(Tensor x, int axis, int[] index, int[] indexShape)
    {
        int a = ShapeUtil.Axis(axis, x.Rank, "Gather");
        if (indexShape.Length != x.Rank || ShapeUtil.Count(indexShape, "Gather") != index.Length)
            throw new ArgumentException($"Gather: index shape {ShapeUtil.Format(indexShape)} does not fit x {ShapeUtil.Format(x.Shape)}.");
        for (int i = 0; i < x.Rank; i++)
            if (i != a && indexShape[i] != x.Shape[i]) throw new ArgumentException($"Gather: index shape {ShapeUtil.Format(indexShape)} differs from x {ShapeUtil.Format(x.Shape)} outside axis {axis}.");
        int dim = x.Shape[a], k = indexShape[a];
        int inner = 1; for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        int outer = 1; for (int i = 0; i < a; i++) outer *= x.Shape[i];
        var y = Tensor.Empty(indexShape);
        var X = x.Span; var Y = y.Span;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < k; j++)
                for (int n = 0; n < inner; n++)
                {
                    int p = (o * k + j) * inner + n, src = index[p];
                    if ((uint)src >= (uint)dim) throw new IndexOutOfRangeException($"Gather: index {src} is out of range for axis {axis} of size {dim} in shape {ShapeUtil.Format(x.Shape)}.");
                    Y[p] = X[(o * dim + src) * inner + n];
                }
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Zeros(x.Shape);
                var G = g.Span; var GX = gx.Span;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < k; j++)
                        for (int n = 0; n < inner; n++)
                        {
                            int p = (o * k + j) * inner + n;
                            GX[(o * dim + index[p]) * inner + n] += G[p];
                        }
                return [gx];
            }, "Gather");
        return y;
    }

    /// <summary>A copy that no tape tracks (gradients stop here).</summary>
    public static Tensor Detach(Tensor x) => x.Clone();
}
