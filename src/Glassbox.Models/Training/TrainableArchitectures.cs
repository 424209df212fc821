// What the trainer needs to know about each architecture it trains: the parameters and how
// transformers initialises them (_init_weights), how a checkpoint binds when a head is new, where
// dropout sits in training mode, and the classification head recomputed with its dropout.
//
// Dropout follows transformers' modules in train() mode. The architectures have no dropout of their
// own (they are inference code), so it is added at hook points that sit exactly where transformers
// applies it:
//   embeddings dropout         blocks.0.hook_resid_pre   (after the embedding LayerNorm / wte + wpe)
//   attention-probs dropout    blocks.{i}.attn.hook_pattern
//   attention-output dropout   blocks.{i}.hook_attn_out  (BERT/RoBERTa BertSelfOutput, GPT-2 resid_dropout;
//                                                         DistilBERT has none here)
//   feed-forward dropout       blocks.{i}.hook_mlp_out   (BertOutput, DistilBERT FFN, GPT-2 MLP)
// and the classification head (which has no hook point) is recomputed from the last hidden state
// with its own dropout: DistilBERT seq_classif_dropout, BERT/RoBERTa classifier_dropout (or
// hidden_dropout_prob). With all rates 0 the recomputed logits equal the model's own.
using System.Text.Json.Nodes;
using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Training;

/// <summary>Dropout probabilities of one architecture in training mode, read from config.json.</summary>
/// <param name="Embeddings">After the embeddings.</param>
/// <param name="Attention">On the attention probabilities.</param>
/// <param name="AttentionOutput">On the attention output projection (before the residual add).</param>
/// <param name="FeedForward">On the feed-forward output (before the residual add).</param>
/// <param name="Classifier">Inside the classification head.</param>
public sealed record DropoutRates(float Embeddings, float Attention, float AttentionOutput, float FeedForward, float Classifier)
{
    /// <summary>No dropout anywhere.</summary>
    public static DropoutRates None { get; } = new(0, 0, 0, 0, 0);

    /// <summary>True when every rate is 0.</summary>
    public bool IsNone => Embeddings == 0 && Attention == 0 && AttentionOutput == 0 && FeedForward == 0 && Classifier == 0;
}

/// <summary>Inverted dropout (as torch.nn.functional.dropout in training mode): zero with probability p,
/// scale the rest by 1/(1−p). Masks come from a seeded generator, so a run is reproducible.</summary>
public sealed class Dropout(TrainingRandom random)
{
    /// <summary>x·mask/(1−p), differentiable in x; returns x itself when p is 0.</summary>
    public Tensor Apply(Tensor x, float p)
    {
        if (p <= 0) return x;
        if (p >= 1) return Ops.Mul(x, 0f);
        float keep = 1f / (1f - p);
        var mask = Tensor.Empty(x.Shape);
        var m = mask.Span;
        for (int i = 0; i < m.Length; i++) m[i] = random.NextSingle() < p ? 0f : keep;
        return Ops.Mul(x, mask);
    }

    /// <summary>Installs the block-level dropouts of <paramref name="rates"/> on a model's hook points; dispose to remove.</summary>
    public IDisposable Install(TransformerModel model, DropoutRates rates)
    {
        var handles = new List<IDisposable>();
        if (rates.Embeddings > 0) handles.Add(model.Hooks.Replace("blocks.0.hook_resid_pre", (_, x) => Apply(x, rates.Embeddings)));
        if (rates.Attention > 0) handles.Add(model.Hooks.Replace("blocks.*.attn.hook_pattern", (_, x) => Apply(x, rates.Attention)));
        if (rates.AttentionOutput > 0) handles.Add(model.Hooks.Replace("blocks.*.hook_attn_out", (_, x) => Apply(x, rates.AttentionOutput)));
        if (rates.FeedForward > 0) handles.Add(model.Hooks.Replace("blocks.*.hook_mlp_out", (_, x) => Apply(x, rates.FeedForward)));
        return new Handles(handles);
    }

