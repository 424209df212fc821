// Properties of the Ecco-style analysis on every language-model architecture (tiny random GPT-2,
// GPT-NeoX, Llama, T5): attribution rows sum to 1 over the right positions, the generated (argmax)
// token ranks 1 at the last layer, the logit lens at the last layer is the model's own
// distribution, activations have Ecco's layout; NumPy's RandomState and the NMF solver on known
// cases; and every bad input fails with a clear error.
using Glassbox.Explain.LanguageModels;

namespace Glassbox.Explain.Tests;

public class LmAnalysisTests
{
    private static readonly Lazy<LanguageModelAnalyzer> s_shakespeare = new(() => LanguageModelAnalyzer.FromPretrained(Shared.Model("gpt2-shakespeare-tiny")));
    private static readonly Dictionary<string, LanguageModelAnalyzer> s_models = [];

    private static LanguageModelAnalyzer Load(string name)
    {
        lock (s_models)
        {
            if (!s_models.TryGetValue(name, out var lm)) s_models[name] = lm = LanguageModelAnalyzer.FromPretrained(Shared.Model(name));
            return lm;
        }
    }

    [Theory]
    [InlineData("gpt2-tiny-random")]
    [InlineData("gpt-neox-tiny-random")]
    [InlineData("llama-tiny-random")]
    [InlineData("t5-tiny-random")]
    public void EveryAnalysisHoldsItsPropertiesOnEveryArchitecture(string name)
    {
        var lm = Load(name);
        const int G = 3;
        var a = lm.Generate("Hello world, this is", new LmGenerateOptions { MaxNewTokens = G, EosTokenIds = [], Attributions = LmAttributionMethods.All });
        bool s2s = name.StartsWith("t5", StringComparison.Ordinal);
        Assert.Equal(s2s, a.IsSeq2Seq);
        Assert.Equal(G, a.GeneratedIds.Length);
        Assert.Equal(a.InputTokenCount + (s2s ? 1 : 0), a.FirstGeneratedIndex);
        Assert.Equal(a.TokenIds.Length, a.Tokens.Length);

        // Attributions: one row per generated token over every earlier token, summing to 1.
        foreach (var method in LmAttributionMethods.All)
        {
            var rows = a.Attributions[method];
            Assert.Equal(G, rows.Count);
            for (int t = 0; t < G; t++)
            {
                var r = rows[t];
                Assert.Equal(a.FirstGeneratedIndex + t, r.Normalized.Length);
                Assert.Equal(1.0, r.Normalized.Sum(v => (double)v), 5);
                Assert.All(r.Normalized, v => Assert.True(v >= 0));
                Assert.Equal(r.Normalized.Length * r.EmbeddingDim, r.Raw.Length);
                Assert.True(Math.Abs(r.TargetProbability - a.Steps[t].Probability) <= 1e-5, $"{name} {method} token {t}: p {r.TargetProbability} vs generation {a.Steps[t].Probability}");
                if (method == LmAttributionMethod.IntegratedGradients)
                    Assert.True(Math.Abs(r.ConvergenceDelta!.Value) <= 1e-3 + 1e-2 * r.TargetProbability, $"{name} token {t}: IG completeness gap {r.ConvergenceDelta}");
                else Assert.Null(r.ConvergenceDelta);
            }
        }

        // The logit lens at the last layer is the model's distribution, so the greedy token ranks 1.
        int last = a.LayerCount - 1;
        foreach (bool ecco in new[] { false, true })
        {
            var ranks = a.Rankings(eccoCompatible: ecco);
            Assert.Equal(a.LayerCount, ranks.Length);
            Assert.All(ranks, row => Assert.Equal(G, row.Length));
            Assert.All(ranks[last], r => Assert.Equal(1, r));
            Assert.All(ranks.SelectMany(r => r), r => Assert.InRange(r, 1, lm.Model.VocabSize));
        }
        for (int t = 0; t < G; t++)
        {
            int position = a.FirstGeneratedIndex + t;
            var lens = a.LayerPredictions(position, topK: 10, layer: last).Single();
            Assert.Equal(last, lens.Layer);
            Assert.Equal(a.Steps[t].TopIds, lens.TopIds);
            for (int j = 0; j < 10; j++)
                Assert.True(Math.Abs(a.Steps[t].TopProbabilities[j] - lens.TopProbabilities[j]) <= 1e-5, $"{name} token {t} top {j}: model {a.Steps[t].TopProbabilities[j]}, lens {lens.TopProbabilities[j]}");
            Assert.Equal(a.LayerCount, a.LayerPredictions(position, topK: 3, eccoCompatible: true).Count);
            // Rankings watch of the generated token is its rankings column.
            var watch = a.RankingsWatch([a.GeneratedIds[t], a.Steps[t].TopIds[1]], position);
            for (int l = 0; l < a.LayerCount; l++) Assert.Equal(a.Rankings()[l][t], watch[l][0]);
            Assert.Equal(2, watch[last][1]);
        }

        // Activations in Ecco's layout, from the final forward over all tokens but the last.
        var dec = a.Activations["decoder"];
        Assert.Equal(a.LayerCount, dec.Layers.Length);
        Assert.Equal(s2s ? G : a.InputTokenCount + G - 1, dec.Positions);
        if (s2s) Assert.Equal(a.InputTokenCount, a.Activations["encoder"].Positions);
        var f = a.Nmf(components: 2);
        Assert.Equal(2, f.Components.Length);
        Assert.All(f.Components, c => Assert.All(c, v => Assert.True(v >= 0)));
        Assert.Equal(a.Activations.Values.Sum(v => v.Positions), f.Tokens.Length);
        Assert.Equal(f.Tokens.Length, f.Components[0].Length);
    }

