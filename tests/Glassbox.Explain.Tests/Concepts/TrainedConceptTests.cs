using Glassbox.Explain.Concepts;
using Glassbox.Explain.Hierarchy;
using Xunit.Abstractions;

namespace Glassbox.Explain.Tests.Concepts;

[Collection("trained synthetic tasks")]
public sealed class TrainedConceptTests(TrainedSyntheticTasks tasks, ITestOutputHelper output)
{
    private const string Layer = "blocks.1.hook_resid_post";

    private Tcav NegationTcav() => new(tasks.Negation, tasks.Tokenizer, Glassbox.Explain.Explainers.ExplainerModel.ConfigOf(tasks.Negation)!.Id2Label!);

    private int Negated => NegationTcav().ClassIndex("NEGATED");

    // The concept: negated sentences. Random counter-examples come from a corpus of other sentences (the plain ones),
    // as random images do for TCAV's image concepts; the class examples are other negated sentences.
    private (List<string> Concept, List<string> Pool, List<string> ClassExamples) NegationSets()
    {
        var negatedAll = tasks.NegationData.Where(d => d.Label == "NEGATED").Select(d => d.Text).ToList();
        var concept = negatedAll.Where((_, i) => i % 6 == 0).ToList();
        var classExamples = negatedAll.Where((_, i) => i % 6 == 3).Take(40).ToList();
        var pool = tasks.NegationData.Where(d => d.Label == "PLAIN").Select(d => d.Text).ToList();
        return (concept, pool, classExamples);
    }

    // A random concept: as many examples as the planted concept, drawn by the seed from the random pool itself, so it
    // comes from exactly the distribution the random sets come from and cannot matter to the model.
    private static List<string> RandomConcept(List<string> pool, int size, int seed)
    {
        var rng = new Random(seed);
        return pool.OrderBy(_ => rng.Next()).Take(size).ToList();
    }

    [Fact]
    public void PlantedConceptIsSignificantAndRandomConceptsAreNotOverTenSeeds()
    {
        var tcav = NegationTcav();
        var (concept, pool, negated) = NegationSets();
        var failures = new List<string>();
        for (int seed = 0; seed < 10; seed++)
        {
            var options = new TcavOptions { Layer = Layer, Seed = seed };
            var planted = tcav.Run("negation", concept, pool, negated, classIndex: Negated, options);
            var random = tcav.Run("random", RandomConcept(pool, concept.Count, seed), pool, negated, classIndex: Negated, options);
            output.WriteLine($"| {seed} | {planted.Score:0.00} | {planted.ScorePValue:0.0e0} | {planted.CavAccuracy:0.00} / {planted.RandomCavAccuracy:0.00} | {planted.PValue:0.0e0} " +
                $"| {random.Score:0.00} | {random.ScorePValue:0.0000} | {random.CavAccuracy:0.00} / {random.RandomCavAccuracy:0.00} | {random.PValue:0.000} |");
            foreach (var r in new[] { planted, random })
            {
                Assert.Equal(20, r.RunScores.Length);
                Assert.Equal(20, r.RandomScores.Length);
                Assert.Equal(Math.Max(r.ScorePValue, r.CavPValue), r.PValue);
                Assert.Equal(r.PValue < 0.05, r.Significant);
            }
            if (!planted.Significant || planted.Score < 0.9 || planted.CavAccuracy < 0.95)
                failures.Add($"seed {seed}: negation score {planted.Score:0.000} p {planted.PValue:g3} (score {planted.ScorePValue:g3}, cav {planted.CavPValue:g3}) acc {planted.CavAccuracy:0.00} runs {string.Join(",", planted.RunScores)} random {string.Join(",", planted.RandomScores)}");
            if (random.Significant)
                failures.Add($"seed {seed}: random score {random.Score:0.000} p {random.PValue:g3} (score {random.ScorePValue:g3}, cav {random.CavPValue:g3}) acc {random.CavAccuracy:0.00} vs {random.RandomCavAccuracy:0.00}");
            // A random set is no better separated from random sets than random sets are from each other.
            Assert.InRange(random.CavAccuracy, 0.3, 0.7);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TheSameSeedGivesTheSameNumbers()
    {
        var tcav = NegationTcav();
        var (concept, pool, negated) = NegationSets();
        var options = new TcavOptions { Layer = Layer, Seed = 7 };
        foreach (var set in new[] { concept, RandomConcept(pool, concept.Count, 7) })
        {
            var first = tcav.Run("c", set, pool, negated, Negated, options);
            var again = tcav.Run("c", set, pool, negated, Negated, options);
            Assert.Equal(first.RunScores, again.RunScores);
            Assert.Equal(first.RandomScores, again.RandomScores);
            Assert.Equal(first.RunCavAccuracies, again.RunCavAccuracies);
            Assert.Equal(first.RandomCavAccuracies, again.RandomCavAccuracies);
            Assert.Equal(first.ScorePValue, again.ScorePValue);
            Assert.Equal(first.CavPValue, again.CavPValue);
            Assert.Equal(first.PValue, again.PValue);
            // The seed is what draws the random sets: another seed draws others.
            var other = tcav.Run("c", set, pool, negated, Negated, options with { Seed = 8 });
            Assert.NotEqual(first.RandomCavAccuracies, other.RandomCavAccuracies);
        }
    }

    [Fact]
    public void WithoutTheLearnedConceptTestThePValueIsKimsScoreTTest()
    {
        var tcav = NegationTcav();
        var (concept, pool, negated) = NegationSets();
        var options = new TcavOptions { Layer = Layer, Seed = 0, RequireLearnedConcept = false };
        var r = tcav.Run("random", RandomConcept(pool, concept.Count, 0), pool, negated, Negated, options);
        Assert.Equal(Statistics.StudentTTestPValue(r.RunScores, r.RandomScores), r.PValue);
        Assert.Equal(r.ScorePValue, r.PValue);
        Assert.Equal(r.PValue < options.Alpha, r.Significant);
    }

    [Fact]
    public void RelativeTcavOfNegationAgainstIntensifiedSentences()
    {
        var tcav = NegationTcav();
        var (concept, pool, negated) = NegationSets();
        // Concept B: plain sentences with an intensifier in the negation word's place ("was very good").
        var intensified = pool.Where(t => t.Contains(" very ", StringComparison.Ordinal)).Take(concept.Count).ToList();
        var options = new TcavOptions { Layer = Layer, Seed = 0 };
        var ab = tcav.RunRelative("negation", concept, "intensifier", intensified, pool, negated, Negated, options);
        Assert.Equal("negation vs intensifier", ab.Concept);
        Assert.True(ab.Significant && ab.Score > 0.9, $"score {ab.Score} p {ab.PValue:g3} (score {ab.ScorePValue:g3}, cav {ab.CavPValue:g3})");
        var ba = tcav.RunRelative("intensifier", intensified, "negation", concept, pool, negated, Negated, options);
        Assert.True(ba.Significant && ba.Score < 0.1, $"score {ba.Score} p {ba.PValue:g3}");
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
