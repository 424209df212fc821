using Glassbox.Explain.Explainers;
using Glassbox.Explain.Quality;
using Glassbox.Models;
using Xunit.Abstractions;

namespace Glassbox.Explain.Tests.Quality;

/// <summary>Adebayo et al.'s sanity checks on the trained SST-2 model. Each test loads its own copy of the model,
/// because randomisation changes its weights (and must put them back).</summary>
public class SanityCheckTests(ITestOutputHelper output)
{
    private static readonly string[] Texts =
    [
        "it 's a charming and often affecting journey .",
        "unflinchingly bleak and desperate",
        "allows us to hope that nolan is poised to embark a major career as a commercial yet inventive filmmaker .",
        "the acting , costumes , music , cinematography and sound are all astounding given the production 's austere locales .",
        "it 's slow -- very , very slow .",
        "a sometimes tedious film .",
    ];

    private static SequenceClassificationExplainer Load() =>
        SequenceClassificationExplainer.FromPretrained(Shared.Model("distilbert-sst2-tiny"), new ExplainerOptions { Steps = 16 });

    [Fact]
    public void LayerGroupsRunFromTheHeadDownToTheEmbeddings()
    {
        var model = AutoModel.FromPretrained(Shared.Model("distilbert-sst2-tiny"));
        var groups = ParameterRandomisation.LayerGroups(model);
        Assert.Equal(["head", "block 1", "block 0", "embeddings"], groups.Select(g => g.Name));
        Assert.Equal(["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"], groups[0].Parameters.Select(p => p.Replace("distilbert.", "")));
        Assert.All(groups[1].Parameters, p => Assert.Contains(".layer.1.", p));
        Assert.Equal(16, groups[2].Parameters.Count);
        Assert.All(groups[3].Parameters, p => Assert.Contains("embeddings", p));
        // Every parameter is in exactly one group.
        Assert.Equal(model.Parameters.Count, groups.Sum(g => g.Parameters.Count));
        Assert.Equal(model.Parameters.Count, groups.SelectMany(g => g.Parameters).Distinct().Count());
    }

    [Fact]
    public void ReinitialisationFollowsTransformersInitWeights()
    {
        var model = AutoModel.FromPretrained(Shared.Model("distilbert-sst2-tiny"));
        var init = ModelInitialization.For(model);
        var rng = new Random(1);
        foreach (var (name, p) in model.Parameters) init(name, p, rng);
        var P = model.Parameters;
        Assert.All(P["distilbert.embeddings.LayerNorm.weight"].ToArray(), v => Assert.Equal(1f, v));
        Assert.All(P["distilbert.transformer.layer.0.ffn.lin1.bias"].ToArray(), v => Assert.Equal(0f, v));
        var word = P["distilbert.embeddings.word_embeddings.weight"];
        int dim = word.Shape[1];
        // nn.Embedding(padding_idx = pad_token_id 0): row 0 is zero; the rest ~ N(0, 0.02²) (initializer_range).
        Assert.All(word.ToArray()[..dim], v => Assert.Equal(0f, v));
        var rest = word.ToArray()[dim..];
        double mean = rest.Average(v => (double)v), std = Math.Sqrt(rest.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -1e-3, 1e-3);
        Assert.InRange(std, 0.0195, 0.0205);
        var q = P["distilbert.transformer.layer.1.attention.q_lin.weight"].ToArray();
        Assert.InRange(Math.Sqrt(q.Average(v => (double)v * v)), 0.017, 0.023);
    }

