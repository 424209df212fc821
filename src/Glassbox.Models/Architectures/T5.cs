// T5 (Raffel et al. 2020), as transformers' modeling_t5: an encoder–decoder of pre-norm blocks
// with no biases anywhere, RMS layer norms (T5LayerNorm: no mean, no bias), unscaled dot-product
// attention and no absolute positions — position enters only as a learned per-head bias over
// bucketed relative distances, held by each stack's first block and reused by every later block.
//   encoder:  x = shared[ids];  block: x += Attn(norm(x), bias_bidir + mask);  x += FF(norm(x))
//             out = final_layer_norm(x)
//   decoder:  y = shared[dec_ids]; block: y += Attn(norm(y), bias_causal + causal mask)
//             y += CrossAttn(norm(y), encoder out, source mask);  y += FF(norm(y))
//             logits = lm_head(final_layer_norm(y) · d_model^-½)   (the ½-power scale when tied)
// FF is wo·act(wi·x) ("relu") or wo·(act(wi_0·x) ⊙ wi_1·x) ("gated-gelu" etc., T5 v1.1 / Flan).
// Parameter names are the checkpoint's. Hook names are DESIGN.md's under "encoder." / "decoder.";
// decoder blocks add cross_attn.* and hook_cross_attn_out (and hook_resid_mid2 after it).
using System.Text.Json;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

/// <summary>Everything one encoder–decoder pass produces.</summary>
public sealed record T5Output(Tensor Logits, Tensor DecoderHidden, Tensor EncoderHidden);

public sealed class T5 : TransformerModel, ISeq2SeqLanguageModel
{
    private readonly T5Config _c;
    private readonly float _eps;
    private readonly bool _scaleDecoderOutputs;
    private readonly string _lmHead;          // "shared.weight" when tied, else "lm_head.weight"
    private readonly BlockHookNames[] _enc, _dec;
    private readonly string[] _encPreLinear, _decPreLinear;

    public T5(T5Config config, IReadOnlyDictionary<string, Tensor> parameters, bool scaleDecoderOutputs) : base(parameters)
    {
        _c = config;
        _eps = (float)config.LayerNormEpsilon;
        _scaleDecoderOutputs = scaleDecoderOutputs;
        _lmHead = parameters.ContainsKey("lm_head.weight") ? "lm_head.weight" : "shared.weight";
        _enc = Enumerable.Range(0, config.NumLayers).Select(i => new BlockHookNames($"encoder.blocks.{i}.")).ToArray();
        _dec = Enumerable.Range(0, config.NumDecoderLayers).Select(i => new BlockHookNames($"decoder.blocks.{i}.")).ToArray();
        _encPreLinear = Enumerable.Range(0, config.NumLayers).Select(i => $"encoder.blocks.{i}.mlp.hook_pre_linear").ToArray();
        _decPreLinear = Enumerable.Range(0, config.NumDecoderLayers).Select(i => $"decoder.blocks.{i}.mlp.hook_pre_linear").ToArray();
    }

    public T5Config Config => _c;
    public override string ArchitectureName => "T5ForConditionalGeneration";
    /// <summary>Encoder blocks (decoder blocks: <see cref="DecoderLayerCount"/>).</summary>
    public override int LayerCount => _c.NumLayers;
    public int DecoderLayerCount => _c.NumDecoderLayers;
    public int VocabSize => _c.VocabSize;
    public IReadOnlyList<int> EosTokenIds => _c.EosTokenIds;
    public int? PadTokenId => _c.PadTokenId;
    public int DecoderStartTokenId => _c.DecoderStartTokenId;
    /// <summary>True when the decoder output is multiplied by d_model^-½ before the LM head.</summary>
    public bool ScalesDecoderOutputs => _scaleDecoderOutputs;
    /// <summary>The shared token-embedding matrix [vocab, d_model] (encoder and decoder inputs).</summary>
    public Tensor TokenEmbeddings => P("shared.weight");

