// What an explainer knows about its model: the Glassbox transformer (or a black box), its config
// (labels, type, maximum length), which of position ids and token-type ids transformers-interpret
// would pass to its forward (it checks the forward signature and excludes RoBERTa), and the special
// token ids it builds baselines from. Also provenance: the model's hash, computed once per model.
using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

/// <summary>Special token ids used for inputs and baselines (transformers-interpret: cls, sep, and the pad token as reference).</summary>
public sealed record SpecialTokenIds(int Cls, int Sep, int Pad);

internal sealed class ExplainerModel
{
    private static readonly ConcurrentDictionary<object, string> s_hashes = new();

    public TransformerModel? Transformer { get; }
    public IExplainableModel? BlackBox { get; }
    public ModelConfig? Config { get; }
    public string ModelType { get; }
    public string Name { get; }
    public string? Path { get; }
    public IReadOnlyList<string> Labels { get; }
    public bool AcceptsPositionIds { get; }
    public bool AcceptsTokenTypeIds { get; }
    public int MaxTokens { get; }
    public SpecialTokenIds Specials { get; }

    public ExplainerModel(TransformerModel model, Tokenizer tokenizer, string? modelPath, SpecialTokenIds? specials)
    {
        Transformer = model;
        Config = ConfigOf(model);
        ModelType = Config?.ModelType ?? model.ArchitectureName;
        Path = modelPath;
        Name = modelPath ?? model.ArchitectureName;
        Labels = Config?.Id2Label ?? ["LABEL_0", "LABEL_1"];
        // transformers-interpret passes position_ids / token_type_ids when the forward signature has
        // them, except for RoBERTa; DistilBERT takes position ids (transformers 5) but has no token types.
        AcceptsPositionIds = ModelType is "bert" or "distilbert";
        AcceptsTokenTypeIds = ModelType is "bert";
        MaxTokens = model switch
        {
            Bert b => b.Config.MaxPositionEmbeddings,
            DistilBert d => d.Config.MaxPositionEmbeddings,
            Roberta r => r.Config.MaxPositionEmbeddings - (r.Config.PadTokenId ?? 1) - 1,
            _ => int.MaxValue,
        };
        Specials = specials ?? FindSpecials(tokenizer, modelPath, Config);
    }

    /// <summary>A model without text input (ViT): labels, path and hash only.</summary>
    public ExplainerModel(TransformerModel model, string? modelPath)
    {
        Transformer = model;
        Config = ConfigOf(model);
        ModelType = Config?.ModelType ?? model.ArchitectureName;
        Path = modelPath;
        Name = modelPath ?? model.ArchitectureName;
        Labels = Config?.Id2Label ?? ["LABEL_0", "LABEL_1"];
        MaxTokens = int.MaxValue;
        Specials = new SpecialTokenIds(-1, -1, -1);
    }

    public ExplainerModel(IExplainableModel blackBox, Tokenizer tokenizer, SpecialTokenIds? specials, int? maxTokens)
    {
        BlackBox = blackBox;
        ModelType = "black-box";
        Name = blackBox.Name;
        Path = File.Exists(blackBox.Name) || Directory.Exists(blackBox.Name) ? blackBox.Name : null;
        Labels = blackBox.OutputNames;
        AcceptsPositionIds = false;
        AcceptsTokenTypeIds = true;
        MaxTokens = maxTokens ?? int.MaxValue;
        Specials = specials ?? FindSpecials(tokenizer, Path, null);
    }

    public static ModelConfig? ConfigOf(TransformerModel model) => AutoModel.ConfigOf(model);

    /// <summary>The scores a transformers-interpret forward returns, as an explainable model.</summary>
    public IExplainableModel Scorer(OutputTransform transform, Func<ModelOutput, Tensor>? select = null) =>
        Transformer is { } t ? new TransformerExplainable(t, Name, Labels, transform, select) : BlackBox!;

    public int LabelIndex(string className)
    {
        for (int i = 0; i < Labels.Count; i++) if (Labels[i] == className) return i;
        throw new ArgumentException($"Unknown class name '{className}'; this model's classes are: {string.Join(", ", Labels)}.", nameof(className));
    }

