using System.Text;

namespace Glassbox.Cli.Tests;

/// <summary>`glassbox merge-results`: concatenation in shard order, and every refusal (exit 2, file named, no --out left behind).</summary>
public sealed class MergeResultsCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("glassbox-merge").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private string Write(string name, string content)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    private static string Row(string id, string text = "t") => $"{{\"id\":\"{id}\",\"text\":\"{text}\",\"attributions\":[0.5,-0.25]}}\n";

    private string Out => Path.Combine(dir, "merged.jsonl");

    private (int Code, string Out, string Err) Merge(params string[] more) => CliTestSupport.Run(["merge-results", "--out", Out, .. more]);

    private void AssertRefused((int Code, string Out, string Err) r, params string[] fragments)
    {
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: ", r.Err);
        foreach (var f in fragments) Assert.Contains(f, r.Err);
        Assert.False(File.Exists(Out), "a failed merge must not leave --out behind");
        Assert.DoesNotContain(Directory.GetFiles(dir), f => Path.GetFileName(f).Contains("merged")); // nor a temporary file next to it
    }

    [Fact]
    public void MergeEqualsCatInShardOrder()
    {
        // Non-ASCII text and an empty shard (more shards than rows) on the way.
        string[] contents = [Row("0", "café ☕") + Row("1"), "", Row("2") + Row("3", "naïve") + Row("4")];
        var files = contents.Select((c, i) => Write($"shard-{i}.jsonl", c)).ToArray();
        var r = Merge([.. files, "--expect", "5"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("", r.Out);
        Assert.Contains($"merge-results: 5 examples from 3 shard(s) → {Out}", r.Err);
        byte[] cat = files.SelectMany(File.ReadAllBytes).ToArray();
        Assert.Equal(cat, File.ReadAllBytes(Out));
    }

    [Fact]
    public void BlankLinesAreDroppedAndLineNumbersCountThem()
    {
        string a = Write("a.jsonl", "{\"id\":1}\n\n{\"id\":2}\n");
        var r = Merge(a);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("{\"id\":1}\n{\"id\":2}\n", File.ReadAllText(Out));
        // The line number in a message is the file's own (blank lines count), so an editor finds it.
        string b = Write("b.jsonl", "{\"id\":1}\n\n{broken\n");
        File.Delete(Out);
        AssertRefused(Merge(b), $"{b} line 3 is not valid JSON");
    }

    [Fact]
    public void NumericAndStringIdWithTheSameTextAreTheSameExample()
    {
        // A JSONL --id-column may hold numbers; explain-dataset writes them as strings, so 1 and "1" collide.
        string a = Write("a.jsonl", "{\"id\":1}\n");
        string b = Write("b.jsonl", "{\"id\":\"1\"}\n");
        AssertRefused(Merge(a, b), $"id '1' is in {a} line 1 and again in {b} line 1");
    }

    [Fact]
    public void TornLastLineIsRefusedNamingTheFile()
    {
        string a = Write("shard-0.jsonl", Row("0"));
        string b = Write("shard-1.jsonl", Row("1") + "{\"id\":\"2\",\"te");
        AssertRefused(Merge(a, b), b, "torn line", "--resume");
    }

    [Fact]
    public void CompleteLineWithoutFinalNewlineIsStillTorn()
    {
        // A writer killed between the object and its '\n' is not known to be complete: --resume decides.
        string a = Write("shard-0.jsonl", Row("0").TrimEnd('\n'));
        AssertRefused(Merge(a), a, "torn line");
    }

    [Fact]
    public void InvalidJsonLineIsRefusedNamingFileAndLine()
    {
        string a = Write("shard-0.jsonl", Row("0"));
        string b = Write("shard-1.jsonl", Row("1") + "not json at all\n" + Row("3"));
        AssertRefused(Merge(a, b), $"{b} line 2 is not valid JSON");
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{\"text\":\"no id\"}")]
    [InlineData("\"id\"")]
    public void LineThatIsNotAResultIsRefused(string line)
    {
        string a = Write("shard-0.jsonl", Row("0") + line + "\n");
        AssertRefused(Merge(a), $"{a} line 2 is not an explain-dataset result (a JSON object with an id).");
    }

    [Fact]
    public void DuplicateIdAcrossShardsIsRefusedNamingBothPlaces()
    {
        string a = Write("shard-0.jsonl", Row("0") + Row("1"));
        string b = Write("shard-1.jsonl", Row("2") + Row("1"));
        AssertRefused(Merge(a, b), $"id '1' is in {a} line 2 and again in {b} line 2", "overlap");
    }

    [Fact]
    public void SameShardTwiceIsADuplicate()
    {
        string a = Write("shard-0.jsonl", Row("0"));
        AssertRefused(Merge(a, a), $"id '0' is in {a} line 1 and again in {a} line 1");
    }

    [Theory]
    [InlineData("2")]
    [InlineData("4")]
    public void ExpectMismatchIsRefused(string expect)
    {
        string a = Write("shard-0.jsonl", Row("0") + Row("1") + Row("2"));
        AssertRefused(Merge(a, "--expect", expect), $"the shards hold 3 examples but --expect says {expect}", "a shard is missing");
    }

    [Fact]
    public void MissingShardIsRefusedNamingIt()
    {
        string a = Write("shard-0.jsonl", Row("0"));
        string missing = Path.Combine(dir, "shard-1.jsonl");
        AssertRefused(Merge(a, missing), $"shard output {missing} not found", "--shard i/n");
    }

    [Fact]
    public void OutputThatIsAlsoAShardIsRefused()
    {
        string a = Write("shard-0.jsonl", Row("0"));
        var r = CliTestSupport.Run("merge-results", "--out", a, a);
        Assert.Equal(2, r.Code);
        Assert.Contains($"--out {a} is also one of the shards", r.Err);
        Assert.Equal(Row("0"), File.ReadAllText(a)); // untouched
    }

    [Fact]
    public void FailedMergeLeavesAnExistingOutUntouched()
    {
        File.WriteAllText(Out, "previous merge\n");
        string a = Write("shard-0.jsonl", Row("0") + "{broken\n");
        var r = Merge(a);
        Assert.Equal(2, r.Code);
        Assert.Contains($"{a} line 2 is not valid JSON", r.Err);
        Assert.Equal("previous merge\n", File.ReadAllText(Out));
    }

    [Fact]
    public void NoShardsOrNoOutIsAUsageError()
    {
        Assert.Equal(2, CliTestSupport.Run("merge-results", "--out", Out).Code);
        Assert.Equal(2, CliTestSupport.Run("merge-results", Write("s.jsonl", Row("0"))).Code);
        Assert.False(File.Exists(Out));
    }
}
