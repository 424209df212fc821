// transformers' AutoModel.from_pretrained for Glassbox: the class comes from config.json's
// "architectures" (its first entry), or from "model_type" when a bare base model was saved.
// Weights are bound strictly, so a checkpoint that lacks a layer fails with the binder's list
// of missing tensors; an unknown model_type or architecture fails with the list we support.
// A Hub id instead of a folder resolves through the huggingface_hub cache layout.
using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Models.Hub;

namespace Glassbox.Models;

public static class AutoModel
{
    /// <summary>The configuration a loaded model was built from (labels, sizes, model type), or null for an architecture without one.</summary>
    public static ModelConfig? ConfigOf(TransformerModel model) => model switch
    {
        Bert b => b.Config,
        DistilBert d => d.Config,
        Roberta r => r.Config,
        Vit v => v.Config,
        Gpt2 g => g.Config,
        GptNeoX n => n.Config,
        Llama l => l.Config,
        T5 t => t.Config,
        _ => null,
    };

    private static readonly Dictionary<string, Func<ModelConfig, Checkpoint, bool, TransformerModel>> s_loaders = new(StringComparer.Ordinal)
    {
        ["BertModel"] = (c, k, s) => Bert.Load(As<BertConfig>(c, "BertModel"), BertHead.None, k, s),
        ["BertForMaskedLM"] = (c, k, s) => Bert.Load(As<BertConfig>(c, "BertForMaskedLM"), BertHead.MaskedLM, k, s),
        ["BertForSequenceClassification"] = (c, k, s) => Bert.Load(As<BertConfig>(c, "BertForSequenceClassification"), BertHead.SequenceClassification, k, s),
        ["BertForTokenClassification"] = (c, k, s) => Bert.Load(As<BertConfig>(c, "BertForTokenClassification"), BertHead.TokenClassification, k, s),
        ["BertForQuestionAnswering"] = (c, k, s) => Bert.Load(As<BertConfig>(c, "BertForQuestionAnswering"), BertHead.QuestionAnswering, k, s),

        ["DistilBertModel"] = (c, k, s) => DistilBert.Load(As<DistilBertConfig>(c, "DistilBertModel"), DistilBertHead.None, k, s),
        ["DistilBertForMaskedLM"] = (c, k, s) => DistilBert.Load(As<DistilBertConfig>(c, "DistilBertForMaskedLM"), DistilBertHead.MaskedLM, k, s),
        ["DistilBertForSequenceClassification"] = (c, k, s) => DistilBert.Load(As<DistilBertConfig>(c, "DistilBertForSequenceClassification"), DistilBertHead.SequenceClassification, k, s),
        ["DistilBertForTokenClassification"] = (c, k, s) => DistilBert.Load(As<DistilBertConfig>(c, "DistilBertForTokenClassification"), DistilBertHead.TokenClassification, k, s),
        ["DistilBertForQuestionAnswering"] = (c, k, s) => DistilBert.Load(As<DistilBertConfig>(c, "DistilBertForQuestionAnswering"), DistilBertHead.QuestionAnswering, k, s),

        ["RobertaModel"] = (c, k, s) => Roberta.Load(As<BertConfig>(c, "RobertaModel"), RobertaHead.None, k, s),
        ["RobertaForMaskedLM"] = (c, k, s) => Roberta.Load(As<BertConfig>(c, "RobertaForMaskedLM"), RobertaHead.MaskedLM, k, s),
        ["RobertaForSequenceClassification"] = (c, k, s) => Roberta.Load(As<BertConfig>(c, "RobertaForSequenceClassification"), RobertaHead.SequenceClassification, k, s),
        ["RobertaForTokenClassification"] = (c, k, s) => Roberta.Load(As<BertConfig>(c, "RobertaForTokenClassification"), RobertaHead.TokenClassification, k, s),
        ["RobertaForQuestionAnswering"] = (c, k, s) => Roberta.Load(As<BertConfig>(c, "RobertaForQuestionAnswering"), RobertaHead.QuestionAnswering, k, s),

        ["ViTModel"] = (c, k, s) => Vit.Load(As<VitConfig>(c, "ViTModel"), VitHead.None, k, s),
        ["ViTForImageClassification"] = (c, k, s) => Vit.Load(As<VitConfig>(c, "ViTForImageClassification"), VitHead.ImageClassification, k, s),

        ["GPT2LMHeadModel"] = (c, k, s) => Gpt2.Load(As<Gpt2Config>(c, "GPT2LMHeadModel"), k, s),
        ["GPTNeoXForCausalLM"] = (c, k, s) => GptNeoX.Load(As<GptNeoXConfig>(c, "GPTNeoXForCausalLM"), k, s),
        ["LlamaForCausalLM"] = (c, k, s) => Llama.Load(As<LlamaConfig>(c, "LlamaForCausalLM"), k, s),
        ["T5ForConditionalGeneration"] = (c, k, s) => T5.Load(As<T5Config>(c, "T5ForConditionalGeneration"), k, s),
    };

