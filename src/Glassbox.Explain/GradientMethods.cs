// Gradient-based attributions at any hook point: (layer) integrated gradients, saliency and
// input×gradient. Layer methods follow Captum's LayerIntegratedGradients with
// attribute_to_layer_input=False: the hook's activation is interpolated between its values on the
// baseline and on the input, and gradients are taken with respect to that interpolated activation.
// "hook_embed" (the word-embedding output) is Captum's inputs_embeds.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain;

/// <summary>Attributions over one activation: Raw has the activation's shape without the batch axis
/// ([seq, dim] for an embedding hook).</summary>
public sealed class LayerAttribution
{
    public required float[] Raw { get; init; }
    public required int[] Shape { get; init; }
    public double? ConvergenceDelta { get; init; }
    /// <summary>Score of the target on the input (and on the baseline, where one was used).</summary>
    public double InputScore { get; init; }
    public double? BaselineScore { get; init; }

    /// <summary>Per position: sum over the trailing dimension (Captum users' attribution.sum(-1)).</summary>
    public float[] SumLastDim() => Reduce(Raw, Shape, (row) => { double s = 0; foreach (var v in row) s += v; return s; });

    public float[] L2LastDim() => Reduce(Raw, Shape, (row) => { double s = 0; foreach (var v in row) s += (double)v * v; return Math.Sqrt(s); });

    public float[] MaxLastDim() => Reduce(Raw, Shape, (row) => { double m = double.NegativeInfinity; foreach (var v in row) m = Math.Max(m, v); return m; });

    private static float[] Reduce(float[] raw, int[] shape, Func<float[], double> f)
    {
        int d = shape.Length == 0 ? 1 : shape[^1], n = d == 0 ? 0 : raw.Length / d;
        var r = new float[n];
        for (int i = 0; i < n; i++) r[i] = (float)f(raw.AsSpan(i * d, d).ToArray());
        return r;
    }

    /// <summary>v / ‖v‖₂ (transformers-interpret's normalisation); zeros stay zeros.</summary>
    public static float[] Normalize(float[] v)
    {
        double n = Math.Sqrt(v.Sum(x => (double)x * x));
        return n == 0 ? (float[])v.Clone() : v.Select(x => (float)(x / n)).ToArray();
    }
}

public static class GradientMethods
{
    /// <summary>Layer integrated gradients at hook `layer`, from the baseline input's activation
    /// to the input's. internalBatchSize bounds how many interpolation points run per forward and
    /// backward pass (Captum's internal_batch_size); when null, <see cref="DefaultInternalBatchSize"/>
    /// picks a memory-bounded chunk. The result does not depend on it.</summary>
    public static LayerAttribution LayerIntegratedGradients(IExplainableModel model, ModelInput input, ModelInput baseline, int target,
        string layer = "hook_embed", int steps = 50, QuadratureRule rule = QuadratureRule.GaussLegendre, int? internalBatchSize = null)
    {
        var hooks = ModelChecks.RequireGradients(model, "Layer integrated gradients");
        if (baseline.SeqLength != input.SeqLength || baseline.Batch != input.Batch)
            throw new ArgumentException($"Layer integrated gradients: the baseline has shape [{baseline.Batch}, {baseline.SeqLength}] but the input has [{input.Batch}, {input.SeqLength}]; they must match.");
        var (x, fIn) = CaptureWithScore(model, hooks, input, layer, target);
        var (x0, fBase) = CaptureWithScore(model, hooks, baseline, layer, target);
        if (!ShapeUtil.Equal(x.Shape, x0.Shape))
            throw new InvalidOperationException($"Layer integrated gradients: '{layer}' has shape {ShapeUtil.Format(x.Shape)} on the input but {ShapeUtil.Format(x0.Shape)} on the baseline.");
        var (alphas, weights) = Quadrature.Points(rule, steps);
        int chunk = Math.Max(1, internalBatchSize ?? DefaultInternalBatchSize(steps, input.SeqLength));
        int per = x.Length;
        var diff = Ops.Sub(x, x0);
        var total = new double[per];
        for (int start = 0; start < steps; start += chunk)
        {
            int m = Math.Min(chunk, steps - start);
            var scaled = Tensor.Empty([m, .. x.Shape[1..]]);
            for (int i = 0; i < m; i++)
            {
                float a = (float)alphas[start + i];
                var dst = scaled.Span.Slice(i * per, per);
                var X0 = x0.Span; var D = diff.Span;
                for (int j = 0; j < per; j++) dst[j] = X0[j] + a * D[j];
            }
            using var g = GradientAt(model, hooks, ModelChecks.Repeat(input, m), layer, scaled, target);
            scaled.Dispose();
            for (int i = 0; i < m; i++)
            {
                double w = weights[start + i];
                var G = g.Span.Slice(i * per, per);
                for (int j = 0; j < per; j++) total[j] += w * G[j];
            }
        }
        var raw = new float[per];
        double sum = 0;
        for (int j = 0; j < per; j++) { raw[j] = (float)(diff.Span[j] * total[j]); sum += diff.Span[j] * total[j]; }
        return new LayerAttribution
        {
            Raw = raw, Shape = x.Shape[1..], InputScore = fIn, BaselineScore = fBase,
            ConvergenceDelta = sum - (fIn - fBase),
        };
    }

