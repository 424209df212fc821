// The result of encoding one input (or pair), with the same fields and the same merge /
// truncate / pad semantics as Rust's `Encoding`. Mutable while the pipeline builds it; the public
// surface is read-only arrays.

namespace Glassbox.Tokenizers;

/// <summary>Ids, tokens, offsets (UTF-16 units into the input string), masks and word/sequence ids of an encoded input.</summary>
public sealed class Encoding
{
    internal List<int> IdList = new();
    internal List<int> TypeIdList = new();
    internal List<string> TokenList = new();
    internal List<int?> WordList = new();
    internal List<(int Start, int End)> OffsetList = new();
    internal List<int> SpecialList = new();
    internal List<int> AttentionList = new();
    internal List<Encoding> OverflowList = new();
    internal Dictionary<int, (int Start, int End)> SequenceRanges = new();
    // The text this (single-sequence) encoding's offsets point into; offset trimming walks it by code points.
    internal string? SourceText;

    internal Encoding() { }

    internal Encoding(int capacity)
    {
        IdList = new(capacity); TypeIdList = new(capacity); TokenList = new(capacity); WordList = new(capacity);
        OffsetList = new(capacity); SpecialList = new(capacity); AttentionList = new(capacity);
    }

    internal void AppendFrom(Encoding e, int typeId)
    {
        IdList.AddRange(e.IdList);
        TokenList.AddRange(e.TokenList);
        WordList.AddRange(e.WordList);
        OffsetList.AddRange(e.OffsetList);
        SpecialList.AddRange(e.SpecialList);
        AttentionList.AddRange(e.AttentionList);
        for (int i = 0; i < e.Length; i++) TypeIdList.Add(typeId);
    }

    // The public arrays are built on first read and cached: an encoding is complete when the
    // tokenizer hands it out. The internal operations that change it drop the caches anyway.
    private int[]? _ids, _typeIds, _attention, _special;
    private string[]? _tokens;
    private (int Start, int End)[]? _offsets;
    private int?[]? _words, _sequenceIds;

    internal void Invalidate()
    {
        _ids = _typeIds = _attention = _special = null;
        _tokens = null;
        _offsets = null;
        _words = _sequenceIds = null;
    }

    public int[] Ids => _ids ??= IdList.ToArray();
    public string[] Tokens => _tokens ??= TokenList.ToArray();
    public (int Start, int End)[] Offsets => _offsets ??= OffsetList.ToArray();
    public int[] TypeIds => _typeIds ??= TypeIdList.ToArray();
    public int[] AttentionMask => _attention ??= AttentionList.ToArray();
    public int[] SpecialTokensMask => _special ??= SpecialList.ToArray();
    public int?[] WordIds => _words ??= WordList.ToArray();
    public IReadOnlyList<Encoding> Overflowing => OverflowList;
    public int Length => IdList.Count;

    public int?[] SequenceIds => _sequenceIds ??= ComputeSequenceIds();

    private int?[] ComputeSequenceIds()
    {
        {
            var result = new int?[IdList.Count];
            if (SequenceRanges.Count == 0)
            {
                for (int i = 0; i < result.Length; i++) result[i] = 0;
                return result;
            }
            for (int seq = 0; seq < SequenceRanges.Count; seq++)
            {
                var (start, end) = SequenceRanges.TryGetValue(seq, out var r) ? r : (0, result.Length);
                for (int i = start; i < end && i < result.Length; i++) result[i] = seq;
            }
            return result;
        }
    }

    internal void AddToken(int id, string token, (int, int) offsets, int? word, int typeId)
    {
        IdList.Add(id);
        TokenList.Add(token);
        OffsetList.Add(offsets);
        TypeIdList.Add(typeId);
        WordList.Add(word);
        SpecialList.Add(0);
        AttentionList.Add(1);
    }

    internal void AddSpecial(int id, string token, int typeId)
    {
        IdList.Add(id);
        TokenList.Add(token);
        TypeIdList.Add(typeId);
        WordList.Add(null);
        OffsetList.Add((0, 0));
        SpecialList.Add(1);
        AttentionList.Add(1);
    }