    [Fact]
    public void AnalyzingAGivenContinuationEqualsGeneratingIt()
    {
        var lm = Load("gpt2-tiny-random");
        var options = new LmGenerateOptions { MaxNewTokens = 3, EosTokenIds = [], Attributions = [LmAttributionMethod.IntegratedGradients], IgSteps = 20, InternalBatchSize = 7 };
        var generated = lm.Generate([464, 3139, 318], options);
        var forced = lm.Analyze([464, 3139, 318], generated.GeneratedIds, options);
        Assert.Equal(generated.TokenIds, forced.TokenIds);
        for (int t = 0; t < 3; t++)
        {
            Assert.Equal(generated.Attributions[LmAttributionMethod.IntegratedGradients][t].Normalized, forced.Attributions[LmAttributionMethod.IntegratedGradients][t].Normalized);
            Assert.Equal(generated.Steps[t].TopIds, forced.Steps[t].TopIds);
            Assert.Equal(generated.Steps[t].Probability, forced.Steps[t].Probability, 5);
        }
        Assert.Equal(generated.Rankings(), forced.Rankings());
    }

    [Fact]
    public void SamplingIsReproducibleWithASeed()
    {
        var lm = s_shakespeare.Value;
        var o = new LmGenerateOptions { MaxNewTokens = 5, DoSample = true, Seed = 7, TopK = 20, CaptureActivations = false };
        var a = lm.Generate("ROMEO:", o);
        Assert.Equal(a.TokenIds, lm.Generate("ROMEO:", o).TokenIds);
        Assert.Empty(a.Activations);
        Assert.Throws<InvalidOperationException>(() => a.Nmf(2));
    }

