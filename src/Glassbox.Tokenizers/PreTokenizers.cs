using System.Text;
using System.Text.RegularExpressions;
using Glassbox.Tokenizers.Unicode;

namespace Glassbox.Tokenizers;

internal abstract class PreTokenizer
{
    public abstract void PreTokenize(PreTokenizedString pts);
}

internal sealed class BertPreTokenizer : PreTokenizer
{
    private static readonly CharPredicatePattern s_whitespace = new(UnicodeText.IsWhiteSpace);
    private static readonly CharPredicatePattern s_punct = new(UnicodeText.IsBertPunctuation);

    public override void PreTokenize(PreTokenizedString pts)
    {
        pts.Split(n => n.Split(s_whitespace, SplitDelimiterBehavior.Removed));
        pts.Split(n => n.Split(s_punct, SplitDelimiterBehavior.Isolated));
    }
}

/// <summary>Maps bytes to printable characters as GPT-2 does, so that byte-level BPE works on text.</summary>
internal static class ByteLevelTables
{
    public static readonly char[] ByteToChar = Build();
    public static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(x => x.c, x => (byte)x.b);
    public static readonly string[] ByteToString = ByteToChar.Select(c => c.ToString()).ToArray();

    private static char[] Build()
    {
        var map = new char[256];
        var direct = new bool[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = direct[b] ? (char)b : (char)(256 + n++);
        return map;
    }
}

internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool trimOffsets, bool useRegex) : PreTokenizer
{
    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public bool TrimOffsets { get; } = trimOffsets;
    public bool UseRegex { get; } = useRegex;

    public override void PreTokenize(PreTokenizedString pts)
    {
        pts.Split(n =>
        {
            if (AddPrefixSpace && !n.Get().StartsWith(' ')) n.Prepend(" ");
            return UseRegex ? n.Split(Gpt2Pattern.Instance, SplitDelimiterBehavior.Isolated) : [n];
        });
        pts.Normalize(n =>
        {
            string s = n.Get();
            if (n.IsAscii())
            {
                // one byte per character: a character-for-character mapping
                n.ReplaceOneToOne(string.Create(s.Length, s, static (dst, src) =>
                {
                    for (int i = 0; i < src.Length; i++) dst[i] = ByteLevelTables.ByteToChar[src[i]];
                }));
                return;
            }
            var transforms = new List<(int, int)>(s.Length * 2);
            Span<byte> bytes = stackalloc byte[4];
            for (int i = 0; i < s.Length;)
            {
                // lone surrogates were replaced before encoding, so this always succeeds
                Rune.DecodeFromUtf16(s.AsSpan(i), out var r, out int consumed);
                int nb = r.EncodeToUtf8(bytes);
                for (int k = 0; k < nb; k++) transforms.Add((ByteLevelTables.ByteToChar[bytes[k]], k > 0 ? 1 : 0));
                i += consumed;
            }
            n.Transform(transforms, 0);
        });
    }
}

internal sealed class WhitespacePreTokenizer : PreTokenizer
{
    // \w+|[^\w\s]+ with Rust's Unicode \w, as a scanner over code points.
    private sealed class WordsPattern : IPattern
    {
        public List<(int Start, int End, bool IsMatch)> FindMatches(string s)
        {
            var result = new List<(int, int, bool)>();
            if (s.Length == 0) { result.Add((0, 0, false)); return result; }
            int prev = 0, i = 0;
            while (i < s.Length)
            {
                var r = Rune.GetRuneAt(s, i);
                int kind = Kind(r.Value);
                if (kind == 0) { i += r.Utf16SequenceLength; continue; }
                int start = i;
                while (i < s.Length)
                {
                    var r2 = Rune.GetRuneAt(s, i);
                    if (Kind(r2.Value) != kind) break;
                    i += r2.Utf16SequenceLength;
                }
                if (prev != start) result.Add((prev, start, false));
                result.Add((start, i, true));
                prev = i;
            }
            if (prev != s.Length) result.Add((prev, s.Length, false));
            return result;
        }