    /// <summary>Parameter names and shapes the architecture expects.</summary>
    public static Dictionary<string, int[]> ExpectedParameters(T5Config c, bool tiedLmHead = true)
    {
        int d = c.DModel, inner = c.NumHeads * c.DKv, f = c.DFf;
        var e = new Dictionary<string, int[]> { ["shared.weight"] = [c.VocabSize, d] };
        void Attention(string p, bool relativeBias)
        {
            e[p + "q.weight"] = [inner, d]; e[p + "k.weight"] = [inner, d]; e[p + "v.weight"] = [inner, d];
            e[p + "o.weight"] = [d, inner];
            if (relativeBias) e[p + "relative_attention_bias.weight"] = [c.RelativeAttentionNumBuckets, c.NumHeads];
        }
        void FeedForward(string p)
        {
            if (c.IsGatedAct) { e[p + "DenseReluDense.wi_0.weight"] = [f, d]; e[p + "DenseReluDense.wi_1.weight"] = [f, d]; }
            else e[p + "DenseReluDense.wi.weight"] = [f, d];
            e[p + "DenseReluDense.wo.weight"] = [d, f];
            e[p + "layer_norm.weight"] = [d];
        }
        for (int i = 0; i < c.NumLayers; i++)
        {
            string l = $"encoder.block.{i}.";
            Attention(l + "layer.0.SelfAttention.", i == 0);
            e[l + "layer.0.layer_norm.weight"] = [d];
            FeedForward(l + "layer.1.");
        }
        e["encoder.final_layer_norm.weight"] = [d];
        for (int i = 0; i < c.NumDecoderLayers; i++)
        {
            string l = $"decoder.block.{i}.";
            Attention(l + "layer.0.SelfAttention.", i == 0);
            e[l + "layer.0.layer_norm.weight"] = [d];
            Attention(l + "layer.1.EncDecAttention.", false);
            e[l + "layer.1.layer_norm.weight"] = [d];
            FeedForward(l + "layer.2.");
        }
        e["decoder.final_layer_norm.weight"] = [d];
        if (!tiedLmHead) e["lm_head.weight"] = [c.VocabSize, d];
        return e;
    }

    /// <summary>Loads T5ForConditionalGeneration (or a bare T5Model checkpoint, whose head is the tied
    /// embedding). The LM head is the shared embedding when tie_word_embeddings is true; otherwise
    /// the checkpoint's lm_head.weight (T5 v1.1, Flan-T5). The decoder output is scaled by
    /// d_model^-½ when config.json says scale_decoder_outputs (transformers ≥ 5 saves it), else when
    /// tie_word_embeddings is true (what older transformers derived it from).</summary>
    public static T5 Load(T5Config config, Checkpoint checkpoint, bool strict = true)
    {
        if (config.DModel <= 0 || config.NumHeads <= 0 || config.DKv <= 0 || config.NumLayers <= 0 || config.NumDecoderLayers <= 0)
            throw new ArgumentException($"T5: d_model {config.DModel}, num_heads {config.NumHeads}, d_kv {config.DKv}, num_layers {config.NumLayers} and num_decoder_layers {config.NumDecoderLayers} must all be positive.");
        if (!Activations.Supported.Contains(config.DenseActFn))
            throw new NotSupportedException($"T5: feed_forward_proj '{config.FeedForwardProj}' uses activation '{config.DenseActFn}', which is not supported; supported: {string.Join(", ", Activations.Supported)}.");
        bool tied = config.TieWordEmbeddings;
        var expected = ExpectedParameters(config, tied);
        var renames = new List<KeyValuePair<string, string>>();
        // Some exports store the embedding only under the encoder's name.
        if (!checkpoint.Contains("shared.weight") && checkpoint.Contains("encoder.embed_tokens.weight"))
            renames.Add(new(@"^encoder\.embed_tokens\.weight$", "shared.weight"));
        var ignored = new List<string>(BindingOptions.DefaultIgnoredUnexpected)
        {
            // Copies of the shared embedding that transformers ties on load.
            @"^(encoder|decoder)\.embed_tokens\.weight$",
            // Old checkpoints carry an unused relative bias on the first cross-attention (transformers ignores it too).
            @"^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias\.weight$",
        };
        if (tied) ignored.Add(@"^lm_head\.weight$");
        var options = new BindingOptions { Strict = strict, Renames = renames, IgnoreUnexpected = ignored };
        return new T5(config, Bind(checkpoint, expected, options), ScaleDecoderOutputs(config));
    }

