using System.Text.Json;
using System.Text.RegularExpressions;

namespace Glassbox.Cli.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root: the folder above the test binaries that holds Glassbox.sln.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Glassbox.sln"))) return dir.FullName;
            throw new InvalidOperationException($"no Glassbox.sln above {AppContext.BaseDirectory}");
        }
    }

    public static string Models => Path.Combine(Root, "models");
}

/// <summary>models/demo-dataset/sentiment.tsv: size, balance, uniqueness, and no overlap with SST-2.</summary>
public sealed class DemoDatasetTests
{
    private static readonly string Tsv = Path.Combine(RepoPaths.Models, "demo-dataset", "sentiment.tsv");

    private static string Normalize(string s) => string.Join(' ', Regex.Replace(s.ToLowerInvariant(), "[^a-z0-9]+", " ").Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static (string Sentence, string Label)[] Rows()
    {
        var lines = File.ReadAllLines(Tsv);
        Assert.Equal("sentence\tlabel", lines[0]);
        return lines.Skip(1).Select(l =>
        {
            var f = l.Split('\t');
            Assert.True(f.Length == 2, $"not two fields: {l}");
            return (f[0], f[1]);
        }).ToArray();
    }

    [Fact]
    public void HasAtLeast200BalancedLabelledSentences()
    {
        var rows = Rows();
        Assert.True(rows.Length >= 200, $"{rows.Length} rows");
        Assert.All(rows, r => Assert.Contains(r.Label, new[] { "NEGATIVE", "POSITIVE" }));
        Assert.Equal(rows.Length / 2, rows.Count(r => r.Label == "POSITIVE"));
        Assert.Equal(rows.Length / 2, rows.Count(r => r.Label == "NEGATIVE"));
        Assert.All(rows, r => Assert.InRange(r.Sentence.Split(' ').Length, 3, 25)); // short sentences
        Assert.All(rows, r => Assert.Equal(r.Sentence.Trim(), r.Sentence));
    }

    [Fact]
    public void ComesInPositiveNegativePairs()
    {
        var rows = Rows();
        for (int i = 0; i + 1 < rows.Length; i += 2)
        {
            Assert.Equal("POSITIVE", rows[i].Label);
            Assert.Equal("NEGATIVE", rows[i + 1].Label);
        }
    }

    [Fact]
    public void CoversNegationContrastIntensifiersAndHedges()
    {
        var words = Rows().Select(r => " " + r.Sentence.ToLowerInvariant() + " ").ToArray();
        int Count(params string[] markers) => words.Count(s => markers.Any(m => s.Contains(m, StringComparison.Ordinal)));
        Assert.True(Count(" not ", " never ", " no one ", " nothing ", "cannot", "n't ") >= 30, "negation");
        Assert.True(Count(", but ") >= 30, "contrast");
        Assert.True(Count(" absolutely ", " incredibly ", " truly ", " utterly ", " extraordinarily ", " hugely ", " remarkably ", " deeply ") >= 15, "intensifiers");
        Assert.True(Count(" fairly ", " somewhat ", " probably ", " perhaps ", " i suppose ", " reasonably ", " mostly ") >= 15, "hedges");
    }

    [Fact]
    public void HasNoDuplicatesAndNoSentenceFromSst2()
    {
        var rows = Rows();
        var seen = new HashSet<string>();
        foreach (var r in rows) Assert.True(seen.Add(Normalize(r.Sentence)), $"duplicate: {r.Sentence}");
        var sst2 = new HashSet<string>();
        foreach (var file in new[] { "train.tsv", "dev.tsv" })
            foreach (var line in File.ReadLines(Path.Combine(CliTestSupport.SharedDir, "data", "sst2", file)).Skip(1))
                sst2.Add(Normalize(line.Split('\t')[0]));
        Assert.True(sst2.Count > 50000, $"SST-2 read: {sst2.Count} distinct phrases");
        var overlap = rows.Where(r => sst2.Contains(Normalize(r.Sentence))).Select(r => r.Sentence).ToList();
        Assert.Empty(overlap);
    }

    [Fact]
    public void HasAModelCard()
    {
        string card = File.ReadAllText(Path.Combine(RepoPaths.Models, "demo-dataset", "README.md"));
        Assert.Contains(Rows().Length.ToString(), card);
        Assert.Contains("SST-2", card);
    }
}

/// <summary>`glassbox demo`: the report of the demo dataset plus the LM page, from the embedded models.</summary>
public sealed class DemoCommandTests
{
    private static bool Embedded(string name) => Directory.Exists(Path.Combine(RepoPaths.Models, name));

