// HotFlip, ablation flip and masked-LM substitution on the shared models. Every returned flip is
// checked by predicting its ids again; minimality by predicting every strict subset of its edits;
// MLM fillers against the masked LM's own logits for the masked sentence, computed here unbatched.
using Glassbox.Explain.Counterfactuals;
using Glassbox.Models;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests.Counterfactuals;

internal static class Sst2Model
{
    private static readonly Lazy<(TransformerExplainable Model, TextEncoder Encoder)> s_model = new(() =>
    {
        var dir = Shared.Model("distilbert-sst2-tiny");
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        return (new TransformerExplainable(AutoModel.FromPretrained(dir), dir, config.Id2Label), TextEncoder.FromPretrained(dir));
    });
    public static TransformerExplainable Model => s_model.Value.Model;
    public static TextEncoder Encoder => s_model.Value.Encoder;

    public static float[] Predict(IExplainableModel model, int[] ids)
    {
        using var _ = Tape.NoGrad();
        using var p = model.Predict(ModelInput.Single(ids));
        return p.Span.ToArray();
    }

    public static int ArgMax(float[] p) => p[1] > p[0] ? 1 : 0;

    public static IEnumerable<int[]> StrictSubsets(int n)
    {
        for (int mask = 1; mask < (1 << n) - 1; mask++)
            yield return Enumerable.Range(0, n).Where(i => (mask & (1 << i)) != 0).ToArray();
    }
}

/// <summary>The same model seen only through Predict (as an ONNX file or HTTP endpoint would be).</summary>
internal sealed class BlackBoxOf(IExplainableModel inner) : IExplainableModel
{
    public string Name => "black-box:" + inner.Name;
    public IReadOnlyList<string> OutputNames => inner.OutputNames;
    public bool SupportsGradients => false;
    public HookSet? Hooks => null;
    public Tensor Predict(ModelInput input) => inner.Predict(input);
}

/// <summary>Positive (class 1) iff the text has more of the positive words than of the negative words.</summary>
internal sealed class KeywordBlackBox(TextEncoder encoder, string[] positive, string[] negative) : IExplainableModel
{
    private readonly HashSet<int> _pos = positive.Select(w => encoder.Tokenizer.TokenToId(w)!.Value).ToHashSet();
    private readonly HashSet<int> _neg = negative.Select(w => encoder.Tokenizer.TokenToId(w)!.Value).ToHashSet();
    public string Name => "keywords";
    public IReadOnlyList<string> OutputNames => ["NEGATIVE", "POSITIVE"];
    public bool SupportsGradients => false;
    public HookSet? Hooks => null;
    public Tensor Predict(ModelInput input)
    {
        var y = Tensor.Empty(input.Batch, 2);
        for (int b = 0; b < input.Batch; b++)
        {
            int score = 0;
            for (int s = 0; s < input.SeqLength; s++)
            {
                if (input.AttentionMask is { } m && m[b * input.SeqLength + s] == 0) continue;
                int id = input.InputIds[b * input.SeqLength + s];
                score += _pos.Contains(id) ? 1 : _neg.Contains(id) ? -1 : 0;
            }
            float p = score > 0 ? 0.9f : 0.1f;
            y[b, 0] = 1 - p; y[b, 1] = p;
        }
        return y;
    }
}

[Collection("Counterfactual models")]
public class HotFlipTests
{
    private static readonly string[] Clear =
    [
        "a great , warm and funny movie .",
        "the film is a total failure .",
        "an utterly charming and hilarious film .",
        "it 's a dull , boring mess .",
        "one of the best films of the year .",
        "the worst movie i have ever seen .",
    ];