    internal static Encoding FromSpecial(IReadOnlyList<int> ids, IReadOnlyList<string> tokens, int typeId)
    {
        var e = new Encoding();
        for (int i = 0; i < ids.Count; i++)
        {
            e.IdList.Add(ids[i]);
            e.TokenList.Add(tokens[i]);
            e.TypeIdList.Add(typeId);
            e.WordList.Add(null);
            e.OffsetList.Add((0, 0));
            e.SpecialList.Add(1);
            e.AttentionList.Add(1);
        }
        return e;
    }

    internal Encoding Clone()
    {
        var e = new Encoding
        {
            IdList = new(IdList), TypeIdList = new(TypeIdList), TokenList = new(TokenList), WordList = new(WordList),
            OffsetList = new(OffsetList), SpecialList = new(SpecialList), AttentionList = new(AttentionList),
            SequenceRanges = new(SequenceRanges), SourceText = SourceText,
        };
        foreach (var o in OverflowList) e.OverflowList.Add(o.Clone());
        return e;
    }

    private Encoding SliceCopy(int start, int stop) => new()
    {
        IdList = IdList.GetRange(start, stop - start),
        TypeIdList = TypeIdList.GetRange(start, stop - start),
        TokenList = TokenList.GetRange(start, stop - start),
        WordList = WordList.GetRange(start, stop - start),
        OffsetList = OffsetList.GetRange(start, stop - start),
        SpecialList = SpecialList.GetRange(start, stop - start),
        AttentionList = AttentionList.GetRange(start, stop - start),
        SourceText = SourceText,
    };

    internal void SetSequenceId(int sequenceId)
    {
        Invalidate();
        SequenceRanges[sequenceId] = (0, Length);
    }

    internal void SetTypeIds(int typeId)
    {
        Invalidate();
        for (int i = 0; i < TypeIdList.Count; i++) TypeIdList[i] = typeId;
    }

    internal void Truncate(int maxLen, int stride, TruncationDirection direction)
    {
        Invalidate();
        int encodingLen = IdList.Count;
        if (maxLen >= encodingLen) return;
        if (maxLen == 0)
        {
            var o = SwapOut();
            OverflowList.Add(o);
            return;
        }
        if (stride >= maxLen)
            throw new TokenizationException($"Truncation: stride ({stride}) must be strictly less than max_length ({maxLen}; the max length minus the special tokens the post-processor adds).");
        SequenceRanges.Clear();
        int offset = maxLen - stride;
        var parts = new List<(int Start, int Stop)>();
        bool end = false;
        if (direction == TruncationDirection.Right)
        {
            for (int start = 0; start < encodingLen; start += offset)
            {
                if (end) break;
                int stop = Math.Min(start + maxLen, encodingLen);
                end = stop == encodingLen;
                parts.Add((start, stop));
            }
        }
        else
        {
            for (int s = encodingLen - 1; s >= 0; s -= offset)
            {
                int stop = s + 1;
                int start = Math.Max(0, stop - maxLen);
                if (start < stop && !end)
                {
                    end = start == 0;
                    parts.Add((start, stop));
                }
            }
        }
        var first = SliceCopy(parts[0].Start, parts[0].Stop);
        for (int i = 1; i < parts.Count; i++) first.OverflowList.Add(SliceCopy(parts[i].Start, parts[i].Stop));
        CopyFrom(first);
    }

    private Encoding SwapOut()
    {
        var o = new Encoding
        {
            IdList = IdList, TypeIdList = TypeIdList, TokenList = TokenList, WordList = WordList, OffsetList = OffsetList,
            SpecialList = SpecialList, AttentionList = AttentionList, OverflowList = OverflowList, SequenceRanges = SequenceRanges,
            SourceText = SourceText,
        };
        var text = SourceText;
        CopyFrom(new Encoding());
        SourceText = text;
        return o;
    }