    /// <summary>Architectures transformers defines that Glassbox recognises but whose implementation is not in this build.</summary>
    private static readonly string[] s_pending = ["GPT2Model", "GPTNeoXModel", "LlamaModel", "T5Model"];

    private static readonly Dictionary<string, string> s_baseModelByType = new(StringComparer.Ordinal)
    {
        ["bert"] = "BertModel", ["distilbert"] = "DistilBertModel", ["roberta"] = "RobertaModel", ["vit"] = "ViTModel",
        ["gpt2"] = "GPT2Model", ["gpt_neox"] = "GPTNeoXModel", ["llama"] = "LlamaModel", ["t5"] = "T5Model",
    };

    /// <summary>config.json "architectures" values AutoModel can load.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = [.. s_loaders.Keys.Order(StringComparer.Ordinal)];

    public static bool IsSupported(string architecture) => s_loaders.ContainsKey(architecture);

    /// <summary>The class a config asks for: architectures[0], else the base model of its model_type.</summary>
    public static string ArchitectureOf(ModelConfig config) =>
        config.Architectures.Count > 0 ? config.Architectures[0]
        : s_baseModelByType.TryGetValue(config.ModelType, out var a) ? a
        : throw new NotSupportedException($"model_type '{config.ModelType}' is not supported; supported: {string.Join(", ", s_baseModelByType.Keys)}.");

    /// <summary>Loads a Hugging Face model folder (config.json + weights: safetensors, sharded, or .bin),
    /// or a Hub id ("org/name[@revision]") resolved through the Hugging Face cache (see HubClient).</summary>
    public static TransformerModel FromPretrained(string directoryOrId, bool strict = true, HubOptions? hub = null)
    {
        string directory = HubClient.ResolveModelFolder(directoryOrId, hub);
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory}: no config.json; a Hugging Face model folder needs one.", configPath);
        var config = ModelConfig.Load(configPath);
        string arch = ArchitectureOf(config);
        if (!s_loaders.ContainsKey(arch)) throw Unsupported(arch, directory);
        using var checkpoint = Checkpoint.Open(directory);
        return FromPretrained(config, checkpoint, strict);
    }

    /// <summary>Builds the model a config names from an open checkpoint (weights are copied; the checkpoint may be disposed afterwards).</summary>
    public static TransformerModel FromPretrained(ModelConfig config, Checkpoint checkpoint, bool strict = true)
    {
        string arch = ArchitectureOf(config);
        if (!s_loaders.TryGetValue(arch, out var load)) throw Unsupported(arch, checkpoint.FilePath);
        return load(config, checkpoint, strict);
    }

    private static NotSupportedException Unsupported(string arch, string where) =>
        Array.IndexOf(s_pending, arch) >= 0
            ? new NotSupportedException($"{where}: architecture '{arch}' is recognised but not implemented in Glassbox (load the model with its LM head instead); supported: {string.Join(", ", SupportedArchitectures)}.")
            : new NotSupportedException($"{where}: architecture '{arch}' is not supported; supported: {string.Join(", ", SupportedArchitectures)}.");

    private static T As<T>(ModelConfig c, string arch) where T : ModelConfig =>
        c as T ?? throw new NotSupportedException($"architecture '{arch}' needs a {typeof(T).Name} but config.json has model_type '{c.ModelType}'.");
}
