// The four tokenisation models of tokenizer.json. Each turns one pre-tokenised split into tokens
// with offsets in that split's normalized text (UTF-16 units). Algorithms and tie-breaking follow
// the Rust implementations exactly; lookups go through span-keyed dictionaries so the hot paths
// allocate only the token strings they return (which come from the vocabulary, not new strings).

using System.Collections.Concurrent;
using System.Text;

namespace Glassbox.Tokenizers;

internal abstract class Model
{
    public abstract void Tokenize(string sequence, List<Token> output);
    public abstract int? TokenToId(string token);
    public abstract string? IdToToken(int id);
    public abstract int VocabSize { get; }
    public abstract IReadOnlyDictionary<string, int> GetVocab();
}

internal static class VocabHelpers
{
    public static string[] Reverse(Dictionary<string, int> vocab, out Dictionary<int, string>? sparse)
    {
        int max = vocab.Count == 0 ? -1 : vocab.Values.Max();
        sparse = null;
        if (max < vocab.Count * 2 + 16)
        {
            var r = new string[max + 1];
            foreach (var (k, v) in vocab) if (v >= 0) r[v] = k;
            return r;
        }
        sparse = vocab.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        return [];
    }
}

internal sealed class WordPieceModel : Model
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string[] _vocabR;
    private readonly Dictionary<int, string>? _vocabRSparse;
    public string UnkToken { get; }
    public string ContinuingSubwordPrefix { get; }
    public int MaxInputCharsPerWord { get; }

    public WordPieceModel(Dictionary<string, int> vocab, string unkToken = "[UNK]", string prefix = "##", int maxInputCharsPerWord = 100)
    {
        _vocab = vocab;
        _lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _vocabR = VocabHelpers.Reverse(vocab, out _vocabRSparse);
        UnkToken = unkToken;
        ContinuingSubwordPrefix = prefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
    }

    public override int VocabSize => _vocab.Count;
    public override IReadOnlyDictionary<string, int> GetVocab() => _vocab;
    public override int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;
    public override string? IdToToken(int id) =>
        _vocabRSparse != null ? (_vocabRSparse.TryGetValue(id, out var s) ? s : null) : (id >= 0 && id < _vocabR.Length ? _vocabR[id] : null);

    private void AddUnk(string sequence, List<Token> output)
    {
        if (!_vocab.TryGetValue(UnkToken, out var unkId))
            throw new TokenizationException($"WordPiece: the unk token '{UnkToken}' is not in the vocabulary.");
        output.Add(new Token(unkId, UnkToken, 0, sequence.Length));
    }

    public override void Tokenize(string sequence, List<Token> output)
    {
        int charLen = 0;
        foreach (var _ in sequence.EnumerateRunes()) charLen++;
        if (charLen > MaxInputCharsPerWord) { AddUnk(sequence, output); return; }

        int mark = output.Count;
        int start = 0;
        int prefixLen = ContinuingSubwordPrefix.Length;
        char[]? rented = null;
        Span<char> buffer = sequence.Length + prefixLen <= 256
            ? stackalloc char[256]
            : (rented = System.Buffers.ArrayPool<char>.Shared.Rent(sequence.Length + prefixLen));
        ContinuingSubwordPrefix.AsSpan().CopyTo(buffer);
        try
        {
            while (start < sequence.Length)
            {
                int end = sequence.Length;
                bool found = false;
                while (start < end)
                {
                    scoped ReadOnlySpan<char> sub;
                    if (start > 0)
                    {
                        sequence.AsSpan(start, end - start).CopyTo(buffer[prefixLen..]);
                        sub = buffer[..(prefixLen + end - start)];
                    }
                    else sub = sequence.AsSpan(0, end);
                    if (_lookup.TryGetValue(sub, out var id))
                    {
                        output.Add(new Token(id, IdToToken(id) ?? sub.ToString(), start, end));
                        found = true;
                        break;
                    }
                    // step back one character (a surrogate pair is one character)
                    int step = end - 2 >= start && char.IsLowSurrogate(sequence[end - 1]) && char.IsHighSurrogate(sequence[end - 2]) ? 2 : 1;
                    // Rust steps back by the last char of substr, which includes the prefix when
                    // the remaining sequence part is empty; that cannot happen here since start < end.
                    end -= step;
                }
                if (!found)
                {
                    output.RemoveRange(mark, output.Count - mark);
                    AddUnk(sequence, output);
                    return;
                }
                start = end;
            }
        }
        finally
        {
            if (rented != null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }
    }
}

