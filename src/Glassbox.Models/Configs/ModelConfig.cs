// config.json as typed records, one per architecture, with transformers' defaults for absent keys.
// Property names are PascalCase forms of the Hugging Face keys (hidden_size → HiddenSize); the
// original keys stay readable through Raw. Unknown model_type → an error listing what we support.
using System.Text.Json;

namespace Glassbox.Models.Configs;

public sealed class ConfigException(string message) : Exception(message);

public abstract record ModelConfig
{
    public required string ModelType { get; init; }
    public IReadOnlyList<string> Architectures { get; init; } = [];
    /// <summary>Label names by class index (id2label); "LABEL_i" when the config has none.</summary>
    public IReadOnlyList<string> Id2Label { get; init; } = ["LABEL_0", "LABEL_1"];
    public int NumLabels => Id2Label.Count;
    /// <summary>"single_label_classification", "multi_label_classification", "regression" or null.</summary>
    public string? ProblemType { get; init; }
    public int? PadTokenId { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public bool TieWordEmbeddings { get; init; } = true;
    public string? Dtype { get; init; }
    /// <summary>The whole config.json, for keys this record does not model.</summary>
    public JsonElement Raw { get; init; }

    public static readonly IReadOnlyList<string> SupportedModelTypes = ["bert", "distilbert", "roberta", "gpt2", "gpt_neox", "llama", "t5", "vit"];

    public int LabelIndex(string name)
    {
        for (int i = 0; i < Id2Label.Count; i++)
            if (string.Equals(Id2Label[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        throw new ArgumentException($"Unknown class name '{name}'; this model's labels are: {string.Join(", ", Id2Label)}.");
    }

    /// <summary>Reads config.json (a file, or a model folder holding one).</summary>
    public static ModelConfig Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "config.json");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ConfigException($"{path}: cannot read the model config ({e.Message})."); }
        return Parse(text, path);
    }

    public static ModelConfig Parse(string json, string source = "config.json")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ConfigException($"{source}: not valid JSON ({e.Message})."); }
        var root = doc.RootElement.Clone();
        if (root.ValueKind != JsonValueKind.Object) throw new ConfigException($"{source}: expected a JSON object.");
        var r = new Reader(root, source);
        string type = r.Str("model_type") ?? throw new ConfigException($"{source}: has no \"model_type\"; supported: {string.Join(", ", SupportedModelTypes)}.");
        return type switch
        {
            "bert" => BertConfig.Read(r, type),
            "roberta" => BertConfig.Read(r, type),
            "distilbert" => DistilBertConfig.Read(r),
            "gpt2" => Gpt2Config.Read(r),
            "gpt_neox" => GptNeoXConfig.Read(r),
            "llama" => LlamaConfig.Read(r),
            "t5" => T5Config.Read(r),
            "vit" => VitConfig.Read(r),
            _ => throw new ConfigException($"{source}: model_type \"{type}\" is not supported; supported: {string.Join(", ", SupportedModelTypes)}."),
        };
    }

    /// <summary>Typed access to config keys with clear errors for wrong types.</summary>
    internal sealed class Reader(JsonElement root, string source)
    {
        public JsonElement Root => root;

        public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

        private JsonElement? Get(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        public int Int(string key, int dflt) => Get(key) is { } v
            ? (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Bad(key, "an integer", v)) : dflt;

        public int? IntOpt(string key) => Get(key) is { } v
            ? (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Bad(key, "an integer", v)) : null;

        public double Num(string key, double dflt) => Get(key) is { } v
            ? (v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Bad(key, "a number", v)) : dflt;

        public bool Bool(string key, bool dflt) => Get(key) is { } v
            ? (v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Bad(key, "true or false", v)) : dflt;

        public string? Str(string key) => Get(key) is { } v ? (v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad(key, "a string", v)) : null;

        public IReadOnlyList<int> IntList(string key)
        {
            if (Get(key) is not { } v) return [];
            if (v.ValueKind == JsonValueKind.Number) return [Int(key, 0)];
            if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "an integer or a list of integers", v);
            return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i : throw Bad(key, "a list of integers", v)).ToArray();
        }

        public IReadOnlyList<string> StrList(string key) => Get(key) is { } v && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : [];

        public JsonElement? Obj(string key) => Get(key) is { } v && v.ValueKind == JsonValueKind.Object ? v : null;

        public IReadOnlyList<string> Labels()
        {
            if (Obj("id2label") is { } m)
            {
                var pairs = new SortedDictionary<int, string>();
                foreach (var p in m.EnumerateObject())
                {
                    if (!int.TryParse(p.Name, out int i) || i < 0) throw new ConfigException($"{source}: id2label key \"{p.Name}\" is not a non-negative integer.");
                    pairs[i] = p.Value.GetString() ?? "";
                }
                if (pairs.Count > 0 && pairs.Keys.Last() != pairs.Count - 1) throw new ConfigException($"{source}: id2label indices are not 0..{pairs.Count - 1}.");
                return [.. pairs.Values];
            }
            int n = Int("num_labels", 2);
            return Enumerable.Range(0, n).Select(i => $"LABEL_{i}").ToArray();
        }

        public ConfigException Bad(string key, string what, JsonElement v) => new($"{source}: \"{key}\" must be {what}, got {v.GetRawText()}.");
    }

    internal static T Common<T>(T c, Reader r) where T : ModelConfig => c with
    {
        Architectures = r.StrList("architectures"),
        Id2Label = r.Labels(),
        ProblemType = r.Str("problem_type"),
        PadTokenId = r.IntOpt("pad_token_id"),
        BosTokenId = r.IntOpt("bos_token_id"),
        EosTokenIds = r.IntList("eos_token_id"),
        TieWordEmbeddings = r.Bool("tie_word_embeddings", true),
        Dtype = r.Str("dtype") ?? r.Str("torch_dtype"),
        Raw = r.Root,
    };
}

