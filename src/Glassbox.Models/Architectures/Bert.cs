// BERT (Devlin et al. 2019), as transformers' modeling_bert: post-norm encoder blocks,
// learned absolute positions, token types. Parameter names are the checkpoint's.
//   embeddings = LayerNorm(word[ids] + position[pos] + token_type[types])
//   block:  a = LayerNorm(x + Wo·Attention(x)) ; y = LayerNorm(a + W2·act(W1·a))
// Heads: masked LM (transform + tied decoder), sequence classification (pooler on [CLS]),
// token classification, extractive QA.
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public enum BertHead { None, MaskedLM, SequenceClassification, TokenClassification, QuestionAnswering }

public sealed class Bert : TransformerModel
{
    private readonly BertConfig _c;
    private readonly BertHead _head;
    private readonly string _p; // "bert." (or "" for a bare BertModel checkpoint)
    private readonly BlockHookNames[] _blocks;

    public Bert(BertConfig config, BertHead head, IReadOnlyDictionary<string, Tensor> parameters, string prefix = "bert.") : base(parameters)
    {
        _c = config; _head = head; _p = prefix;
        _blocks = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
    }

    public BertConfig Config => _c;
    public BertHead Head => _head;
    public override int LayerCount => _c.NumHiddenLayers;
    public override string ArchitectureName => _head switch
    {
        BertHead.MaskedLM => "BertForMaskedLM",
        BertHead.SequenceClassification => "BertForSequenceClassification",
        BertHead.TokenClassification => "BertForTokenClassification",
        BertHead.QuestionAnswering => "BertForQuestionAnswering",
        _ => "BertModel",
    };

    /// <summary>Parameter names and shapes the architecture expects.</summary>
    public static Dictionary<string, int[]> ExpectedParameters(BertConfig c, BertHead head, int numLabels, string prefix = "bert.")
    {
        int h = c.HiddenSize, f = c.IntermediateSize;
        var e = BertEncoder.ExpectedParameters(c, prefix);
        switch (head)
        {
            case BertHead.MaskedLM:
                e["cls.predictions.transform.dense.weight"] = [h, h]; e["cls.predictions.transform.dense.bias"] = [h];
                e["cls.predictions.transform.LayerNorm.weight"] = [h]; e["cls.predictions.transform.LayerNorm.bias"] = [h];
                e["cls.predictions.bias"] = [c.VocabSize];
                break;
            case BertHead.SequenceClassification:
                e[prefix + "pooler.dense.weight"] = [h, h]; e[prefix + "pooler.dense.bias"] = [h];
                e["classifier.weight"] = [numLabels, h]; e["classifier.bias"] = [numLabels];
                break;
            case BertHead.TokenClassification:
                e["classifier.weight"] = [numLabels, h]; e["classifier.bias"] = [numLabels];
                break;
            case BertHead.QuestionAnswering:
                e["qa_outputs.weight"] = [2, h]; e["qa_outputs.bias"] = [2];
                break;
        }
        return e;
    }

    public static Bert Load(BertConfig config, BertHead head, Checkpoint checkpoint, bool strict = true)
    {
        int labels = config.NumLabels;
        var expected = ExpectedParameters(config, head, labels);
        var options = new BindingOptions
        {
            Strict = strict,
            // The MLM decoder is tied to the word embeddings; its bias is cls.predictions.bias.
            IgnoreUnexpected = [.. BindingOptions.DefaultIgnoredUnexpected, "cls.predictions.decoder.weight", "cls.predictions.decoder.bias",
                "bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.seq_relationship.weight", "cls.seq_relationship.bias"],
        };
        return new Bert(config, head, Bind(checkpoint, expected, options));
    }

    public override ModelOutput Forward(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength, h = _c.HiddenSize;
        if (s > _c.MaxPositionEmbeddings)
            throw new ArgumentException($"{ArchitectureName}: the input has {s} tokens but max_position_embeddings is {_c.MaxPositionEmbeddings}; truncate the input (e.g. --max-length {_c.MaxPositionEmbeddings}).");
        var x = Embeddings(input);
        using var bias = input.AttentionMask is null ? null : Ops.AttentionBias(input.AttentionMask, b, s, s, causal: false);
        for (int i = 0; i < _c.NumHiddenLayers; i++)
        {
            // Intermediates of a block go back to the pool when it ends (inference only).
            using var scope = TensorScope.Enter();
            x = scope.Keep(Block(i, x, bias));
        }

        switch (_head)
        {
            case BertHead.MaskedLM:
            {
                var t = Ops.Linear(x, P("cls.predictions.transform.dense.weight"), P("cls.predictions.transform.dense.bias"));
                t = Activations.Apply(_c.HiddenAct, t);
                t = Ops.LayerNorm(t, P("cls.predictions.transform.LayerNorm.weight"), P("cls.predictions.transform.LayerNorm.bias"), _c.LayerNormEps);
                var logits = Ops.Linear(t, P(_p + "embeddings.word_embeddings.weight"), P("cls.predictions.bias"));
                return new ModelOutput { Logits = logits, LastHiddenState = x };
            }
            case BertHead.SequenceClassification:
            {
                var cls = Heads.FirstToken(x);
                var pooled = Ops.Tanh(Ops.Linear(cls, P(_p + "pooler.dense.weight"), P(_p + "pooler.dense.bias")));
                return new ModelOutput { Logits = Ops.Linear(pooled, P("classifier.weight"), P("classifier.bias")), LastHiddenState = x };
            }
            case BertHead.TokenClassification:
                return new ModelOutput { Logits = Ops.Linear(x, P("classifier.weight"), P("classifier.bias")), LastHiddenState = x };
            case BertHead.QuestionAnswering:
                return Heads.QuestionAnswering(x, P("qa_outputs.weight"), P("qa_outputs.bias"));
            default:
                return new ModelOutput { LastHiddenState = x };
        }
    }