internal sealed class WordLevelModel : Model
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _vocabR;
    private readonly Dictionary<int, string>? _vocabRSparse;
    public string UnkToken { get; }

    public WordLevelModel(Dictionary<string, int> vocab, string unkToken)
    {
        _vocab = vocab;
        _vocabR = VocabHelpers.Reverse(vocab, out _vocabRSparse);
        UnkToken = unkToken;
    }

    public override int VocabSize => _vocab.Count;
    public override IReadOnlyDictionary<string, int> GetVocab() => _vocab;
    public override int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;
    public override string? IdToToken(int id) =>
        _vocabRSparse != null ? (_vocabRSparse.TryGetValue(id, out var s) ? s : null) : (id >= 0 && id < _vocabR.Length ? _vocabR[id] : null);

    public override void Tokenize(string sequence, List<Token> output)
    {
        if (_vocab.TryGetValue(sequence, out var id)) output.Add(new Token(id, sequence, 0, sequence.Length));
        else if (_vocab.TryGetValue(UnkToken, out var unk)) output.Add(new Token(unk, UnkToken, 0, sequence.Length));
        else throw new TokenizationException($"WordLevel: '{sequence}' is not in the vocabulary and the unk token '{UnkToken}' is missing.");
    }
}

internal sealed class BpeModel : Model
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string[] _vocabR;
    private readonly Dictionary<int, string>? _vocabRSparse;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int[] _byteTokens; // id of "<0xXX>" or -1
    private readonly ConcurrentDictionary<string, Token[]> _cache = new(StringComparer.Ordinal);
    private const int CacheCapacity = 100_000;
    private int _cacheSize;
    private const int MaxCachedLength = 256;

    public string? UnkToken { get; }
    public string? ContinuingSubwordPrefix { get; }
    public string? EndOfWordSuffix { get; }
    public bool FuseUnk { get; }
    public bool ByteFallback { get; }
    public bool IgnoreMerges { get; }

    /// <param name="merges">Merge pairs in rank order; <paramref name="mergeError"/> is called with the index of an invalid one.</param>
    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B)> merges, string? unkToken = null,
        string? continuingSubwordPrefix = null, string? endOfWordSuffix = null, bool fuseUnk = false, bool byteFallback = false,
        bool ignoreMerges = false, Func<int, string, Exception>? mergeError = null)
    {
        _vocab = vocab;
        _lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _vocabR = VocabHelpers.Reverse(vocab, out _vocabRSparse);
        UnkToken = unkToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        EndOfWordSuffix = endOfWordSuffix;
        FuseUnk = fuseUnk;
        ByteFallback = byteFallback;
        IgnoreMerges = ignoreMerges;
        int prefixLen = continuingSubwordPrefix?.Length ?? 0;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int i = 0; i < merges.Count; i++)
        {
            var (a, b) = merges[i];
            if (!vocab.TryGetValue(a, out var aId))
                throw mergeError?.Invoke(i, $"merge token '{a}' is not in the vocabulary") ?? new TokenizationException($"BPE merge {i}: token '{a}' is not in the vocabulary.");
            if (!vocab.TryGetValue(b, out var bId))
                throw mergeError?.Invoke(i, $"merge token '{b}' is not in the vocabulary") ?? new TokenizationException($"BPE merge {i}: token '{b}' is not in the vocabulary.");
            string merged = a + (b.Length >= prefixLen ? b[prefixLen..] : "");
            if (!vocab.TryGetValue(merged, out var newId))
                throw mergeError?.Invoke(i, $"merged token '{merged}' is not in the vocabulary") ?? new TokenizationException($"BPE merge {i}: merged token '{merged}' is not in the vocabulary.");
            _merges[Key(aId, bId)] = (i, newId);
        }
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++)
            _byteTokens[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    public override int VocabSize => _vocab.Count;
    public override IReadOnlyDictionary<string, int> GetVocab() => _vocab;
    public override int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;
    public override string? IdToToken(int id) =>
        _vocabRSparse != null ? (_vocabRSparse.TryGetValue(id, out var s) ? s : null) : (id >= 0 && id < _vocabR.Length ? _vocabR[id] : null);

    public override void Tokenize(string sequence, List<Token> output)
    {
        if (sequence.Length == 0) return;
        if (IgnoreMerges && _vocab.TryGetValue(sequence, out var whole))
        {
            output.Add(new Token(whole, sequence, 0, sequence.Length));
            return;
        }
        if (_cache.TryGetValue(sequence, out var cached)) { output.AddRange(cached); return; }
        var tokens = MergeWord(sequence);
        // ConcurrentDictionary.Count takes every lock, so the size is tracked separately.
        if (sequence.Length < MaxCachedLength && Volatile.Read(ref _cacheSize) < CacheCapacity && _cache.TryAdd(sequence, tokens))
            Interlocked.Increment(ref _cacheSize);
        output.AddRange(tokens);
    }

    private struct Symbol
    {
        public int C, Prev, Next, Start, End;
        public bool Removed;
    }

    [ThreadStatic] private static List<Symbol>? t_symbols;
    [ThreadStatic] private static PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)>? t_queue;

    private static void AddSymbol(List<Symbol> symbols, int id, int start, int end)
    {
        int len = symbols.Count;
        if (len > 0)
        {
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols);
            span[len - 1].Next = len;
        }
        symbols.Add(new Symbol { C = id, Prev = len - 1, Next = -1, Start = start, End = end });
    }

    private Token[] MergeWord(string w)
    {
        var symbols = t_symbols ??= new List<Symbol>(64);
        symbols.Clear();
        void Add(int id, int start, int end) => AddSymbol(symbols, id, start, end);

        (int Id, int Start, int End)? unk = null;
        int prefixLen = ContinuingSubwordPrefix?.Length ?? 0;
        int suffixLen = EndOfWordSuffix?.Length ?? 0;
        char[] buf = new char[prefixLen + 2 + suffixLen];
        ContinuingSubwordPrefix?.CopyTo(0, buf, 0, prefixLen);
        Span<byte> utf8 = stackalloc byte[64];
        for (int i = 0; i < w.Length;)
        {
            int clen = char.IsHighSurrogate(w[i]) && i + 1 < w.Length && char.IsLowSurrogate(w[i + 1]) ? 2 : 1;
            bool isFirst = i == 0, isLast = i + clen >= w.Length;
            // buf always starts with the prefix; the first character is written after it and
            // looked up without it.
            int from = isFirst || prefixLen == 0 ? prefixLen : 0;
            w.CopyTo(i, buf, prefixLen, clen);
            int pos = prefixLen + clen;
            if (isLast && suffixLen > 0)
            {
                EndOfWordSuffix!.CopyTo(0, buf, pos, suffixLen);
                pos += suffixLen;
            }
            var s = new ReadOnlySpan<char>(buf, from, pos - from);
            if (_lookup.TryGetValue(s, out var id))
            {
                if (unk is { } u) { Add(u.Id, u.Start, u.End); unk = null; }
                Add(id, i, i + clen);
            }
            else
            {
                bool done = false;
                if (ByteFallback)
                {
                    int nb = System.Text.Encoding.UTF8.GetBytes(s, utf8);
                    bool all = true;
                    for (int k = 0; k < nb; k++) if (_byteTokens[utf8[k]] < 0) { all = false; break; }
                    if (all)
                    {
                        // Rust gives each byte token one byte of the normalized text; mapped back,
                        // every one of them covers the whole character.
                        for (int k = 0; k < nb; k++) Add(_byteTokens[utf8[k]], i, i + clen);
                        done = true;
                    }
                }
                if (!done && UnkToken != null)
                {
                    if (!_vocab.TryGetValue(UnkToken, out var unkId))
                        throw new TokenizationException($"BPE: the unk token '{UnkToken}' is not in the vocabulary.");
                    if (unk is { } u)
                    {
                        if (FuseUnk) unk = (u.Id, u.Start, i + clen);
                        else { Add(u.Id, u.Start, u.End); unk = (unkId, i, i + clen); }
                    }
                    else unk = (unkId, i, i + clen);
                }
            }
            i += clen;
        }
        if (unk is { } last) Add(last.Id, last.Start, last.End);

        var arr = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols);
        if (arr.Length > 1 && _merges.Count > 0) MergeAll(arr);
        int count = 0;
        foreach (var sym in arr) if (!sym.Removed) count++;
        var result = new Token[count];
        int j = 0;
        foreach (var sym in arr)
            if (!sym.Removed)
                result[j++] = new Token(sym.C, IdToToken(sym.C) ?? "", sym.Start, sym.End);
        return result;
    }

    private void MergeAll(Span<Symbol> symbols)
    {
        var queue = t_queue ??= new PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)>(64);
        queue.Clear();
        for (int i = 0; i + 1 < symbols.Length; i++)
            if (_merges.TryGetValue(Key(symbols[i].C, symbols[i + 1].C), out var m))
                queue.Enqueue((i, m.NewId), (m.Rank, i));
        while (queue.TryDequeue(out var top, out _))
        {
            ref var cur = ref symbols[top.Pos];
            if (cur.Removed || cur.Next == -1) continue;
            int nextPos = cur.Next;
            var right = symbols[nextPos];
            if (!_merges.TryGetValue(Key(cur.C, right.C), out var target) || target.NewId != top.NewId) continue;
            cur.C = top.NewId;
            cur.End = right.End;
            cur.Next = right.Next;
            symbols[nextPos].Removed = true;
            if (right.Next > -1 && right.Next < symbols.Length) symbols[right.Next].Prev = top.Pos;
            if (cur.Prev >= 0)
            {
                var prev = symbols[cur.Prev];
                if (_merges.TryGetValue(Key(prev.C, cur.C), out var pm))
                    queue.Enqueue((cur.Prev, pm.NewId), (pm.Rank, cur.Prev));
            }
            if (cur.Next >= 0 && cur.Next < symbols.Length)
            {
                var nxt = symbols[cur.Next];
                if (_merges.TryGetValue(Key(cur.C, nxt.C), out var nm))
                    queue.Enqueue((top.Pos, nm.NewId), (nm.Rank, top.Pos));
            }
        }
    }
}

