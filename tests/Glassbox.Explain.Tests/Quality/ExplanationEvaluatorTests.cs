using Glassbox.Explain.Explainers;
using Glassbox.Explain.Quality;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Tests.Quality;

public class ExplanationEvaluatorTests
{
    private static readonly Lazy<SequenceClassificationExplainer> s_sst2 = new(() =>
        SequenceClassificationExplainer.FromPretrained(Shared.Model("distilbert-sst2-tiny"), new ExplainerOptions { Steps = 16 }));

    private static readonly string[] Texts =
    [
        "it 's a charming and often affecting journey .",
        "unflinchingly bleak and desperate",
        "a sometimes tedious film .",
        "the acting is superb and the story is moving .",
    ];

    /// <summary>"good bad film" through a linear black box: score = Σ w[pos] over positions not holding [PAD].</summary>
    private static SequenceClassificationExplainer LinearExplainer() =>
        new(new LinearBlackBox([0, 3, -1, 0.5, 0], 0, baselineId: 0), Tokenizer.FromPretrained(Shared.Model("distilbert-sst2-tiny")));

    [Fact]
    public void LinearBlackBoxGivesHandComputedScores()
    {
        var evaluator = new ExplanationEvaluator(LinearExplainer(), new QualityOptions { Removal = RemovalMode.Pad, RationaleTopK = 1, IncludeRandomBaseline = false });
        var report = evaluator.Evaluate(
            [new EvaluationExample("good bad film") { Rationale = [true, false, false] }, new EvaluationExample("good bad film") { Rationale = [false, true, false] }],
            [AttributionMethod.Occlusion]);
        var row = Assert.Single(report.Methods);
        Assert.Equal("occlusion", row.Method);
        var ex = report.Examples[0];
        Assert.Equal(0, ex.TargetIndex);
        Assert.Equal(["[CLS]", "good", "bad", "film", "[SEP]"], ex.Tokens);
        var scores = ex.Methods["occlusion"];
        // Occlusion with the pad baseline is exactly the weight of each position.
        Assert.Equal([0, 3, -1, 0.5, 0], scores.Attributions.Select(v => Math.Round(v, 6)));
        var f = scores.Faithfulness;
        Assert.Equal(2.5, f.FullScore, 6);
        // Bins of 3 tokens → k = 1, 1, 1, 1, 2: removing "good" costs 3, removing "good" and "film" 3.5.
        Assert.Equal((4 * 3 + 3.5) / 5, f.Comprehensiveness, 6);
        // Keeping "good" alone gives 3, "good film" 3.5: sufficiency 2.5 − those.
        Assert.Equal((4 * -0.5 + -1) / 5, f.Sufficiency, 6);
        // Leave-one-out with [PAD] equals occlusion: τ = 1.
        Assert.Equal(1.0, f.KendallTauLoo, 12);
        // Plausibility: the rationale "good" is the top word; the rationale "bad" is the last one.
        Assert.Equal(1.0, ex.Methods["occlusion"].Metrics[QualityMetrics.TokenF1]);
        Assert.Equal(1.0, ex.Methods["occlusion"].Metrics[QualityMetrics.Auprc], 12);
        var second = report.Examples[1].Methods["occlusion"].Metrics;
        Assert.Equal(0.0, second[QualityMetrics.TokenF1]);
        Assert.Equal(0.0, second[QualityMetrics.IouF1]);
        Assert.Equal(1.0 / 6, second[QualityMetrics.Auprc], 12);
        Assert.Equal(0.5, row.Metrics[QualityMetrics.TokenF1].Mean, 12);
        Assert.Equal(0.5, row.Metrics[QualityMetrics.TokenF1].Std, 12);
        Assert.Equal(0.5, row.TokenF1Micro, 12);
        Assert.Equal(2, report.ExamplesWithRationale);
        Assert.Equal(1, report.RationaleTopK);
    }

    [Fact]
    public void OcclusionAgreesPerfectlyWithLeaveOneOutOnTheTrainedModelWhenBothUsePad()
    {
        var report = new ExplanationEvaluator(s_sst2.Value, new QualityOptions { Removal = RemovalMode.Pad })
            .Evaluate(Texts.Select(t => new EvaluationExample(t)).ToList(), [AttributionMethod.Occlusion, AttributionMethod.Saliency]);
        Assert.Equal(["occlusion", "saliency", "random"], report.Methods.Select(m => m.Method));
        Assert.True(report.Methods[2].IsBaseline);
        var occlusion = report.Methods[0];
        Assert.Equal(1.0, occlusion.Metrics[QualityMetrics.KendallTauLoo].Mean, 9);
        Assert.Equal(Texts.Length, occlusion.Metrics[QualityMetrics.Comprehensiveness].Count);
        // No rationales: plausibility is absent (NaN, count 0).
        Assert.Equal(0, occlusion.Metrics[QualityMetrics.Auprc].Count);
        Assert.True(double.IsNaN(occlusion.TokenF1Micro));
        // Mean curves on the 21-point grid start at the mean unperturbed probability.
        Assert.Equal(21, occlusion.Deletion.Fractions.Count);
        Assert.Equal(report.Examples.Average(e => e.Methods["occlusion"].Faithfulness.FullScore), occlusion.Deletion.Mean[0], 9);
        Assert.Equal(occlusion.Deletion.Mean[^1], occlusion.Insertion.Mean[0], 9);
        // Occlusion removes what the model actually uses: it beats the random ranking on comprehensiveness.
        Assert.True(occlusion.Metrics[QualityMetrics.Comprehensiveness].Mean > report.Methods[2].Metrics[QualityMetrics.Comprehensiveness].Mean);
    }

