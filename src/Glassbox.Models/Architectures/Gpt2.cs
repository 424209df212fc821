// GPT-2 (Radford et al. 2019), as transformers' modeling_gpt2 (GPT2LMHeadModel): pre-norm decoder
// blocks, learned absolute positions, tied LM head. Parameter names are the checkpoint's.
//   x = wte[ids] + wpe[pos]
//   block:  x = x + c_proj·Attention(ln_1(x)) ; x = x + mlp.c_proj·gelu_new(mlp.c_fc·ln_2(x))
//   logits = ln_f(x)·wteᵀ
// GPT-2's projections are Conv1D modules: weights stored [in, out] (y = x·W + b), so they are
// applied with MatMul as stored, which keeps Parameters equal to the checkpoint's tensors.
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public sealed class Gpt2 : TransformerModel, ICausalLanguageModel, ILastTokenLogits
{
    private const string P_ = "transformer.";
    private readonly Gpt2Config _c;
    private readonly BlockHookNames[] _blocks;

    public Gpt2(Gpt2Config config, IReadOnlyDictionary<string, Tensor> parameters) : base(parameters)
    {
        _c = config;
        _blocks = Enumerable.Range(0, config.NLayer).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
    }

    public Gpt2Config Config => _c;
    public override int LayerCount => _c.NLayer;
    public override string ArchitectureName => "GPT2LMHeadModel";
    public int VocabSize => _c.VocabSize;
    public int MaxPositions => _c.NPositions;
    public IReadOnlyList<int> EosTokenIds => _c.EosTokenIds;
    public int? PadTokenId => _c.PadTokenId;
    public Tensor TokenEmbeddings => P(P_ + "wte.weight");
    private Tensor LmHead => _c.TieWordEmbeddings ? P(P_ + "wte.weight") : P("lm_head.weight");

    /// <summary>Parameter names and shapes the architecture expects.</summary>
    public static Dictionary<string, int[]> ExpectedParameters(Gpt2Config c)
    {
        int h = c.NEmbd, f = c.NInner;
        var e = new Dictionary<string, int[]>
        {
            [P_ + "wte.weight"] = [c.VocabSize, h],
            [P_ + "wpe.weight"] = [c.NPositions, h],
            [P_ + "ln_f.weight"] = [h],
            [P_ + "ln_f.bias"] = [h],
        };
        for (int i = 0; i < c.NLayer; i++)
        {
            string l = $"{P_}h.{i}.";
            e[l + "ln_1.weight"] = [h]; e[l + "ln_1.bias"] = [h];
            e[l + "attn.c_attn.weight"] = [h, 3 * h]; e[l + "attn.c_attn.bias"] = [3 * h];
            e[l + "attn.c_proj.weight"] = [h, h]; e[l + "attn.c_proj.bias"] = [h];
            e[l + "ln_2.weight"] = [h]; e[l + "ln_2.bias"] = [h];
            e[l + "mlp.c_fc.weight"] = [h, f]; e[l + "mlp.c_fc.bias"] = [f];
            e[l + "mlp.c_proj.weight"] = [f, h]; e[l + "mlp.c_proj.bias"] = [h];
        }
        if (!c.TieWordEmbeddings) e["lm_head.weight"] = [c.VocabSize, h];
        return e;
    }

    /// <summary>Binds a GPT2LMHeadModel (or bare GPT2Model, e.g. OpenAI's "gpt2" files without the
    /// "transformer." prefix) checkpoint; fp16/bf16 weights are widened to float32.</summary>
    public static Gpt2 Load(Gpt2Config config, Checkpoint checkpoint, bool strict = true)
    {
        var options = new BindingOptions
        {
            Strict = strict,
            BasePrefix = P_,
            // A tied head may still be stored; transformers ignores it and uses wte.
            IgnoreUnexpected = config.TieWordEmbeddings ? [.. BindingOptions.DefaultIgnoredUnexpected, @"^lm_head\.weight$"] : BindingOptions.DefaultIgnoredUnexpected,
        };
        return new Gpt2(config, Bind(checkpoint, ExpectedParameters(config), options));
    }

    public override ModelOutput Forward(ModelInput input) => Run(input, null);

    public Tensor ForwardLogits(ModelInput input, KvCache? cache = null) => Run(input, cache).Logits!;

    /// <summary>Logits of the last position only, [batch, 1, vocab] (transformers' logits_to_keep = 1).</summary>
    public Tensor ForwardLastLogits(ModelInput input, KvCache? cache = null) => Run(input, cache, lastOnly: true).Logits!;

    public Tensor Unembed(Tensor residual, bool withFinalNorm = true)
    {
        var x = withFinalNorm ? Ops.LayerNorm(residual, P(P_ + "ln_f.weight"), P(P_ + "ln_f.bias"), _c.LayerNormEpsilon) : residual;
        return Ops.Linear(x, LmHead);
    }

    private ModelOutput Run(ModelInput input, KvCache? cache, bool lastOnly = false)
    {
        var step = CausalStep.Begin(ArchitectureName, input, cache, _c.NPositions, "n_positions");
        int b = input.Batch, s = input.SeqLength;
        var tok = Hooks.Apply("hook_embed", Ops.Embedding(P(P_ + "wte.weight"), input.InputIds, b, s));
        var pos = Hooks.Apply("hook_pos_embed", Ops.Embedding(P(P_ + "wpe.weight"), step.Positions, b, s));
        var x = Ops.Add(tok, pos);
        if (input.TokenTypeIds is not null) // GPT-2 embeds token types with the word embeddings
            x = Ops.Add(x, Hooks.Apply("hook_type_embed", Ops.Embedding(P(P_ + "wte.weight"), input.TokenTypeIds, b, s)));
        for (int i = 0; i < _c.NLayer; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(Block(i, x, step));
        }
        step.Commit();
        var final = Hooks.Apply("ln_final.hook_normalized", Ops.LayerNorm(x, P(P_ + "ln_f.weight"), P(P_ + "ln_f.bias"), _c.LayerNormEpsilon));
        var head = lastOnly && input.SeqLength > 1 ? Ops.Narrow(final, 1, input.SeqLength - 1, 1) : final;
        return new ModelOutput { Logits = Ops.Linear(head, LmHead), LastHiddenState = final };
    }

    private Tensor Block(int i, Tensor x, CausalStep step)
    {
        var n = _blocks[i];
        string l = $"{P_}h.{i}.";
        int h = _c.NEmbd, heads = _c.NHead, hd = h / heads;
        float eps = _c.LayerNormEpsilon;
        x = Hooks.Apply(n.ResidPre, x);

        var qkv = Conv1D(Ops.LayerNorm(x, P(l + "ln_1.weight"), P(l + "ln_1.bias"), eps), l + "attn.c_attn");
        var q = AttentionCore.SplitHeads(Hooks, n.Attn.Q, Ops.Narrow(qkv, 2, 0, h), heads, hd);
        var k = AttentionCore.SplitHeads(Hooks, n.Attn.K, Ops.Narrow(qkv, 2, h, h), heads, hd);
        var v = AttentionCore.SplitHeads(Hooks, n.Attn.V, Ops.Narrow(qkv, 2, 2 * h, h), heads, hd);
        (k, v) = step.Extend(i, k, v);
        double scale = 1.0;
        if (_c.ScaleAttnWeights) scale /= Math.Sqrt(hd);
        if (_c.ScaleAttnByInverseLayerIdx) scale /= i + 1;
        var z = AttentionCore.Attend(Hooks, n.Attn, q, k, v, step.Bias, (float)scale);
        var attnOut = Hooks.Apply(n.AttnOut, Conv1D(AttentionCore.MergeHeads(z), l + "attn.c_proj"));
        var mid = Hooks.Apply(n.ResidMid, Ops.Add(x, attnOut));

        var pre = Hooks.Apply(n.MlpPre, Conv1D(Ops.LayerNorm(mid, P(l + "ln_2.weight"), P(l + "ln_2.bias"), eps), l + "mlp.c_fc"));
        var post = Hooks.Apply(n.MlpPost, Activations.Apply(_c.ActivationFunction, pre));
        var mlpOut = Hooks.Apply(n.MlpOut, Conv1D(post, l + "mlp.c_proj"));
        return Hooks.Apply(n.ResidPost, Ops.Add(mid, mlpOut));
    }

    /// <summary>transformers' Conv1D: x·W + b with W stored [in, out].</summary>
    private Tensor Conv1D(Tensor x, string module) => Ops.Add(Ops.MatMul(x, P(module + ".weight")), P(module + ".bias"));
}