    [Fact]
    public void FlipsClearSentences_VerifiedByRepredicting_AndMinimal()
    {
        var model = Sst2Model.Model;
        var hotflip = new HotFlip(model, Sst2Model.Encoder);
        int flipped = 0;
        foreach (var (text, i) in Clear.Select((t, i) => (t, i)))
        {
            var parent = new TextExample($"s{i}", text);
            var origIds = Sst2Model.Encoder.Encode(text).Ids;
            int orig = Sst2Model.ArgMax(Sst2Model.Predict(model, origIds));
            var cfs = hotflip.Generate(parent);
            if (cfs.Count > 0) flipped++;
            foreach (var cf in cfs)
            {
                Assert.Equal(parent.Id, cf.ParentId);
                Assert.Equal("hotflip", cf.Generator);
                Assert.InRange(cf.Edits.Count, 1, hotflip.Options.MaxFlips);
                var ids = cf.InputIds!;
                Assert.Equal(origIds.Length, ids.Length);
                // Exactly the edited positions differ, with the recorded tokens.
                Assert.Equal(cf.Edits.Select(e => e.Position).Order(), Enumerable.Range(0, ids.Length).Where(p => ids[p] != origIds[p]));
                foreach (var e in cf.Edits) { Assert.Equal(origIds[e.Position], e.OriginalId); Assert.Equal(ids[e.Position], e.ReplacementId); }
                var again = Sst2Model.Predict(model, ids);
                Assert.NotEqual(orig, Sst2Model.ArgMax(again));
                Assert.Equal(cf.PredictedClass, Sst2Model.ArgMax(again));
                // The first-order estimate agrees in sign with the real change of −log p(original class).
                double actual = -Math.Log(again[orig]) + Math.Log(Sst2Model.Predict(model, origIds)[orig]);
                Assert.True(cf.EstimatedLossChange > 0 && actual > 0, $"{text}: estimate {cf.EstimatedLossChange}, actual {actual}");
                Assert.Equal(actual, cf.ActualLossChange!.Value, 3);
                // Minimal: no strict subset of the flips changes the prediction.
                foreach (var subset in Sst2Model.StrictSubsets(cf.Edits.Count))
                {
                    var partial = (int[])origIds.Clone();
                    foreach (var k in subset) partial[cf.Edits[k].Position] = cf.Edits[k].ReplacementId!.Value;
                    Assert.Equal(orig, Sst2Model.ArgMax(Sst2Model.Predict(model, partial)));
                }
            }
            Assert.Equal(text, parent.Text);
            Assert.Equal(origIds, Sst2Model.Encoder.Encode(text).Ids);
        }
        Assert.True(flipped >= 4, $"HotFlip flipped {flipped} of {Clear.Length} clear sentences");
    }

    [Fact]
    public void TopCandidateEstimateAgreesInSignWithTheRealChange()
    {
        var model = Sst2Model.Model;
        var hotflip = new HotFlip(model, Sst2Model.Encoder);
        int agree = 0;
        foreach (var text in Clear)
        {
            var ids = Sst2Model.Encoder.Encode(text).Ids;
            var p = Sst2Model.Predict(model, ids);
            int orig = Sst2Model.ArgMax(p);
            var best = hotflip.Candidates(new TextExample("c", text))[0];
            var flippedIds = (int[])ids.Clone();
            flippedIds[best.Position] = best.ReplacementId;
            double actual = -Math.Log(Sst2Model.Predict(model, flippedIds)[orig]) + Math.Log(p[orig]);
            if (Math.Sign(actual) == Math.Sign(best.EstimatedLossChange)) agree++;
            Assert.NotEqual(best.TokenId, best.ReplacementId);
            Assert.False(Sst2Model.Encoder.IsPlaceholder(best.ReplacementId));
        }
        Assert.Equal(Clear.Length, agree);
    }

