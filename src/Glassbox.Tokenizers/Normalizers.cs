using System.Globalization;
using Glassbox.Tokenizers.SentencePiece;
using Glassbox.Tokenizers.Unicode;

namespace Glassbox.Tokenizers;

internal abstract class Normalizer
{
    public abstract void Normalize(NormalizedString n);
}

internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) : Normalizer
{
    private static bool IsBertWhitespace(int c) => c is '\t' or '\n' or '\r' || UnicodeText.IsWhiteSpace(c);
    private static bool IsBertControl(int c) => c is not ('\t' or '\n' or '\r') && UnicodeText.IsOther(c);

    public static bool IsChineseChar(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    private static bool HasChineseChar(string s)
    {
        foreach (char c in s)
            if (c >= 0x3400 && (c < 0xD800 || c >= 0xF900) || char.IsSurrogate(c)) return true; // cheap prefilter
        return false;
    }

    public override void Normalize(NormalizedString n)
    {
        if (cleanText)
        {
            n.Filter(c => !(c == 0 || c == 0xFFFD || IsBertControl(c)));
            n.Map(c => IsBertWhitespace(c) ? ' ' : c);
        }
        if (handleChineseChars && HasChineseChar(n.Get()))
        {
            var transforms = new List<(int, int)>(n.Length);
            bool any = false;
            foreach (var r in n.Get().EnumerateRunes())
            {
                if (IsChineseChar(r.Value))
                {
                    transforms.Add((' ', 0)); transforms.Add((r.Value, 1)); transforms.Add((' ', 1));
                    any = true;
                }
                else transforms.Add((r.Value, 0));
            }
            if (any) n.Transform(transforms, 0);
        }
        if (stripAccents ?? lowercase)
        {
            n.Nfd();
            n.Filter(c => !UnicodeText.IsNonSpacingMark(c));
        }
        if (lowercase) n.Lowercase();
    }
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override void Normalize(NormalizedString n) => n.Lowercase();
}

internal sealed class UnicodeNormalizer(string form) : Normalizer
{
    public string Form { get; } = form;
    public override void Normalize(NormalizedString n)
    {
        switch (Form)
        {
            case "NFD": n.Nfd(); break;
            case "NFKD": n.Nfkd(); break;
            case "NFC": n.Nfc(); break;
            case "NFKC": n.Nfkc(); break;
        }
    }
}

internal sealed class StripAccentsNormalizer : Normalizer
{
    public override void Normalize(NormalizedString n) => n.Filter(c => !UnicodeText.IsCombiningMark(c));
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override void Normalize(NormalizedString n) => n.Strip(left, right);
}

internal sealed class ReplaceNormalizer(IPattern pattern, string content) : Normalizer
{
    public override void Normalize(NormalizedString n) => n.Replace(pattern, content);
}

internal sealed class PrependNormalizer(string prepend) : Normalizer
{
    public override void Normalize(NormalizedString n)
    {
        if (!n.IsEmpty) n.Prepend(prepend);
    }
}

internal sealed class NmtNormalizer : Normalizer
{
    public override void Normalize(NormalizedString n)
    {
        n.Filter(c => !(c is >= 0x01 and <= 0x08 or 0x0B or >= 0x0E and <= 0x1F or 0x7F or 0x8F or 0x9F));
        n.Map(c => c is 0x09 or 0x0A or 0x0C or 0x0D or 0x1680 or >= 0x200B and <= 0x200F or 0x2028 or 0x2029 or 0x2581 or 0xFEFF or 0xFFFD ? ' ' : c);
    }
}

internal sealed class SequenceNormalizer(IReadOnlyList<Normalizer> normalizers) : Normalizer
{
    public IReadOnlyList<Normalizer> Normalizers { get; } = normalizers;
    public override void Normalize(NormalizedString n)
    {
        foreach (var x in Normalizers) x.Normalize(n);
    }
}

/// <summary>
/// SentencePiece's compiled normalisation rules. Like Rust's Precompiled::normalize: each
/// extended grapheme cluster shorter than 6 UTF-8 bytes is looked up whole; otherwise (or if not
/// found) each of its characters is looked up on its own.
/// </summary>
internal sealed class PrecompiledNormalizer(PrecompiledCharsMap map) : Normalizer
{
    private static void Replace(List<(int C, int Change)> transformations, string oldPart, string newPart)
    {
        int oldCount = CountRunes(oldPart);
        int newCount = 0;
        foreach (var r in newPart.EnumerateRunes()) { transformations.Add((r.Value, 0)); newCount++; }
        int diff = newCount - oldCount;
        if (diff > 0)
        {
            for (int i = 0; i < diff && i < transformations.Count; i++)
            {
                int k = transformations.Count - 1 - i;
                transformations[k] = (transformations[k].C, 1);
            }
        }
        else if (diff < 0 && transformations.Count > 0)
        {
            var last = transformations[^1];
            transformations[^1] = (last.C, last.Change + diff);
        }
    }

    private static int CountRunes(string s)
    {
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    public override void Normalize(NormalizedString n)
    {
        string s = n.Get();
        var transformations = new List<(int C, int Change)>(s.Length);
        bool modified = false;
        int i = 0;
        while (i < s.Length)
        {
            int glen = StringInfo.GetNextTextElementLength(s, i);
            if (glen <= 0) glen = 1;
            string grapheme = s.Substring(i, glen);
            if (System.Text.Encoding.UTF8.GetByteCount(grapheme) < 6)
            {
                var norm = map.Transform(grapheme);
                if (norm != null)
                {
                    modified = true;
                    Replace(transformations, grapheme, norm);
                    i += glen;
                    continue;
                }
            }
            for (int k = 0; k < glen;)
            {
                var r = System.Text.Rune.GetRuneAt(grapheme, k);
                string part = grapheme.Substring(k, r.Utf16SequenceLength);
                var norm = map.Transform(part);
                if (norm != null)
                {
                    modified = true;
                    Replace(transformations, part, norm);
                }
                else transformations.Add((r.Value, 0));
                k += r.Utf16SequenceLength;
            }
            i += glen;
        }
        if (modified) n.Transform(transformations, 0);
    }
}
