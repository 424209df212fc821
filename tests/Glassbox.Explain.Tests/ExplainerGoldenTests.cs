// transformers-interpret's own explainers (float32, 2023-08 source) on the shared models: every
// case of golden/transformers-interpret/explainers.json, called the way the generator called it
// (golden/generator/explain_goldens.py). Tolerances from the explainers issue: normalised scores
// 1e-3 absolute, the per-token sums transformers-interpret keeps (attributions_sum, already
// normalised) 1e-4 relative, convergence deltas 1e-4; tokens, predicted classes, answers and
// labels identical.
using System.Text.Json;
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Models.Images;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Tests;

// The loaded models are shared, and hooks belong to a model: these classes must not run concurrently.
[Collection("Explainer models")]
public class ExplainerGoldenTests
{
    private static readonly Lazy<JsonDocument> s_golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Shared.Golden("transformers-interpret/explainers.json"))));

    private static readonly Dictionary<string, (TransformerModel Model, Tokenizer Tokenizer, string Dir)> s_models = [];

    internal static (TransformerModel Model, Tokenizer Tokenizer, string Dir) Load(string name)
    {
        lock (s_models)
        {
            if (!s_models.TryGetValue(name, out var m))
            {
                var dir = Shared.Model(name);
                s_models[name] = m = (AutoModel.FromPretrained(dir), Tokenizer.FromPretrained(dir), dir);
            }
            return m;
        }
    }

    public static IEnumerable<object[]> Cases() =>
        s_golden.Value.RootElement.GetProperty("results").EnumerateObject().Select(p => new object[] { p.Name });

    private static JsonElement Case(string name) => s_golden.Value.RootElement.GetProperty("results").GetProperty(name);

    [Fact]
    public void GoldenCoversEveryExplainerVariant()
    {
        var names = Cases().Select(c => (string)c[0]).ToList();
        foreach (var prefix in new[] { "sequence_classification::", "sequence_classification_negative::", "sequence_classification_position::",
                     "sequence_classification_steps20", "pairwise", "pairwise_flip_sign", "multilabel", "zero_shot", "question_answering",
                     "token_classification", "token_classification_ignored_indexes" })
            Assert.Contains(names, n => n.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTransformersInterpret(string name)
    {
        var c = Case(name);
        Assert.False(c.TryGetProperty("error", out var err), $"{name}: the golden recorded an error: {err}");
        string kind = name.Split("::")[0];
        switch (kind)
        {
            case "sequence_classification":
            case "sequence_classification_negative":
            case "sequence_classification_position":
            case "sequence_classification_steps20":
            {
                var (model, tok, dir) = Load("distilbert-sst2-tiny");
                var e = new SequenceClassificationExplainer(model, tok, dir);
                var o = new ExplainerOptions
                {
                    EmbeddingType = c.TryGetProperty("embedding_type", out var et) ? (EmbeddingType)et.GetInt32() : null,
                    Steps = c.TryGetProperty("n_steps", out var ns) ? ns.GetInt32() : 50,
                    InternalBatchSize = c.TryGetProperty("internal_batch_size", out var ib) ? ib.GetInt32() : null,
                };
                string? cls = c.TryGetProperty("class_name", out var cn) ? cn.GetString() : null;
                var r = e.Explain(c.GetProperty("text").GetString()!, className: cls, options: o);
                Assert.Empty(r.Warnings);
                CheckSequence(name, c, r);
                if (cls is not null) Assert.Equal(cls, r.AttributedClassName);
                break;
            }
            case "pairwise":
            case "pairwise_flip_sign":
            {
                var (model, tok, dir) = Load("bert-tiny-random-crossencoder");
                var e = new PairwiseSequenceClassificationExplainer(model, tok, dir);
                bool flip = c.TryGetProperty("flip_sign", out var fs) && fs.GetBoolean();
                var r = e.Explain(c.GetProperty("text1").GetString()!, c.GetProperty("text2").GetString()!, flipSign: flip);
                Assert.Empty(r.Warnings);
                Assert.Equal(flip, r.FlipSign);
                CheckSequence(name, c, r);
                break;
            }
            case "multilabel":
            {
                var (model, tok, dir) = Load("bert-tiny-random-multilabel");
                var r = new MultiLabelClassificationExplainer(model, tok, dir).Explain(c.GetProperty("text").GetString()!);
                var expected = c.GetProperty("word_attributions").EnumerateObject().ToList();
                Assert.Equal(expected.Select(p => p.Name), r.Labels.Select(l => l.Label));
                foreach (var p in expected) CheckTokens($"{name} {p.Name}", p.Value, r[p.Name].Attribution);
                Assert.All(r.Labels, l => Assert.InRange(l.Probability, 0.0, 1.0));
                Assert.NotEqual(1.0, r.Labels.Sum(l => l.Probability), 3); // independent sigmoids, not a softmax
                break;
            }
            case "zero_shot":
            {
                var (model, tok, dir) = Load("roberta-tiny-random-nli");
                var labels = c.GetProperty("labels").EnumerateArray().Select(v => v.GetString()!).ToList();
                var e = new ZeroShotClassificationExplainer(model, tok, dir);
                var r = e.Explain(c.GetProperty("text").GetString()!, labels, c.GetProperty("hypothesis_template").GetString()!);
                Assert.Equal(c.GetProperty("predicted_label").GetString(), r.PredictedLabel);
                Assert.Equal("ENTAILMENT", r.EntailmentLabel);
                Assert.Equal(labels, r.Labels.Select(l => l.Label));
                Assert.Equal(1.0, r.Labels.Sum(l => l.Probability), 6); // entailment sigmoids normalised over the labels
                Assert.Equal(r.PredictedLabel, r.Labels.MaxBy(l => l.Probability)!.Label);
                foreach (var p in c.GetProperty("word_attributions").EnumerateObject()) CheckTokens($"{name} {p.Name}", p.Value, r[p.Name].Attribution);
                break;
            }
            case "question_answering":
            {
                var (model, tok, dir) = Load("bert-tiny-random-qa");
                var r = new QuestionAnsweringExplainer(model, tok, dir).Explain(c.GetProperty("question").GetString()!, c.GetProperty("context").GetString()!);
                Assert.Equal(c.GetProperty("predicted_answer").GetString(), r.PredictedAnswer);
                CheckTokens(name + " start", c.GetProperty("word_attributions").GetProperty("start"), r.Start);
                CheckTokens(name + " end", c.GetProperty("word_attributions").GetProperty("end"), r.End);
                CheckDelta(name + " start", c.GetProperty("start_delta").GetDouble(), r.Start.ConvergenceDelta);
                CheckDelta(name + " end", c.GetProperty("end_delta").GetDouble(), r.End.ConvergenceDelta);
                break;
            }
            case "token_classification":
            case "token_classification_ignored_indexes":
            {
                var (model, tok, dir) = Load("bert-tiny-random-ner");
                var ignored = c.TryGetProperty("ignored_indexes", out var ii) ? ii.EnumerateArray().Select(v => v.GetInt32()).ToArray() : null;
                var labelsIgnored = c.TryGetProperty("ignored_labels", out var il) ? il.EnumerateArray().Select(v => v.GetString()!).ToArray() : null;
                var r = new TokenClassificationExplainer(model, tok, dir).Explain(c.GetProperty("text").GetString()!, ignored, labelsIgnored);
                var expected = c.GetProperty("word_attributions").EnumerateObject().ToList();
                // transformers-interpret keys its result by token text (these tokens are distinct).
                Assert.Equal(expected.Select(p => p.Name), r.Tokens.Select(t => t.Token));
                foreach (var (p, t) in expected.Zip(r.Tokens))
                {
                    Assert.Equal(p.Value.GetProperty("label").GetString(), t.Label);
                    CheckTokens($"{name} {p.Name}", p.Value.GetProperty("attribution_scores"), t.Attribution);
                }
                break;
            }
            default:
                Assert.Fail($"Golden case '{name}' has no test.");
                break;
        }
    }

    private static void CheckSequence(string name, JsonElement c, SequenceClassificationExplanation r)
    {
        Assert.Equal(c.GetProperty("predicted_class_index").GetInt32(), r.PredictedClassIndex);
        Assert.Equal(c.GetProperty("predicted_class_name").GetString(), r.PredictedClassName);
        CheckTokens(name, c.GetProperty("word_attributions"), r.Attribution);
        CheckDelta(name, c.GetProperty("convergence_delta").GetDouble(), r.ConvergenceDelta);
        if (c.TryGetProperty("raw_per_token_sum", out var raw) && raw.ValueKind == JsonValueKind.Array)
        {
            // transformers-interpret's attributions_sum is the per-token sum after its normalisation.
            var expected = raw.EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var actual = r.Attribution.Scores;
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Abs(expected[i]) + 2e-6,
                    $"{name} attributions_sum[{i}]: transformers-interpret {expected[i]}, Glassbox {actual[i]}");
            // And Glassbox's raw sums normalise to it.
            double norm = Math.Sqrt(r.Attribution.RawScores.Sum(v => v * v));
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - r.Attribution.RawScores[i] / norm) <= 1e-4 * Math.Abs(expected[i]) + 2e-6, $"{name} raw[{i}]");
        }
    }

    private static void CheckTokens(string name, JsonElement expected, TextAttribution actual)
    {
        var pairs = expected.EnumerateArray().Select(p => (Token: p[0].GetString()!, Score: p[1].GetDouble())).ToList();
        Assert.Equal(pairs.Select(p => p.Token), actual.Tokens.Select(t => t.Token));
        for (int i = 0; i < pairs.Count; i++)
            Assert.True(Math.Abs(pairs[i].Score - actual.Tokens[i].Score) <= 1e-3,
                $"{name} token {i} '{pairs[i].Token}': transformers-interpret {pairs[i].Score}, Glassbox {actual.Tokens[i].Score}");
    }

    private static void CheckDelta(string name, double expected, double? actual)
    {
        Assert.NotNull(actual);
        Assert.True(Math.Abs(expected - actual!.Value) <= 1e-4, $"{name} convergence delta: transformers-interpret {expected}, Glassbox {actual}");
    }

    [Fact]
    public void TokensCarryOffsetsIntoTheOriginalTextAndWordsAggregate()
    {
        var (model, tok, dir) = Load("distilbert-sst2-tiny");
        const string text = "I love you, I like you";
        var r = new SequenceClassificationExplainer(model, tok, dir).Explain(text);
        foreach (var t in r.Attribution.Tokens.Where(t => !t.IsSpecial))
            Assert.Equal(t.Token, text[t.Start..t.End].ToLowerInvariant());
        Assert.Equal(["I", "love", "you", ",", "I", "like", "you"], r.Attribution.Words.Select(w => w.Word));
        Assert.Equal(r.Attribution.Tokens[2].Score, r.Attribution.Words[1].Score, 12);
        Assert.Equal("lig", r.Provenance.Method);
        Assert.StartsWith("sha256:", r.Provenance.ModelHash);
        Assert.Equal(dir, r.Provenance.ModelPath);
        Assert.Equal("50", r.Provenance.Parameters["steps"]);
        Assert.False(string.IsNullOrEmpty(r.Provenance.GlassboxVersion));
        Assert.InRange(r.PredictedProbability, 0.5, 1.0);
    }

    [Theory]
    [InlineData("Hi,there!  ok", "Hi , there ! ok")]
    [InlineData("computer.", "computer . ")]
    [InlineData("(a)\t\tb\nc", " ( a ) b\nc")]
    public void TextIsCleanedAsTransformersInterpretCleansIt(string text, string expected)
    {
        // re.sub("([.,!?()])", r" \1 ", text) then re.sub("\s{2,}", " ", text)
        var (cleaned, map) = TextCleaner.Clean(text);
        Assert.Equal(expected, cleaned);
        for (int j = 0; j < cleaned.Length; j++)
            if (map[j] >= 0 && !char.IsWhiteSpace(cleaned[j])) Assert.Equal(text[map[j]], cleaned[j]);
    }

    [Fact]
    public void SubwordTokensGroupIntoOneWord()
    {
        var (model, tok, dir) = Load("bert-tiny-random-crossencoder");
        var r = new PairwiseSequenceClassificationExplainer(model, tok, dir)
            .Explain("How many people live in Berlin?", "Berlin has a population of 3,520,031 registered inhabitants.");
        var w = r.Attribution.Words.Single(x => x.Word == "031");
        Assert.Equal(2, w.TokenIndices.Length); // "03", "##1"
        Assert.Equal(1, w.Sequence);
        Assert.Equal(r.Attribution.Tokens[w.TokenIndices[0]].Score + r.Attribution.Tokens[w.TokenIndices[1]].Score, w.Score, 12);
    }

    [Theory]
    [InlineData("ig")]
    [InlineData("saliency")]
    [InlineData("input-x-gradient")]
    [InlineData("smoothgrad")]
    [InlineData("occlusion")]
    [InlineData("lime")]
    [InlineData("kernel-shap")]
    [InlineData("attention")]
    [InlineData("rollout")]
    [InlineData("flow")]
    public void EveryMethodIsSelectable(string method)
    {
        var (model, tok, dir) = Load("distilbert-sst2-tiny");
        var o = new ExplainerOptions { Method = AttributionMethods.Parse(method), Samples = 60 };
        var r = new SequenceClassificationExplainer(model, tok, dir).Explain("The movie was not good at all.", options: o);
        Assert.Equal(method, r.Provenance.Method);
        var scores = r.Attribution.Scores;
        Assert.Equal(10, scores.Length);
        Assert.All(scores, s => Assert.True(double.IsFinite(s)));
        Assert.Equal(1.0, Math.Sqrt(scores.Sum(s => s * s)), 6);
        Assert.Equal(0, r.PredictedClassIndex);
        if (method is "occlusion" or "lime" or "kernel-shap")
        {
            Assert.Equal(0.0, scores[0]); Assert.Equal(0.0, scores[^1]); // special tokens are not perturbed
        }
        if (method == "ig") Assert.NotNull(r.ConvergenceDelta);
        else Assert.Null(r.ConvergenceDelta);
    }

    [Fact]
    public void OcclusionIsLeaveOneOutOfTheExplainedProbability()
    {
        var (model, tok, dir) = Load("distilbert-sst2-tiny");
        var e = new SequenceClassificationExplainer(model, tok, dir);
        var r = e.Explain("not good", options: new ExplainerOptions { Method = AttributionMethod.Occlusion });
        var full = r.Probabilities[r.PredictedClassIndex];
        var cls = tok.TokenToId("[CLS]")!.Value; var sep = tok.TokenToId("[SEP]")!.Value; var pad = tok.TokenToId("[PAD]")!.Value;
        var withoutNot = new TransformerExplainable(model, dir, e.Labels).Predict(ModelInput.Single([cls, pad, tok.TokenToId("good")!.Value, sep])).ToArray();
        Assert.Equal(full - withoutNot[r.PredictedClassIndex], r.Attribution.Tokens[1].Raw, 5);
    }

    [Fact]
    public void ImageExplainerIntegratedGradientsAreComplete()
    {
        var dir = Shared.Model("vit-tiny-random");
        var e = ImageClassificationExplainer.FromPretrained(dir);
        var image = RgbImage.Load(Path.Combine(dir, "example.png"));
        var ig = e.Explain(image, options: new ImageExplainerOptions { Type = ImageAttributionType.IntegratedGradients, Steps = 64 });
        Assert.Equal(3 * 32 * 32, ig.Attributions.Length);
        Assert.Equal(32 * 32, ig.PixelMap.Length);
        Assert.Equal(ig.Attributions.Sum(v => (double)v), ig.PixelMap.Sum(v => (double)v), 3);
        Assert.NotNull(ig.ConvergenceDelta);
        Assert.True(Math.Abs(ig.ConvergenceDelta!.Value) < 1e-2 * Math.Max(1, Math.Abs(ig.Attributions.Sum(v => (double)v))),
            $"IG completeness: delta {ig.ConvergenceDelta}, sum {ig.Attributions.Sum(v => (double)v)}");
        Assert.Equal(ig.Probabilities.ToList().IndexOf(ig.Probabilities.Max()), ig.PredictedClassIndex);
        Assert.Contains(ig.PredictedClassName, new[] { "red", "green", "blue" });

        var nt = e.Explain(image, className: "blue");
        Assert.Equal("blue", nt.AttributedClassName);
        Assert.Equal("ig-noise-tunnel", nt.Provenance.Method);
        Assert.All(nt.Attributions, v => Assert.True(float.IsFinite(v)));
        Assert.Contains(nt.Attributions, v => v != 0);
        // Seeded: the same call gives the same map.
        Assert.Equal(nt.Attributions, e.Explain(image, className: "blue").Attributions);
    }
}