    [Fact]
    public void EstimateIsTheEmbeddingDifferenceDotGradient()
    {
        // Δ(i, v) = (E[v] − E[x_i])·g_i: check one candidate against a gradient taken here.
        var model = Sst2Model.Model;
        var hotflip = new HotFlip(model, Sst2Model.Encoder);
        string text = "a great , warm and funny movie .";
        var enc = Sst2Model.Encoder.Encode(text);
        var c = hotflip.Candidates(new TextExample("e", text))[0];
        var e = HotFlip.FindEmbeddingMatrix(model)!;
        int d = e.Shape[1];
        float[] g;
        int orig;
        using (var tape = Tape.Record())
        {
            Tensor probs;
            using (model.Hooks!.Capture("hook_embed", out var cache))
            {
                probs = model.Predict(ModelInput.Single(enc.Ids, enc.TypeIds));
                orig = Sst2Model.ArgMax(probs.Span.ToArray());
                var loss = Ops.Neg(Ops.Log(Ops.Narrow(probs, 1, orig, 1)));
                g = tape.Gradient(Ops.Sum(loss), cache["hook_embed"])[0].ToArray();
            }
        }
        double expected = 0;
        for (int k = 0; k < d; k++) expected += (e[c.ReplacementId, k] - e[c.TokenId, k]) * g[c.Position * d + k];
        Assert.Equal(expected, c.EstimatedLossChange, 4);
    }

    [Fact]
    public void BlackBoxesAreRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => new HotFlip(new BlackBoxOf(Sst2Model.Model), Sst2Model.Encoder));
        Assert.Contains("black-box", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HotFlip(Sst2Model.Model, Sst2Model.Encoder, options: new HotFlipOptions { MaxFlips = 0 }));
        var tooLong = string.Join(' ', Enumerable.Repeat("good", 200));
        var ex = Assert.Throws<ArgumentException>(() => new HotFlip(Sst2Model.Model, Sst2Model.Encoder).Generate(new TextExample("l", tooLong)));
        Assert.Contains("at most 128", ex.Message);
    }
}

[Collection("Counterfactual models")]
public class AblationFlipTests
{
    [Fact]
    public void KeywordBlackBox_ExactMinimalRemovals()
    {
        var box = new KeywordBlackBox(Sst2Model.Encoder, ["good", "great"], ["bad"]);
        var cfs = new AblationFlip(box, Sst2Model.Encoder).Generate(new TextExample("k", "good great bad movie", 1));
        // 2 positives vs 1 negative: removing either positive ties (negative); nothing larger is minimal.
        Assert.Equal(["great bad movie", "good bad movie"], cfs.Select(c => c.Text).Order().Reverse());
        Assert.All(cfs, c => { Assert.Single(c.Edits); Assert.Equal("", c.Edits[0].Replacement); Assert.Equal(0, c.PredictedClass); Assert.Equal("k", c.ParentId); Assert.Equal(1, c.Label); });
        Assert.Equal(new CounterfactualEdit(0, "good", "", 0, 4), cfs.Single(c => c.Text == "great bad movie").Edits[0]);
    }

