// Readable unit tests with tiny inline vocabularies (the exhaustive component checks against the
// Rust library are in TokenizerComponentTests).

namespace Glassbox.Tokenizers.Tests;

public sealed class TokenizerUnitTests
{
    private const string BertJson = """
        {"version":"1.0","truncation":null,"padding":null,
         "added_tokens":[
           {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
           {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
           {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
           {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
           {"id":4,"content":"[MASK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
         "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
         "pre_tokenizer":{"type":"BertPreTokenizer"},
         "post_processor":{"type":"TemplateProcessing",
           "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
           "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},
                   {"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
           "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
         "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
         "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":12,
           "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4,"un":5,"##aff":6,"##able":7,"play":8,"##ing":9,
                    "eleve":10,"!":11,"我":12,"cafe":13,"a":14,"b":15}}}
        """;

    private static Tokenizer Bert() => Tokenizer.FromJson(BertJson);

    [Fact]
    public void WordPieceSplitsIntoSubwordsWithOffsets()
    {
        var e = Bert().Encode("Unaffable playing!");
        Assert.Equal(new[] { "[CLS]", "un", "##aff", "##able", "play", "##ing", "!", "[SEP]" }, e.Tokens);
        Assert.Equal(new[] { 2, 5, 6, 7, 8, 9, 11, 3 }, e.Ids);
        Assert.Equal(new[] { (0, 0), (0, 2), (2, 5), (5, 9), (10, 14), (14, 17), (17, 18), (0, 0) }, e.Offsets);
        Assert.Equal(new int?[] { null, 0, 0, 0, 1, 1, 2, null }, e.WordIds);
        Assert.Equal(new[] { 1, 0, 0, 0, 0, 0, 0, 1 }, e.SpecialTokensMask);
        Assert.Equal("unaffable playing!", Bert().Decode(e.Ids, skipSpecialTokens: true));
        Assert.Equal("[CLS] unaffable playing! [SEP]", Bert().Decode(e.Ids));
    }

    [Fact]
    public void EmptyAndWhitespaceOnlyInputGiveOnlySpecialTokens()
    {
        var t = Bert();
        foreach (var text in new[] { "", " ", " \t\r\n\u00A0\u2003 " })
        {
            var e = t.Encode(text);
            Assert.Equal(new[] { "[CLS]", "[SEP]" }, e.Tokens);
            Assert.Empty(t.Encode(text, addSpecialTokens: false).Ids);
        }
    }

    [Fact]
    public void UnknownAndTooLongWordsBecomeUnk()
    {
        var e = Bert().Encode("xyz unaffableunaffable");
        Assert.Equal(new[] { "[CLS]", "[UNK]", "[UNK]", "[SEP]" }, e.Tokens);
        Assert.Equal(new[] { (0, 0), (0, 3), (4, 22), (0, 0) }, e.Offsets);
    }

    [Fact]
    public void CombiningMarksAndAccentsMapBackToTheWholeOriginalSpan()
    {
        // "e" + U+0301, "le", "e" + U+0300, "ve": accents are stripped by NFD + Mn filtering
        var e = Bert().Encode("E\u0301le\u0300ve café", addSpecialTokens: false);
        Assert.Equal(new[] { "eleve", "cafe" }, e.Tokens);
        Assert.Equal(new[] { (0, 7), (8, 12) }, e.Offsets);
    }

    [Fact]
    public void ChineseCharactersAndNonBmpCharactersKeepUtf16Offsets()
    {
        var e = Bert().Encode("a我𝔘b", addSpecialTokens: false);
        Assert.Equal(new[] { "a", "我", "[UNK]" }, e.Tokens);
        // 𝔘 (a surrogate pair) and b form one word that is unknown: its span covers 3 UTF-16 units
        Assert.Equal(new[] { (0, 1), (1, 2), (2, 5) }, e.Offsets);
    }

