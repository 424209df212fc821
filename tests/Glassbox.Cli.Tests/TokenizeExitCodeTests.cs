namespace Glassbox.Cli.Tests;

public sealed class TokenizeExitCodeTests
{
    private static readonly string Bert = CliTestSupport.TokenizerDir("bert-base-uncased");

    [Fact]
    public void TextPrintsOneJsonObject()
    {
        var (code, stdout, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", Bert, "--text", "Hello, world!", "--format", "json");
        Assert.True(code == 0, stderr);
        var line = Assert.Single(CliTestSupport.Lines(stdout));
        Assert.Equal("[101,7592,1010,2088,999,102]", line.GetProperty("ids").GetRawText());
        Assert.Equal("[[0,0],[0,5],[5,6],[7,12],[12,13],[0,0]]", line.GetProperty("offsets").GetRawText());
        Assert.Equal("[null,0,1,2,3,null]", line.GetProperty("wordIds").GetRawText());
        Assert.Equal("[CLS] hello, world! [SEP]", line.GetProperty("decoded").GetString());
        foreach (var field in new[] { "tokens", "typeIds", "specialTokensMask" }) Assert.True(line.TryGetProperty(field, out _), field);
    }

    [Fact]
    public void TokenizerJsonFileAndPairWork()
    {
        var (code, stdout, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", Path.Combine(Bert, "tokenizer.json"),
            "--text", "a b", "--pair", "c", "--no-special-tokens");
        Assert.True(code == 0, stderr);
        var line = Assert.Single(CliTestSupport.Lines(stdout));
        Assert.Equal("[0,0,1]", line.GetProperty("typeIds").GetRawText());
        Assert.Equal("[0,0,0]", line.GetProperty("specialTokensMask").GetRawText());
    }

    [Fact]
    public void MissingTokenizerIsBadInput()
    {
        var (code, _, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", "/nonexistent/tokenizer", "--text", "x");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/tokenizer", stderr);
    }

    [Fact]
    public void FolderWithoutTokenizerIsBadInput()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-cli-empty").FullName;
        try
        {
            var (code, _, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", dir, "--text", "x");
            Assert.Equal(2, code);
            Assert.Contains(dir, stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void MalformedTokenizerJsonIsBadInput()
    {
        string path = CliTestSupport.TempFile("{\"model\": {\"type\": \"NoSuchModel\"}}", ".json");
        try
        {
            var (code, _, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", path, "--text", "x");
            Assert.Equal(2, code);
            Assert.Contains(path, stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("tokenize", "--text", "x")]                                   // no --tokenizer
    [InlineData("tokenize", "--tokenizer", "T")]                              // neither --text nor --input
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--input", "f.jsonl")]
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--format", "xml")]
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--max-length", "many")]
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--truncation", "only_first")]
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--max-length", "4", "--truncation", "sideways")]
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--max-length", "-1")]
    [InlineData("tokenize", "--tokenizer", "T", "--text", "x", "--bogus")]
    [InlineData("tokenize", "--tokenizer", "T", "--pair", "x", "--input", "f.jsonl")]
    [InlineData("no-such-verb")]
    public void BadOptionsAreBadInput(params string[] args)
    {
        args = args.Select(a => a == "T" ? Bert : a).ToArray();
        var (code, stdout, stderr) = CliTestSupport.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("error:", stderr);
        Assert.Contains("--help", stderr);
    }

    [Fact]
    public void HelpIsOk()
    {
        var (code, stdout, _) = CliTestSupport.Run("tokenize", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--tokenizer", stdout);
        Assert.Contains("--no-special-tokens", stdout);
    }

    [Fact]
    public void MissingInputFileIsBadInput()
    {
        var (code, _, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", Bert, "--input", "/nonexistent/in.jsonl");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/in.jsonl", stderr);
    }

    [Theory]
    [InlineData("{\"text\": \"ok\"}\nnot json\n", 2)]
    [InlineData("{\"text\": \"ok\"}\n\n{\"pair\": \"b\"}\n", 3)]
    [InlineData("{\"text\": 7}\n", 1)]
    [InlineData("[\"text\"]\n", 1)]
    [InlineData("{\"text\": \"a\", \"pair\": 5}\n", 1)]
    public void MalformedJsonlLineIsBadInputNamingFileAndLine(string content, int badLine)
    {
        string path = CliTestSupport.TempFile(content);
        try
        {
            var (code, stdout, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", Bert, "--input", path);
            Assert.Equal(2, code);
            Assert.Contains($"{path}:{badLine}:", stderr);
            Assert.Equal(badLine - 1 - content.Split('\n').Take(badLine - 1).Count(string.IsNullOrWhiteSpace), CliTestSupport.Lines(stdout).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void InputFileGivesOneLinePerInput()
    {
        string path = CliTestSupport.TempFile("{\"text\": \"Hello\"}\n{\"text\": \"a\", \"pair\": \"b\"}\n\n{\"text\": \"\", \"pair\": null}\n");
        try
        {
            var (code, stdout, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", Bert, "--input", path, "--format", "json");
            Assert.True(code == 0, stderr);
            var lines = CliTestSupport.Lines(stdout);
            Assert.Equal(3, lines.Length);
            Assert.Equal("[101,7592,102]", lines[0].GetProperty("ids").GetRawText());
            Assert.Equal("[0,0,0,1,1]", lines[1].GetProperty("typeIds").GetRawText());
            Assert.Equal("[101,102]", lines[2].GetProperty("ids").GetRawText());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ImpossibleTruncationIsBadInput()
    {
        var (code, _, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", Bert, "--text", "a b c d e f g", "--pair", "h",
            "--max-length", "5", "--truncation", "only_second");
        Assert.Equal(2, code);
        Assert.Contains("Truncation error", stderr);
    }
}

public sealed class TokenizeSentencePieceTests
{
    // A folder with only tokenizer.model + tokenizer_config.json (no tokenizer.json) loads through
    // the SentencePiece converter and gives the Rust golden's ids for the first SST-2 sentence.
    [Theory]
    [InlineData("llama-2", "tokenizer.model")]
    [InlineData("rut5-large", "spiece.model")]
    public void ModelOnlyFolderAndModelFileLoad(string name, string modelFile)
    {
        string src = CliTestSupport.TokenizerDir(name);
        string dir = Directory.CreateTempSubdirectory("glassbox-cli-spm-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(src))
                if (Path.GetFileName(f) != "tokenizer.json") File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            using var golden = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(CliTestSupport.SharedDir, "golden", "tokenizers", name + ".json")));
            var c = golden.RootElement.GetProperty("cases").EnumerateArray().First(x => x.GetProperty("name").GetString() == "sst2_0");
            foreach (string tokenizer in new[] { dir, Path.Combine(dir, modelFile) })
            {
                var (code, stdout, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", tokenizer, "--text", c.GetProperty("text").GetString()!);
                Assert.True(code == 0, stderr);
                var line = Assert.Single(CliTestSupport.Lines(stdout));
                Assert.Equal(c.GetProperty("ids").GetRawText().Replace(" ", ""), line.GetProperty("ids").GetRawText());
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void CorruptModelFileIsBadInput()
    {
        string path = CliTestSupport.TempFile("this is not a protobuf", ".model");
        try
        {
            var (code, _, stderr) = CliTestSupport.Run("tokenize", "--tokenizer", path, "--text", "x");
            Assert.Equal(2, code);
            Assert.Contains(path, stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
