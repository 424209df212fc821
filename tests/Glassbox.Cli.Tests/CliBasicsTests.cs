using System.CommandLine;
using Glassbox.Tensors;

namespace Glassbox.Cli.Tests;

/// <summary>--version, --help for every verb, the shared options, exit codes.</summary>
public sealed class CliBasicsTests
{
    /// <summary>Every verb path ("tokenize", "lm nmf", ...) of the real command tree, other helpers' verbs included.</summary>
    public static TheoryData<string> Verbs()
    {
        var data = new TheoryData<string>();
        var root = Program.CreateRoot(TextWriter.Null, TextWriter.Null, out _);
        foreach (var path in Walk(root, "")) data.Add(path);
        return data;

        static IEnumerable<string> Walk(Command c, string prefix)
        {
            foreach (var sub in c.Subcommands)
            {
                string path = (prefix + " " + sub.Name).Trim();
                yield return path;
                foreach (var p in Walk(sub, path)) yield return p;
            }
        }
    }

    [Fact]
    public void VersionPrintsTheInformationalVersion()
    {
        var (code, stdout, stderr) = CliTestSupport.Run("--version");
        Assert.True(code == 0, stderr);
        string version = stdout.Trim();
        string expected = typeof(Program).Assembly.GetName().Version!.ToString(3);
        Assert.StartsWith(expected, version);
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public void HelpWorksForEveryVerb(string verb)
    {
        var args = verb.Split(' ').Append("--help").ToArray();
        var (code, stdout, stderr) = CliTestSupport.Run(args);
        Assert.True(code == 0, $"{verb} --help: exit {code}: {stderr}");
        Assert.Contains("Usage:", stdout);
        // The usage line names the executable (glassbox; the test host in-process), then the verb path.
        Assert.Matches($@"Usage:\s+\S+ {System.Text.RegularExpressions.Regex.Escape(verb)} ", stdout);
        Assert.Contains("Description:", stdout);
        // The recursive options are listed in every verb's help.
        Assert.Contains("--threads", stdout);
        Assert.Contains("--progress", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void RootHelpListsTheVerbs()
    {
        var (code, stdout, _) = CliTestSupport.Run("--help");
        Assert.Equal(0, code);
        foreach (var verb in new[] { "tokenize", "predict", "explain", "lm", "explain-dataset", "demo" }) Assert.Contains(verb, stdout);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("predict")]
    [InlineData("explain")]
    [InlineData("lm generate")]
    [InlineData("explain-dataset")]
    [InlineData("demo")]
    public void OutputVerbsShareModelFormatOutAndSeedNames(string verb)
    {
        var root = Program.CreateRoot(TextWriter.Null, TextWriter.Null, out _);
        Command command = root;
        foreach (var name in verb.Split(' ')) command = command.Subcommands.Single(c => c.Name == name);
        var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        Assert.Contains("--out", names);
        if (verb != "demo") Assert.Contains("--model", names);
        if (verb is not "demo") Assert.Contains("--format", names);
        if (verb is "explain" or "lm generate" or "explain-dataset") Assert.Contains("--seed", names);
    }

    [Fact]
    public void UnknownVerbIsBadInput()
    {
        var (code, _, stderr) = CliTestSupport.Run("explian");
        Assert.Equal(2, code);
        Assert.Contains("explian", stderr);
        Assert.Contains("--help", stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("many")]
    public void ThreadsMustBeAPositiveNumber(string threads)
    {
        var (code, _, stderr) = CliTestSupport.Run("tokenize", "--model", CliTestSupport.TokenizerDir("gpt2"), "--text", "hi", "--threads", threads);
        Assert.Equal(2, code);
        Assert.Contains("--threads", stderr);
    }

    [Fact]
    public void ThreadsDoesNotChangeResultsAndIsRestored()
    {
        string model = Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny");
        int before = Parallelism.ThreadCount;
        var one = CliTestSupport.Run("explain", "sequence-classification", "--model", model, "--text", "a gorgeous, witty movie", "--steps", "8", "--threads", "1");
        Assert.Equal(before, Parallelism.ThreadCount);
        var two = CliTestSupport.Run("explain", "sequence-classification", "--model", model, "--text", "a gorgeous, witty movie", "--steps", "8", "--threads", "2");
        Assert.True(one.Code == 0, one.Err);
        Assert.True(two.Code == 0, two.Err);
        Assert.Equal(one.Out, two.Out);
    }

    [Theory]
    [InlineData("tokenize")]
    [InlineData("predict")]
    [InlineData("explain")]
    [InlineData("lm")]
    public void OutIntoAMissingFolderIsBadInputForEveryVerb(string verb)
    {
        string shared = CliTestSupport.SharedDir;
        string missing = Path.Combine(Path.GetTempPath(), $"glassbox-no-such-{Guid.NewGuid():N}", "out.json");
        string[] args = verb switch
        {
            "tokenize" => ["tokenize", "--model", CliTestSupport.TokenizerDir("gpt2"), "--text", "hi"],
            "predict" => ["predict", "--model", Path.Combine(shared, "models", "distilbert-sst2-tiny"), "--text", "hi"],
            "explain" => ["explain", "sequence-classification", "--model", Path.Combine(shared, "models", "distilbert-sst2-tiny"), "--text", "hi"],
            _ => ["lm", "generate", "--model", Path.Combine(shared, "models", "gpt2-tiny-random"), "--prompt", "hi"],
        };
        var (code, _, stderr) = CliTestSupport.Run([.. args, "--out", missing]);
        Assert.Equal(2, code);
        Assert.Contains("does not exist", stderr);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public void TokenizeAndPredictWriteOutAtomically()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-cli-out").FullName;
        try
        {
            string tokens = Path.Combine(dir, "tokens.jsonl");
            var (code, stdout, stderr) = CliTestSupport.Run("tokenize", "--model", CliTestSupport.TokenizerDir("bert-base-uncased"), "--text", "Hello, world!", "--out", tokens);
            Assert.True(code == 0, stderr);
            Assert.Equal("", stdout);
            var line = Assert.Single(CliTestSupport.Lines(File.ReadAllText(tokens)));
            Assert.Equal("[101,7592,1010,2088,999,102]", line.GetProperty("ids").GetRawText());

            // A bad --input line leaves no file.
            string input = CliTestSupport.TempFile("{\"text\": \"ok\"}\nnot json\n");
            string bad = Path.Combine(dir, "bad.jsonl");
            Assert.Equal(2, CliTestSupport.Run("tokenize", "--model", CliTestSupport.TokenizerDir("bert-base-uncased"), "--input", input, "--out", bad).Code);
            Assert.False(File.Exists(bad));
            File.Delete(input);

            string prediction = Path.Combine(dir, "prediction.json");
            (code, stdout, stderr) = CliTestSupport.Run("predict", "--model", Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny"),
                "--text", "a gorgeous, witty movie", "--out", prediction);
            Assert.True(code == 0, stderr);
            Assert.Equal("", stdout);
            var p = Assert.Single(CliTestSupport.Lines(File.ReadAllText(prediction)));
            Assert.Equal("POSITIVE", p.GetProperty("predicted").GetProperty("label").GetString());
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
