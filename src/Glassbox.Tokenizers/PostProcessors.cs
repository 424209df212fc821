using Glassbox.Tokenizers.Unicode;

namespace Glassbox.Tokenizers;

internal abstract class PostProcessor
{
    public abstract int AddedTokens(bool isPair);
    public abstract List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens);

    /// <summary>Rust's PostProcessor::process: sets sequence and type ids, processes, merges.</summary>
    public virtual Encoding Process(Encoding encoding, Encoding? pair, bool addSpecialTokens)
    {
        var encodings = pair != null ? new List<Encoding> { encoding, pair } : new List<Encoding> { encoding };
        for (int i = 0; i < encodings.Count; i++)
        {
            encodings[i].SetSequenceId(i);
            foreach (var o in encodings[i].OverflowList) o.SetSequenceId(i);
            encodings[i].SetTypeIds(i);
        }
        var processed = ProcessEncodings(encodings, addSpecialTokens);
        return Encoding.Merge(processed, false);
    }

    /// <summary>Without a post-processor: sequence ids for pairs, then merge.</summary>
    public static Encoding DefaultProcess(Encoding encoding, Encoding? pair)
    {
        if (pair == null) return encoding;
        var final = new Encoding();
        encoding.SetSequenceId(0);
        final.MergeWith(encoding, false);
        pair.SetSequenceId(1);
        final.MergeWith(pair, false);
        return final;
    }

    /// <summary>Position after moving <paramref name="count"/> code points forward from <paramref name="pos"/>, at most <paramref name="limit"/>.</summary>
    private static int Forward(string? text, int pos, int count, int limit)
    {
        for (int k = 0; k < count && pos < limit; k++)
            pos += text != null && pos + 1 < text.Length && char.IsHighSurrogate(text[pos]) && char.IsLowSurrogate(text[pos + 1]) ? 2 : 1;
        return Math.Min(pos, limit);
    }

    /// <summary>Position after moving back <paramref name="count"/> code points, or null when fewer exist before <paramref name="pos"/>.</summary>
    private static int? Backward(string? text, int pos, int count, int floor)
    {
        for (int k = 0; k < count; k++)
        {
            if (pos <= floor) return null;
            pos -= text != null && pos >= 2 && pos <= text.Length && char.IsLowSurrogate(text[pos - 1]) && char.IsHighSurrogate(text[pos - 2]) ? 2 : 1;
        }
        return pos;
    }

    /// <summary>ByteLevel/Roberta offset trimming: leading/trailing spaces of a token are not part of its span.</summary>
    public static void TrimOffsets(Encoding encoding, bool addPrefixSpace)
    {
        encoding.Invalidate();
        char spaceChar = ByteLevelTables.ByteToChar[' '];
        for (int i = 0; i < encoding.TokenList.Count; i++)
        {
            string token = encoding.TokenList[i];
            var (start, end) = encoding.OffsetList[i];
            var runes = token.EnumerateRunes().Select(r => r.Value).ToList();
            int leading = 0;
            while (leading < runes.Count && (runes[leading] == spaceChar || UnicodeText.IsWhiteSpace(runes[leading]))) leading++;
            int trailing = 0;
            while (trailing < runes.Count && (runes[runes.Count - 1 - trailing] == spaceChar || UnicodeText.IsWhiteSpace(runes[runes.Count - 1 - trailing]))) trailing++;
            if (leading == 0 && trailing == 0) continue;
            // Rust trims after converting offsets to code points, so the counts are code points
            // of the original text.
            string? text = encoding.SourceText;
            if (leading > 0)
            {
                bool isFirst = i == 0 || start == 0;
                if (isFirst && addPrefixSpace && leading == 1) leading = 0;
                start = Forward(text, start, leading, end);
            }
            if (trailing > 0 && Backward(text, end, trailing, 0) is { } e && e >= 0)
                end = Math.Max(e, start);
            encoding.OffsetList[i] = (start, end);
        }
    }
}

