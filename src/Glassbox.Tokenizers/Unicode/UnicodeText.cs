// Character properties and normalisation with the exact semantics the Rust tokenizers library
// relies on. .NET's own string.Normalize is a no-op under InvariantGlobalization, and Rust's
// normaliser (unicode-normalization-alignments) reports, for every output character, how it
// relates to the input characters — which is what drives offset alignment. So decomposition,
// canonical reordering and composition are reimplemented here over Unicode 9.0 data (the version
// that crate ships), loaded from the embedded table `unicode9-normalization.txt` — extracted
// from that crate's generated tables: lines `C cp class` (canonical combining class), `P a b c`
// (canonical composition), `D cp ...` / `K cp ...` (full canonical / compatibility decomposition)
// and `M cp` (General_Category=Mark), code points in hex. `unicode-scripts.txt` (`start end
// Script`) likewise holds the Rust library's own script ranges for the UnicodeScripts pre-tokenizer.

using System.Globalization;
using System.Reflection;
using System.Text;

namespace Glassbox.Tokenizers.Unicode;

internal static class UnicodeText
{
    /// <summary>Rust's <c>char::is_whitespace</c> (the White_Space property).</summary>
    public static bool IsWhiteSpace(int c) => c switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    public static UnicodeCategory Category(int c) => CharUnicodeInfo.GetUnicodeCategory(c);

    /// <summary>Rust's <c>char::is_alphabetic</c> approximated by general categories (letters, letter numbers).</summary>
    public static bool IsLetter(int c)
    {
        var cat = Category(c);
        return cat <= UnicodeCategory.OtherLetter;
    }

    public static bool IsNumber(int c)
    {
        var cat = Category(c);
        return cat is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }

    /// <summary>Rust's <c>char::is_numeric</c>: general categories Nd, Nl, No.</summary>
    public static bool IsNumeric(int c) => c < 0x80 ? (c >= '0' && c <= '9') : IsNumber(c);

