// Text examples and their encoding into model inputs, shared by the counterfactual generators and
// training-data attribution: a tokenizer with its special tokens, a length limit, and batching
// with right padding and an attention mask (so position 0 is always the first token, [CLS]).
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Counterfactuals;

/// <summary>A text datapoint: an id (unique within its dataset), the text, and an optional class label.</summary>
public sealed record TextExample(string Id, string Text, int? Label = null);

/// <summary>A text tokenised with special tokens: ids, token strings, character offsets, word ids, and which positions are special.</summary>
public sealed record EncodedText(string Text, int[] Ids, string[] Tokens, (int Start, int End)[] Offsets, int?[] WordIds, bool[] IsSpecial, int[] TypeIds)
{
    public int Length => Ids.Length;
}

/// <summary>Encodes texts for a model: tokenizer with special tokens, at most MaxLength tokens
/// (longer texts are refused with the count, never silently cut), right-padded batches.</summary>
public sealed class TextEncoder
{
    /// <param name="tokenizer">The model's tokenizer (its own truncation/padding settings, if any, still apply).</param>
    /// <param name="maxLength">The model's maximum number of tokens (e.g. max_position_embeddings).</param>
    /// <param name="padId">Padding id; default: the tokenizer's [PAD] / &lt;pad&gt; token, else 0.</param>
    public TextEncoder(Tokenizer tokenizer, int maxLength = 512, int? padId = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), $"maxLength must be ≥ 1, got {maxLength}.");
        Tokenizer = tokenizer;
        MaxLength = maxLength;
        PadId = padId ?? tokenizer.TokenToId("[PAD]") ?? tokenizer.TokenToId("<pad>") ?? tokenizer.Padding?.PadId ?? 0;
    }

    /// <summary>An encoder for a Hugging Face model folder: its tokenizer and max_position_embeddings when config.json
    /// gives one. Truncation and padding saved in tokenizer.json (often left there by training) are switched off, as
    /// transformers' tokenizer call does unless asked: an over-long text is refused, not cut.</summary>
    public static TextEncoder FromPretrained(string folder)
    {
        var tokenizer = Tokenizer.FromPretrained(folder);
        tokenizer.Truncation = null;
        tokenizer.Padding = null;
        int max = 512;
        string cfg = Path.Combine(folder, "config.json");
        if (File.Exists(cfg))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(cfg));
            if (doc.RootElement.TryGetProperty("max_position_embeddings", out var m) && m.TryGetInt32(out int v) && v > 0)
                max = doc.RootElement.TryGetProperty("model_type", out var t) && t.GetString() is "roberta" or "xlm-roberta" ? v - 2 : v;
        }
        return new TextEncoder(tokenizer, max);
    }

    public Tokenizer Tokenizer { get; }
    public int MaxLength { get; }
    public int PadId { get; }

    /// <summary>Tokenises with special tokens; throws when the text needs more than MaxLength tokens.</summary>
    public EncodedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var e = Tokenizer.Encode(text, addSpecialTokens: true);
        if (e.Length > MaxLength)
            throw new ArgumentException($"The text needs {e.Length} tokens but the model takes at most {MaxLength}; shorten it (text starts \"{Preview(text)}\").", nameof(text));
        return new EncodedText(text, e.Ids, e.Tokens, e.Offsets, e.WordIds, e.SpecialTokensMask.Select(m => m == 1).ToArray(), e.TypeIds);
    }

    /// <summary>Rows of ids (and optional type ids) as one right-padded batch with an attention mask.</summary>
    public ModelInput Batch(IReadOnlyList<int[]> rows, IReadOnlyList<int[]>? typeIds = null)
    {
        if (rows.Count == 0) throw new ArgumentException("A batch needs at least one row.", nameof(rows));
        foreach (var r in rows)
            if (r.Length > MaxLength) throw new ArgumentException($"A row has {r.Length} tokens but the model takes at most {MaxLength}.", nameof(rows));
        return ModelInput.Pad(rows, PadId, padLeft: false, typeIds);
    }

    public ModelInput Batch(IReadOnlyList<EncodedText> texts) => Batch(texts.Select(t => t.Ids).ToArray(), texts.Select(t => t.TypeIds).ToArray());

    /// <summary>The model's scores [rows, outputs] for rows of ids, computed in batches without recording gradients.</summary>
    public float[][] Predict(IExplainableModel model, IReadOnlyList<int[]> rows, int batchSize = 32)
    {
        var result = new float[rows.Count][];
        using var _ = Tape.NoGrad();
        for (int start = 0; start < rows.Count; start += batchSize)
        {
            var chunk = rows.Skip(start).Take(batchSize).ToArray();
            using var scores = model.Predict(Batch(chunk));
            if (scores.Rank != 2 || scores.Shape[0] != chunk.Length)
                throw new InvalidOperationException($"'{model.Name}' returned scores of shape [{string.Join(", ", scores.Shape)}] for a batch of {chunk.Length}; expected [{chunk.Length}, outputs].");
            int c = scores.Shape[1];
            for (int i = 0; i < chunk.Length; i++) result[start + i] = scores.Span.Slice(i * c, c).ToArray();
        }
        return result;
    }

    /// <summary>Token ids the generators never use as replacements: special tokens and bracketed placeholders ([unused0], &lt;mask&gt;).</summary>
    public bool IsPlaceholder(int id)
    {
        var t = Tokenizer.IdToToken(id);
        return t is null || (t.Length >= 2 && ((t[0] == '[' && t[^1] == ']') || (t[0] == '<' && t[^1] == '>')));
    }

    internal static string Preview(string text) => text.Length <= 40 ? text : text[..40] + "…";

    internal static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