internal sealed class ByteLevelPostProcessor(bool addPrefixSpace, bool trimOffsets) : PostProcessor
{
    public override int AddedTokens(bool isPair) => 0;

    public override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (trimOffsets)
        {
            foreach (var e in encodings)
            {
                TrimOffsets(e, addPrefixSpace);
                foreach (var o in e.OverflowList) TrimOffsets(o, addPrefixSpace);
            }
        }
        for (int i = 0; i < encodings.Count; i++) encodings[i].SetSequenceId(i);
        return encodings;
    }
}

internal sealed class BertPostProcessor((string Token, int Id) sep, (string Token, int Id) cls) : PostProcessor
{
    public override int AddedTokens(bool isPair) => isPair ? 3 : 2;

    public override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (!addSpecialTokens) return encodings;
        var result = new List<Encoding>(encodings.Count);
        for (int i = 0; i < encodings.Count; i++)
        {
            var e = encodings[i];
            if (i == 0) result.Add(WrapBert(e, cls, sep, 0, 0));
            else result.Add(WrapBert(e, null, sep, 1, 1));
        }
        return result;
    }

    // BERT: [CLS] A [SEP] with type 0; B [SEP] with type 1 (Rust takes the encoding's own type ids, set to 1 for B).
    private static Encoding WrapBert(Encoding e, (string, int)? first, (string, int) last, int seqId, int type)
    {
        var r = new Encoding();
        if (first is { } f) r.AddSpecial(f.Item2, f.Item1, type);
        for (int i = 0; i < e.Length; i++)
        {
            r.IdList.Add(e.IdList[i]); r.TokenList.Add(e.TokenList[i]); r.OffsetList.Add(e.OffsetList[i]);
            r.TypeIdList.Add(e.TypeIdList[i]); r.WordList.Add(e.WordList[i]); r.SpecialList.Add(0); r.AttentionList.Add(1);
        }
        r.AddSpecial(last.Item2, last.Item1, type);
        r.SequenceRanges[seqId] = (first != null ? 1 : 0, r.Length - 1);
        foreach (var o in e.OverflowList) r.OverflowList.Add(WrapBert(o, first, last, seqId, type));
        return r;
    }
}

internal sealed class RobertaPostProcessor((string Token, int Id) sep, (string Token, int Id) cls, bool trimOffsets, bool addPrefixSpace) : PostProcessor
{
    public override int AddedTokens(bool isPair) => isPair ? 4 : 2;

    public override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (trimOffsets)
        {
            foreach (var e in encodings)
            {
                TrimOffsets(e, addPrefixSpace);
                foreach (var o in e.OverflowList) TrimOffsets(o, addPrefixSpace);
            }
        }
        foreach (var e in encodings) e.SetTypeIds(0);
        if (!addSpecialTokens) return encodings;
        var result = new List<Encoding>(encodings.Count);
        for (int i = 0; i < encodings.Count; i++)
        {
            var e = encodings[i];
            result.Add(i == 0 ? Wrap(e, cls, sep, 0) : Wrap(e, sep, sep, 1));
        }
        return result;
    }

    private static Encoding Wrap(Encoding e, (string Token, int Id) first, (string Token, int Id) last, int seqId)
    {
        var r = new Encoding();
        r.AddSpecial(first.Id, first.Token, 0);
        for (int i = 0; i < e.Length; i++)
        {
            r.IdList.Add(e.IdList[i]); r.TokenList.Add(e.TokenList[i]); r.OffsetList.Add(e.OffsetList[i]);
            r.TypeIdList.Add(0); r.WordList.Add(e.WordList[i]); r.SpecialList.Add(0); r.AttentionList.Add(1);
        }
        r.AddSpecial(last.Id, last.Token, 0);
        r.SequenceRanges[seqId] = (1, r.Length - 1);
        foreach (var o in e.OverflowList) r.OverflowList.Add(Wrap(o, first, last, seqId));
        return r;
    }
}