/// <summary>BERT and RoBERTa (same keys; RoBERTa offsets positions by pad_token_id + 1).</summary>
public sealed record BertConfig : ModelConfig
{
    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    public string HiddenAct { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public float LayerNormEps { get; init; } = 1e-12f;

    internal static BertConfig Read(Reader r, string type)
    {
        bool roberta = type == "roberta";
        var c = new BertConfig
        {
            ModelType = type,
            VocabSize = r.Int("vocab_size", roberta ? 50265 : 30522),
            HiddenSize = r.Int("hidden_size", 768),
            NumHiddenLayers = r.Int("num_hidden_layers", 12),
            NumAttentionHeads = r.Int("num_attention_heads", 12),
            IntermediateSize = r.Int("intermediate_size", 3072),
            HiddenAct = r.Str("hidden_act") ?? "gelu",
            MaxPositionEmbeddings = r.Int("max_position_embeddings", 512),
            TypeVocabSize = r.Int("type_vocab_size", 2),
            LayerNormEps = (float)r.Num("layer_norm_eps", 1e-12),
        };
        c = Common(c, r);
        if (roberta && !r.Has("pad_token_id")) c = c with { PadTokenId = 1 };
        if (!roberta && !r.Has("pad_token_id")) c = c with { PadTokenId = 0 };
        return c;
    }
}

public sealed record DistilBertConfig : ModelConfig
{
    public int VocabSize { get; init; } = 30522;
    public int Dim { get; init; } = 768;
    public int NLayers { get; init; } = 6;
    public int NHeads { get; init; } = 12;
    public int HiddenDim { get; init; } = 3072;
    public string Activation { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 512;
    public bool SinusoidalPosEmbds { get; init; }

    internal static DistilBertConfig Read(Reader r) => Common(new DistilBertConfig
    {
        ModelType = "distilbert",
        VocabSize = r.Int("vocab_size", 30522),
        Dim = r.Int("dim", 768),
        NLayers = r.Int("n_layers", 6),
        NHeads = r.Int("n_heads", 12),
        HiddenDim = r.Int("hidden_dim", 3072),
        Activation = r.Str("activation") ?? "gelu",
        MaxPositionEmbeddings = r.Int("max_position_embeddings", 512),
        SinusoidalPosEmbds = r.Bool("sinusoidal_pos_embds", false),
    }, r);
}

public sealed record Gpt2Config : ModelConfig
{
    public int VocabSize { get; init; } = 50257;
    public int NPositions { get; init; } = 1024;
    public int NEmbd { get; init; } = 768;
    public int NLayer { get; init; } = 12;
    public int NHead { get; init; } = 12;
    /// <summary>MLP width; n_inner or 4·n_embd.</summary>
    public int NInner { get; init; } = 3072;
    public string ActivationFunction { get; init; } = "gelu_new";
    public float LayerNormEpsilon { get; init; } = 1e-5f;
    public bool ScaleAttnWeights { get; init; } = true;
    public bool ScaleAttnByInverseLayerIdx { get; init; }

