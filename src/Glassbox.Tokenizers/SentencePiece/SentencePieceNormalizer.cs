// sentencepiece's normalizer.cc, byte for byte: the input is consumed by the longest rule of
// the charsmap that matches a prefix (user-defined symbols first, untouched), leading,
// trailing and repeated spaces are dropped when remove_extra_whitespaces is set, a space is
// prepended (add_dummy_prefix) and spaces become U+2581. Alongside the normalised bytes it
// records, for each of them, the byte offset in the original input it came from.

namespace Glassbox.Tokenizers.SentencePiece;

internal sealed class SentencePieceNormalizer
{
    private static ReadOnlySpan<byte> SpaceSymbol => [0xE2, 0x96, 0x81];
    private static ReadOnlySpan<byte> ReplacementChar => [0xEF, 0xBF, 0xBD];

    private readonly SentencePieceNormalizerSpec _spec;
    private readonly PrecompiledCharsMap? _charsMap;
    private readonly bool _treatWhitespaceAsSuffix;
    private readonly ByteTrie? _userDefined;
    private readonly bool[]? _userDefinedEnds;

    public SentencePieceNormalizer(SentencePieceNormalizerSpec spec, bool treatWhitespaceAsSuffix,
        ByteTrie? userDefined, bool[]? userDefinedEnds, string source)
    {
        _spec = spec;
        _treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
        _userDefined = userDefined;
        _userDefinedEnds = userDefinedEnds;
        if (spec.PrecompiledCharsMap.Length > 0)
        {
            // sentencepiece rejects a blob whose trie size is not smaller than the blob.
            try
            {
                _charsMap = PrecompiledCharsMap.FromBytes(spec.PrecompiledCharsMap);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{source}: normalizer_spec.precompiled_charsmap is malformed: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Longest user-defined symbol at the start of <paramref name="input"/> (byte length, found),
    /// else one UTF-8 character as sentencepiece counts it (the lead byte decides).
    /// </summary>
    public int PrefixMatch(ReadOnlySpan<byte> input, out bool found)
    {
        found = false;
        int best = 0;
        if (_userDefined != null)
        {
            int node = 0;
            for (int i = 0; i < input.Length; i++)
            {
                node = _userDefined.Child(node, input[i]);
                if (node < 0) break;
                if (_userDefinedEnds![node]) best = i + 1;
            }
        }
        if (best > 0)
        {
            found = true;
            return best;
        }
        return Math.Min(input.Length, OneCharLen(input[0]));
    }

    internal static int OneCharLen(byte lead) => (lead >> 4) switch
    {
        < 12 => 1,
        12 or 13 => 2,
        14 => 3,
        _ => 4,
    };

    // NormalizePrefix: (replacement bytes, consumed length).
    private int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        if (_userDefined != null)
        {
            int m = PrefixMatch(input, out bool found);
            if (found)
            {
                replacement = input[..m];
                return m;
            }
        }
        if (_charsMap != null)
        {
            int len = _charsMap.LongestPrefix(input, out replacement);
            if (len > 0) return len;
        }
        int n = ValidUtf8Length(input);
        if (n == 0)
        {
            replacement = ReplacementChar;
            return 1;
        }
        replacement = input[..n];
        return n;
    }

    /// <summary>Length of the valid UTF-8 character at the start, or 0 when malformed (string_util::DecodeUTF8).</summary>
    internal static int ValidUtf8Length(ReadOnlySpan<byte> s)
    {
        byte b0 = s[0];
        if (b0 < 0x80) return 1;
        if (s.Length >= 2 && (b0 & 0xE0) == 0xC0)
        {
            int cp = (b0 & 0x1F) << 6 | (s[1] & 0x3F);
            if (IsTrail(s[1]) && cp >= 0x80) return 2;
        }
        else if (s.Length >= 3 && (b0 & 0xF0) == 0xE0)
        {
            int cp = (b0 & 0x0F) << 12 | (s[1] & 0x3F) << 6 | (s[2] & 0x3F);
            if (IsTrail(s[1]) && IsTrail(s[2]) && cp >= 0x800 && (cp < 0xD800 || cp >= 0xE000)) return 3;
        }
        else if (s.Length >= 4 && (b0 & 0xF8) == 0xF0)
        {
            int cp = (b0 & 0x07) << 18 | (s[1] & 0x3F) << 12 | (s[2] & 0x3F) << 6 | (s[3] & 0x3F);
            if (IsTrail(s[1]) && IsTrail(s[2]) && IsTrail(s[3]) && cp >= 0x10000 && cp <= 0x10FFFF) return 4;
        }
        return 0;
    }

    private static bool IsTrail(byte b) => (b & 0xC0) == 0x80;

    /// <summary>
    /// Normalises <paramref name="input"/> into <paramref name="normalized"/>;
    /// <paramref name="normToOrig"/> gets one entry per normalised byte plus a final one.
    /// </summary>
    public void Normalize(ReadOnlySpan<byte> input, Buffer<byte> normalized, Buffer<int> normToOrig)
    {
        normalized.Clear();
        normToOrig.Clear();
        if (input.IsEmpty) return;

        int consumed = 0;
        bool removeExtra = _spec.RemoveExtraWhitespaces;
        bool escape = _spec.EscapeWhitespaces;

        if (removeExtra)
        {
            while (!input.IsEmpty)
            {
                int n = NormalizePrefix(input, out var rep);
                if (!(rep.Length == 1 && rep[0] == (byte)' ')) break;
                input = input[n..];
                consumed += n;
            }
        }
        if (input.IsEmpty) return;

        if (!_treatWhitespaceAsSuffix && _spec.AddDummyPrefix) AddSpace(normalized, normToOrig, consumed, escape);

        bool isPrevSpace = removeExtra;
        while (!input.IsEmpty)
        {
            int n = NormalizePrefix(input, out var sp);
            if (isPrevSpace)
            {
                while (!sp.IsEmpty && sp[0] == (byte)' ') sp = sp[1..];
            }
            if (!sp.IsEmpty)
            {
                foreach (byte b in sp)
                {
                    if (escape && b == (byte)' ')
                    {
                        normalized.AddRange(SpaceSymbol);
                        for (int m = 0; m < 3; m++) normToOrig.Add(consumed);
                    }
                    else
                    {
                        normalized.Add(b);
                        normToOrig.Add(consumed);
                    }
                }
                isPrevSpace = sp[^1] == (byte)' ';
            }
            consumed += n;
            input = input[n..];
            if (!removeExtra) isPrevSpace = false;
        }

        if (removeExtra)
        {
            ReadOnlySpan<byte> space = escape ? SpaceSymbol : " "u8;
            while (normalized.AsSpan().EndsWith(space))
            {
                int length = normalized.Count - space.Length;
                consumed = normToOrig[length];
                normalized.Count = length;
                normToOrig.Count = length;
            }
        }

        if (_treatWhitespaceAsSuffix && _spec.AddDummyPrefix) AddSpace(normalized, normToOrig, consumed, escape);
        normToOrig.Add(consumed);
    }

    private static void AddSpace(Buffer<byte> normalized, Buffer<int> normToOrig, int consumed, bool escape)
    {
        if (escape)
        {
            normalized.AddRange(SpaceSymbol);
            for (int m = 0; m < 3; m++) normToOrig.Add(consumed);
        }
        else
        {
            normalized.Add((byte)' ');
            normToOrig.Add(consumed);
        }
    }
}
