// Loading: malformed tokenizer.json files fail with the JSON path and the problem; legacy files
// (vocab.txt, vocab.json + merges.txt) give exactly what the tokenizer.json built from them gives.

namespace Glassbox.Tokenizers.Tests;

public sealed class TokenizerLoadingTests
{
    private const string MinimalBpe = """
        {"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"WhitespaceSplit"},
         "post_processor":null,"decoder":null,
         "model":{"type":"BPE","unk_token":"<unk>","vocab":{"<unk>":0,"a":1,"b":2,"ab":3},"merges":["a b"]}}
        """;

    private static TokenizerFormatException Fails(string json) => Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromJson(json));

    [Fact]
    public void MinimalBpeLoadsAndEncodes()
    {
        var t = Tokenizer.FromJson(MinimalBpe);
        var e = t.Encode("ab ba c");
        Assert.Equal(new[] { "ab", "b", "a", "<unk>" }, e.Tokens);
        Assert.Equal(new[] { (0, 2), (3, 4), (4, 5), (6, 7) }, e.Offsets);
    }

    [Fact]
    public void UnknownNormalizerTypeNamesPath()
    {
        var ex = Fails(MinimalBpe.Replace("\"normalizer\":null", "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Frobnicate\"}]}"));
        Assert.Equal("$.normalizer.normalizers[1].type", ex.JsonPath);
        Assert.Contains("unknown normalizer type 'Frobnicate'", ex.Message);
    }

    [Fact]
    public void UnknownPreTokenizerDecoderProcessorAndModelTypesNamePath()
    {
        Assert.Equal("$.pre_tokenizer.type", Fails(MinimalBpe.Replace("\"WhitespaceSplit\"", "\"Nope\"")).JsonPath);
        Assert.Equal("$.decoder.type", Fails(MinimalBpe.Replace("\"decoder\":null", "\"decoder\":{\"type\":\"Nope\"}")).JsonPath);
        Assert.Equal("$.post_processor.type", Fails(MinimalBpe.Replace("\"post_processor\":null", "\"post_processor\":{\"type\":\"Nope\"}")).JsonPath);
        var ex = Fails(MinimalBpe.Replace("\"type\":\"BPE\"", "\"type\":\"Transformer\""));
        Assert.Equal("$.model.type", ex.JsonPath);
        Assert.Contains("unknown model type 'Transformer'", ex.Message);
    }

    [Fact]
    public void MissingVocabNamesPath()
    {
        var ex = Fails(MinimalBpe.Replace("\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"ab\":3},", ""));
        Assert.Equal("$.model.vocab", ex.JsonPath);
        Assert.Contains("missing", ex.Message);
        Assert.Equal("$.model", Fails("""{"version":"1.0","model":{}}""").JsonPath);
        Assert.Equal("$.model", Fails("""{"version":"1.0"}""").JsonPath[..7]);
    }

    [Fact]
    public void BadMergesLineNamesIndex()
    {
        var ex = Fails(MinimalBpe.Replace("\"merges\":[\"a b\"]", "\"merges\":[\"a b\",\"a b c\"]"));
        Assert.Equal("$.model.merges[1]", ex.JsonPath);
        Assert.Contains("bad merges line 'a b c'", ex.Message);
        ex = Fails(MinimalBpe.Replace("\"merges\":[\"a b\"]", "\"merges\":[[\"a\",\"b\"],[\"a\",\"zz\"]]"));
        Assert.Equal("$.model.merges[1]", ex.JsonPath);
        Assert.Contains("'zz' is not in the vocabulary", ex.Message);
        ex = Fails(MinimalBpe.Replace("\"merges\":[\"a b\"]", "\"merges\":[\"b a\"]"));
        Assert.Equal("$.model.merges[0]", ex.JsonPath);
        Assert.Contains("merged token 'ba'", ex.Message);
        Assert.Equal("$.model.merges[0]", Fails(MinimalBpe.Replace("\"merges\":[\"a b\"]", "\"merges\":[[\"a\"]]")).JsonPath);
    }

    [Fact]
    public void WrongValueKindsNamePath()
    {
        Assert.Equal("$.model.vocab[\"a\"]", Fails(MinimalBpe.Replace("\"a\":1", "\"a\":\"one\"")).JsonPath);
        Assert.Equal("$.pre_tokenizer.type", Fails(MinimalBpe.Replace("{\"type\":\"WhitespaceSplit\"}", "{\"kind\":1}")).JsonPath);
        Assert.StartsWith("$ (line", Fails("{\"version\": ").JsonPath);
        Assert.Equal("$.version", Fails(MinimalBpe.Replace("\"1.0\"", "\"2.0\"")).JsonPath);
        var ex = Fails(MinimalBpe.Replace("\"WhitespaceSplit\"}", "\"Split\",\"pattern\":{\"Regex\":\"([a\"},\"behavior\":\"Isolated\",\"invert\":false}"));
        Assert.Equal("$.pre_tokenizer.pattern.Regex", ex.JsonPath);
        Assert.Contains("invalid regex", ex.Message);
        ex = Fails(MinimalBpe.Replace("\"WhitespaceSplit\"}", "\"Split\",\"pattern\":{\"String\":\"a\"},\"behavior\":\"Sideways\",\"invert\":false}"));
        Assert.Equal("$.pre_tokenizer.behavior", ex.JsonPath);
        ex = Fails("""{"version":"1.0","model":{"type":"Unigram","unk_id":5,"vocab":[["a",-1.0]]}}""");
        Assert.Equal("$.model.unk_id", ex.JsonPath);
        ex = Fails("""{"version":"1.0","model":{"type":"Unigram","unk_id":0,"vocab":[["a"]]}}""");
        Assert.Equal("$.model.vocab[0]", ex.JsonPath);
        ex = Fails("""{"version":"1.0","model":{"type":"WordPiece","vocab":{"a":0}},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}}],"special_tokens":{}}}""");
        Assert.Equal("$.post_processor.single[0].SpecialToken.id", ex.JsonPath);
        ex = Fails("""{"version":"1.0","model":{"type":"WordPiece","vocab":{"a":0}},"normalizer":{"type":"Precompiled","precompiled_charsmap":"%%%"}}""");
        Assert.Equal("$.normalizer.precompiled_charsmap", ex.JsonPath);
    }

    [Fact]
    public void MissingFileIsReported()
    {
        Assert.Throws<FileNotFoundException>(() => Tokenizer.FromFile("/nonexistent/tokenizer.json"));
        Assert.Throws<DirectoryNotFoundException>(() => Tokenizer.FromPretrained("/nonexistent-dir"));
    }

    private static string CopyWithout(string name, params string[] drop)
    {
        string src = Path.Combine(TokenizerGoldenTests.SharedDir(), "tokenizers", name);
        string dst = Path.Combine(Path.GetTempPath(), "glassbox-legacy-" + name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(src))
            if (!drop.Contains(Path.GetFileName(f))) File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        return dst;
    }

    [Theory]
    [InlineData("bert-base-uncased")]
    [InlineData("gpt2")]
    [InlineData("roberta-style-gpt2")]
    [InlineData("llama-2")]
    [InlineData("rut5-large")]
    public void LegacyFilesMatchGoldens(string name)
    {
        string dir = CopyWithout(name, "tokenizer.json");
        try
        {
            var tokenizer = Tokenizer.FromPretrained(dir);
            var (mismatches, total, report) = TokenizerGoldenTests.RunGolden(tokenizer,
                Path.Combine(TokenizerGoldenTests.SharedDir(), "golden", "tokenizers", name + ".json"));
            Assert.True(mismatches == 0, $"{name} from legacy files: {mismatches} mismatching cases of {total}\n" + string.Join("\n", report.Take(10)));
            var fromJson = Tokenizer.FromFile(Path.Combine(TokenizerGoldenTests.SharedDir(), "tokenizers", name, "tokenizer.json"));
            Assert.Equal(fromJson.VocabSize, tokenizer.VocabSize);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FromPretrainedPrefersTokenizerJson()
    {
        var t = Tokenizer.FromPretrained(Path.Combine(TokenizerGoldenTests.SharedDir(), "tokenizers", "gpt2"));
        Assert.Equal(50257, t.VocabSize);
        Assert.Equal(50256, t.TokenToId("<|endoftext|>"));
    }

    [Fact]
    public void BadLegacyMergesLineNamesLine()
    {
        string dir = CopyWithout("gpt2", "tokenizer.json", "merges.txt");
        try
        {
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\nĠ t\nh e x\n");
            var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromPretrained(dir));
            Assert.Equal("merges.txt: line 3", ex.JsonPath);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
