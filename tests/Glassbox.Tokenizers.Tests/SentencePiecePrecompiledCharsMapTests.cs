using System.Text.Json;
using Glassbox.Tokenizers.SentencePiece;

namespace Glassbox.Tokenizers.Tests;

// The charsmap used here is rut5-large's (an nmt_nfkc table, as in t5-small): read from the
// Precompiled normaliser of its tokenizer.json, which embeds the same blob as spiece.model.
public sealed class SentencePiecePrecompiledCharsMapTests
{
    internal static string SharedDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared");
                if (Directory.Exists(Path.Combine(candidate, "golden", "tokenizers")))
                    return Path.GetFullPath(candidate);
                dir = dir.Parent;
            }
            return "/work/shared";
        }
    }

    internal static byte[] Rut5CharsMap()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedDir, "tokenizers", "rut5-large", "tokenizer.json")));
        foreach (var n in doc.RootElement.GetProperty("normalizer").GetProperty("normalizers").EnumerateArray())
            if (n.GetProperty("type").GetString() == "Precompiled")
                return Convert.FromBase64String(n.GetProperty("precompiled_charsmap").GetString()!);
        throw new InvalidOperationException("no Precompiled normaliser in rut5-large/tokenizer.json");
    }

    [Theory]
    [InlineData("\uFB01", "fi")]          // ligature fi (NFKC)
    [InlineData("\uFF21", "A")]           // fullwidth A
    [InlineData("\u2460", "1")]           // circled digit one
    [InlineData("\u00A0", " ")]           // no-break space
    [InlineData("\u3000", " ")]           // ideographic space
    [InlineData("\t", " ")]               // nmt: control whitespace becomes a space
    [InlineData("\u00BD", "1\u20442")]    // vulgar fraction one half
    [InlineData("\u2126", "\u03A9")]      // ohm sign -> omega
    public void KnownNfkcMappings(string input, string expected)
    {
        var map = PrecompiledCharsMap.FromBytes(Rut5CharsMap());
        Assert.Equal(expected, map.Transform(input));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("Z")]
    [InlineData("\u00E9")]  // é is already NFKC
    [InlineData("\u4E2D")]
    [InlineData("")]
    public void UnmappedChunksReturnNull(string input)
    {
        var map = PrecompiledCharsMap.FromBytes(Rut5CharsMap());
        Assert.Null(map.Transform(input));
    }

    [Fact]
    public void ShortestPrefixWinsAsInRust()
    {
        // "ﬁx": the rule for "ﬁ" is a prefix of the chunk; Rust's transform returns it.
        var map = PrecompiledCharsMap.FromBytes(Rut5CharsMap());
        Assert.Equal("fi", map.Transform("\uFB01x"));
        Assert.Null(map.Transform("x\uFB01"));
        // Long s with dot above + combining dot below: only the first character has a rule,
        // so both lookups give its replacement and leave the combining mark alone.
        Assert.Equal("\u1E61", map.Transform("\u1E9B\u0323"));
        var bytes = System.Text.Encoding.UTF8.GetBytes("\u1E9B\u0323");
        Assert.Equal(3, map.LongestPrefix(bytes, out var longest));
        Assert.Equal("\u1E61", System.Text.Encoding.UTF8.GetString(longest));
    }

    [Fact]
    public void MalformedBlobsFailClearly()
    {
        Assert.Throws<FormatException>(() => PrecompiledCharsMap.FromBytes([1, 2]));
        var ex = Assert.Throws<FormatException>(() => PrecompiledCharsMap.FromBytes([8, 0, 0, 0, 1, 2, 3]));
        Assert.Contains("precompiled_charsmap", ex.Message);
        Assert.Throws<FormatException>(() => PrecompiledCharsMap.FromBytes([3, 0, 0, 0, 1, 2, 3]));
        // Empty trie: valid, matches nothing.
        Assert.Null(PrecompiledCharsMap.FromBytes([0, 0, 0, 0]).Transform("x"));
    }

    [Fact]
    public void RandomTriesNeverThrow()
    {
        var rng = new Random(1234);
        var good = Rut5CharsMap();
        for (int trial = 0; trial < 200; trial++)
        {
            var blob = (byte[])good.Clone();
            for (int k = 0; k < 50; k++) blob[4 + rng.Next(blob.Length - 4)] = (byte)rng.Next(256);
            var map = PrecompiledCharsMap.FromBytes(blob);
            foreach (var s in new[] { "a", "\uFB01", "\uFF21", "\u00BD", "\u4E2D\u6587", "\uD83D\uDE00" })
                map.Transform(s);
        }
    }
}