    private sealed class Handles(List<IDisposable> handles) : IDisposable
    {
        public void Dispose()
        {
            for (int i = handles.Count - 1; i >= 0; i--) handles[i].Dispose();
            handles.Clear();
        }
    }
}

/// <summary>One trainable architecture (internal plumbing of the trainers).</summary>
internal abstract class TrainableArchitecture
{
    /// <summary>The Hugging Face class written to config.json "architectures".</summary>
    public abstract string ArchitectureName { get; }

    /// <summary>The base-model prefix of checkpoint names ("distilbert.", "bert.", ...).</summary>
    public abstract string BasePrefix { get; }

    public abstract Dictionary<string, int[]> Expected(ModelConfig config);

    /// <summary>Checkpoint names that are never part of this model (other heads, tied copies, buffers).</summary>
    public virtual IReadOnlyList<string> IgnoredCheckpointNames => BindingOptions.DefaultIgnoredUnexpected;

    /// <summary>Parameters of the task head (re-initialised when a checkpoint's head does not fit).</summary>
    public abstract bool IsHead(string name);

    public abstract TransformerModel Build(ModelConfig config, IReadOnlyDictionary<string, Tensor> parameters);

    public abstract DropoutRates Dropout(JsonObject config);

    /// <summary>Training-mode logits: the model's forward with the head recomputed through dropout.</summary>
    public abstract Tensor Logits(TransformerModel model, ModelInput input, Dropout dropout, float classifierDropout);

    /// <summary>transformers' _init_weights for one parameter.</summary>
    public virtual void Initialise(string name, Tensor t, ModelConfig config, double range, long seed)
    {
        var s = t.Span;
        if (IsNormWeight(name)) { s.Fill(1f); return; }
        if (name.EndsWith(".bias", StringComparison.Ordinal)) { s.Clear(); return; }
        FillNormal(t, range, seed, name);
        if (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal) && config.PadTokenId is int pad && pad >= 0 && pad < t.Shape[0])
            s.Slice(pad * t.Shape[1], t.Shape[1]).Clear(); // nn.Embedding(padding_idx=pad_token_id): the row starts at zero
    }

    public static bool IsNormWeight(string name) =>
        name.EndsWith(".weight", StringComparison.Ordinal)
        && (name.Contains("LayerNorm.", StringComparison.Ordinal) || name.Contains("layer_norm.", StringComparison.Ordinal)
            || System.Text.RegularExpressions.Regex.IsMatch(name, @"(^|\.)ln_[^.]+\.weight$"));

    /// <summary>Biases and normalisation weights: excluded from weight decay (as transformers' Trainer).</summary>
    public static bool IsNoDecay(string name) => name.EndsWith(".bias", StringComparison.Ordinal) || IsNormWeight(name);

    protected static void FillNormal(Tensor t, double std, long seed, string name)
    {
        var rng = new TrainingRandom(seed, "init:" + name);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextNormal() * std);
    }

    protected static float Rate(JsonObject c, string key, float dflt)
    {
        if (c[key] is not JsonValue v) return dflt;
        if (v.TryGetValue(out double d)) return d is >= 0 and <= 1 ? (float)d
            : throw new ConfigException($"config.json: \"{key}\" must be a probability in [0, 1], got {d}.");
        throw new ConfigException($"config.json: \"{key}\" must be a number, got {v.ToJsonString()}.");
    }

    /// <summary>The sequence-classification architecture of a model_type.</summary>
    public static TrainableArchitecture Classifier(string modelType) => modelType switch
    {
        "distilbert" => new DistilBertClassifier(),
        "bert" => new BertClassifier(),
        "roberta" => new RobertaClassifier(),
        _ => throw new NotSupportedException(
            $"training a classifier of model_type '{modelType}' is not supported; supported: distilbert, bert, roberta."),
    };
}