    [Fact]
    public void KeywordBlackBox_NeedsTwoRemovals()
    {
        var box = new KeywordBlackBox(Sst2Model.Encoder, ["good", "great", "fine"], ["bad"]);
        var cfs = new AblationFlip(box, Sst2Model.Encoder).Generate(new TextExample("k", "good great fine bad"));
        // 3 vs 1: any two of the three positives must go; three such pairs.
        Assert.Equal(["fine bad", "good bad", "great bad"], cfs.Select(c => c.Text).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(AblationUnit.Word)]
    [InlineData(AblationUnit.Token)]
    public void FlipsOnTheTrainedModel_VerifiedAndMinimal(AblationUnit unit)
    {
        var box = new BlackBoxOf(Sst2Model.Model); // only Predict is used
        var ablation = new AblationFlip(box, Sst2Model.Encoder, new AblationFlipOptions { Unit = unit, MaxAblations = 3 });
        string[] texts = ["a great , warm and funny movie .", "the film is a total failure .", "it 's not a bad film , but not a good one either ."];
        int flipped = 0;
        foreach (var text in texts)
        {
            var origIds = Sst2Model.Encoder.Encode(text).Ids;
            int orig = Sst2Model.ArgMax(Sst2Model.Predict(box, origIds));
            var cfs = ablation.Generate(new TextExample("a", text));
            if (cfs.Count > 0) flipped++;
            foreach (var cf in cfs)
            {
                int[] ids = unit == AblationUnit.Word ? Sst2Model.Encoder.Encode(cf.Text).Ids : cf.InputIds!;
                Assert.Equal(ids, cf.InputIds);
                Assert.NotEqual(orig, Sst2Model.ArgMax(Sst2Model.Predict(box, ids)));
                Assert.True(cf.ActualLossChange > 0);
                // Minimal: removing any strict subset of the same units keeps the prediction.
                foreach (var subset in Sst2Model.StrictSubsets(cf.Edits.Count))
                {
                    int[] partial;
                    if (unit == AblationUnit.Word)
                    {
                        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        var removed = subset.Select(k => cf.Edits[k].Position).ToHashSet();
                        partial = Sst2Model.Encoder.Encode(string.Join(' ', words.Where((_, w) => !removed.Contains(w)))).Ids;
                    }
                    else
                    {
                        var removed = subset.Select(k => cf.Edits[k].Position).ToHashSet();
                        partial = origIds.Where((_, p) => !removed.Contains(p)).ToArray();
                    }
                    Assert.Equal(orig, Sst2Model.ArgMax(Sst2Model.Predict(box, partial)));
                }
            }
        }
        Assert.True(flipped >= 2, $"ablation flip ({unit}) flipped {flipped} of {texts.Length}");
    }

    [Fact]
    public void SingleWordIsNeverRemovedEntirely() =>
        Assert.Empty(new AblationFlip(new KeywordBlackBox(Sst2Model.Encoder, ["good"], []), Sst2Model.Encoder).Generate(new TextExample("o", "good")));

    [Fact]
    public void BadOptionsAreRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AblationFlip(Sst2Model.Model, Sst2Model.Encoder, new AblationFlipOptions { MaxAblations = 0 }));
}

[Collection("Counterfactual models")]
public class MaskedLmSubstitutionTests
{
    private static readonly Lazy<(TransformerModel Model, TextEncoder Encoder)> s_mlm = new(() =>
    {
        var dir = Shared.Model("bert-tiny-random-mlm");
        return (AutoModel.FromPretrained(dir), TextEncoder.FromPretrained(dir));
    });

