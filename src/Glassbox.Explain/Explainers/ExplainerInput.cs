// The token sequence an explainer attributes over, built as transformers-interpret builds it:
// input ids with their special tokens, a reference (baseline) sequence that keeps the special tokens
// and replaces every text token by the pad token, token-type ids that are 0 up to and including
// index sepIdx and 1 after it (transformers-interpret's rule, which also gives a single sentence's
// final [SEP] type 1), position ids 0..n-1 against a reference of all zeros. Character offsets point
// into the caller's strings even where the text was cleaned first.
using Glassbox.Models;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

/// <summary>transformers-interpret's _clean_text: spaces around . , ! ? ( ) and whitespace runs collapsed
/// to one space — with a map from each cleaned character back to the original (-1 for inserted spaces).</summary>
internal static class TextCleaner
{
    public static (string Cleaned, int[] Map) Clean(string text)
    {
        var chars = new List<char>(text.Length + 16); var map = new List<int>(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '.' or ',' or '!' or '?' or '(' or ')') { chars.Add(' '); map.Add(-1); chars.Add(c); map.Add(i); chars.Add(' '); map.Add(-1); }
            else { chars.Add(c); map.Add(i); }
        }
        var outC = new System.Text.StringBuilder(chars.Count); var outM = new List<int>(chars.Count);
        for (int j = 0; j < chars.Count;)
        {
            if (!IsSpace(chars[j])) { outC.Append(chars[j]); outM.Add(map[j]); j++; continue; }
            int k = j; while (k < chars.Count && IsSpace(chars[k])) k++;
            if (k - j >= 2)
            {
                int src = -1;
                for (int t = j; t < k && src < 0; t++) src = map[t];
                outC.Append(' '); outM.Add(src);
            }
            else { outC.Append(chars[j]); outM.Add(map[j]); }
            j = k;
        }
        return (outC.ToString(), outM.ToArray());
    }

    /// <summary>Python's \s on str: Unicode whitespace plus the separators U+001C–U+001F.</summary>
    private static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';

    /// <summary>A span of the cleaned text as a span of the original.</summary>
    public static (int Start, int End) MapSpan(int[] map, int start, int end)
    {
        int s = -1, e = -1;
        for (int j = Math.Max(0, start); j < Math.Min(end, map.Length); j++) if (map[j] >= 0) { s = map[j]; break; }
        for (int j = Math.Min(end, map.Length) - 1; j >= Math.Max(0, start); j--) if (map[j] >= 0) { e = map[j] + 1; break; }
        if (s >= 0) return (s, Math.Max(s, e));
        // Only inserted characters: an empty span at the nearest original character before it.
        for (int j = Math.Min(start, map.Length) - 1; j >= 0; j--) if (map[j] >= 0) return (map[j] + 1, map[j] + 1);
        return (0, 0);
    }
}

/// <summary>A text tokenised without special tokens: ids, tokens, word ids and spans in the original string.</summary>
internal sealed class TextPiece
{
    public required string Source { get; init; }
    public required List<int> Ids { get; init; }
    public required List<string> Tokens { get; init; }
    public required List<int?> WordIds { get; init; }
    public required List<(int Start, int End)> Offsets { get; init; }
    public int Count => Ids.Count;

    public static TextPiece From(Encoding enc, string source, int[]? cleanMap) => new()
    {
        Source = source,
        Ids = [.. enc.Ids], Tokens = [.. enc.Tokens], WordIds = [.. enc.WordIds],
        Offsets = enc.Offsets.Select(o => cleanMap is null ? o : TextCleaner.MapSpan(cleanMap, o.Start, o.End)).ToList(),
    };

    public static TextPiece Encode(Tokenizer tokenizer, string text, bool clean)
    {
        if (!clean) return From(EncodeRaw(tokenizer, text, null, addSpecialTokens: false), text, null);
        var (cleaned, map) = TextCleaner.Clean(text);
        return From(EncodeRaw(tokenizer, cleaned, null, addSpecialTokens: false), text, map);
    }

    /// <summary>Encodes without the truncation and padding a tokenizer.json may configure: transformers'
    /// tokenizer.encode(text) without truncation=True does neither, and the explainers truncate themselves.</summary>
    public static Encoding EncodeRaw(Tokenizer tokenizer, string text, string? pair, bool addSpecialTokens)
    {
        if (tokenizer.Truncation is null && tokenizer.Padding is null) return tokenizer.Encode(text, pair, addSpecialTokens);
        lock (tokenizer)
        {
            var (t, p) = (tokenizer.Truncation, tokenizer.Padding);
            try
            {
                tokenizer.Truncation = null; tokenizer.Padding = null;
                return tokenizer.Encode(text, pair, addSpecialTokens);
            }
            finally { tokenizer.Truncation = t; tokenizer.Padding = p; }
        }
    }

    public void TruncateTo(int n)
    {
        if (n >= Count) return;
        Ids.RemoveRange(n, Count - n); Tokens.RemoveRange(n, Tokens.Count - n);
        WordIds.RemoveRange(n, WordIds.Count - n); Offsets.RemoveRange(n, Offsets.Count - n);
    }
}

internal sealed class ExplainerInput
{
    public required int[] Ids { get; init; }
    public required int[] RefIds { get; init; }
    public required int[] TypeIds { get; init; }
    public required string[] Tokens { get; init; }
    public required int[] Sequence { get; init; }
    public required int?[] WordIds { get; init; }
    public required (int Start, int End)[] Offsets { get; init; }
    public required bool[] Special { get; init; }
    public required string[] Sources { get; init; }
    /// <summary>transformers-interpret's sep_idx (token types are 0 up to it).</summary>
    public required int SepIdx { get; init; }
    public List<string> Warnings { get; } = [];
    public int Length => Ids.Length;

