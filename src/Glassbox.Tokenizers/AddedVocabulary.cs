// Added tokens (special tokens such as [CLS], <s>, <extra_id_0>) are found in the text before the
// model runs and are never split. Like Rust's AddedVocabulary: tokens with normalized=false are
// matched in the raw text first; the remaining pieces are normalised and matched against the
// normalised forms of tokens with normalized=true. Matching is leftmost-longest.

using Glassbox.Tokenizers.Unicode;

namespace Glassbox.Tokenizers;

/// <summary>An added token and its matching options, as in tokenizer.json's added_tokens.</summary>
public sealed record AddedToken(string Content, bool Special = false, bool SingleWord = false, bool LStrip = false,
    bool RStrip = false, bool Normalized = true);

internal sealed class AddedVocabulary
{
    private readonly Dictionary<string, int> _map = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AddedToken> _mapR = new();
    private readonly HashSet<string> _special = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _normalizedCache = new();
    private Matcher? _rawMatcher;
    private Matcher? _normalizedMatcher;

    public IReadOnlyDictionary<string, int> Map => _map;
    public IReadOnlyDictionary<int, AddedToken> MapR => _mapR;
    public bool IsSpecial(string token) => _special.Contains(token);

    public int? TokenToId(string token, Model model) => _map.TryGetValue(token, out var id) ? id : model.TokenToId(token);

    public string? SimpleIdToToken(int id) =>
        _mapR.TryGetValue(id, out var t) ? (_normalizedCache.TryGetValue(id, out var n) ? n : t.Content) : null;

    /// <summary>Adds tokens; an id is the model's if the content is in its vocabulary, else the requested one (or the next free id).</summary>
    public void Add(IEnumerable<(AddedToken Token, int? Id)> tokens, Model model, Normalizer? normalizer)
    {
        int vocabSize = model.VocabSize;
        int nextId = _mapR.Count == 0 ? vocabSize : (_mapR.Keys.Max() >= vocabSize || vocabSize == 0 ? _mapR.Keys.Max() + 1 : vocabSize);
        foreach (var (token, requested) in tokens)
        {
            if (token.Content.Length == 0) continue;
            if (_map.TryGetValue(token.Content, out var existing) && _mapR.TryGetValue(existing, out var prev) && prev == token) continue;
            int newId;
            if (TokenToId(token.Content, model) is { } found) newId = found;
            else newId = nextId++; // like Rust, the id written in the file is not used
            _ = requested;
            if (token.Normalized && normalizer != null)
            {
                var ns = new NormalizedString(token.Content);
                normalizer.Normalize(ns);
                if (ns.Get() != token.Content) _normalizedCache[newId] = ns.Get();
            }
            _map[token.Content] = newId;
            if (token.Special) _special.Add(token.Content);
            _mapR[newId] = token;
        }
        Refresh();
    }

    private void Refresh()
    {
        var raw = new List<(string, int)>();
        var norm = new List<(string, int)>();
        foreach (var (id, token) in _mapR)
        {
            if (token.Normalized) norm.Add((_normalizedCache.TryGetValue(id, out var n) ? n : token.Content, id));
            else raw.Add((token.Content, id));
        }
        _rawMatcher = raw.Count == 0 ? null : new Matcher(raw);
        _normalizedMatcher = norm.Count == 0 ? null : new Matcher(norm);
    }

    /// <summary>Leftmost-longest multi-pattern matcher over UTF-16 text.</summary>
    private sealed class Matcher
    {
        private readonly Dictionary<char, List<(string Pattern, int Id)>> _byFirst = new();

        public Matcher(List<(string Pattern, int Id)> patterns)
        {
            foreach (var p in patterns)
            {
                if (p.Pattern.Length == 0) continue;
                if (!_byFirst.TryGetValue(p.Pattern[0], out var list)) _byFirst[p.Pattern[0]] = list = new();
                list.Add(p);
            }
            foreach (var list in _byFirst.Values) list.Sort((a, b) => b.Pattern.Length.CompareTo(a.Pattern.Length));
        }

