// Representations to project: run a model over batches of inputs, capture one hook point
// (e.g. "blocks.3.hook_resid_post", [batch, pos, d]) and pool each example to one row: the first
// token (CLS for encoders), the mean over attended positions (attention mask 1), or the last
// attended token (decoders). Values are accumulated in double.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Projections;

public enum Pooling
{
    /// <summary>The first position (BERT's [CLS], RoBERTa's &lt;s&gt;).</summary>
    Cls,
    /// <summary>The mean over positions whose attention mask is 1 (all positions without a mask).</summary>
    Mean,
    /// <summary>The last position whose attention mask is 1 (the usual choice for decoders).</summary>
    Last,
}

public static class Representations
{
    /// <summary>One pooled row per example of every batch, in order, from an explainable model
    /// that exposes hook points.</summary>
    public static double[][] Collect(IExplainableModel model, IEnumerable<ModelInput> inputs, string hookPoint, Pooling pooling)
    {
        ArgumentNullException.ThrowIfNull(model);
        var hooks = model.Hooks ?? throw new NotSupportedException($"Representations: '{model.Name}' is a black-box model without hook points; projections need a Glassbox model (its activations at '{hookPoint}').");
        return Collect(model.Name, hooks, x => model.Predict(x), inputs, hookPoint, pooling);
    }

    /// <summary>One pooled row per example of every batch, in order, from a Glassbox transformer.</summary>
    public static double[][] Collect(TransformerModel model, IEnumerable<ModelInput> inputs, string hookPoint, Pooling pooling)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Collect(model.ArchitectureName, model.Hooks, x => model.Forward(x), inputs, hookPoint, pooling);
    }

    private static double[][] Collect(string name, HookSet hooks, Func<ModelInput, object> forward, IEnumerable<ModelInput> inputs, string hookPoint, Pooling pooling)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentException.ThrowIfNullOrWhiteSpace(hookPoint);
        if (hookPoint.Contains('*'))
            throw new ArgumentException($"Representations: '{hookPoint}' is a pattern; give one hook point, e.g. 'blocks.0.hook_resid_post'.", nameof(hookPoint));
        var rows = new List<double[]>();
        int batchIndex = 0;
        foreach (var input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input);
            ActivationCache cache;
            using (Tape.NoGrad())
            using (hooks.Capture(hookPoint, out cache))
                forward(input);
            if (!cache.TryGetValue(hookPoint, out var act))
                throw new ArgumentException($"Representations: {name} never reached hook point '{hookPoint}'. Hook points it has: {AvailableHooks(hooks, forward, input)}.", nameof(hookPoint));
            var shape = act.Shape;
            if (shape.Length != 3 || shape[0] != input.Batch || shape[1] != input.SeqLength)
                throw new ArgumentException($"Representations: '{hookPoint}' has shape [{string.Join(", ", shape)}]; pooling needs [batch {input.Batch}, positions {input.SeqLength}, width] (use a residual-stream point such as blocks.{{i}}.hook_resid_post).", nameof(hookPoint));
            int b = shape[0], s = shape[1], d = shape[2];
            var span = act.Span;
            for (int i = 0; i < b; i++)
            {
                var row = new double[d];
                bool Attended(int p) => input.AttentionMask is null || input.AttentionMask[i * s + p] != 0;
                switch (pooling)
                {
                    case Pooling.Cls:
                        for (int j = 0; j < d; j++) row[j] = span[(i * s) * d + j];
                        break;
                    case Pooling.Mean:
                        int count = 0;
                        for (int p = 0; p < s; p++)
                        {
                            if (!Attended(p)) continue;
                            count++;
                            for (int j = 0; j < d; j++) row[j] += span[(i * s + p) * d + j];
                        }
                        if (count == 0) throw new ArgumentException($"Representations: example {i} of batch {batchIndex} has no attended position (its attention mask is all 0).");
                        for (int j = 0; j < d; j++) row[j] /= count;
                        break;
                    case Pooling.Last:
                        int last = -1;
                        for (int p = 0; p < s; p++) if (Attended(p)) last = p;
                        if (last < 0) throw new ArgumentException($"Representations: example {i} of batch {batchIndex} has no attended position (its attention mask is all 0).");
                        for (int j = 0; j < d; j++) row[j] = span[(i * s + last) * d + j];
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(pooling), $"Representations: unknown pooling {pooling}.");
                }
                rows.Add(row);
            }
            batchIndex++;
        }
        if (rows.Count == 0) throw new ArgumentException("Representations: no input was given.", nameof(inputs));
        return [.. rows];
    }

    // Runs the batch once more capturing everything, to name the hook points the model has.
    private static string AvailableHooks(HookSet hooks, Func<ModelInput, object> forward, ModelInput input)
    {
        ActivationCache all;
        using (Tape.NoGrad())
        using (hooks.Capture("*", out all))
            forward(input);
        var names = all.Keys.ToList();
        return names.Count <= 16 ? string.Join(", ", names) : string.Join(", ", names.Take(16)) + $", … ({names.Count} in all)";
    }
}
