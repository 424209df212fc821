using System.Text.Json;

namespace Glassbox.Cli.Tests;

public sealed class TcavCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("glassbox-tcav-cli-").FullName;
    private static string Model => Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny");

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly string[] Adjectives = ["good", "great", "fine", "bad", "dull", "awful", "funny", "boring", "clever", "slow", "bright", "weak"];

    /// <summary>24 sentences with "not" (the concept slice) and 24 without; labels by adjective polarity, flipped by "not".</summary>
    private string Data()
    {
        var positive = new HashSet<string> { "good", "great", "fine", "funny", "clever", "bright" };
        var lines = new List<string> { "sentence\tlabel" };
        int i = 0;
        foreach (var subject in new[] { "the film", "this movie" })
            foreach (var adj in Adjectives)
            {
                bool pos = positive.Contains(adj);
                lines.Add($"{subject} was {adj}\t{(pos ? "POSITIVE" : "NEGATIVE")}");
                lines.Add($"{subject} was not {adj}\t{(pos ? "NEGATIVE" : "POSITIVE")}");
                i++;
            }
        var path = Path.Combine(_dir, "data.tsv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void JsonAndHtmlForAConceptSlice()
    {
        var data = Data();
        var (code, stdout, stderr) = CliTestSupport.Run("tcav", "--model", Model, "--data", data, "--label-column", "label",
            "--concept-slice", "sentence~\\bnot\\b", "--concept-name", "negation", "--layer", "blocks.0.hook_resid_post,blocks.1.hook_resid_post",
            "--class", "NEGATIVE", "--runs", "4", "--seed", "3");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        Assert.Equal("blocks.1.hook_resid_post", results[1].GetProperty("layer").GetString());
        foreach (var r in results)
        {
            Assert.Equal("negation", r.GetProperty("concept").GetString());
            Assert.Equal("NEGATIVE", r.GetProperty("className").GetString());
            Assert.Equal(0, r.GetProperty("classIndex").GetInt32());
            Assert.Equal(4, r.GetProperty("runScores").GetArrayLength());
            Assert.Equal(4, r.GetProperty("randomScores").GetArrayLength());
            double score = r.GetProperty("score").GetDouble(), p = r.GetProperty("pValue").GetDouble();
            Assert.InRange(score, 0, 1);
            Assert.InRange(p, 0, 1);
            Assert.Equal(p < 0.05, r.GetProperty("significant").GetBoolean());
            Assert.Equal(24, r.GetProperty("conceptExamples").GetInt32());
            Assert.Equal(24, r.GetProperty("classExamples").GetInt32());
            Assert.Contains("'negation'", r.GetProperty("summary").GetString());
        }
        // The same seed gives the same numbers.
        var again = CliTestSupport.Run("tcav", "--model", Model, "--data", data, "--label-column", "label",
            "--concept-slice", "sentence~\\bnot\\b", "--concept-name", "negation", "--layer", "blocks.0.hook_resid_post,blocks.1.hook_resid_post",
            "--class", "NEGATIVE", "--runs", "4", "--seed", "3");
        Assert.Equal(stdout, again.Out);

        var html = Path.Combine(_dir, "tcav.html");
        var h = CliTestSupport.Run("tcav", "--model", Model, "--data", data, "--label-column", "label", "--concept-slice", "sentence~\\bnot\\b",
            "--layer", "blocks.1.hook_resid_post", "--class", "POSITIVE", "--runs", "3", "--format", "html", "--out", html);
        Assert.True(h.Code == 0, h.Err);
        var page = File.ReadAllText(html);
        Assert.Contains("<svg class=\"tcav-strip\"", page);
        Assert.Contains("blocks.1.hook_resid_post", page);
    }

    [Fact]
    public void ConceptFileOfLines()
    {
        var data = Data();
        var concept = Path.Combine(_dir, "negation.txt");
        File.WriteAllLines(concept, Enumerable.Range(0, 12).Select(i => $"it is not {Adjectives[i]} at all"));
        var (code, stdout, stderr) = CliTestSupport.Run("tcav", "--model", Model, "--data", data, "--concept", concept,
            "--layer", "blocks.1.hook_resid_post", "--class", "POSITIVE", "--runs", "3", "--pooling", "mean");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.Equal("negation", r.GetProperty("concept").GetString());
        Assert.Equal(12, r.GetProperty("conceptExamples").GetInt32());
        Assert.Equal(48, r.GetProperty("classExamples").GetInt32()); // no label column: every row
    }

    [Fact]
    public void BadInputIsExitCodeTwoWithClearMessagesAndNoOutputFile()
    {
        var data = Data();
        var outPath = Path.Combine(_dir, "out.json");
        var small = Path.Combine(_dir, "small.txt");
        File.WriteAllLines(small, ["not good", "not bad", "not fine"]);
        string[] common = ["--model", Model, "--data", data, "--label-column", "label", "--out", outPath, "--runs", "3"];

        var (code, _, err) = CliTestSupport.Run(["tcav", .. common, "--concept", small, "--layer", "blocks.1.hook_resid_post", "--class", "NEGATIVE"]);
        Assert.Equal(2, code);
        Assert.Contains("has 3 examples", err);
        Assert.Contains("at least 10", err);

        (code, _, err) = CliTestSupport.Run(["tcav", .. common, "--concept-slice", "sentence~not", "--layer", "blocks.7.hook_resid_post", "--class", "NEGATIVE"]);
        Assert.Equal(2, code);
        Assert.Contains("'blocks.7.hook_resid_post' is not a hook point", err);
        Assert.Contains("blocks.1.hook_resid_post", err); // the valid ones are listed

        (code, _, err) = CliTestSupport.Run(["tcav", .. common, "--concept-slice", "sentence~not", "--layer", "blocks.1.hook_resid_post", "--class", "NEUTRAL"]);
        Assert.Equal(2, code);
        Assert.Contains("NEGATIVE, POSITIVE", err);

        (code, _, err) = CliTestSupport.Run(["tcav", .. common, "--concept-slice", "text~not", "--layer", "blocks.1.hook_resid_post", "--class", "NEGATIVE"]);
        Assert.Equal(2, code);
        Assert.Contains("columns are: sentence, label", err);

        (code, _, err) = CliTestSupport.Run(["tcav", .. common, "--concept", small, "--concept-slice", "sentence~not", "--layer", "blocks.1.hook_resid_post", "--class", "NEGATIVE"]);
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --concept", err);

        (code, _, err) = CliTestSupport.Run(["tcav", .. common, "--concept", Path.Combine(_dir, "absent.txt"), "--layer", "blocks.1.hook_resid_post", "--class", "NEGATIVE"]);
        Assert.Equal(2, code);
        Assert.Contains("absent.txt", err);
        Assert.False(File.Exists(outPath));
    }
}
