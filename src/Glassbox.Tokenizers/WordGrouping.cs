// Groups sub-word tokens into the words they came from (by word id and sequence), with the word's
// character span in the input text — what explanations need to turn per-token scores into
// per-word scores.

namespace Glassbox.Tokenizers;

/// <summary>One word: its tokens (indices into the encoding) and its span in the input string (UTF-16 units).</summary>
public sealed record WordSpan(int WordId, int SequenceId, int[] TokenIndices, int Start, int End, string Text);

/// <summary>How per-token scores are combined into a per-word score.</summary>
public enum WordAggregation { Sum, Mean, Max, MaxAbs, First }

public static class WordGrouping
{
    /// <summary>
    /// Words of an encoding in order. Special and padding tokens (no word id) are skipped.
    /// <paramref name="text"/> and <paramref name="pair"/> are the encoded strings, used for each word's text.
    /// </summary>
    public static IReadOnlyList<WordSpan> Group(Encoding encoding, string text, string? pair = null)
    {
        var words = new List<WordSpan>();
        var wordIds = encoding.WordIds;
        var seqIds = encoding.SequenceIds;
        var offsets = encoding.Offsets;
        var current = new List<int>();
        int? curWord = null, curSeq = null;
        void Flush()
        {
            if (curWord is not { } w || current.Count == 0) return;
            int start = current.Min(i => offsets[i].Start), end = current.Max(i => offsets[i].End);
            string source = curSeq == 1 && pair != null ? pair : text;
            string t = start >= 0 && end <= source.Length && start <= end ? source[start..end] : "";
            words.Add(new WordSpan(w, curSeq ?? 0, current.ToArray(), start, end, t));
            current.Clear();
        }
        for (int i = 0; i < wordIds.Length; i++)
        {
            if (encoding.SpecialTokensMask[i] == 1 || wordIds[i] is not { } w) { Flush(); curWord = null; continue; }
            int seq = seqIds[i] ?? 0;
            if (curWord != w || curSeq != seq) { Flush(); curWord = w; curSeq = seq; }
            current.Add(i);
        }
        Flush();
        return words;
    }

    /// <summary>Combines per-token scores (one per encoding position) into one score per word.</summary>
    public static double[] Aggregate(IReadOnlyList<WordSpan> words, IReadOnlyList<double> tokenScores, WordAggregation how = WordAggregation.Sum)
    {
        var result = new double[words.Count];
        for (int w = 0; w < words.Count; w++)
        {
            var idx = words[w].TokenIndices;
            result[w] = how switch
            {
                WordAggregation.Sum => idx.Sum(i => tokenScores[i]),
                WordAggregation.Mean => idx.Average(i => tokenScores[i]),
                WordAggregation.Max => idx.Max(i => tokenScores[i]),
                WordAggregation.MaxAbs => idx.Select(i => tokenScores[i]).OrderByDescending(Math.Abs).First(),
                _ => tokenScores[idx[0]],
            };
        }
        return result;
    }
}
