// Patterns split a string into alternating (non-)matching spans, in UTF-16 units, exactly as the
// Rust `Pattern` trait does: a char predicate, a literal string, a regex, or the inversion of one.

using System.Text;
using System.Text.RegularExpressions;

namespace Glassbox.Tokenizers;

internal interface IPattern
{
    List<(int Start, int End, bool IsMatch)> FindMatches(string inside);
}

internal sealed class CharPredicatePattern(Func<int, bool> predicate) : IPattern
{
    public List<(int Start, int End, bool IsMatch)> FindMatches(string inside)
    {
        var result = new List<(int, int, bool)>();
        if (inside.Length == 0) { result.Add((0, 0, false)); return result; }
        int lastOffset = 0, lastSeen = 0;
        for (int i = 0; i < inside.Length;)
        {
            var r = Rune.GetRuneAt(inside, i);
            int len = r.Utf16SequenceLength;
            lastSeen = i + len;
            if (predicate(r.Value))
            {
                if (lastOffset < i) result.Add((lastOffset, i, false));
                result.Add((i, i + len, true));
                lastOffset = i + len;
            }
            i += len;
        }
        if (lastSeen > lastOffset) result.Add((lastOffset, lastSeen, false));
        return result;
    }
}

internal sealed class RegexPattern : IPattern
{
    private readonly Regex _regex;
    public RegexPattern(Regex regex) => _regex = regex;

    public static RegexPattern Literal(string s) =>
        new(new Regex(Regex.Escape(s), RegexOptions.CultureInvariant | RegexOptions.Compiled));

    // .NET regexes see a non-BMP character as two surrogates, which \w or \p{L} never match;
    // Rust's engines see one character. Unless the pattern itself names non-BMP characters, the
    // text is matched with each non-BMP character replaced by one BMP stand-in of the same general
    // category, and match positions are mapped back.
    private static readonly char[] s_proxies = BuildProxies();

    private static char[] BuildProxies()
    {
        var proxies = new char[32];
        for (int c = 0xFFFD; c >= 0x100; c--)
        {
            if (c is >= 0xD800 and <= 0xDFFF or >= 0xE000 and <= 0xF8FF) continue;
            int cat = (int)System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c);
            if (proxies[cat] == 0) proxies[cat] = (char)c;
        }
        proxies[(int)System.Globalization.UnicodeCategory.PrivateUse] = '\uE000';
        proxies[(int)System.Globalization.UnicodeCategory.Surrogate] = '\uFFFD';
        for (int i = 0; i < proxies.Length; i++) if (proxies[i] == 0) proxies[i] = '\uFFFD';
        return proxies;
    }

    private bool? _patternHasSurrogates;

    public List<(int Start, int End, bool IsMatch)> FindMatches(string inside)
    {
        _patternHasSurrogates ??= _regex.ToString().Any(char.IsSurrogate);
        if (!_patternHasSurrogates.Value && inside.Any(char.IsSurrogate))
        {
            var compact = new System.Text.StringBuilder(inside.Length);
            var map = new List<int>(inside.Length + 1);
            for (int i = 0; i < inside.Length;)
            {
                map.Add(i);
                if (char.IsHighSurrogate(inside[i]) && i + 1 < inside.Length && char.IsLowSurrogate(inside[i + 1]))
                {
                    int cp = char.ConvertToUtf32(inside[i], inside[i + 1]);
                    compact.Append(s_proxies[(int)System.Globalization.CharUnicodeInfo.GetUnicodeCategory(cp)]);
                    i += 2;
                }
                else { compact.Append(inside[i]); i++; }
            }
            map.Add(inside.Length);
            var inner = FindMatchesDirect(compact.ToString());
            for (int k = 0; k < inner.Count; k++) inner[k] = (map[inner[k].Start], map[inner[k].End], inner[k].IsMatch);
            return inner;
        }
        return FindMatchesDirect(inside);
    }

    private List<(int Start, int End, bool IsMatch)> FindMatchesDirect(string inside)
    {
        var result = new List<(int, int, bool)>();
        if (inside.Length == 0) { result.Add((0, 0, false)); return result; }
        int prev = 0;
        foreach (var m in _regex.EnumerateMatches(inside))
        {
            // Rust's regex engines never report an empty match inside a character, and
            // skip empty matches right after a previous match; .NET behaves the same way
            // for find-all iteration.
            if (prev != m.Index) result.Add((prev, m.Index, false));
            result.Add((m.Index, m.Index + m.Length, true));
            prev = m.Index + m.Length;
        }
        if (prev != inside.Length) result.Add((prev, inside.Length, false));
        return result;
    }
}

