// Ecco's primary attributions (ecco/attribution.py): Captum's gradient methods on the input
// embeddings of the sequence that produced a token, target = that token's softmax probability at
// the last position. For a seq2seq model the encoder and decoder embeddings are attributed together
// (both interpolated by the same α for IG) and their positions concatenated, encoder first.
// Ecco then reduces each position to the L2 norm of its attribution over the embedding dimension
// and divides by the sum over positions, so a row sums to 1.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.LanguageModels;

/// <summary>The attribution of one generated token to every earlier token.</summary>
public sealed class TokenAttribution
{
    /// <summary>Ecco's scores: per-position L2 norm over the embedding dimension, divided by their sum (sums to 1).</summary>
    public required float[] Normalized { get; init; }

    /// <summary>The per-position L2 norms before division (Ecco's numerator).</summary>
    public required float[] PositionNorms { get; init; }

    /// <summary>The raw attribution [positions, embeddingDim], row-major (encoder positions first for seq2seq).</summary>
    public required float[] Raw { get; init; }

    public required int EmbeddingDim { get; init; }

    /// <summary>The target token's probability on the real input.</summary>
    public required double TargetProbability { get; init; }

    /// <summary>Integrated gradients only: Σ attribution − (p(input) − p(zero embeddings)).</summary>
    public double? ConvergenceDelta { get; init; }
}

internal static class PrimaryAttributions
{
    /// <summary>Attribution of `target` (a vocabulary id) at the last position of `inputs`.</summary>
    public static TokenAttribution Compute(LmBackend lm, int[][] inputs, int target, LmAttributionMethod method, int igSteps, QuadratureRule rule, int? internalBatchSize)
    {
        if ((uint)target >= (uint)lm.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(target), $"Primary attribution: target id {target} is outside the vocabulary (0..{lm.VocabSize - 1}).");
        var (embeds, score) = Embeddings(lm, inputs, target);
        int d = embeds[0].Shape[^1];
        int positions = embeds.Sum(e => e.Shape[1]);
        var raw = new float[positions * d];
        double? delta = null;
        switch (method)
        {
            case LmAttributionMethod.Saliency:
            case LmAttributionMethod.InputXGradient:
            {
                var values = embeds.Select(e => e.Clone()).ToArray();
                var grads = GradientAt(lm, inputs, 1, values, target);
                int at = 0;
                for (int k = 0; k < embeds.Length; k++)
                {
                    var g = grads[k].Span; var x = embeds[k].Span;
                    for (int j = 0; j < g.Length; j++)
                        raw[at + j] = method == LmAttributionMethod.Saliency ? MathF.Abs(g[j]) : x[j] * g[j];
                    at += g.Length;
                }
                break;
            }
            default:
            {
                var (alphas, weights) = Quadrature.Points(rule, igSteps);
                // By default the steps run in token-bounded chunks (as layer IG does): the live set is
                // one chunk's activations, and each step's gradient does not depend on the chunk.
                int chunk = Math.Max(1, internalBatchSize ?? GradientMethods.DefaultInternalBatchSize(igSteps, inputs.Sum(x => x.Length)));
                var total = new double[raw.Length];
                for (int start = 0; start < igSteps; start += chunk)
                {
                    int m = Math.Min(chunk, igSteps - start);
                    // Zero baseline: the interpolated embedding is α·x.
                    var scaled = embeds.Select(e =>
                    {
                        int per = e.Length;
                        var t = Tensor.Empty([m, .. e.Shape[1..]]);
                        for (int i = 0; i < m; i++)
                        {
                            float a = (float)alphas[start + i];
                            var dst = t.Span.Slice(i * per, per); var src = e.Span;
                            for (int j = 0; j < per; j++) dst[j] = a * src[j];
                        }
                        return t;
                    }).ToArray();
                    var grads = GradientAt(lm, inputs, m, scaled, target);
                    int at = 0;
                    for (int k = 0; k < embeds.Length; k++)
                    {
                        int per = embeds[k].Length;
                        var g = grads[k].Span;
                        for (int i = 0; i < m; i++)
                        {
                            double w = weights[start + i];
                            for (int j = 0; j < per; j++) total[at + j] += w * g[i * per + j];
                        }
                        at += per;
                        grads[k].Dispose();
                        scaled[k].Dispose();
                    }
                }
                double sum = 0;
                int off = 0;
                foreach (var e in embeds)
                {
                    var x = e.Span;
                    for (int j = 0; j < x.Length; j++) { double v = x[j] * total[off + j]; raw[off + j] = (float)v; sum += v; }
                    off += x.Length;
                }
                delta = sum - (score - ZeroEmbeddingScore(lm, inputs, embeds, target));
                break;
            }
        }
        var (norms, normalized) = Normalize(raw, d);
        return new TokenAttribution { Normalized = normalized, PositionNorms = norms, Raw = raw, EmbeddingDim = d, TargetProbability = score, ConvergenceDelta = delta };
    }