        private static int Kind(int c) => UnicodeText.IsWordChar(c) ? 1 : UnicodeText.IsWhiteSpace(c) ? 0 : 2;
    }

    private static readonly InvertPattern s_pattern = new(new WordsPattern());

    public override void PreTokenize(PreTokenizedString pts) =>
        pts.Split(n => n.Split(s_pattern, SplitDelimiterBehavior.Removed));
}

internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer
{
    private static readonly CharPredicatePattern s_whitespace = new(UnicodeText.IsWhiteSpace);
    public override void PreTokenize(PreTokenizedString pts) =>
        pts.Split(n => n.Split(s_whitespace, SplitDelimiterBehavior.Removed));
}

internal enum PrependScheme { Always, First, Never }

internal sealed class MetaspacePreTokenizer(int replacement, PrependScheme prependScheme, bool split) : PreTokenizer
{
    private readonly string _rep = char.ConvertFromUtf32(replacement);
    private static readonly StringPattern s_space = new(" ");
    public int Replacement { get; } = replacement;
    public PrependScheme PrependScheme { get; } = prependScheme;

    public override void PreTokenize(PreTokenizedString pts)
    {
        var splitPattern = new CharPredicatePattern(c => c == Replacement);
        pts.Split(n =>
        {
            n.Replace(s_space, _rep);
            switch (PrependScheme)
            {
                case PrependScheme.Always:
                    if (!n.Get().StartsWith(_rep, StringComparison.Ordinal)) n.Prepend(_rep);
                    break;
                case PrependScheme.First:
                    if (!n.Get().StartsWith(_rep, StringComparison.Ordinal) && n.OffsetsOriginal.Start == 0) n.Prepend(_rep);
                    break;
            }
            return split ? n.Split(splitPattern, SplitDelimiterBehavior.MergedWithNext) : [n];
        });
    }
}

internal sealed class SplitPreTokenizer(IPattern pattern, SplitDelimiterBehavior behavior, bool invert) : PreTokenizer
{
    private readonly IPattern _pattern = invert ? new InvertPattern(pattern) : pattern;
    public override void PreTokenize(PreTokenizedString pts) => pts.Split(n => n.Split(_pattern, behavior));
}

internal sealed class PunctuationPreTokenizer(SplitDelimiterBehavior behavior) : PreTokenizer
{
    private static readonly CharPredicatePattern s_punct = new(UnicodeText.IsBertPunctuation);
    public override void PreTokenize(PreTokenizedString pts) => pts.Split(n => n.Split(s_punct, behavior));
}

internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    private static readonly CharPredicatePattern s_digits = new(UnicodeText.IsNumeric);
    public override void PreTokenize(PreTokenizedString pts) =>
        pts.Split(n => n.Split(s_digits, individualDigits ? SplitDelimiterBehavior.Isolated : SplitDelimiterBehavior.Contiguous));
}

internal sealed class CharDelimiterSplitPreTokenizer(int delimiter) : PreTokenizer
{
    private readonly CharPredicatePattern _pattern = new(c => c == delimiter);
    public override void PreTokenize(PreTokenizedString pts) => pts.Split(n => n.Split(_pattern, SplitDelimiterBehavior.Removed));
}

internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> preTokenizers) : PreTokenizer
{
    public IReadOnlyList<PreTokenizer> PreTokenizers { get; } = preTokenizers;
    public override void PreTokenize(PreTokenizedString pts)
    {
        foreach (var p in PreTokenizers) p.PreTokenize(pts);
    }
}

/// <summary>
/// Splits where the Unicode script changes (Rust's UnicodeScripts). Spaces (Zs) belong to any
/// script; Hiragana, Katakana and Han are merged into one Japanese-compatible script.
/// </summary>
internal sealed class UnicodeScriptsPreTokenizer : PreTokenizer
{
    public override void PreTokenize(PreTokenizedString pts) => pts.Split(n => SplitByScript(n));