    /// <summary>Most token rows per forward pass when no internal batch size is given: the steps
    /// run in the fewest chunks of at most max(1, DefaultTokensPerBatch / sequence length) steps,
    /// made as even as possible (50 steps of a 32-token input: 13, 13, 13, 11). Live activations
    /// grow with a chunk's token count, so this bounds peak memory (a DistilBERT-base forward and
    /// backward over 512 tokens keeps about 0.3 GB alive); chunking changes neither the per-step
    /// gradients nor the order in which they are summed.</summary>
    public const int DefaultTokensPerBatch = 512;

    /// <summary>The internal batch size used when none is given (see <see cref="DefaultTokensPerBatch"/>).</summary>
    public static int DefaultInternalBatchSize(int steps, int seqLength)
    {
        if (steps < 1) return 1;
        int most = Math.Clamp(DefaultTokensPerBatch / Math.Max(1, seqLength), 1, steps);
        int chunks = (steps + most - 1) / most;
        return (steps + chunks - 1) / chunks;
    }

    /// <summary>Gradient of the target score with respect to the activation at `layer`, and the activation.</summary>
    public static (float[] Activation, float[] Gradient, int[] Shape, double Score) LayerGradient(IExplainableModel model, ModelInput input, int target, string layer = "hook_embed")
    {
        var hooks = ModelChecks.RequireGradients(model, "Gradient attribution");
        var (x, f) = CaptureWithScore(model, hooks, input, layer, target);
        var g = GradientAt(model, hooks, input, layer, x.Clone(), target);
        return (x.ToArray(), g.ToArray(), x.Shape[1..], f);
    }

    /// <summary>Captum Saliency: |∂score/∂activation| (or the signed gradient when abs is false).</summary>
    public static LayerAttribution Saliency(IExplainableModel model, ModelInput input, int target, string layer = "hook_embed", bool abs = true)
    {
        var (_, g, shape, f) = LayerGradient(model, input, target, layer);
        return new LayerAttribution { Raw = abs ? g.Select(MathF.Abs).ToArray() : g, Shape = shape, InputScore = f };
    }

    /// <summary>Captum InputXGradient: activation ⊙ ∂score/∂activation.</summary>
    public static LayerAttribution InputXGradient(IExplainableModel model, ModelInput input, int target, string layer = "hook_embed")
    {
        var (a, g, shape, f) = LayerGradient(model, input, target, layer);
        return new LayerAttribution { Raw = a.Zip(g, (x, y) => x * y).ToArray(), Shape = shape, InputScore = f };
    }

