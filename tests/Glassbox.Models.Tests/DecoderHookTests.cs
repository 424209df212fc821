using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public class DecoderHookTests
{
    private static readonly ModelInput Prompt = ModelInput.Single([464, 3139, 286, 4881, 318, 262]);

    /// <summary>Output projection of each architecture, written out independently of the model code.</summary>
    private static Tensor OutputProjection(TransformerModel model, int layer, Tensor merged) => model.ArchitectureName switch
    {
        "GPT2LMHeadModel" => Ops.Add(Ops.MatMul(merged, model.Parameters[$"transformer.h.{layer}.attn.c_proj.weight"]), model.Parameters[$"transformer.h.{layer}.attn.c_proj.bias"]),
        "GPTNeoXForCausalLM" => Ops.Linear(merged, model.Parameters[$"gpt_neox.layers.{layer}.attention.dense.weight"], model.Parameters[$"gpt_neox.layers.{layer}.attention.dense.bias"]),
        "LlamaForCausalLM" => Ops.Linear(merged, model.Parameters[$"model.layers.{layer}.self_attn.o_proj.weight"]),
        _ => throw new InvalidOperationException(model.ArchitectureName),
    };

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void ZeroAblatingAHeadChangesTheOutputAsPredicted(string name)
    {
        var model = DecoderModels.Load(name);
        var lm = (ICausalLanguageModel)model;
        const int layer = 0, head = 1;
        string zName = $"blocks.{layer}.attn.hook_z";

        // Clean run: per-head outputs z [b, pos, head, d].
        Tensor clean, cleanZ, cleanAttnOut;
        using (model.Hooks.Capture($"blocks.{layer}.*", out var c))
        {
            clean = lm.ForwardLogits(Prompt);
            cleanZ = c[zName].Clone();
            cleanAttnOut = c[$"blocks.{layer}.hook_attn_out"].Clone();
        }
        // Independent prediction of attn_out with the head zeroed: zero its slice of z, merge heads, project.
        int b = cleanZ.Shape[0], s = cleanZ.Shape[1], heads = cleanZ.Shape[2], d = cleanZ.Shape[3];
        var zAblated = cleanZ.Clone();
        for (int p = 0; p < b * s; p++) zAblated.Span.Slice((p * heads + head) * d, d).Clear();
        var predicted = OutputProjection(model, layer, Ops.Reshape(zAblated, b, s, heads * d));
        // Sanity: the same projection of the clean z reproduces the clean attn_out.
        AssertNear(cleanAttnOut, OutputProjection(model, layer, Ops.Reshape(cleanZ, b, s, heads * d)), 1e-5, "clean attn_out");

        // Ablated run: zero the head through hook_z.
        Tensor ablated, ablatedAttnOut;
        using (model.Hooks.Replace(zName, (_, z) =>
        {
            var y = z.Clone();
            for (int p = 0; p < b * s; p++) y.Span.Slice((p * heads + head) * d, d).Clear();
            return y;
        }))
        using (model.Hooks.Capture($"blocks.{layer}.hook_attn_out", out var a))
        {
            ablated = lm.ForwardLogits(Prompt);
            ablatedAttnOut = a[$"blocks.{layer}.hook_attn_out"].Clone();
        }
        AssertNear(predicted, ablatedAttnOut, 1e-5, "ablated attn_out vs prediction");
        Assert.True(MaxDiff(clean, ablated) > 1e-3, $"{name}: ablating head {head} of layer {layer} did not change the logits");

        // Downstream: substituting the predicted attn_out gives exactly the ablated run's logits.
        Tensor viaPrediction;
        using (model.Hooks.Replace($"blocks.{layer}.hook_attn_out", (_, _) => predicted))
            viaPrediction = lm.ForwardLogits(Prompt);
        AssertNear(ablated, viaPrediction, 1e-5, "logits via predicted attn_out");
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void PatchingResidPostFromAnIdenticalRunLeavesLogitsUnchanged(string name)
    {
        var model = DecoderModels.Load(name);
        var lm = (ICausalLanguageModel)model;
        Tensor a;
        ActivationCache runA;
        using (model.Hooks.Capture("blocks.*.hook_resid_post", out runA)) a = lm.ForwardLogits(Prompt);
        Tensor b;
        using (model.Hooks.PatchFrom(runA, "blocks.0.hook_resid_post")) b = lm.ForwardLogits(Prompt);
        Assert.Equal(a.ToArray(), b.ToArray());

        // The patch does act: patching from a different prompt of the same length changes the logits,
        // and patching the last block's output gives the other prompt's logits exactly.
        var other = ModelInput.Single([7454, 2402, 257, 640, 11, 287]);
        Tensor o;
        ActivationCache runO;
        using (model.Hooks.Capture("blocks.*.hook_resid_post", out runO)) o = lm.ForwardLogits(other);
        using (model.Hooks.PatchFrom(runO, "blocks.0.hook_resid_post")) Assert.True(MaxDiff(a, lm.ForwardLogits(Prompt)) > 1e-3);
        using (model.Hooks.PatchFrom(runO, $"blocks.{model.LayerCount - 1}.hook_resid_post")) Assert.Equal(o.ToArray(), lm.ForwardLogits(Prompt).ToArray());
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void GradientAtResidPreEqualsFiniteDifference(string name)
    {
        var model = DecoderModels.Load(name);
        var lm = (ICausalLanguageModel)model;
        const string at = "blocks.1.hook_resid_pre";
        int s = Prompt.SeqLength, v = lm.VocabSize;
        int targetId = 3139, pos = s - 1;

        float Logit(Tensor logits) => logits.Span[pos * v + targetId];
        Tensor grad, resid;
        using (var tape = Tape.Record())
        using (model.Hooks.Capture(at, out var cache))
        {
            var logits = lm.ForwardLogits(Prompt);
            var y = Ops.Sum(Ops.Narrow(Ops.Narrow(logits, 1, pos, 1), 2, targetId, 1));
            resid = cache[at].Clone();
            grad = tape.Gradient(y, cache[at])[0];
        }
        Assert.Equal(resid.Shape, grad.Shape);
        int h = resid.Shape[2];
        // Central differences on every coordinate of three positions (earlier positions matter through attention).
        const float eps = 1e-2f;
        double worst = 0, norm = 0;
        foreach (int p in new[] { 0, s / 2, s - 1 })
            for (int j = 0; j < h; j++)
            {
                int idx = p * h + j;
                float F(float delta)
                {
                    using (model.Hooks.Replace(at, (_, x) => { var y = x.Clone(); y.Span[idx] += delta; return y; }))
                        return Logit(lm.ForwardLogits(Prompt));
                }
                double fd = (F(eps) - F(-eps)) / (2.0 * eps);
                double g = grad.Span[idx];
                worst = Math.Max(worst, Math.Abs(fd - g) / (1e-2 + Math.Abs(g)));
                norm = Math.Max(norm, Math.Abs(g));
            }
        Assert.True(norm > 1e-3, $"{name}: gradient is (near) zero");
        Assert.True(worst < 2e-2, $"{name}: gradient vs finite difference, worst relative error {worst:E2}");
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2, "hook_pos_embed")]
    [InlineData(DecoderModels.NeoX, "blocks.0.attn.hook_rot_q")]
    [InlineData(DecoderModels.Llama, "blocks.0.mlp.hook_pre_linear")]
    public void EveryDesignHookFires(string name, string extra)
    {
        var model = DecoderModels.Load(name);
        using var _ = model.Hooks.Capture("*", out var cache);
        ((ICausalLanguageModel)model).ForwardLogits(Prompt);
        string[] names = ["hook_embed", "ln_final.hook_normalized", extra];
        string[] perBlock = ["hook_resid_pre", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_scores", "attn.hook_pattern", "attn.hook_z",
            "hook_attn_out", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post"];
        foreach (var n in names.Concat(Enumerable.Range(0, model.LayerCount).SelectMany(i => perBlock.Select(p => $"blocks.{i}.{p}"))))
            Assert.True(cache.ContainsKey(n), $"{name}: hook {n} did not fire; fired: {string.Join(", ", cache.Keys)}");
        Assert.Equal([1, Prompt.SeqLength, model.ArchitectureName == "LlamaForCausalLM" ? 1 : 2, 8], cache["blocks.0.attn.hook_k"].Shape);
        Assert.Equal([1, 2, Prompt.SeqLength, Prompt.SeqLength], cache["blocks.0.attn.hook_pattern"].Shape);
    }

    private static double MaxDiff(Tensor a, Tensor b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a.Span[i] - b.Span[i]));
        return m;
    }

    private static void AssertNear(Tensor expected, Tensor actual, double tol, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double d = MaxDiff(expected, actual);
        Assert.True(d <= tol, $"{what}: max difference {d:E2}");
    }
}