    /// <summary>Overrides for the embedded models that have not landed yet (so the test runs either way).</summary>
    private static string[] Overrides()
    {
        var args = new List<string>();
        if (!Embedded(EmbeddedModels.Classifier)) args.AddRange(["--model", Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny")]);
        if (!Embedded(EmbeddedModels.LanguageModel)) args.AddRange(["--lm-model", Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny")]);
        return [.. args];
    }

    [Fact]
    public void WritesTheReportAndTheLmPageAndPrintsThePath()
    {
        string parent = Directory.CreateTempSubdirectory("glassbox-demo").FullName;
        try
        {
            string dir = Path.Combine(parent, "demo");
            var (code, stdout, stderr) = CliTestSupport.Run(["demo", "--out", dir, "--no-open", "--report", "--steps", "8", .. Overrides()]);
            Assert.True(code == 0, stderr);
            string index = Path.Combine(dir, "index.html");
            Assert.Equal(index, stdout.Trim());
            Assert.Equal(["index.html", "lm.html", "results.jsonl"], Directory.GetFiles(dir).Select(p => Path.GetFileName(p)!).Order().ToArray());

            string html = File.ReadAllText(index);
            int rows = File.ReadAllLines(Path.Combine(RepoPaths.Models, "demo-dataset", "sentiment.tsv")).Length - 1;
            Assert.Contains($"of {rows} labelled examples correct", html);
            Assert.Contains("href=\"lm.html\"", html);
            Assert.Contains($"id=\"example-{rows}\"", html);
            Assert.Equal(rows, File.ReadAllLines(Path.Combine(dir, "results.jsonl")).Length);
            string lm = File.ReadAllText(Path.Combine(dir, "lm.html"));
            Assert.StartsWith("<!DOCTYPE html>", lm);
            Assert.Contains("ROMEO", lm);

            // Running again replaces the pages (no "exists" refusal, no temporary files left).
            (code, _, stderr) = CliTestSupport.Run(["demo", "--out", dir, "--no-open", "--report", "--steps", "2", .. Overrides()]);
            Assert.True(code == 0, stderr);
            Assert.Equal(3, Directory.GetFiles(dir).Length);
        }
        finally
        {
            Directory.Delete(parent, true);
        }
    }

    [Fact]
    public void BadInputLeavesNothingBehind()
    {
        string parent = Directory.CreateTempSubdirectory("glassbox-demo-bad").FullName;
        try
        {
            string dir = Path.Combine(parent, "demo");
            var (code, _, stderr) = CliTestSupport.Run("demo", "--out", dir, "--no-open", "--report", "--model", "/no/such/classifier",
                "--lm-model", Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny"));
            Assert.Equal(2, code);
            Assert.Contains("/no/such/classifier", stderr);
            Assert.False(Directory.Exists(dir)); // checked before anything is written

            (code, _, stderr) = CliTestSupport.Run("demo", "--out", dir, "--no-open", "--report", "--lm-model", "/no/such/lm",
                "--model", Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny"));
            Assert.Equal(2, code);
            Assert.Contains("/no/such/lm", stderr);
            Assert.False(Directory.Exists(dir));

            (code, _, stderr) = CliTestSupport.Run(["demo", "--out", Path.Combine(parent, "missing", "demo"), "--no-open"]);
            Assert.Equal(2, code);
            Assert.Contains("does not exist", stderr);
        }
        finally
        {
            Directory.Delete(parent, true);
        }
    }

    [Fact]
    public void EmbeddedModelsAreFoundBesideTheExecutableOrAbove()
    {
        // The build copies models/** next to the binaries; the test binaries' folder has them too (a project reference).
        string? dataset = EmbeddedModels.Find(EmbeddedModels.DemoDataset);
        Assert.NotNull(dataset);
        Assert.EndsWith(Path.Combine("models", "demo-dataset", "sentiment.tsv"), dataset);
        Assert.Null(EmbeddedModels.Find("no-such-model-anywhere"));
    }
}