internal sealed class DistilBertClassifier : TrainableArchitecture
{
    public override string ArchitectureName => "DistilBertForSequenceClassification";
    public override string BasePrefix => "distilbert.";

    public override Dictionary<string, int[]> Expected(ModelConfig config)
    {
        var c = (DistilBertConfig)config;
        var e = DistilBert.ExpectedParameters(c, DistilBertHead.SequenceClassification, c.NumLabels);
        if (c.SinusoidalPosEmbds) e.Remove("distilbert.embeddings.position_embeddings.weight"); // a fixed table, not trained
        return e;
    }

    public override IReadOnlyList<string> IgnoredCheckpointNames =>
        [.. BindingOptions.DefaultIgnoredUnexpected, @"^vocab_(transform|layer_norm|projector)\.", @"^qa_outputs\.",
            @"embeddings\.position_embeddings\.weight$"];

    public override bool IsHead(string name) => name.StartsWith("pre_classifier.", StringComparison.Ordinal) || name.StartsWith("classifier.", StringComparison.Ordinal);

    public override TransformerModel Build(ModelConfig config, IReadOnlyDictionary<string, Tensor> parameters) =>
        new DistilBert((DistilBertConfig)config, DistilBertHead.SequenceClassification, parameters);

    // transformers' DistilBERT: Embeddings and FFN use config.dropout, attention weights
    // config.attention_dropout, the head config.seq_classif_dropout; no dropout after out_lin.
    public override DropoutRates Dropout(JsonObject c) =>
        new(Rate(c, "dropout", 0.1f), Rate(c, "attention_dropout", 0.1f), 0f, Rate(c, "dropout", 0.1f), Rate(c, "seq_classif_dropout", 0.2f));

    public override Tensor Logits(TransformerModel model, ModelInput input, Dropout dropout, float classifierDropout)
    {
        var m = (DistilBert)model;
        var x = m.Forward(input).LastHiddenState!;
        var pooled = Ops.Relu(Ops.Linear(Heads.FirstToken(x), m.Parameters["pre_classifier.weight"], m.Parameters["pre_classifier.bias"]));
        pooled = dropout.Apply(pooled, classifierDropout);
        return Ops.Linear(pooled, m.Parameters["classifier.weight"], m.Parameters["classifier.bias"]);
    }
}

internal sealed class BertClassifier : TrainableArchitecture
{
    public override string ArchitectureName => "BertForSequenceClassification";
    public override string BasePrefix => "bert.";

    public override Dictionary<string, int[]> Expected(ModelConfig config) =>
        Bert.ExpectedParameters((BertConfig)config, BertHead.SequenceClassification, config.NumLabels);

    public override IReadOnlyList<string> IgnoredCheckpointNames =>
        [.. BindingOptions.DefaultIgnoredUnexpected, @"^cls\.", @"^qa_outputs\."];

    // The pooler belongs to the pre-trained body when the checkpoint has it (BERT's NSP pooler).
    public override bool IsHead(string name) => name.StartsWith("classifier.", StringComparison.Ordinal) || name.StartsWith("bert.pooler.", StringComparison.Ordinal);

    public override TransformerModel Build(ModelConfig config, IReadOnlyDictionary<string, Tensor> parameters) =>
        new Bert((BertConfig)config, BertHead.SequenceClassification, parameters);

    public override DropoutRates Dropout(JsonObject c)
    {
        float hidden = Rate(c, "hidden_dropout_prob", 0.1f);
        return new(hidden, Rate(c, "attention_probs_dropout_prob", 0.1f), hidden, hidden, Rate(c, "classifier_dropout", hidden));
    }

    public override Tensor Logits(TransformerModel model, ModelInput input, Dropout dropout, float classifierDropout)
    {
        var m = (Bert)model;
        var x = m.Forward(input).LastHiddenState!;
        var pooled = Ops.Tanh(Ops.Linear(Heads.FirstToken(x), m.Parameters["bert.pooler.dense.weight"], m.Parameters["bert.pooler.dense.bias"]));
        pooled = dropout.Apply(pooled, classifierDropout);
        return Ops.Linear(pooled, m.Parameters["classifier.weight"], m.Parameters["classifier.bias"]);
    }
}

