namespace Glassbox.Tokenizers;

/// <summary>A model token: id, string value and offsets in its split's normalized text (UTF-16 units).</summary>
internal readonly record struct Token(int Id, string Value, int Start, int End);

internal sealed class Split
{
    public NormalizedString Normalized;
    public List<Token>? Tokens;

    public Split(NormalizedString normalized, List<Token>? tokens = null)
    {
        Normalized = normalized;
        Tokens = tokens;
    }
}

/// <summary>The text cut into splits that are normalised, pre-tokenised and then tokenised independently.</summary>
internal sealed class PreTokenizedString
{
    public string Original { get; }
    public List<Split> Splits { get; private set; }

    public PreTokenizedString(string text)
    {
        Original = text;
        Splits = [new Split(new NormalizedString(text))];
    }

    public PreTokenizedString(NormalizedString normalized)
    {
        Original = normalized.Original;
        Splits = [new Split(normalized)];
    }

    /// <summary>Replaces every untokenised split by the splits the function returns; empty ones are dropped.</summary>
    public void Split(Func<int, NormalizedString, IEnumerable<Split>> splitFn)
    {
        var newSplits = new List<Split>(Splits.Count);
        for (int i = 0; i < Splits.Count; i++)
        {
            var original = Splits[i];
            if (original.Tokens != null) { newSplits.Add(original); continue; }
            foreach (var s in splitFn(i, original.Normalized))
                if (!s.Normalized.IsEmpty) newSplits.Add(s);
        }
        Splits = newSplits;
    }

    public void Split(Func<NormalizedString, List<NormalizedString>> splitFn)
    {
        List<Split>? newSplits = null;
        for (int i = 0; i < Splits.Count; i++)
        {
            var original = Splits[i];
            if (original.Tokens != null) { newSplits?.Add(original); continue; }
            var parts = splitFn(original.Normalized);
            if (parts.Count == 1 && ReferenceEquals(parts[0], original.Normalized))
            {
                // unchanged: keep the split object (and the list, if nothing changed before)
                newSplits?.Add(original);
                continue;
            }
            if (newSplits == null)
            {
                newSplits = new List<Split>(Splits.Count + parts.Count);
                for (int k = 0; k < i; k++) newSplits.Add(Splits[k]);
            }
            foreach (var p in parts)
                if (!p.IsEmpty) newSplits.Add(new Split(p));
        }
        if (newSplits != null) Splits = newSplits;
        else Splits.RemoveAll(s => s.Tokens == null && s.Normalized.IsEmpty);
    }

    public void Normalize(Action<NormalizedString> normalize)
    {
        foreach (var s in Splits)
            if (s.Tokens == null) normalize(s.Normalized);
    }

    public void Tokenize(Model model)
    {
        foreach (var s in Splits)
        {
            if (s.Tokens != null) continue;
            var list = new List<Token>();
            model.Tokenize(s.Normalized.Get(), list);
            s.Tokens = list;
        }
    }

    /// <summary>
    /// Tokenizes only as many splits as needed to reach <paramref name="maxTokens"/> tokens from the
    /// side that truncation keeps, dropping the rest (Rust's tokenize_with_limit).
    /// </summary>
    public void TokenizeWithLimit(Model model, int maxTokens, TruncationDirection direction)
    {
        int total = 0;
        if (direction == TruncationDirection.Left)
        {
            int first = Splits.Count;
            for (int i = Splits.Count - 1; i >= 0; i--)
            {
                var s = Splits[i];
                if (s.Tokens == null)
                {
                    var list = new List<Token>();
                    model.Tokenize(s.Normalized.Get(), list);
                    s.Tokens = list;
                    total += list.Count;
                    first = i;
                    if (total >= maxTokens) break;
                }
                else
                {
                    total += s.Tokens.Count;
                    first = i;
                }
            }
            Splits.RemoveRange(0, first);
        }
        else
        {
            int last = 0;
            for (int i = 0; i < Splits.Count; i++)
            {
                var s = Splits[i];
                if (s.Tokens == null)
                {
                    var list = new List<Token>();
                    model.Tokenize(s.Normalized.Get(), list);
                    s.Tokens = list;
                    total += list.Count;
                    last = i + 1;
                    if (total >= maxTokens) break;
                }
                else
                {
                    total += s.Tokens.Count;
                    last = i + 1;
                }
            }
            Splits.RemoveRange(last, Splits.Count - last);
        }
    }

    /// <summary>Builds the encoding of one sequence; offsets are mapped back to the original text.</summary>
    public Encoding IntoEncoding(int? wordIndex, int typeId)
    {
        var enc = new Encoding();
        for (int idx = 0; idx < Splits.Count; idx++)
        {
            var split = Splits[idx];
            var normalized = split.Normalized;
            int shift = normalized.OffsetsOriginal.Start;
            foreach (var token in split.Tokens!)
            {
                var r = normalized.NormalizedToOriginal(token.Start, token.End);
                (int, int) offsets = r is { } rr ? (shift + rr.Start, shift + rr.End) : (token.Start, token.End);
                enc.AddToken(token.Id, token.Value, offsets, wordIndex ?? idx, typeId);
            }
        }
        return enc;
    }
}