    internal static Gpt2Config Read(Reader r)
    {
        int embd = r.Int("n_embd", 768);
        var c = Common(new Gpt2Config
        {
            ModelType = "gpt2",
            VocabSize = r.Int("vocab_size", 50257),
            NPositions = r.Int("n_positions", 1024),
            NEmbd = embd,
            NLayer = r.Int("n_layer", 12),
            NHead = r.Int("n_head", 12),
            NInner = r.IntOpt("n_inner") ?? 4 * embd,
            ActivationFunction = r.Str("activation_function") ?? "gelu_new",
            LayerNormEpsilon = (float)r.Num("layer_norm_epsilon", 1e-5),
            ScaleAttnWeights = r.Bool("scale_attn_weights", true),
            ScaleAttnByInverseLayerIdx = r.Bool("scale_attn_by_inverse_layer_idx", false),
        }, r);
        if (!r.Has("bos_token_id")) c = c with { BosTokenId = 50256 };
        if (!r.Has("eos_token_id")) c = c with { EosTokenIds = [50256] };
        return c;
    }
}

/// <summary>Rotary settings: rope_parameters (transformers 5) or the older flat keys.</summary>
public sealed record RopeParameters(double Theta, double PartialRotaryFactor, string RopeType)
{
    internal static RopeParameters Read(ModelConfig.Reader r, double dfltFactor)
    {
        if (r.Obj("rope_parameters") is { } p)
        {
            double theta = p.TryGetProperty("rope_theta", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : 10000;
            double f = p.TryGetProperty("partial_rotary_factor", out var pf) && pf.ValueKind == JsonValueKind.Number ? pf.GetDouble() : dfltFactor;
            string type = p.TryGetProperty("rope_type", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString()! : "default";
            return new RopeParameters(theta, f, type);
        }
        double th = r.Num("rope_theta", r.Num("rotary_emb_base", 10000));
        double fac = r.Num("partial_rotary_factor", r.Num("rotary_pct", dfltFactor));
        string ty = r.Obj("rope_scaling") is { } s && s.TryGetProperty("rope_type", out var st) ? st.GetString() ?? "default" : "default";
        return new RopeParameters(th, fac, ty);
    }
}

public sealed record GptNeoXConfig : ModelConfig
{
    public int VocabSize { get; init; } = 50432;
    public int HiddenSize { get; init; } = 6144;
    public int NumHiddenLayers { get; init; } = 44;
    public int NumAttentionHeads { get; init; } = 64;
    public int IntermediateSize { get; init; } = 24576;
    public string HiddenAct { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public float LayerNormEps { get; init; } = 1e-5f;
    public bool UseParallelResidual { get; init; } = true;
    public bool AttentionBias { get; init; } = true;
    public RopeParameters Rope { get; init; } = new(10000, 0.25, "default");

    internal static GptNeoXConfig Read(Reader r) => Common(new GptNeoXConfig
    {
        ModelType = "gpt_neox",
        VocabSize = r.Int("vocab_size", 50432),
        HiddenSize = r.Int("hidden_size", 6144),
        NumHiddenLayers = r.Int("num_hidden_layers", 44),
        NumAttentionHeads = r.Int("num_attention_heads", 64),
        IntermediateSize = r.Int("intermediate_size", 24576),
        HiddenAct = r.Str("hidden_act") ?? "gelu",
        MaxPositionEmbeddings = r.Int("max_position_embeddings", 2048),
        LayerNormEps = (float)r.Num("layer_norm_eps", 1e-5),
        UseParallelResidual = r.Bool("use_parallel_residual", true),
        AttentionBias = r.Bool("attention_bias", true),
        Rope = RopeParameters.Read(r, 0.25),
    }, r) with { TieWordEmbeddings = r.Bool("tie_word_embeddings", false) };
}

public sealed record LlamaConfig : ModelConfig
{
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    public int NumKeyValueHeads { get; init; } = 32;
    public int HeadDim { get; init; } = 128;
    public int IntermediateSize { get; init; } = 11008;
    public string HiddenAct { get; init; } = "silu";
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public float RmsNormEps { get; init; } = 1e-6f;
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public RopeParameters Rope { get; init; } = new(10000, 1.0, "default");

    internal static LlamaConfig Read(Reader r)
    {
        int hidden = r.Int("hidden_size", 4096), heads = r.Int("num_attention_heads", 32);
        return Common(new LlamaConfig
        {
            ModelType = "llama",
            VocabSize = r.Int("vocab_size", 32000),
            HiddenSize = hidden,
            NumHiddenLayers = r.Int("num_hidden_layers", 32),
            NumAttentionHeads = heads,
            NumKeyValueHeads = r.Int("num_key_value_heads", heads),
            HeadDim = r.Int("head_dim", hidden / heads),
            IntermediateSize = r.Int("intermediate_size", 11008),
            HiddenAct = r.Str("hidden_act") ?? "silu",
            MaxPositionEmbeddings = r.Int("max_position_embeddings", 2048),
            RmsNormEps = (float)r.Num("rms_norm_eps", 1e-6),
            AttentionBias = r.Bool("attention_bias", false),
            MlpBias = r.Bool("mlp_bias", false),
            Rope = RopeParameters.Read(r, 1.0),
        }, r) with { TieWordEmbeddings = r.Bool("tie_word_embeddings", false) };
    }
}

public sealed record T5Config : ModelConfig
{
    public int VocabSize { get; init; } = 32128;
    public int DModel { get; init; } = 512;
    public int DKv { get; init; } = 64;
    public int DFf { get; init; } = 2048;
    public int NumLayers { get; init; } = 6;
    public int NumDecoderLayers { get; init; } = 6;
    public int NumHeads { get; init; } = 8;
    public int RelativeAttentionNumBuckets { get; init; } = 32;
    public int RelativeAttentionMaxDistance { get; init; } = 128;
    public float LayerNormEpsilon { get; init; } = 1e-6f;
    /// <summary>"relu", "gelu" or "gated-gelu" (feed_forward_proj).</summary>
    public string FeedForwardProj { get; init; } = "relu";
    public bool IsGatedAct => FeedForwardProj.StartsWith("gated-", StringComparison.Ordinal);
    public string DenseActFn => IsGatedAct ? (FeedForwardProj[6..] == "gelu" ? "gelu_new" : FeedForwardProj[6..]) : FeedForwardProj;
    public int DecoderStartTokenId { get; init; }

    internal static T5Config Read(Reader r)
    {
        int layers = r.Int("num_layers", 6);
        var c = Common(new T5Config
        {
            ModelType = "t5",
            VocabSize = r.Int("vocab_size", 32128),
            DModel = r.Int("d_model", 512),
            DKv = r.Int("d_kv", 64),
            DFf = r.Int("d_ff", 2048),
            NumLayers = layers,
            NumDecoderLayers = r.Int("num_decoder_layers", layers),
            NumHeads = r.Int("num_heads", 8),
            RelativeAttentionNumBuckets = r.Int("relative_attention_num_buckets", 32),
            RelativeAttentionMaxDistance = r.Int("relative_attention_max_distance", 128),
            LayerNormEpsilon = (float)r.Num("layer_norm_epsilon", 1e-6),
            FeedForwardProj = r.Str("feed_forward_proj") ?? "relu",
            DecoderStartTokenId = r.Int("decoder_start_token_id", 0),
        }, r);
        if (!r.Has("pad_token_id")) c = c with { PadTokenId = 0 };
        if (!r.Has("eos_token_id")) c = c with { EosTokenIds = [1] };
        return c;
    }
}

public sealed record VitConfig : ModelConfig
{
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    public string HiddenAct { get; init; } = "gelu";
    public float LayerNormEps { get; init; } = 1e-12f;
    public int ImageSize { get; init; } = 224;
    public int PatchSize { get; init; } = 16;
    public int NumChannels { get; init; } = 3;
    public bool QkvBias { get; init; } = true;

    internal static VitConfig Read(Reader r) => Common(new VitConfig
    {
        ModelType = "vit",
        HiddenSize = r.Int("hidden_size", 768),
        NumHiddenLayers = r.Int("num_hidden_layers", 12),
        NumAttentionHeads = r.Int("num_attention_heads", 12),
        IntermediateSize = r.Int("intermediate_size", 3072),
        HiddenAct = r.Str("hidden_act") ?? "gelu",
        LayerNormEps = (float)r.Num("layer_norm_eps", 1e-12),
        ImageSize = r.Int("image_size", 224),
        PatchSize = r.Int("patch_size", 16),
        NumChannels = r.Int("num_channels", 3),
        QkvBias = r.Bool("qkv_bias", true),
    }, r);
}

/// <summary>preprocessor_config.json of a ViTImageProcessor.</summary>
public sealed record ImageProcessorConfig
{
    public bool DoResize { get; init; } = true;
    public bool DoRescale { get; init; } = true;
    public bool DoNormalize { get; init; } = true;
    public int Height { get; init; } = 224;
    public int Width { get; init; } = 224;
    /// <summary>PIL resample filter id (2 = bilinear, 3 = bicubic).</summary>
    public int Resample { get; init; } = 2;
    public double RescaleFactor { get; init; } = 1.0 / 255;
    public IReadOnlyList<double> ImageMean { get; init; } = [0.5, 0.5, 0.5];
    public IReadOnlyList<double> ImageStd { get; init; } = [0.5, 0.5, 0.5];

    /// <summary>Reads preprocessor_config.json (a file, or a model folder holding one).</summary>
    public static ImageProcessorConfig Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "preprocessor_config.json");
        try
        {
            return LoadChecked(path);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: not a valid ViT preprocessor config ({e.Message}).");
        }
    }

    private static ImageProcessorConfig LoadChecked(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ConfigException($"{path}: expected a JSON object.");
        var r = new ModelConfig.Reader(doc.RootElement.Clone(), path);
        string? type = r.Str("image_processor_type") ?? r.Str("feature_extractor_type");
        if (type is not null && type is not ("ViTImageProcessor" or "ViTImageProcessorFast" or "ViTFeatureExtractor"))
            throw new ConfigException($"{path}: image processor \"{type}\" is not supported (expected ViTImageProcessor).");
        int h = 224, w = 224;
        if (r.Obj("size") is { } s)
        {
            if (s.TryGetProperty("height", out var hh)) h = hh.GetInt32();
            if (s.TryGetProperty("width", out var ww)) w = ww.GetInt32();
            if (s.TryGetProperty("shortest_edge", out var se)) h = w = se.GetInt32();
        }
        List<double> List(string key, List<double> d) => r.Root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(e => e.GetDouble()).ToList() : d;
        var mean = List("image_mean", [0.5, 0.5, 0.5]);
        var std = List("image_std", [0.5, 0.5, 0.5]);
        if (mean.Count != std.Count) throw new ConfigException($"{path}: image_mean has {mean.Count} channels but image_std has {std.Count}.");
        if (std.Any(v => v == 0)) throw new ConfigException($"{path}: image_std contains 0.");
        if (h <= 0 || w <= 0) throw new ConfigException($"{path}: size {h}×{w} is not positive.");
        return new ImageProcessorConfig
        {
            DoResize = r.Bool("do_resize", true),
            DoRescale = r.Bool("do_rescale", true),
            DoNormalize = r.Bool("do_normalize", true),
            Height = h, Width = w,
            Resample = r.Int("resample", 2),
            RescaleFactor = r.Num("rescale_factor", 1.0 / 255),
            ImageMean = mean,
            ImageStd = std,
        };
    }
}
