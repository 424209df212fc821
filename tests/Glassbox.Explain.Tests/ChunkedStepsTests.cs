// Integrated gradients in the image explainer and in the language-model analysis run their steps in
// token-bounded chunks by default, as layer IG does; the result must equal all steps in one batch.
// Layer IG's [CLS]-only last block (ModelInput.HeadOnly, set by TransformerExplainable) must equal
// the naive twin that computes every position (a selector turns the shortcut off).
using Glassbox.Explain.Explainers;
using Glassbox.Explain.LanguageModels;
using Glassbox.Models;
using Glassbox.Models.Configs;
using Glassbox.Models.Images;

namespace Glassbox.Explain.Tests;

public class ChunkedStepsTests
{
    private static void AssertSame(float[] whole, float[] chunked, double rel, string what)
    {
        Assert.Equal(whole.Length, chunked.Length);
        double scale = whole.Max(v => Math.Abs((double)v));
        Assert.True(scale > 0, $"{what}: all-zero attributions test nothing");
        for (int i = 0; i < whole.Length; i++)
            Assert.True(Math.Abs(whole[i] - chunked[i]) <= rel * scale, $"{what} element {i}: one batch {whole[i]}, chunked {chunked[i]}");
    }

    [Fact]
    public void ImageIntegratedGradientsInDefaultChunksEqualOneBatch()
    {
        var dir = Shared.Model("vit-tiny-random");
        var e = ImageClassificationExplainer.FromPretrained(dir);
        var image = RgbImage.Load(Path.Combine(dir, "example.png"));
        // 16 patches + [CLS] = 17 tokens: at most 30 steps per pass, so 64 steps run as 3 chunks (22, 22, 20).
        Assert.Equal(22, GradientMethods.DefaultInternalBatchSize(64, 17));
        var o = new ImageExplainerOptions { Type = ImageAttributionType.IntegratedGradients, Steps = 64 };
        var byDefault = e.Explain(image, options: o);
        var whole = e.Explain(image, options: o with { InternalBatchSize = 64 });
        var odd = e.Explain(image, options: o with { InternalBatchSize = 5 });
        AssertSame(whole.Attributions, byDefault.Attributions, 1e-6, "default chunks");
        AssertSame(whole.Attributions, odd.Attributions, 1e-6, "chunks of 5");
        Assert.Equal(whole.ConvergenceDelta!.Value, byDefault.ConvergenceDelta!.Value, 6);
        // The noise tunnel's inner IG (5 steps) is chunked the same way.
        var nt = new ImageExplainerOptions { NoiseTunnelSamples = 3, NoiseTunnelSteps = 5 };
        AssertSame(e.Explain(image, options: nt with { InternalBatchSize = 5 }).Attributions, e.Explain(image, options: nt with { InternalBatchSize = 2 }).Attributions, 1e-6, "noise tunnel");
    }

    [Theory]
    [InlineData("gpt2-tiny-random")]
    [InlineData("t5-tiny-random")]
    public void LanguageModelIntegratedGradientsInDefaultChunksEqualOneBatch(string name)
    {
        var lm = LanguageModelAnalyzer.FromPretrained(Shared.Model(name));
        var prompt = Enumerable.Range(0, 40).Select(i => 100 + 13 * i).ToArray();
        // 40+ attributed tokens: the default runs at most 12 steps per pass, not all 50 at once.
        Assert.True(GradientMethods.DefaultInternalBatchSize(50, prompt.Length) < 50);
        var o = new LmGenerateOptions { MaxNewTokens = 2, EosTokenIds = [], Attributions = [LmAttributionMethod.IntegratedGradients], IgSteps = 50, CaptureActivations = false };
        var byDefault = lm.Generate(prompt, o).Attributions[LmAttributionMethod.IntegratedGradients];
        var whole = lm.Generate(prompt, o with { InternalBatchSize = 50 }).Attributions[LmAttributionMethod.IntegratedGradients];
        Assert.Equal(2, whole.Count);
        for (int t = 0; t < whole.Count; t++)
        {
            AssertSame(whole[t].Raw, byDefault[t].Raw, 1e-6, $"{name} token {t}");
            Assert.Equal(whole[t].ConvergenceDelta!.Value, byDefault[t].ConvergenceDelta!.Value, 6);
        }
    }

    [Theory]
    [InlineData("distilbert-sst2-tiny", 32)]
    [InlineData("distilbert-tiny-random-sst2", 9)]
    public void LayerIgWithTheClsOnlyLastBlockEqualsTheFullModel(string name, int tokens)
    {
        var dir = Shared.Model(name);
        var model = AutoModel.FromPretrained(dir);
        var labels = ModelConfig.Load(Path.Combine(dir, "config.json")).Id2Label;
        var fast = new TransformerExplainable(model, dir, labels);
        var naive = new TransformerExplainable(model, dir, labels, select: o => o.Logits!); // a selector: every position computed
        var rng = new Random(5);
        var ids = new int[tokens];
        ids[0] = 101; ids[^1] = 102;
        for (int i = 1; i < tokens - 1; i++) ids[i] = rng.Next(1000, 5000);
        var baseIds = ids.Select((v, i) => i == 0 || i == tokens - 1 ? v : 0).ToArray();
        var input = ModelInput.Single(ids); var baseline = ModelInput.Single(baseIds);
        foreach (var layer in new[] { "hook_embed", "blocks.0.hook_resid_post" })
        {
            var a = GradientMethods.LayerIntegratedGradients(fast, input, baseline, 1, layer, steps: 20);
            var b = GradientMethods.LayerIntegratedGradients(naive, input, baseline, 1, layer, steps: 20);
            AssertSame(b.Raw, a.Raw, 1e-5, $"{name} {layer}");
            Assert.Equal(b.ConvergenceDelta!.Value, a.ConvergenceDelta!.Value, 5);
            Assert.Equal(b.InputScore, a.InputScore, 6);
        }
    }
}
