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
        int raw = Scripts.Of(c);
        if (c == 0x30FC) return Scripts.Han;
        if (c == ' ') return Scripts.Any;
        return raw switch
        {
            Scripts.Hiragana or Scripts.Katakana => Scripts.Han,
            _ => raw,
        };
    }
}

/// <summary>A coarse Unicode script classifier by block ranges (enough for script-change splitting).</summary>
internal static class Scripts
{
    public const int Any = 0, Common = 1, Latin = 2, Greek = 3, Cyrillic = 4, Armenian = 5, Hebrew = 6, Arabic = 7,
        Devanagari = 8, Bengali = 9, Thai = 10, Hangul = 11, Hiragana = 12, Katakana = 13, Han = 14, Georgian = 15,
        Ethiopic = 16, Tamil = 17, Other = 18, Inherited = 19;

    public static int Of(int c)
    {
        if (c < 0x80) return c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' ? Latin : Common;
        if (c is 0x200C or 0x200D or >= 0xFE00 and <= 0xFE0F or >= 0xE0100 and <= 0xE01EF) return Inherited;
        if (c is >= 0x1D400 and <= 0x1D7FF || c >= 0x1F000 && c <= 0x1FFFF) return Common;
        var cat = UnicodeText.Category(c);
        if (cat == System.Globalization.UnicodeCategory.SpaceSeparator) return Common;
        if (cat is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.EnclosingMark
            && c is >= 0x300 and <= 0x36F or >= 0x1AB0 and <= 0x1AFF or >= 0x1DC0 and <= 0x1DFF or >= 0x20D0 and <= 0x20FF or >= 0xFE20 and <= 0xFE2F)
            return Inherited;
        return c switch
        {
            >= 0x00C0 and <= 0x024F or >= 0x1E00 and <= 0x1EFF or >= 0x2C60 and <= 0x2C7F or >= 0xA720 and <= 0xA7FF or >= 0xFF21 and <= 0xFF3A or >= 0xFF41 and <= 0xFF5A => cat <= System.Globalization.UnicodeCategory.OtherLetter ? Latin : Common,
            0xAA or 0xBA or >= 0xFB00 and <= 0xFB06 or >= 0x2160 and <= 0x2188 or 0x2071 or 0x207F or >= 0x2090 and <= 0x209C or 0x212A or 0x212B or 0x2132 or 0x214E => Latin,
            >= 0xFB13 and <= 0xFB17 => Armenian,
            >= 0x0370 and <= 0x03FF or >= 0x1F00 and <= 0x1FFF => Greek,
            >= 0x0400 and <= 0x052F or >= 0x2DE0 and <= 0x2DFF or >= 0xA640 and <= 0xA69F => Cyrillic,
            >= 0x0530 and <= 0x058F => Armenian,
            >= 0x0590 and <= 0x05FF => Hebrew,
            >= 0x0600 and <= 0x06FF or >= 0x0750 and <= 0x077F or >= 0x08A0 and <= 0x08FF or >= 0xFB50 and <= 0xFDFF or >= 0xFE70 and <= 0xFEFF => cat is System.Globalization.UnicodeCategory.OtherPunctuation && c is 0x60C or 0x61B or 0x61F or 0x640 ? Common : Arabic,
            >= 0x0900 and <= 0x097F => c is 0x964 or 0x965 ? Common : Devanagari,
            >= 0x0980 and <= 0x09FF => Bengali,
            >= 0x0B80 and <= 0x0BFF => Tamil,
            >= 0x0E00 and <= 0x0E7F => c == 0xE3F ? Common : Thai,
            >= 0x10A0 and <= 0x10FF => Georgian,
            >= 0x1100 and <= 0x11FF or >= 0x3130 and <= 0x318F or >= 0xAC00 and <= 0xD7AF or >= 0xA960 and <= 0xA97F or >= 0xD7B0 and <= 0xD7FF => Hangul,
            >= 0x1200 and <= 0x139F => Ethiopic,
            >= 0x3041 and <= 0x309F => c is 0x309B or 0x309C ? Common : Hiragana,
            >= 0x30A0 and <= 0x30FF or >= 0x31F0 and <= 0x31FF or >= 0xFF66 and <= 0xFF9D => c is 0x30A0 or 0x30FB or 0x30FC ? Common : Katakana,
            >= 0x2E80 and <= 0x2FDF or 0x3005 or 0x3007 or >= 0x3021 and <= 0x3029 or >= 0x3038 and <= 0x303B or >= 0x3400 and <= 0x4DBF or >= 0x4E00 and <= 0x9FFF or >= 0xF900 and <= 0xFAFF or >= 0x20000 and <= 0x3134F => Han,
            _ => cat <= System.Globalization.UnicodeCategory.OtherLetter || cat is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark ? Other + (c >> 7) : Common,
        };
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
