using System.Text;

namespace Glassbox.Tokenizers;

internal abstract class Decoder
{
    public abstract List<string> DecodeChain(List<string> tokens);
    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));
}

internal sealed class WordPieceDecoder(string prefix, bool cleanup) : Decoder
{
    public static string Cleanup(string s) => s
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" do not", " don't").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (i != 0)
                t = prefix.Length > 0 && t.StartsWith(prefix, StringComparison.Ordinal) ? t[prefix.Length..] : (prefix.Length == 0 ? t : " " + t);
            if (cleanup) t = Cleanup(t);
            result.Add(t);
        }
        return result;
    }
}

internal sealed class ByteLevelDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var t in tokens)
        {
            bool ok = true;
            int mark = bytes.Count;
            foreach (char c in t)
            {
                if (ByteLevelTables.CharToByte.TryGetValue(c, out var b)) bytes.Add(b);
                else { ok = false; break; }
            }
            if (!ok)
            {
                bytes.RemoveRange(mark, bytes.Count - mark);
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(t));
            }
        }
        return [DecodeUtf8Lossy(bytes.ToArray())];
    }

    /// <summary>UTF-8 to string replacing each maximal invalid subsequence by U+FFFD, like Rust's from_utf8_lossy.</summary>
    public static string DecodeUtf8Lossy(byte[] bytes) => new UTF8Encoding(false, false).GetString(bytes);
}

internal sealed class MetaspaceDecoder(int replacement, PrependScheme prependScheme) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var sb = new StringBuilder(tokens[i].Length);
            foreach (var r in tokens[i].EnumerateRunes())
            {
                if (r.Value == replacement)
                {
                    if (i == 0 && prependScheme != PrependScheme.Never) continue;
                    sb.Append(' ');
                }
                else sb.Append(r.ToString());
            }
            result.Add(sb.ToString());
        }
        return result;
    }
}

internal sealed class BpeDecoder(string suffix) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        int n = tokens.Count - 1;
        for (int i = 0; i < tokens.Count; i++)
            result.Add(suffix.Length == 0 ? tokens[i] : tokens[i].Replace(suffix, i == n ? "" : " "));
        return result;
    }
}

internal sealed class ByteFallbackDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            var strict = new UTF8Encoding(false, true);
            try { result.Add(strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException)
            {
                for (int k = 0; k < pending.Count; k++) result.Add("\uFFFD");
            }
            pending.Clear();
        }
        foreach (var t in tokens)
        {
            if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' && IsHex(t[3]) && IsHex(t[4]))
            {
                pending.Add(Convert.ToByte(t.Substring(3, 2), 16));
                continue;
            }
            Flush();
            result.Add(t);
        }
        Flush();
        return result;
    }

    private static bool IsHex(char c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';
}

internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

internal sealed class StripDecoder(int content, int start, int stop) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (var t in tokens)
        {
            var chars = t.EnumerateRunes().ToList();
            int startCut = 0;
            for (int i = 0; i < start && i < chars.Count; i++)
            {
                if (chars[i].Value == content) startCut = i + 1;
                else break;
            }
            int stopCut = chars.Count;
            for (int i = 0; i < stop; i++)
            {
                int index = chars.Count - i - 1;
                if (index < 0) break;
                if (chars[index].Value == content) stopCut = index;
                else break;
            }
            var sb = new StringBuilder();
            for (int i = startCut; i < stopCut; i++) sb.Append(chars[i].ToString());
            result.Add(sb.ToString());
        }
        return result;
    }
}

internal sealed class ReplaceDecoder(IPattern pattern, string content) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (var t in tokens)
        {
            var sb = new StringBuilder(t.Length);
            foreach (var (s, e, isMatch) in pattern.FindMatches(t))
                sb.Append(isMatch ? content : t.AsSpan(s, e - s));
            result.Add(sb.ToString());
        }
        return result;
    }
}

internal sealed class CtcDecoder(string padToken, string wordDelimiterToken, bool cleanup) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>();
        string? prev = null;
        foreach (var t in tokens)
        {
            if (prev != null && t == prev) continue;
            prev = t;
            string replaced = padToken.Length > 0 ? t.Replace(padToken, "") : t;
            if (cleanup)
            {
                replaced = WordPieceDecoder.Cleanup(replaced);
                if (wordDelimiterToken.Length > 0) replaced = replaced.Replace(wordDelimiterToken, " ");
            }
            if (replaced.Length > 0) result.Add(replaced);
        }
        return result;
    }
}

internal sealed class SequenceDecoder(IReadOnlyList<Decoder> decoders) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var d in decoders) tokens = d.DecodeChain(tokens);
        return tokens;
    }
}