    private Tensor Embeddings(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength;
        var word = Hooks.Apply("hook_embed", Ops.Embedding(P(_p + "embeddings.word_embeddings.weight"), input.InputIds, b, s));
        var positions = input.PositionIds ?? input.DefaultPositions();
        var pos = Hooks.Apply("hook_pos_embed", Ops.Embedding(P(_p + "embeddings.position_embeddings.weight"), positions, b, s));
        var types = input.TokenTypeIds ?? new int[b * s];
        var type = Hooks.Apply("hook_type_embed", Ops.Embedding(P(_p + "embeddings.token_type_embeddings.weight"), types, b, s));
        var sum = Ops.Add(Ops.Add(word, type), pos);
        return Ops.LayerNorm(sum, P(_p + "embeddings.LayerNorm.weight"), P(_p + "embeddings.LayerNorm.bias"), _c.LayerNormEps);
    }

    private Tensor Block(int i, Tensor x, Tensor? bias) => BertEncoder.Layer(Hooks, P, _c, _blocks[i], $"{_p}encoder.layer.{i}.", x, bias);
}

/// <summary>The embeddings and post-norm encoder layer that BERT and RoBERTa share (same
/// checkpoint names under their own prefix, same computation).</summary>
internal static class BertEncoder
{
    public static Dictionary<string, int[]> ExpectedParameters(BertConfig c, string prefix)
    {
        int h = c.HiddenSize, f = c.IntermediateSize;
        var e = new Dictionary<string, int[]>
        {
            [prefix + "embeddings.word_embeddings.weight"] = [c.VocabSize, h],
            [prefix + "embeddings.position_embeddings.weight"] = [c.MaxPositionEmbeddings, h],
            [prefix + "embeddings.token_type_embeddings.weight"] = [c.TypeVocabSize, h],
            [prefix + "embeddings.LayerNorm.weight"] = [h],
            [prefix + "embeddings.LayerNorm.bias"] = [h],
        };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"{prefix}encoder.layer.{i}.";
            foreach (var n in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            { e[l + n + ".weight"] = [h, h]; e[l + n + ".bias"] = [h]; }
            e[l + "attention.output.LayerNorm.weight"] = [h]; e[l + "attention.output.LayerNorm.bias"] = [h];
            e[l + "intermediate.dense.weight"] = [f, h]; e[l + "intermediate.dense.bias"] = [f];
            e[l + "output.dense.weight"] = [h, f]; e[l + "output.dense.bias"] = [h];
            e[l + "output.LayerNorm.weight"] = [h]; e[l + "output.LayerNorm.bias"] = [h];
        }
        return e;
    }

    /// <summary>a = LayerNorm(x + Wo·Attention(x)); y = LayerNorm(a + W2·act(W1·a)), with hooks.
    /// l is the layer's checkpoint prefix, e.g. "bert.encoder.layer.3.".</summary>
    public static Tensor Layer(HookSet hooks, Func<string, Tensor> P, BertConfig c, BlockHookNames n, string l, Tensor x, Tensor? bias)
    {
        int heads = c.NumAttentionHeads, hd = c.HiddenSize / heads;
        x = hooks.Apply(n.ResidPre, x);
        var q = AttentionCore.SplitHeads(hooks, n.Attn.Q, Ops.Linear(x, P(l + "attention.self.query.weight"), P(l + "attention.self.query.bias")), heads, hd);
        var k = AttentionCore.SplitHeads(hooks, n.Attn.K, Ops.Linear(x, P(l + "attention.self.key.weight"), P(l + "attention.self.key.bias")), heads, hd);
        var v = AttentionCore.SplitHeads(hooks, n.Attn.V, Ops.Linear(x, P(l + "attention.self.value.weight"), P(l + "attention.self.value.bias")), heads, hd);
        var z = AttentionCore.Attend(hooks, n.Attn, q, k, v, bias, 1f / MathF.Sqrt(hd));
        var attnOut = hooks.Apply(n.AttnOut, Ops.Linear(AttentionCore.MergeHeads(z), P(l + "attention.output.dense.weight"), P(l + "attention.output.dense.bias")));
        var mid = hooks.Apply(n.ResidMid, Ops.LayerNorm(Ops.Add(attnOut, x), P(l + "attention.output.LayerNorm.weight"), P(l + "attention.output.LayerNorm.bias"), c.LayerNormEps));
        var pre = hooks.Apply(n.MlpPre, Ops.Linear(mid, P(l + "intermediate.dense.weight"), P(l + "intermediate.dense.bias")));
        var post = hooks.Apply(n.MlpPost, Activations.Apply(c.HiddenAct, pre));
        var mlpOut = hooks.Apply(n.MlpOut, Ops.Linear(post, P(l + "output.dense.weight"), P(l + "output.dense.bias")));
        return hooks.Apply(n.ResidPost, Ops.LayerNorm(Ops.Add(mlpOut, mid), P(l + "output.LayerNorm.weight"), P(l + "output.LayerNorm.bias"), c.LayerNormEps));
    }
}
