using System.Text.Json;

namespace Glassbox.Cli.Tests;

public sealed class ExplainHierarchicalSummaryTests
{
    private static string Model(string name) => Path.Combine(CliTestSupport.SharedDir, "models", name);

    [Fact]
    public void SummaryIsAddedToJsonAndHtml()
    {
        var (code, stdout, stderr) = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
            "--text", "The movie was not good at all.", "--steps", "8", "--summary");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        string summary = doc.RootElement.GetProperty("summary").GetString()!;
        string predicted = doc.RootElement.GetProperty("predictedClassName").GetString()!;
        Assert.StartsWith($"The model predicts {predicted} (", summary);
        // The words named as reasons are the top-scored words of the same explanation.
        var top = doc.RootElement.GetProperty("wordAttributions").EnumerateArray()
            .Select(w => (Token: w.GetProperty("token").GetString()!, Score: w.GetProperty("score").GetDouble()))
            .Where(t => t.Token is not "[CLS]" and not "[SEP]").MaxBy(t => t.Score);
        Assert.Contains(top.Token, summary);

        var html = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
            "--text", "The movie was not good at all.", "--steps", "8", "--summary", "--format", "html");
        Assert.Equal(0, html.Code);
        Assert.Contains("<p class=\"summary\" id=\"summary\">The model predicts", html.Out);

        var zs = CliTestSupport.Run("explain", "zero-shot", "--model", Model("roberta-tiny-random-nli"), "--text", "stocks fell sharply",
            "--labels", "finance,sports", "--steps", "4", "--summary");
        Assert.True(zs.Code == 0, zs.Err);
        Assert.Contains("The model predicts", JsonDocument.Parse(zs.Out).RootElement.GetProperty("summary").GetString());
    }

    [Fact]
    public void HierarchicalGivesAPhraseTree()
    {
        var (code, stdout, stderr) = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
            "--text", "not a good movie", "--hierarchical", "--samples", "6", "--summary");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(["not", "a", "good", "movie"], root.GetProperty("words").EnumerateArray().Select(w => w.GetString()));
        var tree = root.GetProperty("tree");
        Assert.Equal(0, tree.GetProperty("start").GetInt32());
        Assert.Equal(4, tree.GetProperty("end").GetInt32());
        int Count(JsonElement n) => 1 + n.GetProperty("children").EnumerateArray().Sum(Count);
        Assert.Equal(7, Count(tree)); // full binary tree over 4 words
        // A parent's interaction is its score minus its children's.
        var kids = tree.GetProperty("children").EnumerateArray().ToList();
        Assert.Equal(tree.GetProperty("score").GetDouble() - kids.Sum(k => k.GetProperty("score").GetDouble()), tree.GetProperty("interaction").GetDouble(), 9);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("summary").GetString()));

        var html = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
            "--text", "not a good movie", "--hierarchical", "--hierarchical-scoring", "occlusion", "--format", "html");
        Assert.Equal(0, html.Code);
        Assert.Contains("class=\"ptree-node", html.Out);
    }

    [Fact]
    public void BadCombinationsAreExitCodeTwo()
    {
        var r = CliTestSupport.Run("explain", "question-answering", "--model", Model("bert-tiny-random-qa"), "--text", "who?", "--pair", "Ann did.", "--hierarchical");
        Assert.Equal(2, r.Code);
        Assert.Contains("--hierarchical is for sequence-classification", r.Err);
        r = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"), "--text", "fine", "--hierarchical", "--class", "MAYBE");
        Assert.Equal(2, r.Code);
        Assert.Contains("NEGATIVE, POSITIVE", r.Err);
        r = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"), "--text", "fine", "--hierarchical", "--samples", "0");
        Assert.Equal(2, r.Code);
    }
}
