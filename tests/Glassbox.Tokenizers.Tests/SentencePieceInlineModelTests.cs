using Glassbox.Tokenizers.SentencePiece;

namespace Glassbox.Tokenizers.Tests;

// Tiny hand-built models (serialised here as ModelProto bytes) for behaviour the two real
// models do not reach: unused pieces in BPE, user-defined symbols, runs of unknowns in Unigram,
// byte fallback in Unigram, the whitespace options, and the CHAR and WORD model types.
public sealed class SentencePieceInlineModelTests
{
    private sealed class ModelBuilder
    {
        private readonly List<byte> _pieces = [];
        public int ModelType = 1;
        public bool ByteFallback;
        public bool AddDummyPrefix = true;
        public bool RemoveExtraWhitespaces = true;

        public ModelBuilder Piece(string piece, float score = 0, SentencePieceType type = SentencePieceType.Normal)
        {
            var inner = new List<byte>();
            Bytes(inner, 1, System.Text.Encoding.UTF8.GetBytes(piece));
            Tag(inner, 2, 5);
            inner.AddRange(BitConverter.GetBytes(score));
            Tag(inner, 3, 0);
            Varint(inner, (ulong)type);
            Bytes(_pieces, 1, inner.ToArray());
            return this;
        }

        public ModelBuilder Bytes256()
        {
            for (int b = 0; b < 256; b++) Piece($"<0x{b:X2}>", 0, SentencePieceType.Byte);
            return this;
        }

        public SentencePieceProcessor Build()
        {
            var data = new List<byte>(_pieces);
            var trainer = new List<byte>();
            Tag(trainer, 3, 0);
            Varint(trainer, (ulong)ModelType);
            Tag(trainer, 35, 0);
            Varint(trainer, ByteFallback ? 1UL : 0UL);
            Bytes(data, 2, trainer.ToArray());
            var normalizer = new List<byte>();
            Bytes(normalizer, 1, "identity"u8.ToArray());
            Tag(normalizer, 3, 0);
            Varint(normalizer, AddDummyPrefix ? 1UL : 0UL);
            Tag(normalizer, 4, 0);
            Varint(normalizer, RemoveExtraWhitespaces ? 1UL : 0UL);
            Bytes(data, 3, normalizer.ToArray());
            return new SentencePieceProcessor(SentencePieceModel.FromBytes(data.ToArray(), "inline.model"));
        }

        private static void Tag(List<byte> o, int field, int wire) => Varint(o, (ulong)(field << 3 | wire));

        private static void Bytes(List<byte> o, int field, byte[] bytes)
        {
            Tag(o, field, 2);
            Varint(o, (ulong)bytes.Length);
            o.AddRange(bytes);
        }

        private static void Varint(List<byte> o, ulong v)
        {
            while (v >= 0x80)
            {
                o.Add((byte)(v | 0x80));
                v >>= 7;
            }
            o.Add((byte)v);
        }
    }

    private static ModelBuilder Bpe(SentencePieceType bcType = SentencePieceType.Normal) => new ModelBuilder { ModelType = 2 }
        .Piece("<unk>", 0, SentencePieceType.Unknown)   // 0
        .Piece("<s>", 0, SentencePieceType.Control)     // 1
        .Piece("</s>", 0, SentencePieceType.Control)    // 2
        .Piece("\u2581", -10)                           // 3
        .Piece("a", -10)                                // 4
        .Piece("b", -10)                                // 5
        .Piece("c", -10)                                // 6
        .Piece("ab", -1)                                // 7
        .Piece("bc", -0.5f, bcType)                     // 8
        .Piece("\u2581a", -3)                           // 9
        .Piece("abc", -0.2f)                            // 10
        .Piece("<sep>", 0, SentencePieceType.UserDefined); // 11

    [Fact]
    public void BpeMergesByScore()
    {
        var sp = Bpe().Build();
        // ▁ a b c: "bc" (-0.5) first, then "abc" (-0.2); "▁abc" is not a piece.
        Assert.Equal([3, 10], sp.EncodeToIds("abc"));
        Assert.Equal(["\u2581", "abc"], sp.EncodeToPieces("abc"));
        Assert.Equal([3, 0], sp.EncodeToIds("x"));
        Assert.Equal(["\u2581", "x"], sp.EncodeToPieces("x"));
        Assert.Equal("abc", sp.Decode([3, 10]));
    }

    [Fact]
    public void BpeUnusedPieceIsSplitBack()
    {
        var sp = Bpe(SentencePieceType.Unused).Build();
        // "bc" is merged (it leads to "abc") but never emitted: resegmented into b + c.
        Assert.Equal([3, 10], sp.EncodeToIds("abc"));
        Assert.Equal([3, 5, 6], sp.EncodeToIds("bc"));
        Assert.Equal(["\u2581", "b", "c"], sp.EncodeToPieces("bc"));
    }

