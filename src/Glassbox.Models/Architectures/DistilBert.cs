// DistilBERT (Sanh et al. 2019), as transformers' modeling_distilbert: BERT's post-norm blocks
// with half the layers, no token types and no pooler. Parameter names are the checkpoint's.
//   embeddings = LayerNorm(word[ids] + position[pos])          (positions learned or sinusoidal)
//   block:  a = LayerNorm(x + out_lin·Attention(x)) ; y = LayerNorm(a + lin2·act(lin1·a))
// Heads: sequence classification (pre_classifier + ReLU on [CLS], then classifier), token
// classification, extractive QA, masked LM (vocab_transform + act + LayerNorm + tied projector).
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public enum DistilBertHead { None, MaskedLM, SequenceClassification, TokenClassification, QuestionAnswering }

public sealed class DistilBert : TransformerModel
{
    // DistilBERT's LayerNorms use a fixed eps (not a config key in transformers).
    private const float LayerNormEps = 1e-12f;
    private const string P0 = "distilbert.";

    private readonly DistilBertConfig _c;
    private readonly DistilBertHead _head;
    private readonly BlockHookNames[] _blocks;
    private readonly Tensor? _sinusoids; // used when the checkpoint carries no position table

    public DistilBert(DistilBertConfig config, DistilBertHead head, IReadOnlyDictionary<string, Tensor> parameters) : base(parameters)
    {
        _c = config; _head = head;
        if (config.Dim % config.NHeads != 0)
            throw new ArgumentException($"DistilBERT: dim {config.Dim} is not a multiple of n_heads {config.NHeads}.");
        _blocks = Enumerable.Range(0, config.NLayers).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
        if (!parameters.ContainsKey(P0 + "embeddings.position_embeddings.weight"))
            _sinusoids = config.SinusoidalPosEmbds ? SinusoidalTable(config.MaxPositionEmbeddings, config.Dim)
                : throw new ArgumentException("DistilBERT: the learned position table is missing and sinusoidal_pos_embds is false.");
    }

    public DistilBertConfig Config => _c;
    public DistilBertHead Head => _head;
    public override int LayerCount => _c.NLayers;
    public override string ArchitectureName => _head switch
    {
        DistilBertHead.MaskedLM => "DistilBertForMaskedLM",
        DistilBertHead.SequenceClassification => "DistilBertForSequenceClassification",
        DistilBertHead.TokenClassification => "DistilBertForTokenClassification",
        DistilBertHead.QuestionAnswering => "DistilBertForQuestionAnswering",
        _ => "DistilBertModel",
    };