    private void CopyFrom(Encoding e)
    {
        IdList = e.IdList; TypeIdList = e.TypeIdList; TokenList = e.TokenList; WordList = e.WordList; OffsetList = e.OffsetList;
        SpecialList = e.SpecialList; AttentionList = e.AttentionList; OverflowList = e.OverflowList; SequenceRanges = e.SequenceRanges;
        SourceText = e.SourceText ?? SourceText;
    }

    internal static Encoding Merge(IReadOnlyList<Encoding> encodings, bool growingOffsets)
    {
        // merging one encoding into an empty one gives that encoding
        if (encodings.Count == 1) return encodings[0];
        var e = new Encoding();
        foreach (var sub in encodings) e.MergeWith(sub, growingOffsets);
        return e;
    }

    internal void MergeWith(Encoding pair, bool growingOffsets)
    {
        Invalidate();
        var overflowings = new List<Encoding>();
        foreach (var selfO in OverflowList)
        {
            var n = selfO.Clone();
            n.MergeWith(pair.Clone(), growingOffsets);
            overflowings.Add(n);
            foreach (var otherO in pair.OverflowList)
            {
                var n2 = selfO.Clone();
                n2.MergeWith(otherO.Clone(), growingOffsets);
                overflowings.Add(n2);
            }
        }
        foreach (var otherO in pair.OverflowList)
        {
            var n = Clone();
            n.MergeWith(otherO.Clone(), growingOffsets);
            overflowings.Add(n);
        }
        int originalLen = Length;
        foreach (var (seq, (s, t)) in pair.SequenceRanges) SequenceRanges[seq] = (originalLen + s, originalLen + t);
        IdList.AddRange(pair.IdList);
        TypeIdList.AddRange(pair.TypeIdList);
        TokenList.AddRange(pair.TokenList);
        WordList.AddRange(pair.WordList);
        int startingOffset = growingOffsets && OffsetList.Count > 0 ? OffsetList[^1].End : 0;
        foreach (var (s, t) in pair.OffsetList) OffsetList.Add((s + startingOffset, t + startingOffset));
        SpecialList.AddRange(pair.SpecialList);
        AttentionList.AddRange(pair.AttentionList);
        OverflowList = overflowings;
    }

    internal void Pad(int targetLength, int padId, int padTypeId, string padToken, PaddingDirection direction)
    {
        Invalidate();
        foreach (var o in OverflowList) o.Pad(targetLength, padId, padTypeId, padToken, direction);
        if (IdList.Count >= targetLength) return;
        int padLength = targetLength - IdList.Count;
        if (direction == PaddingDirection.Left)
        {
            IdList.InsertRange(0, Enumerable.Repeat(padId, padLength));
            TypeIdList.InsertRange(0, Enumerable.Repeat(padTypeId, padLength));
            TokenList.InsertRange(0, Enumerable.Repeat(padToken, padLength));
            WordList.InsertRange(0, Enumerable.Repeat<int?>(null, padLength));
            AttentionList.InsertRange(0, Enumerable.Repeat(0, padLength));
            SpecialList.InsertRange(0, Enumerable.Repeat(1, padLength));
            OffsetList.InsertRange(0, Enumerable.Repeat((0, 0), padLength));
            foreach (var key in SequenceRanges.Keys.ToList())
            {
                var (s, t) = SequenceRanges[key];
                SequenceRanges[key] = (s + padLength, t + padLength);
            }
        }
        else
        {
            IdList.AddRange(Enumerable.Repeat(padId, padLength));
            TypeIdList.AddRange(Enumerable.Repeat(padTypeId, padLength));
            TokenList.AddRange(Enumerable.Repeat(padToken, padLength));
            WordList.AddRange(Enumerable.Repeat<int?>(null, padLength));
            AttentionList.AddRange(Enumerable.Repeat(0, padLength));
            SpecialList.AddRange(Enumerable.Repeat(1, padLength));
            OffsetList.AddRange(Enumerable.Repeat((0, 0), padLength));
        }
    }

    internal Encoding TakeOverflowing()
    {
        var o = new Encoding { OverflowList = OverflowList };
        OverflowList = new();
        return o;
    }
}
