// Bad input to the explainers gets a message that says what is wrong and what is valid.
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests;

// The loaded models are shared, and hooks belong to a model: these classes must not run concurrently.
[Collection("Explainer models")]
public class ExplainerErrorTests
{
    private static SequenceClassificationExplainer Sst2()
    {
        var (model, tok, dir) = ExplainerGoldenTests.Load("distilbert-sst2-tiny");
        return new SequenceClassificationExplainer(model, tok, dir);
    }

    /// <summary>The SST-2 model behind Predict only: no hooks, no gradients.</summary>
    private sealed class BlackBox(TransformerModel model) : IExplainableModel
    {
        public string Name => "sst2-black-box";
        public IReadOnlyList<string> OutputNames => ["NEGATIVE", "POSITIVE"];
        public bool SupportsGradients => false;
        public HookSet? Hooks => null;
        public Tensor Predict(ModelInput input)
        {
            using var _ = Tape.NoGrad();
            return Ops.Softmax(model.Forward(input).Logits!, -1);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void EmptyTextIsRejected(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => Sst2().Explain(text));
        Assert.Contains("empty", ex.Message);
    }

    [Fact]
    public void EmptyPairOrQuestionIsRejected()
    {
        var (ce, ceTok, ceDir) = ExplainerGoldenTests.Load("bert-tiny-random-crossencoder");
        Assert.Contains("text2", Assert.Throws<ArgumentException>(() => new PairwiseSequenceClassificationExplainer(ce, ceTok, ceDir).Explain("a question", "")).Message);
        var (qa, qaTok, qaDir) = ExplainerGoldenTests.Load("bert-tiny-random-qa");
        Assert.Contains("question", Assert.Throws<ArgumentException>(() => new QuestionAnsweringExplainer(qa, qaTok, qaDir).Explain("", "some context")).Message);
    }