/// <summary>A literal string pattern (Rust escapes it into a regex; an empty literal matches nothing).</summary>
internal sealed class StringPattern(string literal) : IPattern
{
    public List<(int Start, int End, bool IsMatch)> FindMatches(string inside)
    {
        var result = new List<(int, int, bool)>();
        if (literal.Length == 0)
        {
            // Rust reports the whole string as one non-match, with the char count as end.
            int chars = 0;
            foreach (var _ in inside.EnumerateRunes()) chars++;
            result.Add((0, chars, false));
            return result;
        }
        if (inside.Length == 0) { result.Add((0, 0, false)); return result; }
        int prev = 0, pos = 0;
        while (pos <= inside.Length - literal.Length)
        {
            int idx = inside.IndexOf(literal, pos, StringComparison.Ordinal);
            if (idx < 0) break;
            if (prev != idx) result.Add((prev, idx, false));
            result.Add((idx, idx + literal.Length, true));
            prev = pos = idx + literal.Length;
        }
        if (prev != inside.Length) result.Add((prev, inside.Length, false));
        return result;
    }
}

internal sealed class InvertPattern(IPattern inner) : IPattern
{
    public List<(int Start, int End, bool IsMatch)> FindMatches(string inside)
    {
        var m = inner.FindMatches(inside);
        for (int i = 0; i < m.Count; i++) m[i] = (m[i].Start, m[i].End, !m[i].IsMatch);
        return m;
    }
}

/// <summary>
/// The GPT-2 pre-tokenisation regex
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>
/// as a hand-written scanner over code points (so non-BMP letters are letters, and it is fast).
/// </summary>
internal sealed class Gpt2Pattern : IPattern
{
    public static readonly Gpt2Pattern Instance = new();

    private enum Kind : byte { Letter, Number, Space, Other }

    private static Kind KindOf(int c)
    {
        if (c < 0x80)
        {
            if (c is >= 'a' and <= 'z' or >= 'A' and <= 'Z') return Kind.Letter;
            if (c is >= '0' and <= '9') return Kind.Number;
            if (c is >= 0x09 and <= 0x0D or 0x20) return Kind.Space;
            return Kind.Other;
        }
        if (Unicode.UnicodeText.IsWhiteSpace(c)) return Kind.Space;
        if (Unicode.UnicodeText.IsLetter(c)) return Kind.Letter;
        if (Unicode.UnicodeText.IsNumber(c)) return Kind.Number;
        return Kind.Other;
    }

    public List<(int Start, int End, bool IsMatch)> FindMatches(string s)
    {
        var result = new List<(int, int, bool)>();
        if (s.Length == 0) { result.Add((0, 0, false)); return result; }
        int i = 0;
        int n = s.Length;
        while (i < n)
        {
            int end = MatchAt(s, i);
            result.Add((i, end, true));
            i = end;
        }
        return result;
    }

    private static (int Value, int Len) At(string s, int i)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            return (char.ConvertToUtf32(c, s[i + 1]), 2);
        return (c, 1);
    }

    private static int Run(string s, int i, Kind kind)
    {
        while (i < s.Length)
        {
            var (c, len) = At(s, i);
            if (KindOf(c) != kind) break;
            i += len;
        }
        return i;
    }

    private static int RunOther(string s, int i) => Run(s, i, Kind.Other);

    private static int MatchAt(string s, int i)
    {
        int n = s.Length;
        char c0 = s[i];
        if (c0 == '\'' && i + 1 < n)
        {
            char c1 = s[i + 1];
            if (c1 is 's' or 't' or 'm' or 'd') return i + 2;
            if (i + 2 < n)
            {
                char c2 = s[i + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
            }
        }
        int j = i;
        if (c0 == ' ' && i + 1 < n) j = i + 1;
        if (j < n)
        {
            var (cj, _) = At(s, j);
            var kj = KindOf(cj);
            if (c0 == ' ' && j == i + 1 && kj != Kind.Space)
            {
                return kj == Kind.Other ? RunOther(s, j) : Run(s, j, kj);
            }
        }
        var (v0, _) = At(s, i);
        var k0 = KindOf(v0);
        if (k0 != Kind.Space) return k0 == Kind.Other ? RunOther(s, i) : Run(s, i, k0);
        // whitespace: \s+(?!\S) then \s+
        int e = Run(s, i, Kind.Space);
        if (e == n) return e;
        // followed by a non-space: give back the last whitespace character if that leaves one
        int last = e - 1;
        if (last > i && char.IsLowSurrogate(s[last]) && char.IsHighSurrogate(s[last - 1])) last--;
        if (last > i) return last;
        return e;
    }
}
