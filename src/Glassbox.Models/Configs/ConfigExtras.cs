// The rest of config.json that ModelConfig.cs's records do not carry as init properties: every
// remaining key transformers defines for these architectures, with transformers' default when the
// key is absent, read from the original JSON (Raw) under its Hugging Face name. Kept as C# 14
// extension members so the records stay small and every key has exactly one spelling (HF's).
using System.Text.Json;

namespace Glassbox.Models.Configs;

public static class ConfigExtras
{
    internal static double RawNum(this ModelConfig c, string key, double dflt) =>
        c.Raw.ValueKind == JsonValueKind.Object && c.Raw.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : dflt;

    internal static double? RawNumOpt(this ModelConfig c, string key) =>
        c.Raw.ValueKind == JsonValueKind.Object && c.Raw.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    internal static int? RawIntOpt(this ModelConfig c, string key) =>
        c.Raw.ValueKind == JsonValueKind.Object && c.Raw.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

    internal static bool RawBool(this ModelConfig c, string key, bool dflt) =>
        c.Raw.ValueKind == JsonValueKind.Object && c.Raw.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : dflt;

    internal static string? RawStr(this ModelConfig c, string key, string? dflt) =>
        c.Raw.ValueKind == JsonValueKind.Object && c.Raw.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : dflt;

    extension(ModelConfig c)
    {
        /// <summary>label2id as written, else the inverse of id2label.</summary>
        public IReadOnlyDictionary<string, int> Label2Id
        {
            get
            {
                var d = new Dictionary<string, int>(StringComparer.Ordinal);
                if (c.Raw.ValueKind == JsonValueKind.Object && c.Raw.TryGetProperty("label2id", out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in m.EnumerateObject())
                        if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int i)) d[p.Name] = i;
                    if (d.Count > 0) return d;
                }
                for (int i = 0; i < c.Id2Label.Count; i++) d[c.Id2Label[i]] = i;
                return d;
            }
        }

        /// <summary>The saved weight dtype: "dtype" (transformers ≥ 5) or "torch_dtype".</summary>
        public string? TorchDtype => c.Dtype;
        public int? EosTokenId => c.EosTokenIds.Count > 0 ? c.EosTokenIds[0] : null;
        public string? TransformersVersion => c.RawStr("transformers_version", null);
        public bool IsEncoderDecoder => c.RawBool("is_encoder_decoder", c is T5Config);
        public bool IsDecoder => c.RawBool("is_decoder", false);
        public double InitializerRange => c.RawNum("initializer_range", 0.02);
        public bool UseCache => c.RawBool("use_cache", true);

        /// <summary>Architecture-independent sizes for code that works across families.</summary>
        public int Width => c switch
        {
            BertConfig b => b.HiddenSize,
            DistilBertConfig d => d.Dim,
            Gpt2Config g => g.NEmbd,
            GptNeoXConfig n => n.HiddenSize,
            LlamaConfig l => l.HiddenSize,
            T5Config t => t.DModel,
            VitConfig v => v.HiddenSize,
            _ => throw new NotSupportedException(c.ModelType),
        };

        public int LayerCount => c switch
        {
            BertConfig b => b.NumHiddenLayers,
            DistilBertConfig d => d.NLayers,
            Gpt2Config g => g.NLayer,
            GptNeoXConfig n => n.NumHiddenLayers,
            LlamaConfig l => l.NumHiddenLayers,
            T5Config t => t.NumLayers,
            VitConfig v => v.NumHiddenLayers,
            _ => throw new NotSupportedException(c.ModelType),
        };

        public int HeadCount => c switch
        {
            BertConfig b => b.NumAttentionHeads,
            DistilBertConfig d => d.NHeads,
            Gpt2Config g => g.NHead,
            GptNeoXConfig n => n.NumAttentionHeads,
            LlamaConfig l => l.NumAttentionHeads,
            T5Config t => t.NumHeads,
            VitConfig v => v.NumAttentionHeads,
            _ => throw new NotSupportedException(c.ModelType),
        };
    }

    extension(BertConfig c)
    {
        public double HiddenDropoutProb => c.RawNum("hidden_dropout_prob", 0.1);
        public double AttentionProbsDropoutProb => c.RawNum("attention_probs_dropout_prob", 0.1);
        public string PositionEmbeddingType => c.RawStr("position_embedding_type", "absolute")!;
        public double? ClassifierDropout => c.RawNumOpt("classifier_dropout");
        public bool AddCrossAttention => c.RawBool("add_cross_attention", false);
    }

    extension(DistilBertConfig c)
    {
        public double Dropout => c.RawNum("dropout", 0.1);
        public double AttentionDropout => c.RawNum("attention_dropout", 0.1);
        public double QaDropout => c.RawNum("qa_dropout", 0.1);
        public double SeqClassifDropout => c.RawNum("seq_classif_dropout", 0.2);
        /// <summary>DistilBERT's LayerNorms use eps 1e-12 (fixed in transformers, not a config key).</summary>
        public float LayerNormEps => 1e-12f;
    }

    extension(Gpt2Config c)
    {
        public double ResidPdrop => c.RawNum("resid_pdrop", 0.1);
        public double EmbdPdrop => c.RawNum("embd_pdrop", 0.1);
        public double AttnPdrop => c.RawNum("attn_pdrop", 0.1);
        public string SummaryType => c.RawStr("summary_type", "cls_index")!;
        public bool SummaryUseProj => c.RawBool("summary_use_proj", true);
        public string? SummaryActivation => c.RawStr("summary_activation", null);
        public bool SummaryProjToLabels => c.RawBool("summary_proj_to_labels", true);
        public double SummaryFirstDropout => c.RawNum("summary_first_dropout", 0.1);
        public bool ReorderAndUpcastAttn => c.RawBool("reorder_and_upcast_attn", false);
    }

    extension(GptNeoXConfig c)
    {
        public double AttentionDropout => c.RawNum("attention_dropout", 0.0);
        public double HiddenDropout => c.RawNum("hidden_dropout", 0.0);
        public double ClassifierDropout => c.RawNum("classifier_dropout", 0.1);
        /// <summary>Rotated dimensions per head: int(head_dim × partial_rotary_factor), as transformers computes it.</summary>
        public int RotaryDims => (int)(c.HiddenSize / c.NumAttentionHeads * c.Rope.PartialRotaryFactor);
    }

    extension(LlamaConfig c)
    {
        public int PretrainingTp => c.RawIntOpt("pretraining_tp") ?? 1;
        public double AttentionDropout => c.RawNum("attention_dropout", 0.0);
    }

    extension(T5Config c)
    {
        public double DropoutRate => c.RawNum("dropout_rate", 0.1);
        public double InitializerFactor => c.RawNum("initializer_factor", 1.0);
        public double ClassifierDropout => c.RawNum("classifier_dropout", 0.0);
    }

    extension(VitConfig c)
    {
        public double HiddenDropoutProb => c.RawNum("hidden_dropout_prob", 0.0);
        public double AttentionProbsDropoutProb => c.RawNum("attention_probs_dropout_prob", 0.0);
        public int EncoderStride => c.RawIntOpt("encoder_stride") ?? 16;
        public int PoolerOutputSize => c.RawIntOpt("pooler_output_size") ?? c.HiddenSize;
        public string PoolerAct => c.RawStr("pooler_act", "tanh")!;
        public int NumPatches => (c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize);
    }
}