    /// <summary>The sinusoidal table transformers writes into position_embeddings when sinusoidal_pos_embds is set:
    /// even columns sin(pos / 10000^(2⌊j/2⌋/dim)), odd columns the cosine.</summary>
    public static Tensor SinusoidalTable(int positions, int dim)
    {
        var t = Tensor.Empty(positions, dim);
        var s = t.Span;
        for (int pos = 0; pos < positions; pos++)
            for (int j = 0; j < dim; j++)
            {
                double angle = pos / Math.Pow(10000, 2.0 * (j / 2) / dim);
                s[pos * dim + j] = (float)(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        return t;
    }

    /// <summary>Parameter names and shapes the architecture expects.</summary>
    public static Dictionary<string, int[]> ExpectedParameters(DistilBertConfig c, DistilBertHead head, int numLabels)
    {
        int d = c.Dim, f = c.HiddenDim;
        var e = new Dictionary<string, int[]>
        {
            [P0 + "embeddings.word_embeddings.weight"] = [c.VocabSize, d],
            [P0 + "embeddings.position_embeddings.weight"] = [c.MaxPositionEmbeddings, d],
            [P0 + "embeddings.LayerNorm.weight"] = [d],
            [P0 + "embeddings.LayerNorm.bias"] = [d],
        };
        for (int i = 0; i < c.NLayers; i++)
        {
            string l = $"{P0}transformer.layer.{i}.";
            foreach (var n in new[] { "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin" })
            { e[l + n + ".weight"] = [d, d]; e[l + n + ".bias"] = [d]; }
            e[l + "sa_layer_norm.weight"] = [d]; e[l + "sa_layer_norm.bias"] = [d];
            e[l + "ffn.lin1.weight"] = [f, d]; e[l + "ffn.lin1.bias"] = [f];
            e[l + "ffn.lin2.weight"] = [d, f]; e[l + "ffn.lin2.bias"] = [d];
            e[l + "output_layer_norm.weight"] = [d]; e[l + "output_layer_norm.bias"] = [d];
        }
        switch (head)
        {
            case DistilBertHead.MaskedLM:
                e["vocab_transform.weight"] = [d, d]; e["vocab_transform.bias"] = [d];
                e["vocab_layer_norm.weight"] = [d]; e["vocab_layer_norm.bias"] = [d];
                e["vocab_projector.bias"] = [c.VocabSize];
                break;
            case DistilBertHead.SequenceClassification:
                e["pre_classifier.weight"] = [d, d]; e["pre_classifier.bias"] = [d];
                e["classifier.weight"] = [numLabels, d]; e["classifier.bias"] = [numLabels];
                break;
            case DistilBertHead.TokenClassification:
                e["classifier.weight"] = [numLabels, d]; e["classifier.bias"] = [numLabels];
                break;
            case DistilBertHead.QuestionAnswering:
                e["qa_outputs.weight"] = [2, d]; e["qa_outputs.bias"] = [2];
                break;
        }
        return e;
    }

    public static DistilBert Load(DistilBertConfig config, DistilBertHead head, Checkpoint checkpoint, bool strict = true)
    {
        var expected = ExpectedParameters(config, head, config.NumLabels);
        var options = new BindingOptions
        {
            Strict = strict,
            BasePrefix = P0,
            // The MLM projector is tied to the word embeddings; its bias is vocab_projector.bias.
            IgnoreUnexpected = [.. BindingOptions.DefaultIgnoredUnexpected, @"^vocab_projector\.weight$",
                @"^(vocab_transform|vocab_layer_norm|vocab_projector|pre_classifier|classifier|qa_outputs)\."],
            // A sinusoidal table may be left out of the checkpoint; it is then computed.
            IgnoreMissing = config.SinusoidalPosEmbds ? [@"embeddings\.position_embeddings\.weight$"] : [],
        };
        return new DistilBert(config, head, Bind(checkpoint, expected, options));
    }

    public override ModelOutput Forward(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength, d = _c.Dim;
        if (s > _c.MaxPositionEmbeddings)
            throw new ArgumentException($"{ArchitectureName}: the input has {s} tokens but max_position_embeddings is {_c.MaxPositionEmbeddings}; truncate the input (e.g. --max-length {_c.MaxPositionEmbeddings}).");
        var x = Embeddings(input);
        using var bias = input.AttentionMask is null ? null : Ops.AttentionBias(input.AttentionMask, b, s, s, causal: false);
        // Sequence classification reads only [CLS] of the last block: when the caller wants only the
        // head's outputs, that block runs its queries, attention output and FFN for [CLS] alone
        // (keys and values still cover every position), in the forward and so in the backward.
        int last = _c.NLayers - 1;
        bool clsOnly = input.HeadOnly && _head == DistilBertHead.SequenceClassification && last >= 0 && !SeesPositions(_blocks[last]);
        for (int i = 0; i < _c.NLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(Block(i, x, bias, firstOnly: clsOnly && i == last));
        }

        switch (_head)
        {
            case DistilBertHead.MaskedLM:
            {
                var t = Activations.Apply(_c.Activation, Ops.Linear(x, P("vocab_transform.weight"), P("vocab_transform.bias")));
                t = Ops.LayerNorm(t, P("vocab_layer_norm.weight"), P("vocab_layer_norm.bias"), LayerNormEps);
                var logits = Ops.Linear(t, P(P0 + "embeddings.word_embeddings.weight"), P("vocab_projector.bias"));
                return new ModelOutput { Logits = logits, LastHiddenState = x };
            }
            case DistilBertHead.SequenceClassification:
            {
                var cls = Heads.FirstToken(x);
                var pooled = Ops.Relu(Ops.Linear(cls, P("pre_classifier.weight"), P("pre_classifier.bias")));
                return new ModelOutput { Logits = Ops.Linear(pooled, P("classifier.weight"), P("classifier.bias")), LastHiddenState = x };
            }
            case DistilBertHead.TokenClassification:
                return new ModelOutput { Logits = Ops.Linear(x, P("classifier.weight"), P("classifier.bias")), LastHiddenState = x };
            case DistilBertHead.QuestionAnswering:
                return Heads.QuestionAnswering(x, P("qa_outputs.weight"), P("qa_outputs.bias"));
            default:
                return new ModelOutput { LastHiddenState = x };
        }
    }

    private Tensor Embeddings(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength;
        var word = Hooks.Apply("hook_embed", Ops.Embedding(P(P0 + "embeddings.word_embeddings.weight"), input.InputIds, b, s));
        var positions = input.PositionIds ?? input.DefaultPositions();
        var table = _sinusoids ?? P(P0 + "embeddings.position_embeddings.weight");
        var pos = Hooks.Apply("hook_pos_embed", Ops.Embedding(table, positions, b, s));
        return Ops.LayerNorm(Ops.Add(word, pos), P(P0 + "embeddings.LayerNorm.weight"), P(P0 + "embeddings.LayerNorm.bias"), LayerNormEps);
    }

    /// <summary>True when a hook is installed on a point of the block whose activation would cover
    /// fewer positions in a first-position-only block (the keys, values and block input do not).</summary>
    private bool SeesPositions(BlockHookNames n) =>
        Hooks.Any && new[] { n.Attn.Q, n.Attn.Scores, n.Attn.Pattern, n.Attn.Z, n.AttnOut, n.ResidMid, n.MlpPre, n.MlpPost, n.MlpOut, n.ResidPost }.Any(Hooks.IsHooked);

    /// <summary>One block; with firstOnly the output is [b, 1, d]: position 0 attending over all positions.</summary>
    private Tensor Block(int i, Tensor x, Tensor? bias, bool firstOnly = false)
    {
        var n = _blocks[i];
        string l = $"{P0}transformer.layer.{i}.";
        int heads = _c.NHeads, hd = _c.Dim / heads;
        x = Hooks.Apply(n.ResidPre, x);
        var xq = firstOnly ? Ops.Narrow(x, 1, 0, 1) : x;
        if (firstOnly && bias is not null) bias = Ops.Narrow(bias, 2, 0, 1); // [b, 1, s, s] → [b, 1, 1, s]
        var q = AttentionCore.SplitHeads(Hooks, n.Attn.Q, Ops.Linear(xq, P(l + "attention.q_lin.weight"), P(l + "attention.q_lin.bias")), heads, hd);
        var k = AttentionCore.SplitHeads(Hooks, n.Attn.K, Ops.Linear(x, P(l + "attention.k_lin.weight"), P(l + "attention.k_lin.bias")), heads, hd);
        var v = AttentionCore.SplitHeads(Hooks, n.Attn.V, Ops.Linear(x, P(l + "attention.v_lin.weight"), P(l + "attention.v_lin.bias")), heads, hd);
        var z = AttentionCore.Attend(Hooks, n.Attn, q, k, v, bias, 1f / MathF.Sqrt(hd));
        var attnOut = Hooks.Apply(n.AttnOut, Ops.Linear(AttentionCore.MergeHeads(z), P(l + "attention.out_lin.weight"), P(l + "attention.out_lin.bias")));
        var mid = Hooks.Apply(n.ResidMid, Ops.LayerNorm(Ops.Add(attnOut, xq), P(l + "sa_layer_norm.weight"), P(l + "sa_layer_norm.bias"), LayerNormEps));
        var pre = Hooks.Apply(n.MlpPre, Ops.Linear(mid, P(l + "ffn.lin1.weight"), P(l + "ffn.lin1.bias")));
        var post = Hooks.Apply(n.MlpPost, Activations.Apply(_c.Activation, pre));
        var mlpOut = Hooks.Apply(n.MlpOut, Ops.Linear(post, P(l + "ffn.lin2.weight"), P(l + "ffn.lin2.bias")));
        return Hooks.Apply(n.ResidPost, Ops.LayerNorm(Ops.Add(mlpOut, mid), P(l + "output_layer_norm.weight"), P(l + "output_layer_norm.bias"), LayerNormEps));
    }
}
