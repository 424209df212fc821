using Glassbox.Explain.Hierarchy;
using Glassbox.Explain.Summaries;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Tests.Hierarchy;

/// <summary>Black-box toy classifiers over BERT token ids: P(POSITIVE) = σ(Σ token weights), optionally with negation.</summary>
internal sealed class ToySentiment(Tokenizer tok, bool negation) : IExplainableModel
{
    private readonly Dictionary<int, double> _weights = new()
    {
        [tok.TokenToId("good")!.Value] = 2.0, [tok.TokenToId("great")!.Value] = 2.5,
        [tok.TokenToId("bad")!.Value] = -2.0, [tok.TokenToId("awful")!.Value] = -2.5,
        [tok.TokenToId("movie")!.Value] = 0.3,
    };
    private readonly int _not = tok.TokenToId("not")!.Value;

    public string Name => negation ? "toy-negation" : "toy-additive";
    public IReadOnlyList<string> OutputNames => ["NEGATIVE", "POSITIVE"];
    public bool SupportsGradients => false;
    public HookSet? Hooks => null;

    public Tensor Predict(ModelInput input)
    {
        var output = new float[input.Batch * 2];
        for (int b = 0; b < input.Batch; b++)
        {
            double z = 0;
            for (int t = 0; t < input.SeqLength; t++)
            {
                int id = input.InputIds[b * input.SeqLength + t];
                double w = _weights.GetValueOrDefault(id);
                if (negation && t > 0 && input.InputIds[b * input.SeqLength + t - 1] == _not) w = -w;
                z += w;
            }
            // Additive model: the score itself is linear (no squashing), so occlusion effects add exactly.
            double pos = negation ? 1 / (1 + Math.Exp(-z)) : 0.5 + z / 100;
            output[2 * b] = (float)(1 - pos);
            output[2 * b + 1] = (float)pos;
        }
        return Tensor.FromArray(output, input.Batch, 2);
    }
}

public sealed class HierarchyToyTests
{
    private static Tokenizer Tok() => ExplainerGoldenTests.Load("distilbert-sst2-tiny").Tokenizer;

    [Theory]
    [InlineData(PhraseScoring.Occlusion)]
    [InlineData(PhraseScoring.Soc)]
    public void AnAdditiveModelHasNoInteractions(PhraseScoring scoring)
    {
        var tok = Tok();
        var e = new HierarchicalExplainer(new ToySentiment(tok, negation: false), tok)
            .Explain("the movie was good but the ending was bad", target: 1, new HierarchicalOptions { Scoring = scoring, Samples = 8 });
        Assert.Equal(9, e.Words.Count);
        Assert.Equal(0, e.Root.Start);
        Assert.Equal(9, e.Root.End);
        Assert.Equal(2 * 9 - 1, e.Root.Descendants().Count()); // a full binary tree over 9 words
        foreach (var node in e.Root.Descendants())
        {
            Assert.True(Math.Abs(node.Interaction) < 1e-6, $"'{node.Text}' interaction {node.Interaction}");
            if (node.Children.Count == 2) Assert.Equal(node.Children[0].Score + node.Children[1].Score, node.Score, 6);
        }
        // Leaves: good and movie push POSITIVE, bad pulls it down, function words are zero.
        var leaf = e.Root.Descendants().Where(n => n.Children.Count == 0).ToDictionary(n => n.Start);
        Assert.Equal(0.02, leaf[3].Score, 5);
        Assert.Equal(-0.02, leaf[8].Score, 5);
        Assert.Equal(0.0, leaf[0].Score, 6);
    }

    [Fact]
    public void SocRanksTheNegatedPhraseAboveItsWordsOnAKnownInteraction()
    {
        var tok = Tok();
        var vocabulary = new[] { "good", "great", "bad", "awful", "the", "movie", "was", "not", "plot", "really" }.Select(w => tok.TokenToId(w)!.Value).ToArray();
        var explainer = new HierarchicalExplainer(new ToySentiment(tok, negation: true), tok);
        var e = explainer.Explain("the movie was not good", options: new HierarchicalOptions { Samples = 200, ContextVocabulary = vocabulary, Seed = 1 });
        Assert.Equal("NEGATIVE", e.TargetName);
        var nodes = e.Root.Descendants().ToList();
        var phrase = Assert.Single(nodes, n => n.Text == "not good");
        var not = Assert.Single(nodes, n => n.Text == "not");
        var good = Assert.Single(nodes, n => n.Text == "good");
        Assert.True(phrase.Score > not.Score && phrase.Score > good.Score, $"not good {phrase.Score}, not {not.Score}, good {good.Score}");
        Assert.True(Math.Abs(phrase.Interaction) > 0.1, $"interaction {phrase.Interaction}");
        var summary = ExplanationSummary.Describe(e);
        Assert.True(summary.Contains("'not good'"), summary + " | " + string.Join("; ", nodes.Select(n => $"{n.Text}={n.Score:0.000}/{n.Interaction:0.000}")));
        // Determinism for a seed.
        var again = explainer.Explain("the movie was not good", options: new HierarchicalOptions { Samples = 200, ContextVocabulary = vocabulary, Seed = 1 });
        Assert.Equal(phrase.Score, again.Root.Descendants().Single(n => n.Text == "not good").Score);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        var tok = Tok();
        var explainer = new HierarchicalExplainer(new ToySentiment(tok, negation: true), tok);
        Assert.Throws<ArgumentException>(() => explainer.Explain("  "));
        Assert.Contains("NEGATIVE, POSITIVE", Assert.Throws<ArgumentOutOfRangeException>(() => explainer.Explain("good", target: 5)).Message);
        Assert.Throws<ArgumentException>(() => explainer.Explain("good", options: new HierarchicalOptions { Samples = 0 }));
    }
}