    private static List<NormalizedString> SplitByScript(NormalizedString normalized)
    {
        string s = normalized.Get();
        var result = new List<NormalizedString>();
        int lastScript = -1; // none yet
        int offset = 0;
        var boundaries = new List<int>();
        for (int i = 0; i < s.Length;)
        {
            var r = Rune.GetRuneAt(s, i);
            int script = FixedScript(r.Value);
            if (script != Scripts.Any && lastScript != Scripts.Any && lastScript != script) boundaries.Add(offset);
            offset += r.Utf16SequenceLength;
            if (script != Scripts.Any) lastScript = script;
            i += r.Utf16SequenceLength;
        }
        boundaries.Add(s.Length);
        for (int k = 0; k + 1 < boundaries.Count; k++)
        {
            var sl = normalized.Slice(boundaries[k], boundaries[k + 1]);
            if (sl != null) result.Add(sl);
        }
        return result;
    }

    private static int FixedScript(int c)
    {
        if (c == 0x30FC) return Scripts.Han;
        if (c == ' ') return Scripts.Any;
        int raw = Scripts.Of(c);
        return raw == Scripts.Hiragana || raw == Scripts.Katakana ? Scripts.Han : raw;
    }
}

/// <summary>
/// Unicode Script property as the Rust UnicodeScripts pre-tokenizer sees it: the ranges of its
/// scripts table (embedded as unicode-scripts.txt); characters outside every range are "Any".
/// </summary>
internal static class Scripts
{
    public const int Any = 0;
    public static readonly int Han, Hiragana, Katakana;
    private static readonly int[] s_starts, s_ends, s_ids;

    static Scripts()
    {
        var names = new Dictionary<string, int> { ["Any"] = 0 };
        var starts = new List<int>(); var ends = new List<int>(); var ids = new List<int>();
        using var stream = typeof(Scripts).Assembly.GetManifestResourceStream("Glassbox.Tokenizers.unicode-scripts.txt")
            ?? throw new InvalidOperationException("Embedded Unicode script table is missing.");
        using var reader = new StreamReader(stream);
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            var parts = line.Split(' ');
            if (parts.Length != 3) continue;
            if (!names.TryGetValue(parts[2], out var id)) names[parts[2]] = id = names.Count;
            starts.Add(int.Parse(parts[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
            ends.Add(int.Parse(parts[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
            ids.Add(id);
        }
        s_starts = starts.ToArray(); s_ends = ends.ToArray(); s_ids = ids.ToArray();
        Han = names.GetValueOrDefault("Han", -1);
        Hiragana = names.GetValueOrDefault("Hiragana", -2);
        Katakana = names.GetValueOrDefault("Katakana", -3);
    }

    public static int Of(int c)
    {
        int i = Array.BinarySearch(s_starts, c);
        if (i < 0) i = ~i - 1;
        return i >= 0 && c <= s_ends[i] ? s_ids[i] : Any;
    }
}

internal static class RegexFactory
{
    /// <summary>Compiles a tokenizer.json regex (Oniguruma syntax) for .NET.</summary>
    public static Regex Create(string pattern) =>
        new(Translate(pattern), RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>
    /// Oniguruma's Unicode <c>\w</c> (as the Rust library uses it) also matches spacing and
    /// enclosing marks, letter numbers (Ⅻ) and the Latin-1 superscripts and
    /// fractions (½), which .NET's <c>\w</c> does not; <c>\w</c> is widened accordingly.
    /// </summary>
    private const string WordClass = @"\w\p{Mc}\p{Me}\p{Nl}\u00B2\u00B3\u00B9\u00BC-\u00BE";

    public static string Translate(string pattern)
    {
        var sb = new System.Text.StringBuilder(pattern.Length + 16);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char n = pattern[i + 1];
                if (n == 'w') sb.Append(inClass ? WordClass : "[" + WordClass + "]");
                else if (n == 'W' && !inClass) sb.Append("[^" + WordClass + "]");
                else sb.Append(c).Append(n);
                i++;
                continue;
            }
            if (c == '[' && !inClass) inClass = true;
            else if (c == ']' && inClass) inClass = false;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