internal sealed class UnigramModel : Model
{
    private readonly List<(string Piece, double Score)> _vocab;
    private readonly Dictionary<string, int> _tokenToIds;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly double _minScore;
    private readonly int _maxPieceLength;
    private readonly ConcurrentDictionary<string, string[]> _cache = new(StringComparer.Ordinal);
    private int _cacheSize;
    public int? UnkId { get; }
    public bool ByteFallback { get; }
    private const double UnkPenalty = 10.0;

    public UnigramModel(List<(string Piece, double Score)> vocab, int? unkId, bool byteFallback)
    {
        if (unkId is { } u)
        {
            if (vocab.Count == 0) throw new TokenizationException("Unigram: the vocabulary is empty.");
            if (u < 0 || u >= vocab.Count) throw new TokenizationException($"Unigram: unk_id {u} is outside the vocabulary (size {vocab.Count}).");
        }
        _vocab = vocab;
        _tokenToIds = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        _minScore = double.PositiveInfinity;
        for (int i = 0; i < vocab.Count; i++)
        {
            _tokenToIds[vocab[i].Piece] = i;
            if (vocab[i].Score < _minScore) _minScore = vocab[i].Score;
            if (vocab[i].Piece.Length > _maxPieceLength) _maxPieceLength = vocab[i].Piece.Length;
        }
        _lookup = _tokenToIds.GetAlternateLookup<ReadOnlySpan<char>>();
        UnkId = unkId;
        ByteFallback = byteFallback;
    }