    /// <summary>Ecco's "L2" aggregation: ‖a[p, :]‖₂ / Σ_q ‖a[q, :]‖₂ (all zeros stay zeros).</summary>
    public static (float[] Norms, float[] Normalized) Normalize(float[] raw, int d)
    {
        int n = raw.Length / d;
        var norms = new double[n];
        double total = 0;
        for (int p = 0; p < n; p++)
        {
            double s = 0;
            for (int j = 0; j < d; j++) { double v = raw[p * d + j]; s += v * v; }
            norms[p] = Math.Sqrt(s);
            total += norms[p];
        }
        return (Array.ConvertAll(norms, v => (float)v), Array.ConvertAll(norms, v => total == 0 ? 0f : (float)(v / total)));
    }

    /// <summary>The embeddings of each input sequence ([1, seq, d]) and the target's probability.</summary>
    private static (Tensor[] Embeds, double Score) Embeddings(LmBackend lm, int[][] inputs, int target)
    {
        using var _ = Tape.NoGrad();
        var caches = new ActivationCache[lm.EmbedHooks.Length];
        var handles = new List<IDisposable>();
        Tensor probs;
        try
        {
            for (int k = 0; k < caches.Length; k++) { handles.Add(lm.Hooks.Capture(lm.EmbedHooks[k], out var c)); caches[k] = c; }
            probs = lm.LastProbabilities(1, inputs);
        }
        finally { foreach (var h in handles) h.Dispose(); }
        var embeds = new Tensor[caches.Length];
        for (int k = 0; k < caches.Length; k++)
            embeds[k] = caches[k].TryGetValue(lm.EmbedHooks[k], out var e) ? e.Clone()
                : throw new InvalidOperationException($"Primary attribution: the model never ran its '{lm.EmbedHooks[k]}' hook point, so its input embeddings cannot be attributed.");
        return (embeds, probs.Span[target]);
    }

    private static double ZeroEmbeddingScore(LmBackend lm, int[][] inputs, Tensor[] embeds, int target)
    {
        using var _ = Tape.NoGrad();
        var handles = new List<IDisposable>();
        try
        {
            for (int k = 0; k < embeds.Length; k++)
            {
                var shape = embeds[k].Shape;
                handles.Add(lm.Hooks.Replace(lm.EmbedHooks[k], (_, _) => Tensor.Zeros(shape)));
            }
            using var probs = lm.LastProbabilities(1, inputs);
            return probs.Span[target];
        }
        finally { foreach (var h in handles) h.Dispose(); }
    }

    /// <summary>∂Σ_b p[b, target]/∂embedding for each input sequence, with the embeddings replaced by
    /// `values` ([batch, seq, d] each).</summary>
    private static Tensor[] GradientAt(LmBackend lm, int[][] inputs, int batch, Tensor[] values, int target)
    {
        using var tape = Tape.Record();
        foreach (var v in values) tape.Watch(v);
        var handles = new List<IDisposable>();
        Tensor total;
        // Everything the forward creates is handed to the tape when the scope ends and goes back to
        // the pool as soon as the backward has used it (the next chunk rents the same buffers).
        using (var scope = TensorScope.Enter())
        {
            Tensor probs;
            try
            {
                for (int k = 0; k < values.Length; k++)
                {
                    var v = values[k];
                    handles.Add(lm.Hooks.Replace(lm.EmbedHooks[k], (_, _) => v));
                }
                probs = lm.LastProbabilities(batch, inputs);
            }
            finally { foreach (var h in handles) h.Dispose(); }
            total = scope.Keep(Ops.Sum(Ops.Narrow(probs, -1, target, 1)));
        }
        return tape.Gradient(total, values);
    }
}