    [Fact]
    public void ComprehensivenessEqualsADirectForwardWithTheTokensDeleted()
    {
        var explainer = s_sst2.Value;
        string text = Texts[3];
        var report = new ExplanationEvaluator(explainer, new QualityOptions { IncludeRandomBaseline = false })
            .Evaluate([new EvaluationExample(text)], [AttributionMethod.InputXGradient]);
        var ex = report.Examples[0];
        var a = ex.Methods["input-x-gradient"].Attributions;
        var explanation = explainer.Explain(text, index: ex.TargetIndex, options: explainer.Options with { Method = AttributionMethod.InputXGradient });
        var ids = explanation.Attribution.Tokens.Select(t => t.Id).ToArray();
        var special = explanation.Attribution.Tokens.Select(t => t.IsSpecial).ToArray();
        int n = special.Count(s => !s);
        // The naive twin: delete the top ⌈50%⌉ text tokens by hand and run the model once.
        var top = Enumerable.Range(0, ids.Length).Where(i => !special[i]).OrderByDescending(i => a[i]).Take((n + 1) / 2).ToHashSet();
        var kept = Enumerable.Range(0, ids.Length).Where(i => !top.Contains(i)).Select(i => ids[i]).ToArray();
        var model = new TransformerExplainable(explainer.Model.Transformer!, "m", explainer.Labels);
        double Prob(int[] x)
        {
            using var _ = Tape.NoGrad();
            return model.Predict(new ModelInput(1, x.Length, x, Enumerable.Repeat(1, x.Length).ToArray(), null, Enumerable.Range(0, x.Length).ToArray())).Span[ex.TargetIndex];
        }
        double p0 = Prob(ids);
        var f = ex.Methods["input-x-gradient"].Faithfulness;
        Assert.Equal(p0, f.FullScore, 6);
        Assert.Equal(p0 - Prob(kept), f.ComprehensivenessPerBin[4], 6);
        Assert.Equal(p0, explanation.Probabilities[ex.TargetIndex], 4);
    }

    [Fact]
    public void MaskRemovalAndLabelTargetsWork()
    {
        var examples = Texts.Select((t, i) => new EvaluationExample(t) { Label = i % 2, Id = $"row{i}" }).ToList();
        var report = new ExplanationEvaluator(s_sst2.Value, new QualityOptions { Removal = RemovalMode.Mask, Target = QualityTarget.Label })
            .Evaluate(examples, [AttributionMethod.Saliency]);
        Assert.Equal([0, 1, 0, 1], report.Examples.Select(e => e.TargetIndex));
        Assert.Equal(["NEGATIVE", "POSITIVE", "NEGATIVE", "POSITIVE"], report.Examples.Select(e => e.TargetName));
        Assert.Equal("row2", report.Examples[2].Id);
        Assert.All(report.Methods, m => Assert.All(QualityMetrics.Faithfulness, k => Assert.True(double.IsFinite(m.Metrics[k].Mean) || k == QualityMetrics.KendallTauLoo)));
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var e = new ExplanationEvaluator(s_sst2.Value);
        Assert.Contains("no examples", Assert.Throws<ArgumentException>(() => e.Evaluate([], [AttributionMethod.Saliency])).Message);
        Assert.Contains("valid methods", Assert.Throws<ArgumentException>(() => e.Evaluate([new EvaluationExample("good")], [])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => e.Evaluate([new EvaluationExample("good")], [AttributionMethod.Saliency, AttributionMethod.Saliency])).Message);
        var labelled = new ExplanationEvaluator(s_sst2.Value, new QualityOptions { Target = QualityTarget.Label });
        Assert.Contains("NEGATIVE, POSITIVE", Assert.Throws<ArgumentException>(() => labelled.Evaluate([new EvaluationExample("good") { Label = 7 }], [AttributionMethod.Saliency])).Message);
        Assert.Contains("3 words", Assert.Throws<ArgumentException>(() => e.Evaluate([new EvaluationExample("a good film") { Rationale = [true, false] }], [AttributionMethod.Saliency])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => e.Evaluate([new EvaluationExample("   ")], [AttributionMethod.Saliency])).Message);
    }
}
