// GPT-NeoX (Black et al. 2022; Pythia), as transformers' modeling_gpt_neox (GPTNeoXForCausalLM):
// pre-norm decoder blocks with rotary positions on the first rotary_pct of each head's dims, a
// fused query_key_value projection, and (by default) a parallel residual:
//   parallel:   x = x + Attention(input_layernorm(x)) + MLP(post_attention_layernorm(x))
//   sequential: x = x + Attention(input_layernorm(x)) ; x = x + MLP(post_attention_layernorm(x))
//   logits = final_layer_norm(x)·embed_outᵀ
// The fused projection's output is laid out per head as [q | k | v] (head_dim each), which is how
// transformers views it ([.., heads, 3·head_dim]) before chunking.
// With the parallel residual there is no residual "between" attention and MLP, so
// blocks.{i}.hook_resid_mid does not fire (as in TransformerLens).
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public sealed class GptNeoX : TransformerModel, ICausalLanguageModel, ILastTokenLogits
{
    private const string P_ = "gpt_neox.";
    private readonly GptNeoXConfig _c;
    private readonly BlockHookNames[] _blocks;
    private readonly RotaryHookNames[] _rot;

    public GptNeoX(GptNeoXConfig config, IReadOnlyDictionary<string, Tensor> parameters) : base(parameters)
    {
        _c = config;
        _blocks = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
        _rot = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new RotaryHookNames($"blocks.{i}.attn.")).ToArray();
    }

    public GptNeoXConfig Config => _c;
    public override int LayerCount => _c.NumHiddenLayers;
    public override string ArchitectureName => "GPTNeoXForCausalLM";
    public int VocabSize => _c.VocabSize;
    public int MaxPositions => _c.MaxPositionEmbeddings;
    public IReadOnlyList<int> EosTokenIds => _c.EosTokenIds;
    public int? PadTokenId => _c.PadTokenId;
    public Tensor TokenEmbeddings => P(P_ + "embed_in.weight");
    private Tensor LmHead => _c.TieWordEmbeddings ? P(P_ + "embed_in.weight") : P("embed_out.weight");

    public static Dictionary<string, int[]> ExpectedParameters(GptNeoXConfig c)
    {
        int h = c.HiddenSize, f = c.IntermediateSize;
        var e = new Dictionary<string, int[]>
        {
            [P_ + "embed_in.weight"] = [c.VocabSize, h],
            [P_ + "final_layer_norm.weight"] = [h],
            [P_ + "final_layer_norm.bias"] = [h],
        };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"{P_}layers.{i}.";
            e[l + "input_layernorm.weight"] = [h]; e[l + "input_layernorm.bias"] = [h];
            e[l + "post_attention_layernorm.weight"] = [h]; e[l + "post_attention_layernorm.bias"] = [h];
            e[l + "attention.query_key_value.weight"] = [3 * h, h];
            e[l + "attention.dense.weight"] = [h, h];
            if (c.AttentionBias) { e[l + "attention.query_key_value.bias"] = [3 * h]; e[l + "attention.dense.bias"] = [h]; }
            e[l + "mlp.dense_h_to_4h.weight"] = [f, h]; e[l + "mlp.dense_h_to_4h.bias"] = [f];
            e[l + "mlp.dense_4h_to_h.weight"] = [h, f]; e[l + "mlp.dense_4h_to_h.bias"] = [h];
        }
        if (!c.TieWordEmbeddings) e["embed_out.weight"] = [c.VocabSize, h];
        return e;
    }

    public static GptNeoX Load(GptNeoXConfig config, Checkpoint checkpoint, bool strict = true)
    {
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ConfigException($"GPTNeoXForCausalLM: hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
        if (config.RotaryDims <= 0 || config.RotaryDims % 2 != 0)
            throw new ConfigException($"GPTNeoXForCausalLM: head_dim {config.HiddenSize / config.NumAttentionHeads} × rotary_pct {config.Rope.PartialRotaryFactor} gives {config.RotaryDims} rotary dims; an even number ≥ 2 is needed.");
        string ropeType = config.Rope.RopeType;
        if (ropeType != "default")
            throw new NotSupportedException($"GPTNeoXForCausalLM: rope_type '{ropeType}' is not supported; only 'default' rotary embeddings are.");
        var options = new BindingOptions
        {
            Strict = strict,
            BasePrefix = P_,
            // Checkpoints saved by transformers ≥ 5 may name the head lm_head.
            Renames = [new(@"^lm_head\.weight$", "embed_out.weight")],
            IgnoreUnexpected = config.TieWordEmbeddings ? [.. BindingOptions.DefaultIgnoredUnexpected, @"^(embed_out|lm_head)\.weight$"] : BindingOptions.DefaultIgnoredUnexpected,
        };
        return new GptNeoX(config, Bind(checkpoint, ExpectedParameters(config), options));
    }

    public override ModelOutput Forward(ModelInput input) => Run(input, null);

    public Tensor ForwardLogits(ModelInput input, KvCache? cache = null) => Run(input, cache).Logits!;

    /// <summary>Logits of the last position only, [batch, 1, vocab] (transformers' logits_to_keep = 1).</summary>
    public Tensor ForwardLastLogits(ModelInput input, KvCache? cache = null) => Run(input, cache, lastOnly: true).Logits!;

    public Tensor Unembed(Tensor residual, bool withFinalNorm = true)
    {
        var x = withFinalNorm ? Ops.LayerNorm(residual, P(P_ + "final_layer_norm.weight"), P(P_ + "final_layer_norm.bias"), _c.LayerNormEps) : residual;
        return Ops.Linear(x, LmHead);
    }

    private ModelOutput Run(ModelInput input, KvCache? cache, bool lastOnly = false)
    {
        var step = CausalStep.Begin(ArchitectureName, input, cache, _c.MaxPositionEmbeddings, "max_position_embeddings");
        var x = Hooks.Apply("hook_embed", Ops.Embedding(P(P_ + "embed_in.weight"), input.InputIds, input.Batch, input.SeqLength));
        for (int i = 0; i < _c.NumHiddenLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(Block(i, x, step));
        }
        step.Commit();
        var final = Hooks.Apply("ln_final.hook_normalized", Ops.LayerNorm(x, P(P_ + "final_layer_norm.weight"), P(P_ + "final_layer_norm.bias"), _c.LayerNormEps));
        var head = lastOnly && input.SeqLength > 1 ? Ops.Narrow(final, 1, input.SeqLength - 1, 1) : final;
        return new ModelOutput { Logits = Ops.Linear(head, LmHead), LastHiddenState = final };
    }

    private Tensor Block(int i, Tensor x, CausalStep step)
    {
        var n = _blocks[i];
        string l = $"{P_}layers.{i}.";
        int b = x.Shape[0], s = x.Shape[1], h = _c.HiddenSize, heads = _c.NumAttentionHeads, hd = h / heads;
        float eps = _c.LayerNormEps;
        x = Hooks.Apply(n.ResidPre, x);

        // Attention: fused projection viewed as [b, s, heads, 3·hd] → q, k, v per head.
        var ln1 = Ops.LayerNorm(x, P(l + "input_layernorm.weight"), P(l + "input_layernorm.bias"), eps);
        var qkv = Ops.Reshape(Ops.Linear(ln1, P(l + "attention.query_key_value.weight"), POpt(l + "attention.query_key_value.bias")), b, s, heads, 3 * hd);
        Tensor Part(int j) => Ops.Reshape(Ops.Narrow(qkv, 3, j * hd, hd), b, s, h);
        var q = AttentionCore.SplitHeads(Hooks, n.Attn.Q, Part(0), heads, hd);
        var k = AttentionCore.SplitHeads(Hooks, n.Attn.K, Part(1), heads, hd);
        var v = AttentionCore.SplitHeads(Hooks, n.Attn.V, Part(2), heads, hd);
        q = RotaryHookNames.Apply(Hooks, _rot[i].RotQ, Ops.Rotary(q, step.Positions, _c.RotaryDims, _c.Rope.Theta));
        k = RotaryHookNames.Apply(Hooks, _rot[i].RotK, Ops.Rotary(k, step.Positions, _c.RotaryDims, _c.Rope.Theta));
        (k, v) = step.Extend(i, k, v);
        var z = AttentionCore.Attend(Hooks, n.Attn, q, k, v, step.Bias, (float)(1.0 / Math.Sqrt(hd)));
        var attnOut = Hooks.Apply(n.AttnOut, Ops.Linear(AttentionCore.MergeHeads(z), P(l + "attention.dense.weight"), POpt(l + "attention.dense.bias")));

        Tensor mlpIn, residual;
        if (_c.UseParallelResidual) { mlpIn = x; residual = Ops.Add(x, attnOut); }
        else { residual = Hooks.Apply(n.ResidMid, Ops.Add(x, attnOut)); mlpIn = residual; }
        var ln2 = Ops.LayerNorm(mlpIn, P(l + "post_attention_layernorm.weight"), P(l + "post_attention_layernorm.bias"), eps);
        var pre = Hooks.Apply(n.MlpPre, Ops.Linear(ln2, P(l + "mlp.dense_h_to_4h.weight"), P(l + "mlp.dense_h_to_4h.bias")));
        var post = Hooks.Apply(n.MlpPost, Activations.Apply(_c.HiddenAct, pre));
        var mlpOut = Hooks.Apply(n.MlpOut, Ops.Linear(post, P(l + "mlp.dense_4h_to_h.weight"), P(l + "mlp.dense_4h_to_h.bias")));
        return Hooks.Apply(n.ResidPost, Ops.Add(residual, mlpOut));
    }
}