    [Fact]
    public void UserDefinedSymbolsStayWhole()
    {
        var sp = Bpe().Build();
        Assert.Equal([9, 11, 5], sp.EncodeToIds("a<sep>b"));
        var enc = sp.Encode("a<sep>b");
        Assert.Equal([(0, 1), (1, 6), (6, 7)], enc.Offsets);
    }

    private static ModelBuilder Unigram() => new ModelBuilder { ModelType = 1 }
        .Piece("<unk>", 0, SentencePieceType.Unknown)   // 0
        .Piece("<s>", 0, SentencePieceType.Control)     // 1
        .Piece("</s>", 0, SentencePieceType.Control)    // 2
        .Piece("\u2581", -2)                            // 3
        .Piece("a", -3)                                 // 4
        .Piece("b", -3)                                 // 5
        .Piece("ab", -2.5f)                             // 6
        .Piece("\u2581a", -4);                          // 7

    [Fact]
    public void UnigramViterbiAndUnknownRuns()
    {
        var sp = Unigram().Build();
        // ▁ + ab = -4.5 beats ▁a + b = -7; x, y, z are unknown (one merged piece, one id).
        var enc = sp.Encode("ab xyz");
        Assert.Equal([3, 6, 3, 0], enc.Ids);
        Assert.Equal(["\u2581", "ab", "\u2581", "xyz"], enc.Pieces);
        Assert.Equal([(0, 0), (0, 2), (2, 3), (3, 6)], enc.Offsets);
        Assert.Equal("ab  \u2047 ", sp.Decode(enc.Ids)); // "▁" -> " ", then " ⁇ "
        Assert.Equal(0, sp.UnkId);
        Assert.Equal(1, sp.BosId);
        Assert.Equal(2, sp.EosId);
        Assert.Equal(-1, sp.PadId);
    }

    [Fact]
    public void ControlPiecesDecodeToNothing()
    {
        var sp = Unigram().Build();
        Assert.Equal("a", sp.Decode([1, 7, 2]));
        Assert.Equal("", sp.Decode([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sp.Decode([99]));
    }

    [Fact]
    public void WhitespaceOptions()
    {
        var sp = Unigram().Build();
        Assert.Equal("\u2581a\u2581b", sp.Normalize("  a   b  "));
        Assert.Equal("", sp.Normalize("   "));
        var raw = new ModelBuilder { AddDummyPrefix = false, RemoveExtraWhitespaces = false }
            .Piece("<unk>", 0, SentencePieceType.Unknown).Piece("a", -1).Build();
        Assert.Equal("\u2581\u2581a\u2581b\u2581", raw.Normalize("  a b "));
        Assert.Equal("", raw.Normalize(""));
    }

    [Fact]
    public void UnigramByteFallback()
    {
        var sp = Unigram().Bytes256();
        sp.ByteFallback = true;
        var model = sp.Build();
        var enc = model.Encode("a\u00E9");
        // é is not a piece: its two UTF-8 bytes become <0xC3> <0xA9>; only the last byte piece
        // carries the character's span.
        Assert.Equal(["\u2581a", "<0xC3>", "<0xA9>"], enc.Pieces);
        Assert.Equal([(0, 1), (1, 1), (1, 2)], enc.Offsets);
        Assert.Equal("a\u00E9", model.Decode(enc.Ids));
        // A byte sequence that is not UTF-8 decodes to U+FFFD per bad byte.
        Assert.Equal("\uFFFD", model.DecodePieces(["<0xC3>"]));
    }

    [Fact]
    public void CharAndWordModels()
    {
        var chars = new ModelBuilder { ModelType = 4 }
            .Piece("<unk>", 0, SentencePieceType.Unknown).Piece("\u2581").Piece("a").Piece("b").Build();
        Assert.Equal(["\u2581", "a", "b", "\u2581", "a"], chars.EncodeToPieces("ab a"));
        Assert.Equal([1, 2, 3, 1, 2], chars.EncodeToIds("ab a"));

        var words = new ModelBuilder { ModelType = 3 }
            .Piece("<unk>", 0, SentencePieceType.Unknown).Piece("\u2581ab").Piece("\u2581a").Build();
        Assert.Equal([1, 2, 0], words.EncodeToIds("ab a c"));
        Assert.Equal("ab a \u2047 ", words.Decode([1, 2, 0]));
    }

    [Fact]
    public void EmptyAndWhitespaceOnlyInput()
    {
        foreach (var sp in new[] { Bpe().Build(), Unigram().Build() })
        {
            Assert.Empty(sp.EncodeToIds(""));
            Assert.Empty(sp.EncodeToIds("   "));
            // Without a charsmap a tab is not whitespace to sentencepiece: it stays (and is unknown).
            Assert.Equal(["\u2581", "\t"], sp.EncodeToPieces(" \t "));
        }
    }
}