    public void CheckIndex(int index)
    {
        if (index < 0 || index >= Labels.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Class index {index} is out of range; this model has {Labels.Count} classes: {string.Join(", ", Labels.Select((l, i) => $"{i} {l}"))}.");
    }

    public string Hash => s_hashes.GetOrAdd((object?)Path ?? (object?)Transformer ?? BlackBox!, _ => ComputeHash());

    private string ComputeHash()
    {
        using var sha = SHA256.Create();
        if (Path is not null)
        {
            var files = Directory.Exists(Path)
                ? Directory.GetFiles(Path).Where(f => f.EndsWith(".safetensors") || f.EndsWith(".bin") || f.EndsWith(".onnx") || f.EndsWith(".pt")
                    || System.IO.Path.GetFileName(f) is "config.json" or "tokenizer.json" or "model.safetensors.index.json").Order(StringComparer.Ordinal).ToArray()
                : [Path];
            foreach (var f in files)
            {
                var name = System.Text.Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(f));
                sha.TransformBlock(name, 0, name.Length, null, 0);
                using var fs = File.OpenRead(f);
                var h = SHA256.HashData(fs);
                sha.TransformBlock(h, 0, h.Length, null, 0);
            }
            sha.TransformFinalBlock([], 0, 0);
            return "sha256:" + Convert.ToHexStringLower(sha.Hash!);
        }
        if (Transformer is not null)
        {
            // No folder: the hash of the parameters themselves (names and float32 values).
            foreach (var (name, t) in Transformer.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var nb = System.Text.Encoding.UTF8.GetBytes(name);
                sha.TransformBlock(nb, 0, nb.Length, null, 0);
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Span).ToArray();
                sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
            }
            sha.TransformFinalBlock([], 0, 0);
            return "sha256-parameters:" + Convert.ToHexStringLower(sha.Hash!);
        }
        return "unknown";
    }

    public static string GlassboxVersion { get; } =
        typeof(ExplainerModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ExplainerModel).Assembly.GetName().Version?.ToString() ?? "unknown";

    public Provenance Provenance(string explainer, AttributionMethod method, IReadOnlyDictionary<string, string> parameters) =>
        new(explainer, AttributionMethods.Name(method), parameters, Name, Path, Hash, GlassboxVersion);

    /// <summary>cls/sep/pad ids: from tokenizer_config.json when the folder is known, else from what the
    /// tokenizer's post-processor adds around a pair and the usual pad token names.</summary>
    public static SpecialTokenIds FindSpecials(Tokenizer tokenizer, string? folder, ModelConfig? config)
    {
        int? cls = null, sep = null, pad = null;
        string? cfgPath = folder is not null && Directory.Exists(folder) ? System.IO.Path.Combine(folder, "tokenizer_config.json") : null;
        if (cfgPath is not null && File.Exists(cfgPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(cfgPath));
            int? Tok(string key)
            {
                if (!doc.RootElement.TryGetProperty(key, out var v)) return null;
                string? s = v.ValueKind == JsonValueKind.String ? v.GetString()
                    : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) ? c.GetString() : null;
                return s is null ? null : tokenizer.TokenToId(s);
            }
            cls = Tok("cls_token") ?? Tok("bos_token");
            sep = Tok("sep_token") ?? Tok("eos_token");
            pad = Tok("pad_token");
        }
        if (cls is null || sep is null)
        {
            var enc = TextPiece.EncodeRaw(tokenizer, "a", "b", addSpecialTokens: true);
            var specialIdx = Enumerable.Range(0, enc.Length).Where(i => enc.SpecialTokensMask[i] == 1).ToArray();
            if (specialIdx.Length > 0)
            {
                cls ??= enc.Ids[specialIdx[0]];
                sep ??= enc.Ids[specialIdx[^1]];
            }
            cls ??= tokenizer.TokenToId("[CLS]") ?? tokenizer.TokenToId("<s>") ?? tokenizer.TokenToId("<|endoftext|>");
            sep ??= tokenizer.TokenToId("[SEP]") ?? tokenizer.TokenToId("</s>") ?? tokenizer.TokenToId("<|endoftext|>");
        }
        pad ??= tokenizer.TokenToId("[PAD]") ?? tokenizer.TokenToId("<pad>") ?? tokenizer.Padding?.PadId ?? config?.PadTokenId
            ?? tokenizer.TokenToId("<|endoftext|>") ?? 0;
        if (cls is null || sep is null)
            throw new ArgumentException("The tokenizer has no classification/separator tokens ([CLS]/[SEP] or <s>/</s>); pass SpecialTokenIds explicitly.");
        return new SpecialTokenIds(cls.Value, sep.Value, pad.Value);
    }
}