    /// <summary>transformers ≥ 5 saves scale_decoder_outputs; before that the model scaled exactly when tied.</summary>
    public static bool ScaleDecoderOutputs(T5Config config) =>
        config.Raw.ValueKind == JsonValueKind.Object && config.Raw.TryGetProperty("scale_decoder_outputs", out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : config.TieWordEmbeddings;

    // ---- the model, top-down ------------------------------------------------------------------

    /// <summary>Encodes the source, then decodes one step from decoder_start_token_id: Logits are the
    /// first target token's scores [batch, 1, vocab]; LastHiddenState is that step's decoder output.
    /// For teacher-forced targets use <see cref="Forward(ModelInput, ModelInput)"/>.</summary>
    public override ModelOutput Forward(ModelInput input)
    {
        var start = Enumerable.Repeat(DecoderStartTokenId, input.Batch).ToArray();
        var o = Forward(input, new ModelInput(input.Batch, 1, start));
        return new ModelOutput { Logits = o.Logits, LastHiddenState = o.DecoderHidden };
    }

    /// <summary>T5ForConditionalGeneration(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask).</summary>
    public T5Output Forward(ModelInput source, ModelInput target)
    {
        var encoded = Encode(source);
        var hidden = Decode(encoded, source.AttentionMask, target);
        return new T5Output(LmHead(hidden), hidden, encoded);
    }

    /// <summary>Encoder output [batch, srcLen, d_model] (after encoder.final_layer_norm).</summary>
    public Tensor Encode(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength;
        if (s == 0 || b == 0)
            throw new ArgumentException($"{ArchitectureName}: the source is empty (batch {b} × {s} tokens); T5 needs at least one token (its tokenizer appends </s>, id {(_c.EosTokenIds.Count > 0 ? _c.EosTokenIds[0] : 1)}).");
        var x = Hooks.Apply("encoder.hook_embed", Ops.Embedding(P("shared.weight"), input.InputIds, b, s));
        // Relative position bias (shared by all encoder blocks) plus the padding mask, as transformers folds them.
        var bias = PositionBias("encoder.", s, s, past: 0, bidirectional: true);
        if (input.AttentionMask is not null)
        {
            using var mask = Ops.AttentionBias(input.AttentionMask, b, s, s, causal: false);
            bias = Ops.Add(bias, mask);
        }
        for (int i = 0; i < _c.NumLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(EncoderBlock(i, x, bias));
        }
        return Hooks.Apply("encoder.ln_final.hook_normalized", Ops.RmsNorm(x, P("encoder.final_layer_norm.weight"), _eps));
    }

    /// <summary>Decoder logits [batch, tgtLen, vocab]. With a cache, decoderInput holds only new tokens
    /// (positions continue from cache.Length; a decoder AttentionMask, when given, covers cache + new
    /// tokens) and the cache is extended. A cache belongs to one encoder output: the cross-attention
    /// keys and values are computed on the first call and reused after.</summary>
    public Tensor DecodeLogits(Tensor encoderHidden, int[]? encoderMask, ModelInput decoderInput, KvCache? cache = null)
        => LmHead(Decode(encoderHidden, encoderMask, decoderInput, cache));

    /// <summary>Decoder output [batch, tgtLen, d_model] after decoder.final_layer_norm (before the LM head's scale).</summary>
    public Tensor Decode(Tensor encoderHidden, int[]? encoderMask, ModelInput decoderInput, KvCache? cache = null)
    {
        int b = decoderInput.Batch, t = decoderInput.SeqLength, past = cache?.Length ?? 0;
        if (encoderHidden.Rank != 3 || encoderHidden.Shape[0] != b || encoderHidden.Shape[2] != _c.DModel)
            throw new ArgumentException($"{ArchitectureName}: encoder output has shape {ShapeUtil.Format(encoderHidden.Shape)}; the decoder input (batch {b}) needs [{b}, srcLen, {_c.DModel}].");
        int src = encoderHidden.Shape[1];
        if (encoderMask is not null && encoderMask.Length != b * src)
            throw new ArgumentException($"{ArchitectureName}: the source mask has {encoderMask.Length} entries; batch {b} × source {src} needs {b * src}.");
        if (t == 0) throw new ArgumentException($"{ArchitectureName}: the decoder input is empty; start it with decoder_start_token_id ({DecoderStartTokenId}).");
        if (decoderInput.AttentionMask is { } dm && dm.Length != b * (past + t))
            throw new ArgumentException($"{ArchitectureName}: the decoder attention mask has {dm.Length} entries; with {past} cached positions it must cover batch {b} × {past + t}.");

        var y = Hooks.Apply("decoder.hook_embed", Ops.Embedding(P("shared.weight"), decoderInput.InputIds, b, t));
        // Causal self-attention: unidirectional relative buckets, queries at past..past+t-1.
        using var causal = Ops.AttentionBias(decoderInput.AttentionMask ?? [], b, t, past + t, causal: true, pastLength: past);
        var selfBias = Ops.Add(PositionBias("decoder.", t, past + t, past, bidirectional: false), causal);
        // Cross-attention has no position bias: only the source padding mask.
        var crossBias = encoderMask is null ? null : Ops.AttentionBias(encoderMask, b, t, src, causal: false);
        for (int i = 0; i < _c.NumDecoderLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            y = scope.Keep(DecoderBlock(i, y, selfBias, encoderHidden, crossBias, cache));
        }
        if (cache is not null) cache.Length = past + t;
        return Hooks.Apply("decoder.ln_final.hook_normalized", Ops.RmsNorm(y, P("decoder.final_layer_norm.weight"), _eps));
    }

    /// <summary>LM head on a decoder output [.., d_model] (already final-normed): scale, then project.</summary>
    public Tensor LmHead(Tensor decoderOutput)
    {
        var h = _scaleDecoderOutputs ? Ops.Mul(decoderOutput, (float)Math.Pow(_c.DModel, -0.5)) : decoderOutput;
        return Ops.Linear(h, P(_lmHead));
    }

    /// <summary>Logit lens on the decoder residual stream: decoder.final_layer_norm (unless told not to), then the LM head.</summary>
    public Tensor Unembed(Tensor residual, bool withFinalNorm = true) =>
        LmHead(withFinalNorm ? Ops.RmsNorm(residual, P("decoder.final_layer_norm.weight"), _eps) : residual);

    private Tensor EncoderBlock(int i, Tensor x, Tensor bias)
    {
        var n = _enc[i];
        string l = $"encoder.block.{i}.";
        x = Hooks.Apply(n.ResidPre, x);
        var normed = Ops.RmsNorm(x, P(l + "layer.0.layer_norm.weight"), _eps);
        var attnOut = Hooks.Apply(n.AttnOut, Attention(l + "layer.0.SelfAttention.", n.Attn, normed, normed, bias, null, null));
        var mid = Hooks.Apply(n.ResidMid, Ops.Add(x, attnOut));
        var mlpOut = Hooks.Apply(n.MlpOut, FeedForward(l + "layer.1.", n, _encPreLinear[i], mid));
        return Hooks.Apply(n.ResidPost, Ops.Add(mid, mlpOut));
    }

    private Tensor DecoderBlock(int i, Tensor y, Tensor selfBias, Tensor encoderHidden, Tensor? crossBias, KvCache? cache)
    {
        var n = _dec[i];
        string l = $"decoder.block.{i}.";
        string c = $"decoder.blocks.{i}.";
        y = Hooks.Apply(n.ResidPre, y);
        var normed = Ops.RmsNorm(y, P(l + "layer.0.layer_norm.weight"), _eps);
        var attnOut = Hooks.Apply(n.AttnOut, Attention(l + "layer.0.SelfAttention.", n.Attn, normed, normed, selfBias, cache, c));
        var mid = Hooks.Apply(n.ResidMid, Ops.Add(y, attnOut));
        var crossNormed = Ops.RmsNorm(mid, P(l + "layer.1.layer_norm.weight"), _eps);
        var crossOut = Hooks.Apply(n.CrossAttnOut, Attention(l + "layer.1.EncDecAttention.", n.CrossAttn, crossNormed, encoderHidden, crossBias, cache, c + "cross_", cross: true));
        var mid2 = Hooks.Apply(n.ResidMid2, Ops.Add(mid, crossOut));
        var mlpOut = Hooks.Apply(n.MlpOut, FeedForward(l + "layer.2.", n, _decPreLinear[i], mid2));
        return Hooks.Apply(n.ResidPost, Ops.Add(mid2, mlpOut));
    }

    /// <summary>T5Attention: o(softmax(q·kᵀ + bias)·v), no 1/√d scaling (folded into T5's initialisation).
    /// Self-attention with a cache appends this step's keys/values; cross-attention computes the
    /// encoder's keys/values once per cache.</summary>
    private Tensor Attention(string p, AttentionHookNames n, Tensor x, Tensor kvSource, Tensor? bias, KvCache? cache, string? cacheKey, bool cross = false)
    {
        int heads = _c.NumHeads, dk = _c.DKv;
        var q = AttentionCore.SplitHeads(Hooks, n.Q, Ops.Linear(x, P(p + "q.weight")), heads, dk);
        Tensor k, v;
        if (cross && cache is not null && cache.TryGet(cacheKey + "k", out var ck) && cache.TryGet(cacheKey + "v", out var cv))
        {
            if (ck.Shape[0] != kvSource.Shape[0] || ck.Shape[2] != kvSource.Shape[1])
                throw new InvalidOperationException($"{ArchitectureName}: the cache holds cross-attention keys for {ck.Shape[0]} × {ck.Shape[2]} source positions, but this encoder output is {kvSource.Shape[0]} × {kvSource.Shape[1]}; use a new KvCache per source.");
            k = ck; v = cv;
        }
        else
        {
            k = AttentionCore.SplitHeads(Hooks, n.K, Ops.Linear(kvSource, P(p + "k.weight")), heads, dk);
            v = AttentionCore.SplitHeads(Hooks, n.V, Ops.Linear(kvSource, P(p + "v.weight")), heads, dk);
            if (cache is not null)
            {
                if (!cross && cache.TryGet(cacheKey + "k", out var pk) && cache.TryGet(cacheKey + "v", out var pv))
                {
                    k = Ops.Concat([pk, k], 2);
                    v = Ops.Concat([pv, v], 2);
                }
                cache.Set(cacheKey + "k", k);
                cache.Set(cacheKey + "v", v);
            }
        }
        var z = AttentionCore.Attend(Hooks, n, q, k, v, bias, 1f);
        return Ops.Linear(AttentionCore.MergeHeads(z), P(p + "o.weight"));
    }

    /// <summary>T5LayerFF without its residual: wo·act(wi·norm(x)), or wo·(act(wi_0·norm(x)) ⊙ wi_1·norm(x)).</summary>
    private Tensor FeedForward(string p, BlockHookNames n, string preLinearHook, Tensor x)
    {
        var normed = Ops.RmsNorm(x, P(p + "layer_norm.weight"), _eps);
        Tensor post;
        if (_c.IsGatedAct)
        {
            var pre = Hooks.Apply(n.MlpPre, Ops.Linear(normed, P(p + "DenseReluDense.wi_0.weight")));
            var linear = Hooks.Apply(preLinearHook, Ops.Linear(normed, P(p + "DenseReluDense.wi_1.weight")));
            post = Hooks.Apply(n.MlpPost, Ops.Mul(Activations.Apply(_c.DenseActFn, pre), linear));
        }
        else
        {
            var pre = Hooks.Apply(n.MlpPre, Ops.Linear(normed, P(p + "DenseReluDense.wi.weight")));
            post = Hooks.Apply(n.MlpPost, Activations.Apply(_c.DenseActFn, pre));
        }
        return Ops.Linear(post, P(p + "DenseReluDense.wo.weight"));
    }

    /// <summary>The stack's relative position bias [1, heads, q, k] from its first block's table;
    /// query i sits at position past + i, key j at j (relative position j − (past + i)).</summary>
    private Tensor PositionBias(string stack, int queryLength, int keyLength, int past, bool bidirectional)
    {
        var buckets = new int[queryLength * keyLength];
        for (int i = 0; i < queryLength; i++)
            for (int j = 0; j < keyLength; j++)
                buckets[i * keyLength + j] = RelativePositionBucket(j - (past + i), bidirectional, _c.RelativeAttentionNumBuckets, _c.RelativeAttentionMaxDistance);
        var table = P(stack + "block.0.layer.0.SelfAttention.relative_attention_bias.weight"); // [buckets, heads]
        var values = Ops.Embedding(table, buckets, queryLength, keyLength);                    // [q, k, heads]
        var perHead = Ops.Permute(values, 2, 0, 1);                                            // [heads, q, k]
        return Ops.Reshape(perHead, 1, _c.NumHeads, queryLength, keyLength);
    }

    /// <summary>Mesh TensorFlow's bucketing of relative position = key − query. Bidirectional: half the
    /// buckets for keys after the query. Within a half, distances below half the buckets are exact;
    /// the rest are logarithmic up to maxDistance, beyond which all share the last bucket. Unidirectional
    /// (decoder): keys after the query (never attended) fall in bucket 0. The logarithmic part is
    /// computed in float32, as torch computes it, so bucket boundaries land where transformers' do.</summary>
    public static int RelativePositionBucket(int relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        int bucket = 0, n = relativePosition;
        if (bidirectional)
        {
            numBuckets /= 2;
            if (n > 0) bucket += numBuckets;
            n = Math.Abs(n);
        }
        else n = Math.Max(-n, 0);
        int maxExact = numBuckets / 2;
        if (n < maxExact) return bucket + n;
        float ratio = (float)n / maxExact;
        float scaled = MathF.Log(ratio) / (float)Math.Log((double)maxDistance / maxExact) * (numBuckets - maxExact);
        int large = maxExact + (int)scaled;
        return bucket + Math.Min(large, numBuckets - 1);
    }
}
