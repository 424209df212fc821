// RoBERTa (Liu et al. 2019), as transformers' modeling_roberta: BERT's post-norm encoder with
// positions counted from padding_idx + 1. Parameter names are the checkpoint's.
//   position = cumsum(ids ≠ pad) · (ids ≠ pad) + pad          (create_position_ids_from_input_ids)
//   embeddings = LayerNorm(word[ids] + position_table[position] + token_type[types])
//   block:  a = LayerNorm(x + Wo·Attention(x)) ; y = LayerNorm(a + W2·act(W1·a))
// Heads: sequence classification (dense + tanh + out_proj on <s>; no pooler), token
// classification, extractive QA, masked LM (dense + gelu + LayerNorm + tied decoder).
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public enum RobertaHead { None, MaskedLM, SequenceClassification, TokenClassification, QuestionAnswering }

public sealed class Roberta : TransformerModel
{
    private const string P0 = "roberta.";

    private readonly BertConfig _c;
    private readonly RobertaHead _head;
    private readonly int _padId;
    private readonly BlockHookNames[] _blocks;

    public Roberta(BertConfig config, RobertaHead head, IReadOnlyDictionary<string, Tensor> parameters) : base(parameters)
    {
        _c = config; _head = head;
        _padId = config.PadTokenId ?? 1;
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ArgumentException($"RoBERTa: hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
        _blocks = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
    }

    public BertConfig Config => _c;
    public RobertaHead Head => _head;
    public override int LayerCount => _c.NumHiddenLayers;
    public override string ArchitectureName => _head switch
    {
        RobertaHead.MaskedLM => "RobertaForMaskedLM",
        RobertaHead.SequenceClassification => "RobertaForSequenceClassification",
        RobertaHead.TokenClassification => "RobertaForTokenClassification",
        RobertaHead.QuestionAnswering => "RobertaForQuestionAnswering",
        _ => "RobertaModel",
    };

    /// <summary>Longest input: the position table holds padding_idx + 1 offset rows that tokens never use.</summary>
    public int MaxTokens => _c.MaxPositionEmbeddings - _padId - 1;

    /// <summary>Parameter names and shapes the architecture expects.</summary>
    public static Dictionary<string, int[]> ExpectedParameters(BertConfig c, RobertaHead head, int numLabels)
    {
        int h = c.HiddenSize, f = c.IntermediateSize;
        var e = BertEncoder.ExpectedParameters(c, P0);
        switch (head)
        {
            case RobertaHead.MaskedLM:
                e["lm_head.dense.weight"] = [h, h]; e["lm_head.dense.bias"] = [h];
                e["lm_head.layer_norm.weight"] = [h]; e["lm_head.layer_norm.bias"] = [h];
                e["lm_head.bias"] = [c.VocabSize];
                break;
            case RobertaHead.SequenceClassification:
                e["classifier.dense.weight"] = [h, h]; e["classifier.dense.bias"] = [h];
                e["classifier.out_proj.weight"] = [numLabels, h]; e["classifier.out_proj.bias"] = [numLabels];
                break;
            case RobertaHead.TokenClassification:
                e["classifier.weight"] = [numLabels, h]; e["classifier.bias"] = [numLabels];
                break;
            case RobertaHead.QuestionAnswering:
                e["qa_outputs.weight"] = [2, h]; e["qa_outputs.bias"] = [2];
                break;
        }
        return e;
    }

    public static Roberta Load(BertConfig config, RobertaHead head, Checkpoint checkpoint, bool strict = true)
    {
        var expected = ExpectedParameters(config, head, config.NumLabels);
        var options = new BindingOptions
        {
            Strict = strict,
            BasePrefix = P0,
            // The MLM decoder is tied to the word embeddings (lm_head.decoder.bias is lm_head.bias);
            // the pooler is unused by every head here.
            IgnoreUnexpected = [.. BindingOptions.DefaultIgnoredUnexpected, @"^lm_head\.decoder\.(weight|bias)$", @"^roberta\.pooler\.",
                @"^(lm_head|classifier|qa_outputs)\."],
        };
        return new Roberta(config, head, Bind(checkpoint, expected, options));
    }

    /// <summary>transformers' create_position_ids_from_input_ids: non-pad tokens count from padding_idx + 1, pads sit at padding_idx.</summary>
    public int[] PositionIds(ModelInput input)
    {
        var p = new int[input.Batch * input.SeqLength];
        for (int b = 0; b < input.Batch; b++)
        {
            int count = 0;
            for (int j = 0; j < input.SeqLength; j++)
            {
                int at = b * input.SeqLength + j;
                bool real = input.InputIds[at] != _padId;
                if (real) count++;
                p[at] = real ? count + _padId : _padId;
            }
        }
        return p;
    }

    public override ModelOutput Forward(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength, h = _c.HiddenSize;
        if (s > MaxTokens)
            throw new ArgumentException($"{ArchitectureName}: the input has {s} tokens but at most {MaxTokens} fit (max_position_embeddings {_c.MaxPositionEmbeddings} minus padding_idx + 1); truncate the input (e.g. --max-length {MaxTokens}).");
        var x = Embeddings(input);
        using var bias = input.AttentionMask is null ? null : Ops.AttentionBias(input.AttentionMask, b, s, s, causal: false);
        for (int i = 0; i < _c.NumHiddenLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(Block(i, x, bias));
        }

        switch (_head)
        {
            case RobertaHead.MaskedLM:
            {
                var t = Ops.Gelu(Ops.Linear(x, P("lm_head.dense.weight"), P("lm_head.dense.bias")));
                t = Ops.LayerNorm(t, P("lm_head.layer_norm.weight"), P("lm_head.layer_norm.bias"), _c.LayerNormEps);
                var logits = Ops.Linear(t, P(P0 + "embeddings.word_embeddings.weight"), P("lm_head.bias"));
                return new ModelOutput { Logits = logits, LastHiddenState = x };
            }
            case RobertaHead.SequenceClassification:
            {
                var first = Heads.FirstToken(x);
                var t = Ops.Tanh(Ops.Linear(first, P("classifier.dense.weight"), P("classifier.dense.bias")));
                return new ModelOutput { Logits = Ops.Linear(t, P("classifier.out_proj.weight"), P("classifier.out_proj.bias")), LastHiddenState = x };
            }
            case RobertaHead.TokenClassification:
                return new ModelOutput { Logits = Ops.Linear(x, P("classifier.weight"), P("classifier.bias")), LastHiddenState = x };
            case RobertaHead.QuestionAnswering:
                return Heads.QuestionAnswering(x, P("qa_outputs.weight"), P("qa_outputs.bias"));
            default:
                return new ModelOutput { LastHiddenState = x };
        }
    }

    private Tensor Embeddings(ModelInput input)
    {
        int b = input.Batch, s = input.SeqLength;
        var word = Hooks.Apply("hook_embed", Ops.Embedding(P(P0 + "embeddings.word_embeddings.weight"), input.InputIds, b, s));
        var positions = input.PositionIds ?? PositionIds(input);
        var pos = Hooks.Apply("hook_pos_embed", Ops.Embedding(P(P0 + "embeddings.position_embeddings.weight"), positions, b, s));
        var types = input.TokenTypeIds ?? new int[b * s];
        var type = Hooks.Apply("hook_type_embed", Ops.Embedding(P(P0 + "embeddings.token_type_embeddings.weight"), types, b, s));
        var sum = Ops.Add(Ops.Add(word, type), pos);
        return Ops.LayerNorm(sum, P(P0 + "embeddings.LayerNorm.weight"), P(P0 + "embeddings.LayerNorm.bias"), _c.LayerNormEps);
    }

    private Tensor Block(int i, Tensor x, Tensor? bias) => BertEncoder.Layer(Hooks, P, _c, _blocks[i], $"{P0}encoder.layer.{i}.", x, bias);
}