    public override int VocabSize => _vocab.Count;
    public override IReadOnlyDictionary<string, int> GetVocab() => _tokenToIds;
    public override int? TokenToId(string token) => _tokenToIds.TryGetValue(token, out var id) ? id : null;
    public override string? IdToToken(int id) => id >= 0 && id < _vocab.Count ? _vocab[id].Piece : null;

    public override void Tokenize(string sentence, List<Token> output)
    {
        var pieces = Encode(sentence);
        int offset = 0;
        foreach (var piece in pieces)
        {
            int len = piece.Length;
            if (_tokenToIds.TryGetValue(piece, out var id))
            {
                output.Add(new Token(id, piece, offset, offset + len));
            }
            else
            {
                bool done = false;
                if (ByteFallback)
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(piece);
                    var ids = new int[bytes.Length];
                    done = true;
                    for (int k = 0; k < bytes.Length; k++)
                    {
                        if (!_tokenToIds.TryGetValue($"<0x{bytes[k]:X2}>", out ids[k])) { done = false; break; }
                    }
                    if (done)
                        for (int k = 0; k < bytes.Length; k++)
                            output.Add(new Token(ids[k], $"<0x{bytes[k]:X2}>", offset, offset + len));
                }
                if (!done)
                {
                    if (UnkId is not { } unk) throw new TokenizationException("Unigram: an unknown piece was found but the model has no unk_id.");
                    output.Add(new Token(unk, piece, offset, offset + len));
                }
            }
            offset += len;
        }
    }

    private string[] Encode(string sentence)
    {
        if (sentence.Length == 0) return [];
        if (_cache.TryGetValue(sentence, out var hit)) return hit;
        var result = EncodeOptimized(sentence);
        if (sentence.Length < 256 && Volatile.Read(ref _cacheSize) < 10_000 && _cache.TryAdd(sentence, result))
            Interlocked.Increment(ref _cacheSize);
        return result;
    }

    private string[] EncodeOptimized(string sentence)
    {
        int size = sentence.Length;
        double unkScore = _minScore - UnkPenalty;
        var bestScore = new double[size + 1];
        var startsAt = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(startsAt, -1);
        int pos = 0;
        while (pos < size)
        {
            double tillHere = bestScore[pos];
            bool hasSingleNode = false;
            int mblen = char.IsHighSurrogate(sentence[pos]) && pos + 1 < size && char.IsLowSurrogate(sentence[pos + 1]) ? 2 : 1;
            int maxLen = Math.Min(_maxPieceLength, size - pos);
            for (int len = 1; len <= maxLen; len++)
            {
                int keyPos = pos + len;
                // pieces never end inside a surrogate pair
                if (keyPos < size && char.IsLowSurrogate(sentence[keyPos]) && char.IsHighSurrogate(sentence[keyPos - 1])) continue;
                if (!_lookup.TryGetValue(sentence.AsSpan(pos, len), out var id)) continue;
                double candidate = _vocab[id].Score + tillHere;
                if (startsAt[keyPos] < 0 || candidate > bestScore[keyPos])
                {
                    bestScore[keyPos] = candidate;
                    startsAt[keyPos] = pos;
                    bestId[keyPos] = id;
                }
                if (!hasSingleNode && len == mblen) hasSingleNode = true;
            }
            if (!hasSingleNode)
            {
                int target = pos + mblen;
                double candidate = unkScore + tillHere;
                if (startsAt[target] < 0 || candidate > bestScore[target])
                {
                    bestScore[target] = candidate;
                    startsAt[target] = pos;
                    bestId[target] = UnkId ?? throw new TokenizationException("Unigram: an unknown character was found but the model has no unk_id.");
                }
            }
            pos += mblen;
        }
        var results = new List<string>();
        var unkParts = new List<string>();
        int ends = size;
        while (ends > 0)
        {
            int s = startsAt[ends];
            if (UnkId is { } u && bestId[ends] == u)
            {
                unkParts.Add(sentence[s..ends]);
            }
            else
            {
                if (unkParts.Count > 0)
                {
                    unkParts.Reverse();
                    results.Add(string.Concat(unkParts));
                    unkParts.Clear();
                }
                results.Add(sentence[s..ends]);
            }
            ends = s;
        }
        if (unkParts.Count > 0)
        {
            unkParts.Reverse();
            results.Add(string.Concat(unkParts));
        }
        results.Reverse();
        return results.ToArray();
    }
}