    /// <summary>One part of a sequence: a special token or a text piece (Sequence = its source index).</summary>
    public abstract record Part;
    public sealed record SpecialPart(int Id) : Part;
    public sealed record TextPart(TextPiece Piece, int Sequence) : Part;

    /// <summary>Concatenates parts, truncating the text pieces (longest first) to fit maxTokens.</summary>
    public static ExplainerInput Build(Tokenizer tokenizer, IReadOnlyList<Part> parts, int refId, Func<IReadOnlyList<Part>, int> sepIdx,
        int maxTokens, bool truncate, string what)
    {
        int total = parts.Sum(p => p is TextPart t ? t.Piece.Count : 1);
        var warnings = new List<string>();
        if (total > maxTokens)
        {
            int specials = parts.Count(p => p is SpecialPart);
            if (!truncate || maxTokens <= specials)
                throw new ArgumentException($"{what} has {total} tokens but the model takes at most {maxTokens}; shorten it or allow truncation.");
            var pieces = parts.OfType<TextPart>().Select(t => t.Piece).ToList();
            int over = total - maxTokens;
            var counts = pieces.Select(p => p.Count).ToArray();
            for (; over > 0; over--) { int i = Array.IndexOf(counts, counts.Max()); counts[i]--; }
            for (int i = 0; i < pieces.Count; i++) pieces[i].TruncateTo(counts[i]);
            warnings.Add($"{what} has {total} tokens but the model takes at most {maxTokens}; it was truncated to {maxTokens} tokens (the end of the longest text was dropped).");
        }
        var ids = new List<int>(); var refs = new List<int>(); var toks = new List<string>(); var seq = new List<int>();
        var words = new List<int?>(); var offs = new List<(int, int)>(); var special = new List<bool>();
        var sources = new List<string>();
        foreach (var p in parts)
        {
            if (p is SpecialPart s)
            {
                ids.Add(s.Id); refs.Add(s.Id); toks.Add(tokenizer.IdToToken(s.Id) ?? $"<{s.Id}>"); seq.Add(-1); words.Add(null); offs.Add((0, 0)); special.Add(true);
            }
            else if (p is TextPart t)
            {
                while (sources.Count <= t.Sequence) sources.Add("");
                sources[t.Sequence] = t.Piece.Source;
                for (int i = 0; i < t.Piece.Count; i++)
                {
                    ids.Add(t.Piece.Ids[i]); refs.Add(refId); toks.Add(t.Piece.Tokens[i]); seq.Add(t.Sequence);
                    words.Add(t.Piece.WordIds[i]); offs.Add(t.Piece.Offsets[i]); special.Add(false);
                }
            }
        }
        if (ids.Count == 0) throw new ArgumentException($"{what} produced no tokens.");
        int sep = sepIdx(parts);
        var input = new ExplainerInput
        {
            Ids = [.. ids], RefIds = [.. refs], Tokens = [.. toks], Sequence = [.. seq], WordIds = [.. words], Offsets = [.. offs],
            Special = [.. special], Sources = [.. sources], SepIdx = sep,
            TypeIds = Enumerable.Range(0, ids.Count).Select(i => i <= sep ? 0 : 1).ToArray(),
        };
        input.Warnings.AddRange(warnings);
        return input;
    }

    /// <summary>The tokenizer's own special tokens around one text (or a pair), as parts.</summary>
    public static List<Part> TemplateParts(Tokenizer tokenizer, TextPiece first, TextPiece? second)
    {
        // Encode short stand-ins to learn where the post-processor puts its special tokens.
        var enc = TextPiece.EncodeRaw(tokenizer, "a", second is null ? null : "b", addSpecialTokens: true);
        var seqIds = enc.SequenceIds;
        var parts = new List<Part>();
        int? last = null;
        for (int i = 0; i < enc.Length; i++)
        {
            if (enc.SpecialTokensMask[i] == 1 || seqIds[i] is null) { parts.Add(new SpecialPart(enc.Ids[i])); last = null; continue; }
            int s = seqIds[i]!.Value;
            if (last == s) continue;
            parts.Add(new TextPart(s == 0 ? first : second!, s));
            last = s;
        }
        if (!parts.OfType<TextPart>().Any(t => t.Sequence == 0)) parts.Add(new TextPart(first, 0));
        if (second is not null && !parts.OfType<TextPart>().Any(t => t.Sequence == 1)) parts.Add(new TextPart(second, 1));
        return parts;
    }

    public ModelInput Input(ExplainerModel m) => new(1, Length, Ids, Ones(), m.AcceptsTokenTypeIds ? TypeIds : null,
        m.AcceptsPositionIds ? Enumerable.Range(0, Length).ToArray() : null);

    public ModelInput Baseline(ExplainerModel m) => new(1, Length, RefIds, Ones(), m.AcceptsTokenTypeIds ? new int[Length] : null,
        m.AcceptsPositionIds ? new int[Length] : null);

    /// <summary>The reference ids with the input's token types and positions: the baseline of plain IG on the word embeddings.</summary>
    public ModelInput EmbeddingBaseline(ExplainerModel m) => new(1, Length, RefIds, Ones(), m.AcceptsTokenTypeIds ? TypeIds : null,
        m.AcceptsPositionIds ? Enumerable.Range(0, Length).ToArray() : null);

    /// <summary>The ids alone, as transformers-interpret's predictions call model(input_ids).</summary>
    public ModelInput Plain() => new(1, Length, Ids, Ones());

    private int[] Ones() => Enumerable.Repeat(1, Length).ToArray();

    /// <summary>The token as transformers-interpret shows it (byte-level "Ġ" removed).</summary>
    public string DisplayToken(int i) => Tokens[i].Replace("Ġ", "");
}