    [Fact]
    public void UnknownClassNameListsTheValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sst2().Explain("I love you", className: "HAPPY"));
        Assert.Contains("'HAPPY'", ex.Message);
        Assert.Contains("NEGATIVE", ex.Message);
        Assert.Contains("POSITIVE", ex.Message);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => Sst2().Explain("I love you", index: 5));
        Assert.Contains("0 NEGATIVE", ex2.Message);
    }

    [Fact]
    public void ZeroShotWithoutLabelsIsRejected()
    {
        var (model, tok, dir) = ExplainerGoldenTests.Load("roberta-tiny-random-nli");
        var e = new ZeroShotClassificationExplainer(model, tok, dir);
        Assert.Contains("at least one candidate label", Assert.Throws<ArgumentException>(() => e.Explain("Apple released a new chip.", [])).Message);
        Assert.Contains("at least one candidate label", Assert.Throws<ArgumentException>(() => e.Explain("Apple released a new chip.", null!)).Message);
        Assert.Contains("{}", Assert.Throws<ArgumentException>(() => e.Explain("Apple released a new chip.", ["tech"], "no placeholder")).Message);
    }

    [Fact]
    public void ZeroShotNeedsAnEntailmentLabel()
    {
        var (model, tok, dir) = ExplainerGoldenTests.Load("distilbert-sst2-tiny");
        var ex = Assert.Throws<ArgumentException>(() => new ZeroShotClassificationExplainer(model, tok, dir));
        Assert.Contains("entailment", ex.Message);
        Assert.Contains("NEGATIVE, POSITIVE", ex.Message);
    }

    [Fact]
    public void GradientMethodOnABlackBoxSaysToUsePerturbation()
    {
        var (model, tok, _) = ExplainerGoldenTests.Load("distilbert-sst2-tiny");
        var e = new SequenceClassificationExplainer(new BlackBox(model), tok);
        foreach (var m in new[] { AttributionMethod.Lig, AttributionMethod.Ig, AttributionMethod.Saliency, AttributionMethod.InputXGradient, AttributionMethod.SmoothGrad })
        {
            var ex = Assert.Throws<NotSupportedException>(() => e.Explain("I love you", options: new ExplainerOptions { Method = m }));
            Assert.Contains("black-box", ex.Message);
            Assert.Contains("occlusion", ex.Message);
        }
        Assert.Contains("black box", Assert.Throws<NotSupportedException>(() => e.Explain("I love you", options: new ExplainerOptions { Method = AttributionMethod.Attention })).Message);

        // Perturbation methods work on it, and agree with the same method on the transformer.
        var o = new ExplainerOptions { Method = AttributionMethod.Occlusion };
        var black = e.Explain("I love you", options: o);
        var white = Sst2().Explain("I love you", options: o);
        Assert.Equal("POSITIVE", black.PredictedClassName);
        for (int i = 0; i < white.Attribution.Tokens.Count; i++)
            Assert.Equal(white.Attribution.Tokens[i].Score, black.Attribution.Tokens[i].Score, 5);
        Assert.Equal("sst2-black-box", black.Provenance.ModelName);
        Assert.StartsWith("lime", e.Explain("I love you", options: o with { Method = AttributionMethod.Lime, Samples = 40 }).Provenance.Method);
    }

    [Fact]
    public void TextOverTheModelMaximumIsTruncatedWithAWarningOrRejected()
    {
        var (model, tok, dir) = ExplainerGoldenTests.Load("bert-tiny-random-crossencoder"); // max_position_embeddings 64
        var e = new SequenceClassificationExplainer(model, tok, dir, new ExplainerOptions { Steps = 4 });
        string text = string.Join(" ", Enumerable.Repeat("berlin is big", 40)); // 120 words
        var r = e.Explain(text);
        Assert.Equal(64, r.Attribution.Tokens.Count);
        var warning = Assert.Single(r.Warnings);
        Assert.Contains("at most 64", warning);
        Assert.Contains("truncated", warning);
        Assert.Equal("[SEP]", r.Attribution.Tokens[^1].Token);
        var ex = Assert.Throws<ArgumentException>(() => e.Explain(text, options: new ExplainerOptions { Truncate = false }));
        Assert.Contains("at most 64", ex.Message);
        Assert.Contains("122 tokens", ex.Message);

        var (qa, qaTok, qaDir) = ExplainerGoldenTests.Load("bert-tiny-random-qa");
        var q = new QuestionAnsweringExplainer(qa, qaTok, qaDir, new ExplainerOptions { Steps = 2 }).Explain("Where is it?", text);
        Assert.Equal(64, q.Start.Tokens.Count);
        Assert.Contains(q.Warnings, w => w.Contains("truncated"));
        Assert.Equal(["where", "is", "it", "?"], q.Start.Tokens.Skip(1).Take(4).Select(t => t.Token)); // the question is kept
    }

    [Fact]
    public void UnknownMethodNameListsTheValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => AttributionMethods.Parse("deeplift"));
        Assert.Contains("lig, ig, saliency, input-x-gradient, smoothgrad, occlusion, lime, kernel-shap, attention, rollout", ex.Message);
        Assert.Equal(AttributionMethod.KernelShap, AttributionMethods.Parse("kernel_shap"));
    }

    [Fact]
    public void BadHookPointAndUnknownIgnoredLabelAreExplained()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sst2().Explain("I love you", options: new ExplainerOptions { Layer = "blocks.0.attn.hook_pattern", Steps = 2 }));
        Assert.Contains("token attributions need [5, dim]", ex.Message);
        var (ner, tok, dir) = ExplainerGoldenTests.Load("bert-tiny-random-ner");
        var ex2 = Assert.Throws<ArgumentException>(() => new TokenClassificationExplainer(ner, tok, dir).Explain("Paris", ignoredLabels: ["CITY"]));
        Assert.Contains("B-LOC", ex2.Message);
    }

    [Fact]
    public void ImageExplainerRefusesATextModelAndUnknownClass()
    {
        var (model, _, _) = ExplainerGoldenTests.Load("distilbert-sst2-tiny");
        var dir = Shared.Model("vit-tiny-random");
        var proc = Glassbox.Models.Images.VitImageProcessor.FromPretrained(dir);
        Assert.Contains("ViT", Assert.Throws<NotSupportedException>(() => new ImageClassificationExplainer(model, proc)).Message);
        var e = ImageClassificationExplainer.FromPretrained(dir);
        var ex = Assert.Throws<ArgumentException>(() => e.Explain(Path.Combine(dir, "example.png"), className: "purple"));
        Assert.Contains("red, green, blue", ex.Message);
    }
}