    /// <summary>Unicode punctuation (P*), as the unicode_categories crate's <c>is_punctuation</c>.</summary>
    public static bool IsPunctuation(int c)
    {
        var cat = Category(c);
        return cat is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    public static bool IsAsciiPunctuation(int c) =>
        c is >= 0x21 and <= 0x2F or >= 0x3A and <= 0x40 or >= 0x5B and <= 0x60 or >= 0x7B and <= 0x7E;

    /// <summary>BERT's punctuation: ASCII punctuation (which includes symbols such as $ and ^) or Unicode P*.</summary>
    public static bool IsBertPunctuation(int c) => IsAsciiPunctuation(c) || IsPunctuation(c);

    /// <summary>General category C* (Cc, Cf, Cn, Co, Cs): unicode_categories' <c>is_other</c>.</summary>
    public static bool IsOther(int c)
    {
        var cat = Category(c);
        return cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    public static bool IsNonSpacingMark(int c) => Category(c) == UnicodeCategory.NonSpacingMark;

    /// <summary>Rust regex's <c>\w</c>: alphabetic, marks, decimal digits, connector punctuation, join controls.</summary>
    public static bool IsWordChar(int c)
    {
        if (c < 0x80) return c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_';
        var cat = Category(c);
        return cat <= UnicodeCategory.OtherLetter || cat is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
            or UnicodeCategory.ConnectorPunctuation || c is 0x200C or 0x200D;
    }

    /// <summary>Appends Rust's <c>char::to_lowercase</c> (full mapping: U+0130 becomes two characters).</summary>
    public static int Lowercase(int c, Span<int> output)
    {
        if (c == 0x130) { output[0] = 'i'; output[1] = 0x307; return 2; }
        output[0] = c < 0x80 ? (c is >= 'A' and <= 'Z' ? c + 32 : c) : Rune.ToLowerInvariant(new Rune(c)).Value;
        return 1;
    }

    public static int Uppercase(int c, Span<int> output)
    {
        output[0] = Rune.ToUpperInvariant(new Rune(c)).Value;
        return 1;
    }

    // ---- normalisation data ----

    private sealed class Data
    {
        public readonly Dictionary<int, byte> Ccc = new();
        public readonly Dictionary<long, int> Compose = new();
        public readonly Dictionary<int, int[]> Canonical = new();
        public readonly Dictionary<int, int[]> Compatible = new();
        public readonly HashSet<int> Marks = new();
    }

    private static readonly Lazy<Data> s_data = new(LoadData);

    private static Data LoadData()
    {
        var data = new Data();
        using var stream = typeof(UnicodeText).Assembly.GetManifestResourceStream("Glassbox.Tokenizers.unicode9-normalization.txt")
            ?? throw new InvalidOperationException("Embedded Unicode normalisation table is missing.");
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            if (line.Length < 3) continue;
            var parts = line.Split(' ');
            int cp = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            switch (line[0])
            {
                case 'C': data.Ccc[cp] = byte.Parse(parts[2], CultureInfo.InvariantCulture); break;
                case 'P':
                    int b = int.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    int r = int.Parse(parts[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    data.Compose[((long)cp << 21) | (uint)b] = r;
                    break;
                case 'D':
                case 'K':
                    var d = new int[parts.Length - 2];
                    for (int i = 0; i < d.Length; i++) d[i] = int.Parse(parts[i + 2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    (line[0] == 'D' ? data.Canonical : data.Compatible)[cp] = d;
                    break;
                case 'M': data.Marks.Add(cp); break;
            }
        }
        return data;
    }

    public static int CombiningClass(int c) => c < 0x300 ? 0 : s_data.Value.Ccc.TryGetValue(c, out var v) ? v : 0;

    /// <summary>General_Category=Mark in Unicode 9 (what StripAccents removes).</summary>
    public static bool IsCombiningMark(int c) => c >= 0x300 && s_data.Value.Marks.Contains(c);

    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static void Decompose(int c, bool compatible, List<int> output)
    {
        if (c <= 0x7F) { output.Add(c); return; }
        if (c >= SBase && c < SBase + SCount)
        {
            int s = c - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + (s % NCount) / TCount);
            if (s % TCount > 0) output.Add(TBase + s % TCount);
            return;
        }
        var data = s_data.Value;
        if (compatible && data.Compatible.TryGetValue(c, out var k)) { output.AddRange(k); return; }
        if (data.Canonical.TryGetValue(c, out var d)) { output.AddRange(d); return; }
        output.Add(c);
    }

    private static int? Compose(int a, int b)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
            return a + (b - TBase);
        return s_data.Value.Compose.TryGetValue(((long)a << 21) | (uint)b, out var r) ? r : null;
    }

    /// <summary>
    /// NFD/NFKD as (character, change) pairs: the first character of a decomposition replaces its
    /// source (change 0), the others are insertions (change 1); canonical reordering moves pairs
    /// together.
    /// </summary>
    public static List<(int C, int Change)> Decompose(string s, bool compatible)
    {
        var result = new List<(int, int)>(s.Length + 4);
        var buffer = new List<(int Ccc, int C, int Change)>();
        int readyEnd = 0;
        var tmp = new List<int>(4);
        void SortPending()
        {
            // stable sort of buffer[readyEnd..] by class
            int n = buffer.Count - readyEnd;
            if (n > 1)
            {
                var slice = buffer.GetRange(readyEnd, n);
                var sorted = slice.Select((x, i) => (x, i)).OrderBy(t => t.x.Ccc).ThenBy(t => t.i).Select(t => t.x).ToList();
                for (int i = 0; i < n; i++) buffer[readyEnd + i] = sorted[i];
            }
            readyEnd = buffer.Count;
        }
        foreach (var rune in s.EnumerateRunes())
        {
            tmp.Clear();
            Decompose(rune.Value, compatible, tmp);
            for (int i = 0; i < tmp.Count; i++)
            {
                int cls = CombiningClass(tmp[i]);
                if (cls == 0)
                {
                    SortPending();
                    // everything ready can be emitted
                    for (int j = 0; j < buffer.Count; j++) result.Add((buffer[j].C, buffer[j].Change));
                    buffer.Clear();
                    readyEnd = 0;
                }
                buffer.Add((cls, tmp[i], i == 0 ? 0 : 1));
            }
        }
        SortPending();
        foreach (var b in buffer) result.Add((b.C, b.Change));
        return result;
    }

    /// <summary>NFC/NFKC as (character, change) pairs, following the Rust recomposition iterator.</summary>
    public static List<(int C, int Change)> Compose(string s, bool compatible)
    {
        var input = Decompose(s, compatible);
        var output = new List<(int, int)>(input.Count);
        var buffer = new List<(int C, int Change)>();
        (int C, int Change)? composee = null;
        int? lastCcc = null;
        foreach (var (ch, change) in input)
        {
            int chClass = CombiningClass(ch);
            if (composee is not { } k)
            {
                if (chClass != 0) { output.Add((ch, change)); continue; }
                composee = (ch, change);
                continue;
            }
            if (lastCcc is not { } lClass)
            {
                if (Compose(k.C, ch) is { } r) { composee = (r, k.Change + change - 1); continue; }
                if (chClass == 0) { output.Add(k); composee = (ch, change); continue; }
                buffer.Add((ch, change));
                lastCcc = chClass;
            }
            else
            {
                if (lClass >= chClass)
                {
                    if (chClass == 0)
                    {
                        output.Add(k);
                        output.AddRange(buffer);
                        buffer.Clear();
                        composee = (ch, change);
                        lastCcc = null;
                        continue;
                    }
                    buffer.Add((ch, change));
                    lastCcc = chClass;
                    continue;
                }
                if (Compose(k.C, ch) is { } r) { composee = (r, k.Change + change - 1); continue; }
                buffer.Add((ch, change));
                lastCcc = chClass;
            }
        }
        if (composee is { } last) output.Add(last);
        output.AddRange(buffer);
        return output;
    }
}