        public IEnumerable<(int Start, int End, int Id)> FindAll(string s)
        {
            int i = 0;
            while (i < s.Length)
            {
                if (_byFirst.TryGetValue(s[i], out var list))
                {
                    bool matched = false;
                    foreach (var (p, id) in list)
                    {
                        if (p.Length <= s.Length - i && string.CompareOrdinal(s, i, p, 0, p.Length) == 0)
                        {
                            yield return (i, i + p.Length, id);
                            i += p.Length;
                            matched = true;
                            break;
                        }
                    }
                    if (matched) continue;
                }
                i++;
            }
        }
    }

    private List<(int? Id, int Start, int End)> FindMatches(string sentence, Matcher? matcher)
    {
        var splits = new List<(int?, int, int)>();
        if (sentence.Length == 0) { splits.Add((null, 0, 0)); return splits; }
        if (matcher == null) { splits.Add((null, 0, sentence.Length)); return splits; }
        int startOffset = 0;
        foreach (var (mStart, mEnd, id) in matcher.FindAll(sentence))
        {
            int start = mStart, stop = mEnd;
            var token = _mapR[id];
            if (token.SingleWord)
            {
                bool startSpace = start == 0 || !EndsWithWord(sentence, start);
                bool stopSpace = stop == sentence.Length || !StartsWithWord(sentence, stop);
                if (!stopSpace || !startSpace) continue;
            }
            if (token.LStrip)
            {
                int newStart = start;
                while (newStart > 0)
                {
                    int prevLen = newStart >= 2 && char.IsLowSurrogate(sentence[newStart - 1]) && char.IsHighSurrogate(sentence[newStart - 2]) ? 2 : 1;
                    if (!UnicodeText.IsWhiteSpace(char.ConvertToUtf32(sentence, newStart - prevLen) is var c ? c : 0)) break;
                    newStart -= prevLen;
                }
                start = Math.Max(newStart, startOffset);
            }
            if (token.RStrip)
            {
                while (stop < sentence.Length)
                {
                    var r = System.Text.Rune.GetRuneAt(sentence, stop);
                    if (!UnicodeText.IsWhiteSpace(r.Value)) break;
                    stop += r.Utf16SequenceLength;
                }
            }
            if (startOffset < start) splits.Add((null, startOffset, start));
            splits.Add((id, start, stop));
            startOffset = stop;
        }
        if (startOffset != sentence.Length) splits.Add((null, startOffset, sentence.Length));
        return splits;
    }

    private static bool EndsWithWord(string s, int end)
    {
        if (end <= 0) return false;
        int len = end >= 2 && char.IsLowSurrogate(s[end - 1]) && char.IsHighSurrogate(s[end - 2]) ? 2 : 1;
        return UnicodeText.IsWordChar(char.ConvertToUtf32(s, end - len));
    }

    private static bool StartsWithWord(string s, int start) =>
        start < s.Length && UnicodeText.IsWordChar(System.Text.Rune.GetRuneAt(s, start).Value);

    private IEnumerable<Split> SplitWithIndices(NormalizedString sentence, Matcher? matcher)
    {
        foreach (var (id, start, end) in FindMatches(sentence.Get(), matcher))
        {
            var slice = sentence.Slice(start, end) ?? throw new InvalidOperationException("AddedVocabulary bad split");
            if (id is { } i)
            {
                string value = slice.Get();
                yield return new Split(slice, [new Token(i, value, 0, value.Length)]);
            }
            else yield return new Split(slice);
        }
    }

    public PreTokenizedString ExtractAndNormalize(Normalizer? normalizer, string sequence)
    {
        var pts = new PreTokenizedString(sequence);
        pts.Split((_, s) => SplitWithIndices(s, _rawMatcher).ToList());
        pts.Split((_, s) =>
        {
            normalizer?.Normalize(s);
            return SplitWithIndices(s, _normalizedMatcher).ToList();
        });
        return pts;
    }
}
