// Neural-network ops: normalisations, losses, rotary embeddings and attention masks.
using System.Numerics.Tensors;

namespace Glassbox.Tensors;

public enum RotaryStyle
{
    /// <summary>GPT-NeoX / Llama (Hugging Face): rotate the two halves of the rotary dims.</summary>
    Half,
    /// <summary>GPT-J / original Llama: rotate adjacent pairs (2i, 2i+1).</summary>
    Interleaved,
}

public static partial class Ops
{
    /// <summary>Layer normalisation over the last axis: (x − mean)/sqrt(var + eps)·weight + bias
    /// (biased variance, as torch). weight and bias are optional.</summary>
    public static Tensor LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        int d = x.Rank == 0 ? 1 : x.Shape[^1];
        CheckNormParam(weight, d, x, "LayerNorm weight");
        CheckNormParam(bias, d, x, "LayerNorm bias");
        int rows = d == 0 ? 0 : x.Length / d;
        var y = Tensor.Empty(x.Shape);
        bool rec = Tape.WouldRecord(x) || (weight is not null && Tape.WouldRecord(weight)) || (bias is not null && Tape.WouldRecord(bias));
        // Per row, mean and 1/σ: the backward recomputes x̂ from the saved input with the same
        // two operations, so no normalised copy of x is kept.
        var mean = new float[rows];
        var rstd = new float[rows];
        var xd = x.Data; var yd = y.Data; var wd = weight?.Data; var bd = bias?.Data;
        Par.Rows(rows, d, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var row = xd.AsSpan(r * d, d); var dst = yd.AsSpan(r * d, d);
                float mu = TensorPrimitives.Sum(row) / d;
                TensorPrimitives.Subtract(row, mu, dst);
                float var = TensorPrimitives.SumOfSquares(dst) / d;
                float rs = 1f / MathF.Sqrt(var + eps);
                mean[r] = mu; rstd[r] = rs;
                TensorPrimitives.Multiply(dst, rs, dst);
                if (wd is not null) TensorPrimitives.Multiply(dst, wd.AsSpan(0, d), dst);
                if (bd is not null) TensorPrimitives.Add(dst, bd.AsSpan(0, d), dst);
            }
        });
        if (rec)
        {
            var inputs = new List<Tensor> { x };
            if (weight is not null) inputs.Add(weight);
            if (bias is not null) inputs.Add(bias);
            Tape.Add(y, [.. inputs], (g, needs) =>
            {
                var res = new Tensor?[inputs.Count];
                var gd = g.Data;
                int wi = weight is null ? -1 : 1, bi = bias is null ? -1 : (weight is null ? 1 : 2);
                if (needs[0])
                {
                    // dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ with dx̂ = g⊙weight; rows in parallel.
                    var gx = Tensor.Empty(x.Shape); var gxd = gx.Data;
                    var wspan = weight?.Data;
                    Par.Rows(rows, d, (start, end) =>
                    {
                        var xh = new float[d]; var dxh = new float[d];
                        for (int r = start; r < end; r++)
                        {
                            TensorPrimitives.Subtract(xd.AsSpan(r * d, d), mean[r], xh);
                            TensorPrimitives.Multiply(xh, rstd[r], xh);
                            var gr = gd.AsSpan(r * d, d);
                            if (wspan is not null) TensorPrimitives.Multiply(gr, wspan.AsSpan(0, d), dxh); else gr.CopyTo(dxh);
                            float m1 = TensorPrimitives.Sum(dxh) / d;
                            float m2 = TensorPrimitives.Dot(dxh, xh) / d;
                            var dst = gxd.AsSpan(r * d, d);
                            TensorPrimitives.MultiplyAdd(xh, -m2, dxh, dst);
                            TensorPrimitives.Add(dst, -m1, dst);
                            TensorPrimitives.Multiply(dst, rstd[r], dst);
                        }
                    });
                    res[0] = gx;
                }
                if (wi > 0 && needs[wi])
                {
                    var gw = Tensor.Zeros(d); var GW = gw.Span;
                    var xh = new float[d];
                    for (int r = 0; r < rows; r++)
                    {
                        TensorPrimitives.Subtract(xd.AsSpan(r * d, d), mean[r], xh);
                        TensorPrimitives.Multiply(xh, rstd[r], xh);
                        TensorPrimitives.MultiplyAdd(gd.AsSpan(r * d, d), xh, GW, GW);
                    }
                    res[wi] = gw;
                }
                if (bi > 0 && needs[bi])
                {
                    var gb = Tensor.Zeros(d); var GB = gb.Span;
                    for (int r = 0; r < rows; r++) TensorPrimitives.Add(GB, gd.AsSpan(r * d, d), GB);
                    res[bi] = gb;
                }
                return res;
        }, "LayerNorm");
        }
        return y;
    }

    /// <summary>RMS normalisation over the last axis: x/sqrt(mean(x²) + eps)·weight (Llama, T5).</summary>
    public static Tensor RmsNorm(Tensor x, Tensor? weight, float eps = 1e-6f)
    {
        int d = x.Rank == 0 ? 1 : x.Shape[^1];
        CheckNormParam(weight, d, x, "RmsNorm weight");
        int rows = d == 0 ? 0 : x.Length / d;
        var y = Tensor.Empty(x.Shape);
        var rinv = new float[rows];
        var X = x.Span; var Y = y.Span;
        for (int r = 0; r < rows; r++)
        {
            var row = X.Slice(r * d, d);
            double ss = 0; foreach (var v in row) ss += (double)v * v;
            float ri = (float)(1.0 / Math.Sqrt(ss / d + eps));
            rinv[r] = ri;
            var dst = Y.Slice(r * d, d);
            TensorPrimitives.Multiply(row, ri, dst);
            if (weight is not null) TensorPrimitives.Multiply(dst, weight.Span, dst);
        }
        bool rec = Tape.WouldRecord(x) || (weight is not null && Tape.WouldRecord(weight));
        if (rec)
        {
            Tensor[] inputs = weight is null ? [x] : [x, weight];
            Tape.Add(y, inputs, (g, needs) =>
            {
                var res = new Tensor?[inputs.Length];
                var G = g.Span; var Xs = x.Span;
                if (needs[0])
                {
                    var gx = Tensor.Empty(x.Shape); var GX = gx.Span;
                    var dxh = new float[d];
                    for (int r = 0; r < rows; r++)
                    {
                        var gr = G.Slice(r * d, d); var xr = Xs.Slice(r * d, d);
                        if (weight is not null) TensorPrimitives.Multiply(gr, weight.Span, dxh); else gr.CopyTo(dxh);
                        float ri = rinv[r];
                        float m = TensorPrimitives.Dot(dxh, xr) / d;
                        var dst = GX.Slice(r * d, d);
                        for (int i = 0; i < d; i++) dst[i] = ri * (dxh[i] - xr[i] * ri * ri * m);
                    }
                    res[0] = gx;
                }
                if (weight is not null && needs[1])
                {
                    var gw = Tensor.Zeros(d); var GW = gw.Span;
                    for (int r = 0; r < rows; r++)
                        for (int i = 0; i < d; i++) GW[i] += G[r * d + i] * Xs[r * d + i] * rinv[r];
                    res[1] = gw;
                }
                return res;
            }, "RmsNorm");
        }
        return y;
    }

    private static void CheckNormParam(Tensor? p, int d, Tensor x, string what)
    {
        if (p is not null && (p.Rank != 1 || p.Shape[0] != d))
            throw new ArgumentException($"{what} has shape {ShapeUtil.Format(p.Shape)}; input {ShapeUtil.Format(x.Shape)} needs [{d}].");
    }

    /// <summary>Mean cross-entropy of logits [N, C] against class indices; targets equal to
    /// ignoreIndex are skipped (as torch.nn.functional.cross_entropy). Returns a scalar.</summary>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> targets, int ignoreIndex = -100)
    {
        if (logits.Rank != 2) throw new ArgumentException($"CrossEntropy: logits must be [N, C], got {ShapeUtil.Format(logits.Shape)}.");
        int n = logits.Shape[0], c = logits.Shape[1];
        if (targets.Length != n) throw new ArgumentException($"CrossEntropy: {targets.Length} targets for logits {ShapeUtil.Format(logits.Shape)}.");
        var t = targets.ToArray();
        int count = 0;
        foreach (int ti in t)
        {
            if (ti == ignoreIndex) continue;
            if ((uint)ti >= (uint)c) throw new IndexOutOfRangeException($"CrossEntropy: target {ti} is out of range for {c} classes (logits {ShapeUtil.Format(logits.Shape)}).");
            count++;
        }
        var lsm = Tensor.Empty(logits.Shape);
        SoftmaxRows(logits.Data, lsm.Data, n, c, 1, log: true);
        double loss = 0;
        var L = lsm.Span;
        for (int i = 0; i < n; i++) if (t[i] != ignoreIndex) loss -= L[i * c + t[i]];
        var y = Tensor.Scalar(count == 0 ? float.NaN : (float)(loss / count));
        if (Tape.WouldRecord(logits))
            Tape.Add(y, [logits], (g, _) =>
            {
                var gx = Tensor.Zeros(logits.Shape); var GX = gx.Span; var Ls = lsm.Span;
                float scale = count == 0 ? 0 : g.Span[0] / count;
                for (int i = 0; i < n; i++)
                {
                    if (t[i] == ignoreIndex) continue;
                    for (int j = 0; j < c; j++) GX[i * c + j] = MathF.Exp(Ls[i * c + j]) * scale;
                    GX[i * c + t[i]] -= scale;
                }
                return [gx];
            }, "CrossEntropy");
        else lsm.Dispose();
        return y;
    }

    /// <summary>Mean binary cross-entropy with logits (stable form), targets in [0, 1] of the same shape.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets)
    {
        if (!ShapeUtil.Equal(logits.Shape, targets.Shape))
            throw new ArgumentException($"BinaryCrossEntropyWithLogits: logits {ShapeUtil.Format(logits.Shape)} and targets {ShapeUtil.Format(targets.Shape)} differ.");
        if (logits.Length == 0) throw new ArgumentException("BinaryCrossEntropyWithLogits: empty input.");
        var X = logits.Span; var T = targets.Span;
        double loss = 0;
        for (int i = 0; i < X.Length; i++) loss += Math.Max(X[i], 0) - X[i] * T[i] + Math.Log(1 + Math.Exp(-Math.Abs(X[i])));
        int n = X.Length;
        var y = Tensor.Scalar((float)(loss / n));
        if (Tape.WouldRecord(logits, targets))
            Tape.Add(y, [logits, targets], (g, needs) =>
            {
                Tensor? gl = null, gt = null;
                float s = g.Span[0] / n;
                var Xs = logits.Span; var Ts = targets.Span;
                if (needs[0])
                {
                    gl = Tensor.Empty(logits.Shape); var GL = gl.Span;
                    for (int i = 0; i < n; i++) GL[i] = s * (1f / (1f + MathF.Exp(-Xs[i])) - Ts[i]);
                }
                if (needs[1])
                {
                    gt = Tensor.Empty(targets.Shape); var GT = gt.Span;
                    for (int i = 0; i < n; i++) GT[i] = -s * Xs[i];
                }
                return [gl, gt];
            }, "BinaryCrossEntropyWithLogits");
        return y;
    }

    /// <summary>Rotary position embedding on x [batch, heads, seq, headDim] for the first rotaryDim
    /// dims of each head (the rest pass through). positions: one per sequence position ([seq]) or per
    /// batch row ([batch·seq]). Angles are position·θ^(−2i/rotaryDim), computed in double.</summary>
    public static Tensor Rotary(Tensor x, ReadOnlySpan<int> positions, int rotaryDim, double theta = 10000.0, RotaryStyle style = RotaryStyle.Half)
    {
        if (x.Rank != 4) throw new ArgumentException($"Rotary: expected [batch, heads, seq, headDim], got {ShapeUtil.Format(x.Shape)}.");
        int b = x.Shape[0], h = x.Shape[1], s = x.Shape[2], hd = x.Shape[3];
        if (rotaryDim <= 0 || rotaryDim > hd || rotaryDim % 2 != 0)
            throw new ArgumentException($"Rotary: rotaryDim {rotaryDim} must be even and in (0, {hd}] for shape {ShapeUtil.Format(x.Shape)}.");
        bool perBatch = positions.Length == b * s;
        if (positions.Length != s && !perBatch)
            throw new ArgumentException($"Rotary: {positions.Length} positions for seq {s} and batch {b} (give [seq] or [batch·seq]).");
        int half = rotaryDim / 2;
        int np = positions.Length;
        var cos = new float[np * half]; var sin = new float[np * half];
        for (int p = 0; p < np; p++)
            for (int i = 0; i < half; i++)
            {
                // inv_freq is a float32 buffer in transformers; the angle itself we take in double.
                float invFreq = (float)(1.0 / Math.Pow(theta, (2.0 * i) / rotaryDim));
                double ang = positions[p] * (double)invFreq;
                cos[p * half + i] = (float)Math.Cos(ang); sin[p * half + i] = (float)Math.Sin(ang);
            }
        var y = Tensor.Empty(x.Shape);
        RotateInto(x.Span, y.Span, b, h, s, hd, half, cos, sin, perBatch, style, sign: 1f);
        if (Tape.WouldRecord(x))
            Tape.Add(y, [x], (g, _) =>
            {
                var gx = Tensor.Empty(x.Shape);
                RotateInto(g.Span, gx.Span, b, h, s, hd, half, cos, sin, perBatch, style, sign: -1f);
                return [gx];
            }, "Rotary");
        return y;
    }

    private static void RotateInto(ReadOnlySpan<float> X, Span<float> Y, int b, int h, int s, int hd, int half,
        float[] cos, float[] sin, bool perBatch, RotaryStyle style, float sign)
    {
        X.CopyTo(Y);
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int si = 0; si < s; si++)
                {
                    int p = perBatch ? bi * s + si : si;
                    int off = ((bi * h + hi) * s + si) * hd;
                    for (int i = 0; i < half; i++)
                    {
                        float c = cos[p * half + i], sn = sign * sin[p * half + i];
                        int i1 = style == RotaryStyle.Half ? off + i : off + 2 * i;
                        int i2 = style == RotaryStyle.Half ? off + i + half : off + 2 * i + 1;
                        float x1 = X[i1], x2 = X[i2];
                        Y[i1] = x1 * c - x2 * sn;
                        Y[i2] = x2 * c + x1 * sn;
                    }
                }
    }

    /// <summary>The additive attention bias [batch, 1, q, k] that transformers builds: 0 where a query
    /// may attend, float.MinValue where the key is padding (mask 0) or, when causal, in the future.
    /// keyMask is [batch·k] of 0/1 (null = all keys valid); query i sits at absolute position
    /// pastLength + i, key j at j.</summary>
    public static Tensor AttentionBias(ReadOnlySpan<int> keyMask, int batch, int queryLength, int keyLength, bool causal, int pastLength = 0)
    {
        if (!keyMask.IsEmpty && keyMask.Length != batch * keyLength)
            throw new ArgumentException($"AttentionBias: mask has {keyMask.Length} entries, expected batch {batch} × keys {keyLength}.");
        var y = Tensor.Zeros(batch, 1, queryLength, keyLength);
        var Y = y.Span;
        for (int b = 0; b < batch; b++)
            for (int q = 0; q < queryLength; q++)
                for (int k = 0; k < keyLength; k++)
                {
                    bool masked = (!keyMask.IsEmpty && keyMask[b * keyLength + k] == 0) || (causal && k > pastLength + q);
                    if (masked) Y[((b * queryLength) + q) * keyLength + k] = float.MinValue;
                }
        return y;
    }
}
