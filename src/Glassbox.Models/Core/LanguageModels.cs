// Contracts between architectures and generation/analysis code. Causal LMs (GPT-2, GPT-NeoX,
// Llama) and seq2seq LMs (T5) implement these; Generation and the LM-analysis code (Ecco-style)
// use only these.
using Glassbox.Tensors;

namespace Glassbox.Models;

/// <summary>Per-layer key/value tensors kept between generation steps. Architectures store what
/// they need under their own keys (e.g. "blocks.3.k", "decoder.blocks.1.cross_k").</summary>
public sealed class KvCache
{
    private readonly Dictionary<string, Tensor> _items = [];

    /// <summary>Number of positions already processed (the next token's position offset).</summary>
    public int Length { get; set; }

    public bool TryGet(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => _items.TryGetValue(key, out value);
    public void Set(string key, Tensor value) => _items[key] = TensorScope.Escape(value);
    public void Clear() { _items.Clear(); Length = 0; }
    public IEnumerable<string> Keys => _items.Keys;
}

public interface ILanguageModel
{
    int VocabSize { get; }
    IReadOnlyList<int> EosTokenIds { get; }
    int? PadTokenId { get; }
    HookSet Hooks { get; }
    int LayerCount { get; }
}

public interface ICausalLanguageModel : ILanguageModel
{
    /// <summary>Longest sequence the model accepts (max_position_embeddings / n_positions).</summary>
    int MaxPositions { get; }

    /// <summary>Logits [batch, seq, vocab] for the input tokens. With a cache, the input holds only new
    /// tokens (positions continue from cache.Length; AttentionMask, when given, covers the new tokens
    /// only — the model keeps the earlier part in the cache) and the cache is extended.</summary>
    Tensor ForwardLogits(ModelInput input, KvCache? cache = null);

    /// <summary>Applies the final norm and LM head to a residual-stream tensor [.., hidden] (logit lens).
    /// withFinalNorm = false skips the final norm (Ecco's choice for intermediate layers).</summary>
    Tensor Unembed(Tensor residual, bool withFinalNorm = true);

    /// <summary>The token-embedding matrix [vocab, hidden] (input embeddings for attributions).</summary>
    Tensor TokenEmbeddings { get; }
}

public interface ISeq2SeqLanguageModel : ILanguageModel
{
    int DecoderStartTokenId { get; }

    /// <summary>Encoder output [batch, srcLen, hidden].</summary>
    Tensor Encode(ModelInput input);

    /// <summary>Decoder logits [batch, tgtLen, vocab] given encoder output and the source mask
    /// (batch × srcLen). With a cache, decoderInput holds only new tokens.</summary>
    Tensor DecodeLogits(Tensor encoderHidden, int[]? encoderMask, ModelInput decoderInput, KvCache? cache = null);
}