    [Fact]
    public void PairsGetTypeAndSequenceIds()
    {
        var e = Bert().Encode("play", "un!");
        Assert.Equal(new[] { "[CLS]", "play", "[SEP]", "un", "!", "[SEP]" }, e.Tokens);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1 }, e.TypeIds);
        Assert.Equal(new int?[] { null, 0, null, 1, 1, null }, e.SequenceIds);
        Assert.Equal(new[] { (0, 0), (0, 4), (0, 0), (0, 2), (2, 3), (0, 0) }, e.Offsets);
    }

    [Fact]
    public void TruncationOfTextLongerThanMaxLengthKeepsOverflow()
    {
        var t = Bert();
        t.Truncation = new TruncationOptions { MaxLength = 5, Stride = 1 };
        var e = t.Encode("a b a b a b a");
        Assert.Equal(5, e.Length);
        Assert.Equal(new[] { "[CLS]", "a", "b", "a", "[SEP]" }, e.Tokens);
        Assert.NotEmpty(e.Overflowing);
        Assert.All(e.Overflowing, o => Assert.Equal("[CLS]", o.Tokens[0]));
        Assert.Equal(new[] { "[CLS]", "a", "b", "a", "[SEP]" }, e.Overflowing[0].Tokens); // stride 1 repeats one token
    }

    [Fact]
    public void TruncationOnlySecondWithoutPairFails()
    {
        var t = Bert();
        t.Truncation = new TruncationOptions { MaxLength = 4, Strategy = TruncationStrategy.OnlySecond };
        var ex = Assert.Throws<TokenizationException>(() => t.Encode("a b a b a b"));
        Assert.Contains("Second sequence not provided", ex.Message);
    }

    [Fact]
    public void BatchPaddingToLongestAndMultiple()
    {
        var t = Bert();
        t.Padding = new PaddingOptions { PadId = 0, PadToken = "[PAD]", PadToMultipleOf = 4 };
        var batch = t.EncodeBatch(new List<(string, string?)> { ("a", null), ("a b a b a", null) });
        Assert.All(batch, e => Assert.Equal(8, e.Length));
        Assert.Equal(new[] { 1, 1, 1, 0, 0, 0, 0, 0 }, batch[0].AttentionMask);
        Assert.Equal("[PAD]", batch[0].Tokens[^1]);
        t.Padding = new PaddingOptions { Direction = PaddingDirection.Left, Length = 6 };
        var left = t.Encode("a");
        Assert.Equal(new[] { "[PAD]", "[PAD]", "[PAD]", "[CLS]", "a", "[SEP]" }, left.Tokens);
        Assert.Equal(new int?[] { null, null, null, null, 0, null }, left.SequenceIds);
    }

    [Fact]
    public void ParallelBatchEqualsSequentialEncoding()
    {
        var t = Bert();
        var texts = Enumerable.Range(0, 200).Select(i => string.Join(' ', Enumerable.Repeat(i % 2 == 0 ? "unaffable" : "playing", i % 7 + 1))).ToList();
        var batch = t.EncodeBatch(texts);
        for (int i = 0; i < texts.Count; i++) Assert.Equal(t.Encode(texts[i]).Ids, batch[i].Ids);
    }

    [Fact]
    public void SpecialTokensInsideTextAreNotSplit()
    {
        var e = Bert().Encode("play [MASK]!");
        Assert.Equal(new[] { "[CLS]", "play", "[MASK]", "!", "[SEP]" }, e.Tokens);
        Assert.Equal((5, 11), e.Offsets[2]);
        Assert.Equal(4, Bert().TokenToId("[MASK]"));
        Assert.Equal("##aff", Bert().IdToToken(6));
        Assert.Null(Bert().TokenToId("nope"));
        Assert.Equal(16, Bert().VocabSize);
    }

    [Fact]
    public void BpeWithByteFallbackCoversNonBmpCharacters()
    {
        var vocab = new Dictionary<string, int> { ["<unk>"] = 0, ["▁"] = 1, ["a"] = 2, ["b"] = 3, ["ab"] = 4, ["▁ab"] = 5 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 6 + b;
        string json = $$$"""
            {"version":"1.0","added_tokens":[],"normalizer":{"type":"Replace","pattern":{"String":" "},"content":"▁"},
             "pre_tokenizer":null,"post_processor":null,
             "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"}]},
             "model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
               "vocab":{{{System.Text.Json.JsonSerializer.Serialize(vocab)}}},"merges":["a b","▁ ab"]}}
            """;
        var t = Tokenizer.FromJson(json);
        var e = t.Encode("ab 😍 ab");
        Assert.Equal(new[] { "ab", "▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x8D>", "▁ab" }, e.Tokens);
        Assert.Equal(new[] { (0, 2), (2, 3), (3, 5), (3, 5), (3, 5), (3, 5), (5, 8) }, e.Offsets);
        Assert.Equal("ab 😍 ab", t.Decode(e.Ids));
    }

    [Fact]
    public void UnigramViterbiPicksTheBestSegmentation()
    {
        string json = """
            {"version":"1.0","added_tokens":[],"normalizer":null,
             "pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
             "post_processor":null,"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
             "model":{"type":"Unigram","unk_id":0,"byte_fallback":false,
               "vocab":[["<unk>",0.0],["▁",-2.0],["▁a",-1.0],["b",-2.0],["▁ab",-4.5],["ab",-1.5],["c",-3.0]]}}
            """;
        var t = Tokenizer.FromJson(json);
        var e = t.Encode("ab xc");
        // ▁a + b (-3) beats ▁ + ab (-3.5) and ▁ab (-4.5); x is unknown (id 0) but keeps its text
        Assert.Equal(new[] { "▁a", "b", "▁", "x", "c" }, e.Tokens);
        Assert.Equal(new[] { 2, 3, 1, 0, 6 }, e.Ids);
        Assert.Equal(new[] { (0, 1), (1, 2), (2, 3), (3, 4), (4, 5) }, e.Offsets);
        Assert.Equal("ab <unk>c", t.Decode(e.Ids));
    }

    [Fact]
    public void WordLevelAndWhitespace()
    {
        string json = """
            {"version":"1.0","added_tokens":[],"normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},
             "post_processor":null,"decoder":null,"model":{"type":"WordLevel","unk_token":"<unk>","vocab":{"<unk>":0,"hello":1,",":2,"world":3}}}
            """;
        var t = Tokenizer.FromJson(json);
        var e = t.Encode("Hello, brave World");
        Assert.Equal(new[] { "hello", ",", "<unk>", "world" }, e.Tokens);
        Assert.Equal("hello , <unk> world", t.Decode(e.Ids));
    }

    [Fact]
    public void WordGroupingMapsTokensToWordsAndSpans()
    {
        var t = Bert();
        string text = "Unaffable playing!", pair = "un play";
        var e = t.Encode(text, pair);
        var words = WordGrouping.Group(e, text, pair);
        Assert.Equal(new[] { "Unaffable", "playing", "!", "un", "play" }, words.Select(w => w.Text));
        Assert.Equal(new[] { 0, 0, 0, 1, 1 }, words.Select(w => w.SequenceId));
        Assert.Equal(new[] { 1, 2, 3 }, words[0].TokenIndices);
        Assert.Equal((10, 17), (words[1].Start, words[1].End));
        var scores = Enumerable.Range(0, e.Length).Select(i => (double)i).ToArray();
        Assert.Equal(new double[] { 6, 9, 6, 8, 9 }, WordGrouping.Aggregate(words, scores, WordAggregation.Sum));
        Assert.Equal(new double[] { 2, 4.5, 6, 8, 9 }, WordGrouping.Aggregate(words, scores, WordAggregation.Mean));
        Assert.Equal(new double[] { 3, 5, 6, 8, 9 }, WordGrouping.Aggregate(words, scores, WordAggregation.Max));
    }

    [Fact]
    public void LoneSurrogatesAreTreatedAsReplacementCharacters()
    {
        var e = Bert().Encode("a\uD800b", addSpecialTokens: false);
        Assert.Equal(new[] { (0, 3) }, e.Offsets);
        Assert.Equal(new[] { "[UNK]" }, e.Tokens);
    }
}