internal sealed class TemplatePiece
{
    public bool IsSequence;
    public int SequenceIndex; // 0 = A, 1 = B
    public string SpecialId = "";
    public int TypeId;
}

internal sealed class TemplatePostProcessor : PostProcessor
{
    private readonly List<TemplatePiece> _single;
    private readonly List<TemplatePiece> _pair;
    private readonly Dictionary<string, (int[] Ids, string[] Tokens)> _specialTokens;
    private readonly int _addedSingle, _addedPair;

    public TemplatePostProcessor(List<TemplatePiece> single, List<TemplatePiece> pair, Dictionary<string, (int[] Ids, string[] Tokens)> specialTokens)
    {
        _single = single;
        _pair = pair;
        _specialTokens = specialTokens;
        _addedSingle = Count(single);
        _addedPair = Count(pair);
    }

    private int Count(List<TemplatePiece> pieces) =>
        pieces.Where(p => !p.IsSequence).Sum(p => _specialTokens.TryGetValue(p.SpecialId, out var t) ? t.Ids.Length : 0);

    public override int AddedTokens(bool isPair) => isPair ? _addedPair : _addedSingle;

    // The top-level call (not inside a Sequence, where later processors must see the pieces):
    // without overflowing pieces the merged encoding is assembled directly, which is what merging
    // the per-piece encodings gives.
    public override Encoding Process(Encoding encoding, Encoding? pair, bool addSpecialTokens)
    {
        var encodings = pair != null ? new List<Encoding> { encoding, pair } : new List<Encoding> { encoding };
        var template = encodings.Count == 2 ? _pair : _single;
        if (encodings.All(e => e.OverflowList.Count == 0) && template.All(p => !p.IsSequence || p.SequenceIndex < encodings.Count))
        {
            // No overflowing pieces: assemble the merged encoding directly (what merging the
            // per-piece encodings gives).
            int total = encodings.Sum(e => e.Length) + (addSpecialTokens ? AddedTokens(encodings.Count == 2) : 0);
            var merged = new Encoding(total);
            foreach (var piece in template)
            {
                if (piece.IsSequence)
                {
                    var e = encodings[piece.SequenceIndex];
                    int start = merged.Length;
                    merged.AppendFrom(e, piece.TypeId);
                    merged.SequenceRanges[piece.SequenceIndex] = (start, merged.Length);
                }
                else if (addSpecialTokens)
                {
                    var (ids, tokens) = _specialTokens[piece.SpecialId];
                    for (int k = 0; k < ids.Length; k++) merged.AddSpecial(ids[k], tokens[k], piece.TypeId);
                }
            }
            merged.SourceText = encodings[0].SourceText;
            return merged;
        }
        return base.Process(encoding, pair, addSpecialTokens);
    }

    public override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        var template = encodings.Count == 2 ? _pair : _single;
        var result = new List<Encoding>();
        var used = new bool[encodings.Count];
        foreach (var piece in template)
        {
            if (piece.IsSequence)
            {
                int i = piece.SequenceIndex;
                if (i >= encodings.Count) throw new TokenizationException("TemplateProcessing: the template refers to sequence B but no pair was given.");
                // a sequence used twice in a template needs its own copy each time
                var e = used[i] ? encodings[i].Clone() : encodings[i];
                used[i] = true;
                e.SetTypeIds(piece.TypeId);
                e.SetSequenceId(i);
                result.Add(e);
            }
            else if (addSpecialTokens)
            {
                var (ids, tokens) = _specialTokens[piece.SpecialId];
                result.Add(Encoding.FromSpecial(ids, tokens, piece.TypeId));
            }
        }
        return result;
    }
}

internal sealed class SequencePostProcessor(IReadOnlyList<PostProcessor> processors) : PostProcessor
{
    public override int AddedTokens(bool isPair) => processors.Sum(p => p.AddedTokens(isPair));

    public override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        foreach (var p in processors) encodings = p.ProcessEncodings(encodings, addSpecialTokens);
        return encodings;
    }
}
