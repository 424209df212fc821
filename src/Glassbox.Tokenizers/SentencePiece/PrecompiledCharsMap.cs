// SentencePiece stores its normaliser (nmt_nfkc, nfkc_cf, ...) as a "precompiled charsmap":
//
//   uint32 little-endian   trie size in bytes (a multiple of 4)
//   uint32[size / 4]       darts-clone double-array trie over UTF-8 bytes; a leaf's value is a
//                          byte offset into the string pool below
//   byte[]                 string pool: replacement strings in UTF-8, each terminated by NUL
//
// Two lookups are needed. `Transform` reproduces Rust tokenizers' `Precompiled::transform`
// (spm_precompiled): the value of the *shortest* key that is a prefix of the chunk. The
// tokenizer.json Precompiled normaliser calls it per grapheme and per character.
// `LongestPrefix` is what sentencepiece's own normalizer.cc uses: the longest key that is a
// prefix of the remaining input, together with its byte length.
//
// The trie comes from a file, so every array access is bounds-checked: a hostile blob yields
// "no match", never an exception or an out-of-range read.


namespace Glassbox.Tokenizers.SentencePiece;

/// <summary>SentencePiece's precompiled character map (a normalisation rule table).</summary>
public sealed class PrecompiledCharsMap
{
    private readonly uint[] _units;
    private readonly byte[] _pool;
    // Decoded replacement strings by pool offset, filled lazily. Reference writes are atomic,
    // so concurrent readers at worst decode the same string twice.
    private readonly string?[] _decoded;

    private PrecompiledCharsMap(uint[] units, byte[] pool)
    {
        _units = units;
        _pool = pool;
        _decoded = new string?[pool.Length + 1];
    }

    /// <summary>Number of double-array units in the trie.</summary>
    internal int TrieUnitCount => _units.Length;

    /// <summary>Size in bytes of the replacement string pool.</summary>
    internal int PoolSize => _pool.Length;

    /// <summary>Parses a charsmap blob (the bytes of <c>precompiled_charsmap</c>).</summary>
    /// <exception cref="FormatException">The blob is shorter than its header says or malformed.</exception>
    public static PrecompiledCharsMap FromBytes(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 4)
            throw new FormatException($"precompiled_charsmap: {data.Length} bytes is too short for the 4-byte trie size header.");
        uint trieSize = BitConverter.IsLittleEndian
            ? BitConverter.ToUInt32(data, 0)
            : (uint)(data[0] | data[1] << 8 | data[2] << 16 | data[3] << 24);
        if (trieSize % 4 != 0)
            throw new FormatException($"precompiled_charsmap: trie size {trieSize} is not a multiple of 4.");
        if (trieSize > (uint)(data.Length - 4))
            throw new FormatException(
                $"precompiled_charsmap: trie size {trieSize} exceeds the {data.Length - 4} bytes that follow the header.");
        var units = new uint[trieSize / 4];
        for (int i = 0; i < units.Length; i++)
        {
            int p = 4 + 4 * i;
            units[i] = (uint)(data[p] | data[p + 1] << 8 | data[p + 2] << 16 | data[p + 3] << 24);
        }
        var pool = data.AsSpan(4 + (int)trieSize).ToArray();
        return new PrecompiledCharsMap(units, pool);
    }

    /// <summary>
    /// The replacement for <paramref name="chunk"/> as Rust tokenizers computes it: the
    /// replacement of the shortest rule whose key is a prefix of the chunk's UTF-8 bytes, or
    /// null when no rule matches. (For the single characters and short graphemes the
    /// Precompiled normaliser passes, this is the rule for the whole chunk whenever one exists.)
    /// </summary>
    public string? Transform(string chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Length == 0) return null;
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(chunk.Length);
        Span<byte> buf = max <= 256 ? stackalloc byte[max] : new byte[max];
        int n = System.Text.Encoding.UTF8.GetBytes(chunk, buf);
        int value = ShortestPrefixValue(buf[..n]);
        return value < 0 ? null : ReplacementAt(value);
    }

    /// <summary>
    /// Longest rule whose key is a prefix of <paramref name="utf8"/> (sentencepiece's
    /// normalizer). Returns the key's byte length (0 when none) and the replacement's UTF-8
    /// bytes.
    /// </summary>
    internal int LongestPrefix(ReadOnlySpan<byte> utf8, out ReadOnlySpan<byte> replacement)
    {
        replacement = default;
        uint[] units = _units;
        if (units.Length == 0) return 0;
        int best = 0, bestValue = -1;
        long pos = Offset(units[0]);
        for (int i = 0; i < utf8.Length; i++)
        {
            byte c = utf8[i];
            pos ^= c;
            if ((ulong)pos >= (ulong)units.Length) break;
            uint unit = units[pos];
            if (Label(unit) != c) break;
            pos ^= Offset(unit);
            if (HasLeaf(unit))
            {
                if ((ulong)pos >= (ulong)units.Length) break;
                best = i + 1;
                bestValue = (int)Value(units[pos]);
            }
        }
        if (best == 0) return 0;
        replacement = ReplacementBytes(bestValue);
        return best;
    }

    private int ShortestPrefixValue(ReadOnlySpan<byte> key)
    {
        uint[] units = _units;
        if (units.Length == 0) return -1;
        long pos = Offset(units[0]);
        foreach (byte c in key)
        {
            if (c == 0) return -1; // the Rust search stops at NUL
            pos ^= c;
            if ((ulong)pos >= (ulong)units.Length) return -1;
            uint unit = units[pos];
            if (Label(unit) != c) return -1;
            pos ^= Offset(unit);
            if (HasLeaf(unit))
                return (ulong)pos < (ulong)units.Length ? (int)Value(units[pos]) : -1;
        }
        return -1;
    }

    private ReadOnlySpan<byte> ReplacementBytes(int offset)
    {
        if ((uint)offset > (uint)_pool.Length) return default;
        var tail = _pool.AsSpan(offset);
        int end = tail.IndexOf((byte)0);
        return end < 0 ? tail : tail[..end];
    }

    private string ReplacementAt(int offset)
    {
        if ((uint)offset > (uint)_pool.Length) return "";
        return _decoded[offset] ??= System.Text.Encoding.UTF8.GetString(ReplacementBytes(offset));
    }

    // darts-clone unit layout: bit 8 = has a leaf child, bit 9 = offset scale, bits 10.. = offset,
    // low byte (plus bit 31, set on leaves) = label, low 31 bits of a leaf = value.
    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    private static uint Value(uint unit) => unit & 0x7FFFFFFFu;
    private static uint Label(uint unit) => unit & 0x800000FFu;
    private static long Offset(uint unit) => (long)(unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
