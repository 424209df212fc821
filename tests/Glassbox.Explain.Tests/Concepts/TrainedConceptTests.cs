using Glassbox.Explain.Concepts;
using Glassbox.Explain.Hierarchy;

namespace Glassbox.Explain.Tests.Concepts;

[Collection("trained synthetic tasks")]
public sealed class TrainedConceptTests(TrainedSyntheticTasks tasks)
{
    private const string Layer = "blocks.1.hook_resid_post";

    private Tcav NegationTcav() => new(tasks.Negation, tasks.Tokenizer, Glassbox.Explain.Explainers.ExplainerModel.ConfigOf(tasks.Negation)!.Id2Label!);

    private int Negated => NegationTcav().ClassIndex("NEGATED");

    [Fact]
    public void PlantedConceptIsSignificantAndARandomConceptIsNot()
    {
        var tcav = NegationTcav();
        // The concept: negated sentences. Random counter-examples come from a corpus of other sentences (the plain
        // ones), as random images do for TCAV's image concepts.
        var negatedAll = tasks.NegationData.Where(d => d.Label == "NEGATED").Select(d => d.Text).ToList();
        var concept = negatedAll.Where((_, i) => i % 6 == 0).ToList();
        var negated = negatedAll.Where((_, i) => i % 6 == 3).Take(40).ToList();
        var pool = tasks.NegationData.Where(d => d.Label == "PLAIN").Select(d => d.Text).ToList();
        var options = new TcavOptions { Layer = Layer, Runs = 10, Seed = 0 };

        var planted = tcav.Run("negation", concept, pool, negated, classIndex: Negated, options);
        Assert.True(planted.Significant, $"negation: score {planted.Score:0.000} runs {string.Join(",", planted.RunScores)} p {planted.PValue:g3} random {string.Join(",", planted.RandomScores)} acc {planted.CavAccuracy}");
        Assert.True(planted.Score > 0.9, $"score {planted.Score}");
        Assert.Equal(10, planted.RunScores.Length);

        // A "concept" of random examples from the same pool is not significant.
        var rng = new Random(42);
        var randomConcept = pool.OrderBy(_ => rng.Next()).Take(16).ToList();
        var random = tcav.Run("random", randomConcept, pool, negated, classIndex: Negated, options);
        Assert.False(random.Significant, $"random: score {random.Score:0.000} p {random.PValue:g3}");

        // Same seed, same numbers.
        var again = tcav.Run("negation", concept, pool, negated, classIndex: Negated, options);
        Assert.Equal(planted.RunScores, again.RunScores);
        Assert.Equal(planted.RandomScores, again.RandomScores);
        Assert.Equal(planted.PValue, again.PValue);
    }

    [Theory]
    [InlineData(Pooling.Cls)]
    [InlineData(Pooling.Mean)]
    public void DirectionalDerivativeEqualsAFiniteDifferenceAlongTheCav(Pooling pooling)
    {
        var tcav = NegationTcav();
        var concept = tasks.NegationData.Where(d => d.Label == "NEGATED").Select(d => d.Text).Take(12).ToList();
        var others = tasks.NegationData.Where(d => d.Label == "PLAIN").Select(d => d.Text).Take(12).ToList();
        var (cav, _) = Tcav.TrainCav(tcav.Activations(concept, Layer, pooling), tcav.Activations(others, Layer, pooling), new TcavOptions { Layer = Layer }, new Random(0));
        foreach (var text in new[] { "the plot was fun", "the music was never weak" })
        {
            double analytic = tcav.DirectionalDerivative(text, cav, Negated, Layer, pooling);
            const double eps = 1e-2;
            double numeric = (tcav.LogitAlong(text, cav, Negated, Layer, pooling, eps) - tcav.LogitAlong(text, cav, Negated, Layer, pooling, -eps)) / (2 * eps);
            Assert.True(Math.Abs(analytic) > 1e-2, $"the derivative {analytic} is too small to test relative error");
            Assert.True(Math.Abs(analytic - numeric) <= 1e-3 * Math.Abs(analytic), $"{text}: analytic {analytic}, finite difference {numeric}");
        }
    }

    [Fact]
    public void SocRanksTheNegatedPhraseAboveItsWordsOnATrainedModel()
    {
        var model = new TransformerExplainable(tasks.Sentiment, "synthetic-sentiment", ["NEGATIVE", "POSITIVE"]);
        var vocabulary = TrainedSyntheticTasks.Subjects.SelectMany(s => s.Split(' '))
            .Concat(TrainedSyntheticTasks.Positive).Concat(TrainedSyntheticTasks.Negative).Concat(["was", "is", "not"])
            .Distinct().Select(w => tasks.Tokenizer.TokenToId(w)!.Value).ToArray();
        var explainer = new HierarchicalExplainer(model, tasks.Tokenizer);
        foreach (var (text, phrase, first, second) in new[] { ("the movie was not good", "not good", "not", "good"), ("the story is not dull", "not dull", "not", "dull") })
        {
            var e = explainer.Explain(text, options: new HierarchicalOptions { Samples = 60, ContextVocabulary = vocabulary, Seed = 0 });
            var nodes = e.Root.Descendants().ToList();
            var p = nodes.SingleOrDefault(n => n.Text == phrase);
            Assert.True(p is not null, $"'{phrase}' is not a node of the tree: {string.Join("; ", nodes.Select(n => $"{n.Text}={n.Score:0.000}"))}");
            double a = nodes.Single(n => n.Text == first).Score, b = nodes.Single(n => n.Text == second).Score;
            Assert.True(p!.Score > a && p.Score > b, $"{text}: '{phrase}' {p.Score:0.000}, '{first}' {a:0.000}, '{second}' {b:0.000}");
        }
    }

    [Fact]
    public void TcavBadInputIsClear()
    {
        var tcav = NegationTcav();
        var pool = tasks.NegationData.Select(d => d.Text).ToList();
        var few = pool.Take(5).ToList();
        Assert.Contains("at least 10", Assert.Throws<ArgumentException>(() => tcav.Run("tiny", few, pool, pool, 1, new TcavOptions { Layer = Layer })).Message);
        var bad = Assert.Throws<ArgumentException>(() => tcav.Run("c", pool.Take(12).ToList(), pool, pool, 1, new TcavOptions { Layer = "blocks.9.hook_resid_post" }));
        Assert.Contains("blocks.0.hook_resid_post", bad.Message);
        Assert.Contains("PLAIN, NEGATED", Assert.Throws<ArgumentException>(() => tcav.ClassIndex("MAYBE")).Message);
    }
}
