// Human rationales as datasets give them: a column holding either the indices of the marked words
// ("2 5 6", "[2, 5, 6]", "2,5,6") or a 0/1 mask with one entry per word ("0 0 1 0", "[0,0,1,0]",
// "0010"). Words are the whitespace-separated words of the text, as ERASER's documents are
// word-tokenised; subword attributions are summed per word before they are compared with it.
namespace Glassbox.Explain.Quality;

/// <summary>How a rationale field is written.</summary>
public enum RationaleFormat
{
    /// <summary>A mask when the field has exactly one 0/1 entry per word, indices otherwise.</summary>
    Auto,
    /// <summary>0-based indices of the marked words.</summary>
    Indices,
    /// <summary>One 0/1 entry per word.</summary>
    Mask,
}

public static class HumanRationale
{
    /// <summary>The whitespace-separated words of a text as [start, end) character spans.</summary>
    public static IReadOnlyList<(int Start, int End)> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<(int, int)>();
        for (int i = 0; i < text.Length;)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int j = i;
            while (j < text.Length && !char.IsWhiteSpace(text[j])) j++;
            words.Add((i, j));
            i = j;
        }
        return words;
    }

    /// <summary>Parses a rationale field into a per-word mask; null when the field is empty (no annotation).</summary>
    /// <exception cref="FormatException">The field is not a list of integers, an index is out of range, or a mask has the wrong length.</exception>
    public static bool[]? Parse(string? field, int wordCount, RationaleFormat format = RationaleFormat.Auto)
    {
        if (field is null) return null;
        string f = field.Trim();
        if (f.StartsWith('[') && f.EndsWith(']')) f = f[1..^1].Trim();
        if (f.Length == 0) return null;
        string[] parts = f.Split([',', ';', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        // "0010": an unseparated run of 0/1 digits, one per word.
        if (parts.Length == 1 && f.Length == wordCount && wordCount > 1 && f.All(c => c is '0' or '1') && format != RationaleFormat.Indices)
            parts = f.Select(c => c.ToString()).ToArray();
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
                throw new FormatException($"the rationale '{field}' is not a list of word indices or a 0/1 mask ('{parts[i]}' is not an integer).");
        bool looksLikeMask = values.Length == wordCount && values.All(v => v is 0 or 1);
        var kind = format == RationaleFormat.Auto ? (looksLikeMask ? RationaleFormat.Mask : RationaleFormat.Indices) : format;
        var mask = new bool[wordCount];
        if (kind == RationaleFormat.Mask)
        {
            if (values.Length != wordCount)
                throw new FormatException($"the rationale mask has {values.Length} entries but the text has {wordCount} words.");
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i] is not (0 or 1)) throw new FormatException($"the rationale mask entry {i} is {values[i]}; a mask holds only 0 and 1.");
                mask[i] = values[i] == 1;
            }
            return mask;
        }
        foreach (int v in values)
        {
            if (v < 0 || v >= wordCount)
                throw new FormatException($"the rationale marks word {v} but the text has {wordCount} words (indices 0..{wordCount - 1}).");
            mask[v] = true;
        }
        return mask;
    }

    /// <summary>Per-word scores: the sum of the scores of the text tokens whose span starts inside the word.
    /// Words with no token (cut off by truncation) get the lowest score minus one, so they rank last.</summary>
    public static double[] WordScores(IReadOnlyList<(int Start, int End)> words, IReadOnlyList<(int Start, bool IsText)> tokens, IReadOnlyList<double> tokenScores)
    {
        var scores = new double[words.Count];
        var covered = new bool[words.Count];
        for (int t = 0; t < tokens.Count; t++)
        {
            if (!tokens[t].IsText) continue;
            int w = WordAt(words, tokens[t].Start);
            if (w < 0) continue;
            scores[w] += tokenScores[t];
            covered[w] = true;
        }
        if (covered.Any(c => !c) && covered.Any(c => c))
        {
            double low = Enumerable.Range(0, words.Count).Where(i => covered[i]).Min(i => scores[i]) - 1;
            for (int i = 0; i < words.Count; i++) if (!covered[i]) scores[i] = low;
        }
        return scores;
    }

    private static int WordAt(IReadOnlyList<(int Start, int End)> words, int position)
    {
        for (int i = 0; i < words.Count; i++)
            if (position >= words[i].Start && position < words[i].End) return i;
        return -1;
    }
}