    [Fact]
    public void CascadingRandomisationDestroysTheRankingWhileANoOpKeepsItExactly()
    {
        var explainer = Load();
        var model = explainer.Model.Transformer!;
        var before = model.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        AttributionMethod[] methods = [AttributionMethod.Saliency, AttributionMethod.InputXGradient, AttributionMethod.Lig];

        var noOp = ParameterRandomisation.Run(explainer, Texts, methods, options: new RandomisationOptions { Reinitializer = (_, _, _) => { } });
        foreach (var r in noOp)
        {
            Assert.Equal(4, r.Steps.Count);
            Assert.All(r.Steps, s => { Assert.Equal(1.0, s.Spearman.Mean, 12); Assert.Equal(1.0, s.SpearmanAbs.Mean, 12); Assert.Equal(Texts.Length, s.Spearman.Count); });
        }

        var real = ParameterRandomisation.Run(explainer, Texts, methods, options: new RandomisationOptions { Seed = 5 });
        foreach (var r in real)
        {
            output.WriteLine($"{r.Method}: " + string.Join("  ", r.Steps.Select(s => $"{s.Layer} ρ={s.Spearman.Mean:F3}±{s.Spearman.Std:F3} |ρ|={s.SpearmanAbs.Mean:F3}")));
            Assert.Equal(["head", "block 1", "block 0", "embeddings"], r.Steps.Select(s => s.Layer));
            // With every layer re-initialised nothing of the trained ranking should survive.
            Assert.True(r.Steps[^1].Spearman.Mean < 0.5, $"{r.Method}: ρ after full randomisation is {r.Steps[^1].Spearman.Mean}");
            Assert.True(r.Steps.Min(s => s.Spearman.Mean) < 0.5);
        }
        // The trained weights are back.
        foreach (var (name, values) in before) Assert.Equal(values, model.Parameters[name].ToArray());
    }

    [Fact]
    public void WeightsAreRestoredWhenAnExplanationFailsMidway()
    {
        var explainer = Load();
        var model = explainer.Model.Transformer!;
        var before = model.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        int calls = 0;
        ParameterReinitializer failing = (name, p, rng) =>
        {
            if (++calls > 6) throw new InvalidOperationException("boom");
            p.Span.Fill(0.5f);
        };
        Assert.Throws<InvalidOperationException>(() => ParameterRandomisation.Run(explainer, Texts[..2], [AttributionMethod.Saliency],
            options: new RandomisationOptions { Reinitializer = failing }));
        foreach (var (name, values) in before) Assert.Equal(values, model.Parameters[name].ToArray());
    }

    [Fact]
    public void IndependentRandomisationTouchesOneLayerAtATime()
    {
        var explainer = Load();
        var seen = new List<string>();
        var r = ParameterRandomisation.Run(explainer, Texts[..3], [AttributionMethod.Saliency],
            options: new RandomisationOptions { Order = RandomisationOrder.Independent, Seed = 2 });
        Assert.Equal(RandomisationOrder.Independent, r[0].Order);
        Assert.Equal(4, r[0].Steps.Count);
        output.WriteLine(string.Join("  ", r[0].Steps.Select(s => $"{s.Layer} ρ={s.Spearman.Mean:F3}")));
        Assert.All(r[0].Steps, s => Assert.InRange(s.Spearman.Mean, -1, 1));
    }

    [Fact]
    public void LabelRandomisationIsOneForTheSameModelAndLowForAnUntrainedOne()
    {
        var trained = Load();
        var same = LabelRandomisation.Compare(trained, Load(), Texts, [AttributionMethod.Saliency, AttributionMethod.Occlusion]);
        Assert.All(same.Methods, m => Assert.Equal(1.0, m.Spearman.Mean, 12));
        var other = SequenceClassificationExplainer.FromPretrained(Shared.Model("distilbert-tiny-random-sst2"), new ExplainerOptions { Steps = 16 });
        var random = LabelRandomisation.Compare(trained, other, Texts, [AttributionMethod.Saliency, AttributionMethod.Occlusion]);
        foreach (var m in random.Methods)
        {
            output.WriteLine($"{m.Method}: ρ={m.Spearman.Mean:F3}±{m.Spearman.Std:F3}");
            Assert.True(m.Spearman.Mean < 0.6, $"{m.Method}: {m.Spearman.Mean}");
        }
        Assert.Contains("distilbert-tiny-random-sst2", random.RandomLabelModel);
    }

    [Fact]
    public void BlackBoxesAndMismatchedModelsAreRefusedClearly()
    {
        var blackBox = new SequenceClassificationExplainer(new LinearBlackBox([1, 2, 3], 0, 0), Glassbox.Tokenizers.Tokenizer.FromPretrained(Shared.Model("distilbert-sst2-tiny")));
        Assert.Contains("black-box", Assert.Throws<NotSupportedException>(() => ParameterRandomisation.Run(blackBox, Texts, [AttributionMethod.Occlusion])).Message);
        var nli = SequenceClassificationExplainer.FromPretrained(Shared.Model("roberta-tiny-random-nli"));
        Assert.Contains("3 classes", Assert.Throws<ArgumentException>(() => LabelRandomisation.Compare(Load(), nli, Texts, [AttributionMethod.Saliency])).Message);
    }
}