    public enum NoiseTunnelType { SmoothGrad, SmoothGradSquared, VarGrad }

    /// <summary>Captum NoiseTunnel over saliency (signed gradient) or input×gradient: Gaussian noise of
    /// standard deviation stdev added to the activation, samples seeded.</summary>
    public static LayerAttribution NoiseTunnel(IExplainableModel model, ModelInput input, int target, string layer = "hook_embed",
        NoiseTunnelType type = NoiseTunnelType.SmoothGrad, int samples = 10, float stdev = 1f, int seed = 0, bool multiplyByInputs = false)
    {
        var hooks = ModelChecks.RequireGradients(model, "SmoothGrad");
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), $"SmoothGrad needs at least one sample, got {samples}.");
        var (x, f) = CaptureWithScore(model, hooks, input, layer, target);
        int per = x.Length;
        var noisy = Tensor.Empty([samples, .. x.Shape[1..]]);
        var rng = new Random(seed);
        for (int i = 0; i < samples; i++)
            for (int j = 0; j < per; j++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                noisy.Span[i * per + j] = x.Span[j] + stdev * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        var g = GradientAt(model, hooks, ModelChecks.Repeat(input, samples), layer, noisy, target);
        var mean = new double[per]; var meanSq = new double[per];
        for (int i = 0; i < samples; i++)
            for (int j = 0; j < per; j++)
            {
                double v = g.Span[i * per + j] * (multiplyByInputs ? noisy.Span[i * per + j] : 1f);
                mean[j] += v / samples; meanSq[j] += v * v / samples;
            }
        var raw = new float[per];
        for (int j = 0; j < per; j++)
            raw[j] = (float)(type switch
            {
                NoiseTunnelType.SmoothGrad => mean[j],
                NoiseTunnelType.SmoothGradSquared => meanSq[j],
                _ => meanSq[j] - mean[j] * mean[j],
            });
        return new LayerAttribution { Raw = raw, Shape = x.Shape[1..], InputScore = f };
    }

    internal static (Tensor Activation, double Score) CaptureWithScore(IExplainableModel model, HookSet hooks, ModelInput input, string layer, int target)
    {
        using var _ = Tape.NoGrad();
        Tensor scores;
        ActivationCache cache;
        using (hooks.Capture(layer, out cache)) scores = model.Predict(input);
        ModelChecks.CheckTarget(model, target, scores);
        if (!cache.TryGetValue(layer, out var x))
            throw new ArgumentException($"'{model.Name}' has no hook point '{layer}'; captured names look like: {string.Join(", ", CapturedNames(model, hooks, input).Take(8))}.");
        return (x, scores.Span[target]);
    }

    private static IEnumerable<string> CapturedNames(IExplainableModel model, HookSet hooks, ModelInput input)
    {
        using var _ = Tape.NoGrad();
        ActivationCache all;
        using (hooks.Capture("*", out all)) model.Predict(input);
        return all.Keys.ToList();
    }

    /// <summary>∂Σ_b score[b, target]/∂activation where the activation at `layer` is replaced by `value` [batch, ...].</summary>
    internal static Tensor GradientAt(IExplainableModel model, HookSet hooks, ModelInput input, string layer, Tensor value, int target)
    {
        using var tape = Tape.Record();
        tape.Watch(value);
        Tensor total;
        // Everything the forward creates (the output included) is handed to the tape when the
        // scope ends, and goes back to the pool as soon as the backward has used it.
        using (var scope = TensorScope.Enter())
        {
            Tensor scores;
            using (hooks.Replace(layer, (_, _) => value)) scores = model.Predict(input);
            total = scope.Keep(Ops.Sum(Ops.Narrow(scores, -1, target, 1)));
        }
        return tape.Gradient(total, value)[0];
    }
}