    [Fact]
    public void ActivationLayersKeepOnlyTheChosenLayers()
    {
        var a = s_shakespeare.Value.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 2, ActivationLayers = [3, 1] });
        var dec = a.Activations["decoder"];
        Assert.Equal(new[] { 1, 3 }, dec.Layers);
        var all = s_shakespeare.Value.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 2 }).Activations["decoder"];
        for (int n = 0; n < dec.Neurons; n += 37)
            for (int p = 0; p < dec.Positions; p++) Assert.Equal(all[3, n, p], dec[1, n, p]);
        Assert.Equal(new[] { 1, 3 }, a.Nmf(2).Layers);
        Assert.Equal(new[] { 1 }, a.Nmf(2, fromLayer: 1, toLayer: 2).Layers);
        Assert.Throws<ArgumentException>(() => a.Nmf(2, fromLayer: 0, toLayer: 2));
    }

    [Fact]
    public void HookPointsAreCapturedOnRequest()
    {
        var a = s_shakespeare.Value.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 3, CaptureHooks = ["blocks.1.attn.hook_pattern", "blocks.*.hook_resid_post"] });
        int s = a.TokenIds.Length - 1;
        var pattern = a.Captured["blocks.1.attn.hook_pattern"];
        Assert.Equal(new[] { 1, 4, s, s }, pattern.Shape);
        for (int row = 0; row < 4 * s; row++) Assert.Equal(1.0, pattern.Values.AsSpan(row * s, s).ToArray().Sum(v => (double)v), 5);
        Assert.Equal(4, a.Captured.Keys.Count(k => k.EndsWith("hook_resid_post", StringComparison.Ordinal)));
        Assert.Contains("no hook point matches", Assert.Throws<ArgumentException>(() =>
            s_shakespeare.Value.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 1, CaptureHooks = ["blocks.9.nothing"] })).Message);
    }

    [Fact]
    public void NumpyRandomStateMatchesNumpy()
    {
        // np.random.RandomState(0).standard_normal(5) and .random_sample(3)
        var rs = new NumpyRandomState(0);
        double[] normals = [1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458, 1.8675579901499675];
        foreach (var want in normals) Assert.Equal(want, rs.NextGaussian(), 12);
        var rs2 = new NumpyRandomState(0);
        foreach (var want in new[] { 0.5488135039273248, 0.7151893663724195, 0.6027633760716439 }) Assert.Equal(want, rs2.NextDouble(), 15);
    }

    [Fact]
    public void NmfRecoversALowRankNonNegativeMatrix()
    {
        var rng = new Random(3);
        int n = 8, m = 30, k = 3;
        var w0 = Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble()).ToArray();
        var h0 = Enumerable.Range(0, k * m).Select(_ => (float)rng.NextDouble()).ToArray();
        var x = new float[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                for (int r = 0; r < k; r++) x[i * m + j] += w0[i * k + r] * h0[r * m + j];
        double norm = Math.Sqrt(x.Sum(v => (double)v * v));
        var fit = Nmf.Fit(x, n, m, k, tolerance: 1e-8, maxIterations: 2000);
        Assert.True(fit.ReconstructionError <= 1e-2 * norm, $"error {fit.ReconstructionError} of ‖X‖ {norm}");
        Assert.True(Nmf.Fit(x, n, m, 1).ReconstructionError > fit.ReconstructionError);
        Assert.All(fit.W, v => Assert.True(v >= 0));
        Assert.All(fit.H, v => Assert.True(v >= 0));
        Assert.Throws<ArgumentException>(() => Nmf.Fit([1f, -1f], 1, 2, 1));
        Assert.Throws<ArgumentException>(() => Nmf.Fit([1f, float.NaN], 1, 2, 1));
    }

    [Fact]
    public void AttributionMethodNamesParse()
    {
        Assert.Equal(LmAttributionMethod.IntegratedGradients, LmAttributionMethods.Parse("ig"));
        Assert.Equal(LmAttributionMethod.InputXGradient, LmAttributionMethods.Parse("input-x-gradient"));
        Assert.Equal(LmAttributionMethod.InputXGradient, LmAttributionMethods.Parse("grad_x_input"));
        Assert.Equal(LmAttributionMethod.Saliency, LmAttributionMethods.Parse("Saliency"));
        Assert.Contains("ig, saliency", Assert.Throws<ArgumentException>(() => LmAttributionMethods.Parse("lime")).Message);
    }

    [Fact]
    public void BadInputFailsClearly()
    {
        var lm = s_shakespeare.Value; // n_positions 256, vocabulary 2048, 4 layers × 512 neurons
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => lm.Generate("")).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => lm.Generate(Array.Empty<int>())).Message);
        Assert.Contains("256", Assert.Throws<ArgumentException>(() => lm.Generate(Enumerable.Repeat(5, 300).ToArray())).Message);
        Assert.Contains("at most 6 new tokens", Assert.Throws<ArgumentException>(() => lm.Generate(Enumerable.Repeat(5, 250).ToArray(), new LmGenerateOptions { MaxNewTokens = 10 })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => lm.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 0 }));
        Assert.Contains("1024", Assert.Throws<ArgumentOutOfRangeException>(() => lm.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = LanguageModelAnalyzer.MaxNewTokensLimit + 1 })).Message);
        Assert.Contains("2047", Assert.Throws<ArgumentOutOfRangeException>(() => lm.Generate([5, 5000])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => lm.Generate("ROMEO:", new LmGenerateOptions { ActivationLayers = [4] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => lm.Generate("ROMEO:", new LmGenerateOptions { IgSteps = 0 }));

        var a = lm.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 2 });
        var (first, lastPos) = a.GeneratedPositions;
        Assert.Equal(a.TokenIds.Length - 1, lastPos);
        Assert.Contains($"{first}..{lastPos}", Assert.Throws<ArgumentOutOfRangeException>(() => a.LayerPredictions(0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.LayerPredictions(lastPos + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.LayerPredictions(first, layer: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.LayerPredictions(first, topK: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.RankingsWatch([0], lastPos + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.RankingsWatch([99_999], first));
        Assert.Contains("not a token of the vocabulary", Assert.Throws<ArgumentException>(() => a.RankingsWatch(["xyzzy plugh"], first)).Message);
        Assert.Throws<ArgumentException>(() => a.RankingsWatch(Array.Empty<int>(), first));
        // A vocabulary entry and text that tokenizes to it watch the same id.
        Assert.Equal(a.RankingsWatch(["Ġthe"], first), a.RankingsWatch([" the"], first));
        Assert.Contains("2048 neurons", Assert.Throws<ArgumentOutOfRangeException>(() => a.Nmf(components: 5000)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Nmf(components: 0));
        Assert.Throws<ArgumentException>(() => a.Nmf(2, fromLayer: 2, toLayer: 2));
        // Components beyond the number of positions are clamped, as Ecco does.
        Assert.Equal(a.Activations["decoder"].Positions, a.Nmf(components: 50).Components.Length);
    }
}