internal sealed class RobertaClassifier : TrainableArchitecture
{
    public override string ArchitectureName => "RobertaForSequenceClassification";
    public override string BasePrefix => "roberta.";

    public override Dictionary<string, int[]> Expected(ModelConfig config) =>
        Roberta.ExpectedParameters((BertConfig)config, RobertaHead.SequenceClassification, config.NumLabels);

    public override IReadOnlyList<string> IgnoredCheckpointNames =>
        [.. BindingOptions.DefaultIgnoredUnexpected, @"^lm_head\.", @"^roberta\.pooler\.", @"^qa_outputs\."];

    public override bool IsHead(string name) => name.StartsWith("classifier.", StringComparison.Ordinal);

    public override TransformerModel Build(ModelConfig config, IReadOnlyDictionary<string, Tensor> parameters) =>
        new Roberta((BertConfig)config, RobertaHead.SequenceClassification, parameters);

    public override DropoutRates Dropout(JsonObject c)
    {
        float hidden = Rate(c, "hidden_dropout_prob", 0.1f);
        return new(hidden, Rate(c, "attention_probs_dropout_prob", 0.1f), hidden, hidden, Rate(c, "classifier_dropout", hidden));
    }

    // RobertaClassificationHead: dropout(x[:, 0]) → dense → tanh → dropout → out_proj.
    public override Tensor Logits(TransformerModel model, ModelInput input, Dropout dropout, float classifierDropout)
    {
        var m = (Roberta)model;
        var x = m.Forward(input).LastHiddenState!;
        var first = dropout.Apply(Heads.FirstToken(x), classifierDropout);
        var t = Ops.Tanh(Ops.Linear(first, m.Parameters["classifier.dense.weight"], m.Parameters["classifier.dense.bias"]));
        t = dropout.Apply(t, classifierDropout);
        return Ops.Linear(t, m.Parameters["classifier.out_proj.weight"], m.Parameters["classifier.out_proj.bias"]);
    }
}

/// <summary>GPT-2 causal LM (GPT2LMHeadModel, tied head).</summary>
internal sealed class Gpt2LanguageModel : TrainableArchitecture
{
    public override string ArchitectureName => "GPT2LMHeadModel";
    public override string BasePrefix => "transformer.";

    public override Dictionary<string, int[]> Expected(ModelConfig config) => Gpt2.ExpectedParameters((Gpt2Config)config);

    public override bool IsHead(string name) => name == "lm_head.weight";

    public override TransformerModel Build(ModelConfig config, IReadOnlyDictionary<string, Tensor> parameters) =>
        new Gpt2((Gpt2Config)config, parameters);

    // GPT2Model: drop(wte + wpe) with embd_pdrop; attn_dropout (attn_pdrop) on the weights;
    // resid_dropout after attn.c_proj and the MLP's dropout after mlp.c_proj (resid_pdrop).
    public override DropoutRates Dropout(JsonObject c) =>
        new(Rate(c, "embd_pdrop", 0.1f), Rate(c, "attn_pdrop", 0.1f), Rate(c, "resid_pdrop", 0.1f), Rate(c, "resid_pdrop", 0.1f), 0f);

    public override Tensor Logits(TransformerModel model, ModelInput input, Dropout dropout, float classifierDropout) =>
        ((Gpt2)model).Forward(input).Logits!;

    // GPT2PreTrainedModel._init_weights: the residual projections start smaller, std/√(2·n_layer).
    public override void Initialise(string name, Tensor t, ModelConfig config, double range, long seed)
    {
        if (name.EndsWith("c_proj.weight", StringComparison.Ordinal))
            FillNormal(t, range / Math.Sqrt(2.0 * ((Gpt2Config)config).NLayer), seed, name);
        else base.Initialise(name, t, config, range, seed);
    }
}