    [Fact]
    public void FillersAreTheMaskedLmsTopKAllowedTokens()
    {
        var (mlm, encoder) = s_mlm.Value;
        var gen = new MaskedLmSubstitution(mlm, encoder, new MaskedLmOptions { TopK = 4 });
        const string text = "the cat sat on the warm mat , happily .";
        var enc = encoder.Encode(text);
        int maskId = encoder.Tokenizer.TokenToId("[MASK]")!.Value;
        var fillers = gen.Fillers(new TextExample("m", text));
        Assert.Equal(enc.WordIds.Where(w => w is not null).Distinct().Count(), fillers.Count);
        foreach (var f in fillers)
        {
            // The masked input, built here, and the model's own logits at the mask, unbatched.
            int start = Enumerable.Range(0, enc.Length).First(i => !enc.IsSpecial[i] && enc.Offsets[i].Start == f.CharStart);
            int end = start;
            while (end < enc.Length && !enc.IsSpecial[end] && enc.WordIds[end] == enc.WordIds[start]) end++;
            var ids = enc.Ids.Take(start).Append(maskId).Concat(enc.Ids.Skip(end)).ToArray();
            Assert.Equal(ids, f.MaskedIds);
            float[] logits;
            using (Tape.NoGrad())
            {
                var o = mlm.Forward(ModelInput.Single(ids, Enumerable.Repeat(0, ids.Length).ToArray())).Logits!;
                int v = o.Shape[2];
                logits = o.Span.Slice(start * v, v).ToArray();
            }
            string word = text[f.CharStart..f.CharEnd];
            var expected = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i])
                .Where(i =>
                {
                    var tok = encoder.Tokenizer.IdToToken(i)!;
                    return !(tok.StartsWith('[') && tok.EndsWith(']')) && !tok.StartsWith("##") && !string.Equals(tok, word, StringComparison.OrdinalIgnoreCase);
                })
                .Take(4).ToArray();
            Assert.Equal(expected, f.FillerIds);
            double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
            for (int k = 0; k < 4; k++) Assert.Equal(Math.Exp(logits[expected[k]] - max) / z, f.Probabilities[k], 4);
        }
        var cfs = gen.Generate(new TextExample("m", text, 1));
        Assert.Equal(fillers.Count * 4, cfs.Count);
        var first = cfs[0];
        Assert.Equal("m", first.ParentId);
        Assert.Equal("mlm-substitution", first.Generator);
        Assert.Equal(first.Edits[0].Replacement + text[3..], first.Text);
        Assert.Equal(fillers[0].FillerIds[0], first.Edits[0].ReplacementId);
        Assert.Equal(1, first.Label);
    }

    [Fact]
    public void BadInput()
    {
        var (mlm, encoder) = s_mlm.Value;
        var e = Assert.Throws<ArgumentException>(() => new MaskedLmSubstitution(Sst2Model.Model.Model, Sst2Model.Encoder));
        Assert.Contains("masked language model", e.Message);
        var gen = new MaskedLmSubstitution(mlm, encoder);
        var tooLong = string.Join(' ', Enumerable.Repeat("cat", 100));
        Assert.Contains("at most 64", Assert.Throws<ArgumentException>(() => gen.Generate(new TextExample("x", tooLong))).Message);
        Assert.Throws<ArgumentException>(() => new MaskedLmSubstitution(mlm, encoder, new MaskedLmOptions { MaskToken = "<nope>" }));
        Assert.Empty(gen.Generate(new TextExample("e", "")));
    }
}

[Collection("Counterfactual models")]
public class GeneratorsLeaveTheParentUntouchedTests
{
    [Fact]
    public void EveryGeneratorKeepsItsInputAndRecordsItsParent()
    {
        var mlmDir = Shared.Model("bert-tiny-random-mlm");
        var mlm = new MaskedLmSubstitution(AutoModel.FromPretrained(mlmDir), TextEncoder.FromPretrained(mlmDir), new MaskedLmOptions { TopK = 2 });
        var parent = new TextExample("p", "the film is a total failure .", 0);
        var snapshot = parent with { };
        var ids = Sst2Model.Encoder.Encode(parent.Text).Ids;
        var generators = new (string Name, Func<TextExample, IReadOnlyList<Counterfactual>> Run)[]
        {
            ("word-replacer", WordReplacer.Parse("failure -> success|triumph, film -> movie").Generate),
            ("scrambler", new Scrambler(seed: 1, count: 2).Generate),
            ("hotflip", new HotFlip(Sst2Model.Model, Sst2Model.Encoder).Generate),
            ("ablation-flip", new AblationFlip(Sst2Model.Model, Sst2Model.Encoder).Generate),
            ("mlm-substitution", mlm.Generate),
        };
        foreach (var (name, run) in generators)
        {
            var cfs = run(parent);
            Assert.True(cfs.Count > 0, $"{name} generated nothing for '{parent.Text}'");
            Assert.Equal(snapshot, parent);
            Assert.Equal(ids, Sst2Model.Encoder.Encode(parent.Text).Ids);
            Assert.All(cfs, c => { Assert.Equal("p", c.ParentId); Assert.Equal(name, c.Generator); Assert.NotEqual(parent.Text, c.Text); Assert.NotEmpty(c.Edits); });
            Assert.Equal(cfs.Count, cfs.Select(c => c.Id).Distinct().Count());
            Assert.All(cfs, c => Assert.Equal(c.Id, c.ToExample().Id));
        }
    }
}

