// Llama (Touvron et al. 2023), as transformers' modeling_llama (LlamaForCausalLM): pre-norm decoder
// blocks with RMSNorm, rotary positions on whole heads, grouped-query attention
// (num_key_value_heads ≤ num_attention_heads; each kv head serves heads/kv_heads query heads) and a
// SwiGLU MLP:
//   x = x + o_proj·Attention(input_layernorm(x))
//   x = x + down_proj(silu(gate_proj(h)) ⊙ up_proj(h)),  h = post_attention_layernorm(x)
//   logits = norm(x)·lm_headᵀ
// Hook points as TransformerLens names them for gated MLPs: mlp.hook_pre is the gate projection,
// mlp.hook_pre_linear the up projection, mlp.hook_post their product after the activation.
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public sealed class Llama : TransformerModel, ICausalLanguageModel, ILastTokenLogits
{
    private const string P_ = "model.";
    private readonly LlamaConfig _c;
    private readonly BlockHookNames[] _blocks;
    private readonly RotaryHookNames[] _rot;
    private readonly string[] _preLinear;

    public Llama(LlamaConfig config, IReadOnlyDictionary<string, Tensor> parameters) : base(parameters)
    {
        _c = config;
        _blocks = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
        _rot = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new RotaryHookNames($"blocks.{i}.attn.")).ToArray();
        _preLinear = Enumerable.Range(0, config.NumHiddenLayers).Select(i => $"blocks.{i}.mlp.hook_pre_linear").ToArray();
    }

    public LlamaConfig Config => _c;
    public override int LayerCount => _c.NumHiddenLayers;
    public override string ArchitectureName => "LlamaForCausalLM";
    public int VocabSize => _c.VocabSize;
    public int MaxPositions => _c.MaxPositionEmbeddings;
    public IReadOnlyList<int> EosTokenIds => _c.EosTokenIds;
    public int? PadTokenId => _c.PadTokenId;
    public Tensor TokenEmbeddings => P(P_ + "embed_tokens.weight");
    private Tensor LmHead => _c.TieWordEmbeddings ? P(P_ + "embed_tokens.weight") : P("lm_head.weight");

    public static Dictionary<string, int[]> ExpectedParameters(LlamaConfig c)
    {
        int h = c.HiddenSize, f = c.IntermediateSize, qd = c.NumAttentionHeads * c.HeadDim, kvd = c.NumKeyValueHeads * c.HeadDim;
        var e = new Dictionary<string, int[]>
        {
            [P_ + "embed_tokens.weight"] = [c.VocabSize, h],
            [P_ + "norm.weight"] = [h],
        };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"{P_}layers.{i}.";
            e[l + "input_layernorm.weight"] = [h];
            e[l + "post_attention_layernorm.weight"] = [h];
            e[l + "self_attn.q_proj.weight"] = [qd, h];
            e[l + "self_attn.k_proj.weight"] = [kvd, h];
            e[l + "self_attn.v_proj.weight"] = [kvd, h];
            e[l + "self_attn.o_proj.weight"] = [h, qd];
            if (c.AttentionBias)
            {
                e[l + "self_attn.q_proj.bias"] = [qd]; e[l + "self_attn.k_proj.bias"] = [kvd];
                e[l + "self_attn.v_proj.bias"] = [kvd]; e[l + "self_attn.o_proj.bias"] = [h];
            }
            e[l + "mlp.gate_proj.weight"] = [f, h];
            e[l + "mlp.up_proj.weight"] = [f, h];
            e[l + "mlp.down_proj.weight"] = [h, f];
            if (c.MlpBias) { e[l + "mlp.gate_proj.bias"] = [f]; e[l + "mlp.up_proj.bias"] = [f]; e[l + "mlp.down_proj.bias"] = [h]; }
        }
        if (!c.TieWordEmbeddings) e["lm_head.weight"] = [c.VocabSize, h];
        return e;
    }

    /// <summary>Binds a LlamaForCausalLM checkpoint; bf16/fp16 weights are widened to float32.</summary>
    public static Llama Load(LlamaConfig config, Checkpoint checkpoint, bool strict = true)
    {
        if (config.NumAttentionHeads % config.NumKeyValueHeads != 0)
            throw new ConfigException($"LlamaForCausalLM: num_attention_heads {config.NumAttentionHeads} is not a multiple of num_key_value_heads {config.NumKeyValueHeads}.");
        if (config.HeadDim % 2 != 0)
            throw new ConfigException($"LlamaForCausalLM: head_dim {config.HeadDim} must be even for rotary embeddings.");
        if (config.Rope.RopeType != "default")
            throw new NotSupportedException($"LlamaForCausalLM: rope_type '{config.Rope.RopeType}' (rope scaling) is not supported; only 'default' rotary embeddings are.");
        var options = new BindingOptions
        {
            Strict = strict,
            BasePrefix = P_,
            IgnoreUnexpected = config.TieWordEmbeddings ? [.. BindingOptions.DefaultIgnoredUnexpected, @"^lm_head\.weight$"] : BindingOptions.DefaultIgnoredUnexpected,
        };
        return new Llama(config, Bind(checkpoint, ExpectedParameters(config), options));
    }

    public override ModelOutput Forward(ModelInput input) => Run(input, null);

    public Tensor ForwardLogits(ModelInput input, KvCache? cache = null) => Run(input, cache).Logits!;

    /// <summary>Logits of the last position only, [batch, 1, vocab] (transformers' logits_to_keep = 1).</summary>
    public Tensor ForwardLastLogits(ModelInput input, KvCache? cache = null) => Run(input, cache, lastOnly: true).Logits!;

    public Tensor Unembed(Tensor residual, bool withFinalNorm = true)
    {
        var x = withFinalNorm ? Ops.RmsNorm(residual, P(P_ + "norm.weight"), _c.RmsNormEps) : residual;
        return Ops.Linear(x, LmHead);
    }

    private ModelOutput Run(ModelInput input, KvCache? cache, bool lastOnly = false)
    {
        var step = CausalStep.Begin(ArchitectureName, input, cache, _c.MaxPositionEmbeddings, "max_position_embeddings");
        var x = Hooks.Apply("hook_embed", Ops.Embedding(P(P_ + "embed_tokens.weight"), input.InputIds, input.Batch, input.SeqLength));
        for (int i = 0; i < _c.NumHiddenLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(Block(i, x, step));
        }
        step.Commit();
        var final = Hooks.Apply("ln_final.hook_normalized", Ops.RmsNorm(x, P(P_ + "norm.weight"), _c.RmsNormEps));
        var head = lastOnly && input.SeqLength > 1 ? Ops.Narrow(final, 1, input.SeqLength - 1, 1) : final;
        return new ModelOutput { Logits = Ops.Linear(head, LmHead), LastHiddenState = final };
    }

    private Tensor Block(int i, Tensor x, CausalStep step)
    {
        var n = _blocks[i];
        string l = $"{P_}layers.{i}.";
        int heads = _c.NumAttentionHeads, kvHeads = _c.NumKeyValueHeads, hd = _c.HeadDim;
        x = Hooks.Apply(n.ResidPre, x);

        var h = Ops.RmsNorm(x, P(l + "input_layernorm.weight"), _c.RmsNormEps);
        var q = AttentionCore.SplitHeads(Hooks, n.Attn.Q, Proj(h, l + "self_attn.q_proj"), heads, hd);
        var k = AttentionCore.SplitHeads(Hooks, n.Attn.K, Proj(h, l + "self_attn.k_proj"), kvHeads, hd);
        var v = AttentionCore.SplitHeads(Hooks, n.Attn.V, Proj(h, l + "self_attn.v_proj"), kvHeads, hd);
        q = RotaryHookNames.Apply(Hooks, _rot[i].RotQ, Ops.Rotary(q, step.Positions, hd, _c.Rope.Theta));
        k = RotaryHookNames.Apply(Hooks, _rot[i].RotK, Ops.Rotary(k, step.Positions, hd, _c.Rope.Theta));
        (k, v) = step.Extend(i, k, v);
        var z = AttentionCore.Attend(Hooks, n.Attn, q, k, v, step.Bias, (float)(1.0 / Math.Sqrt(hd)));
        var attnOut = Hooks.Apply(n.AttnOut, Proj(AttentionCore.MergeHeads(z), l + "self_attn.o_proj"));
        var mid = Hooks.Apply(n.ResidMid, Ops.Add(x, attnOut));

        var h2 = Ops.RmsNorm(mid, P(l + "post_attention_layernorm.weight"), _c.RmsNormEps);
        var gate = Hooks.Apply(n.MlpPre, Proj(h2, l + "mlp.gate_proj"));
        var up = Hooks.Apply(_preLinear[i], Proj(h2, l + "mlp.up_proj"));
        var post = Hooks.Apply(n.MlpPost, Ops.Mul(Activations.Apply(_c.HiddenAct, gate), up));
        var mlpOut = Hooks.Apply(n.MlpOut, Proj(post, l + "mlp.down_proj"));
        return Hooks.Apply(n.ResidPost, Ops.Add(mid, mlpOut));
    }

    private Tensor Proj(Tensor x, string module) => Ops.Linear(x, P(module + ".weight"), POpt(module + ".bias"));
}
