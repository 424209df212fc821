// ModelInput.HeadOnly: DistilBERT sequence classification computes its last block for [CLS] alone.
// The naive twin is the same model run without the flag (every position of every block); logits and
// input gradients must agree, and a hook on the last block must still see every position.
using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public class HeadOnlyForwardTests
{
    private static DistilBert Load(string name)
    {
        var config = (DistilBertConfig)ModelConfig.Load(Path.Combine(SharedData.Model(name), "config.json"));
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        return DistilBert.Load(config, DistilBertHead.SequenceClassification, ckpt);
    }

    // Two rows, the second right-padded, so the attention mask matters in the [CLS]-only block.
    private static ModelInput Batch() => ModelInput.Pad([[101, 2023, 3185, 2001, 2307, 1012, 102], [101, 6659, 102]], padId: 0);

    private static void AssertClose(Tensor expected, Tensor actual, double rel, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double scale = Math.Max(1e-30, expected.ToArray().Max(v => Math.Abs((double)v)));
        var e = expected.Span; var a = actual.Span;
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= rel * scale, $"{what}[{i}]: full {e[i]}, head-only {a[i]} (scale {scale})");
    }

    [Theory]
    [InlineData("distilbert-sst2-tiny")]
    [InlineData("distilbert-tiny-random-sst2")]
    public void HeadOnlyLogitsEqualTheFullForward(string name)
    {
        var model = Load(name);
        var input = Batch();
        var full = model.Forward(input);
        var head = model.Forward(input.AsHeadOnly());
        AssertClose(full.Logits!, head.Logits!, 1e-5, "logits");
        Assert.Equal(new[] { 2, input.SeqLength, model.Config.Dim }, full.LastHiddenState!.Shape);
        // Only [CLS] of the last block was computed, and it equals the full forward's [CLS].
        Assert.Equal(new[] { 2, 1, model.Config.Dim }, head.LastHiddenState!.Shape);
        AssertClose(Ops.Narrow(full.LastHiddenState!, 1, 0, 1), head.LastHiddenState!, 1e-5, "[CLS] hidden state");
    }

    [Fact]
    public void HeadOnlyInputGradientsEqualTheFullBackward()
    {
        var model = Load("distilbert-sst2-tiny");
        var input = Batch();
        Tensor Grad(ModelInput x)
        {
            using var tape = Tape.Record();
            ActivationCache cache;
            Tensor logits;
            using (model.Hooks.Capture("hook_embed", out cache)) logits = model.Forward(x).Logits!;
            var score = Ops.Sum(Ops.Narrow(logits, -1, 1, 1));
            return tape.Gradient(score, cache["hook_embed"])[0];
        }
        var full = Grad(input);
        var head = Grad(input.AsHeadOnly());
        AssertClose(full, head, 1e-5, "d logit / d embedding");
        Assert.Contains(full.ToArray(), v => v != 0);
    }

    [Theory]
    [InlineData("blocks.1.hook_resid_post")]
    [InlineData("blocks.1.attn.hook_pattern")]
    [InlineData("blocks.*.mlp.hook_post")]
    [InlineData("*")]
    public void AHookOnTheLastBlockSeesEveryPosition(string pattern)
    {
        var model = Load("distilbert-sst2-tiny");
        Assert.Equal(2, model.Config.NLayers);
        var input = Batch();
        var full = model.Forward(input);
        ActivationCache cache;
        ModelOutput head;
        using (model.Hooks.Capture(pattern, out cache)) head = model.Forward(input.AsHeadOnly());
        Assert.NotEmpty(cache);
        foreach (var (hookName, t) in cache)
            if (hookName.StartsWith("blocks.1.", StringComparison.Ordinal) && !hookName.Contains("attn.hook_"))
                Assert.Equal(input.SeqLength, t.Shape[1]);
        Assert.Equal(new[] { 2, input.SeqLength, model.Config.Dim }, head.LastHiddenState!.Shape);
        AssertClose(full.Logits!, head.Logits!, 1e-6, "logits");
    }

    [Fact]
    public void AHookElsewhereKeepsTheShortcut()
    {
        var model = Load("distilbert-sst2-tiny");
        var input = Batch();
        ActivationCache cache;
        ModelOutput head;
        using (model.Hooks.Capture("blocks.0.hook_resid_post", out cache)) head = model.Forward(input.AsHeadOnly());
        Assert.Equal(new[] { 2, input.SeqLength, model.Config.Dim }, cache["blocks.0.hook_resid_post"].Shape);
        Assert.Equal(new[] { 2, 1, model.Config.Dim }, head.LastHiddenState!.Shape);
    }

    [Fact]
    public void AsHeadOnlyKeepsEveryField()
    {
        var input = new ModelInput(1, 3, [101, 7, 102], [1, 1, 0], [0, 0, 1], [0, 1, 2]);
        var h = input.AsHeadOnly();
        Assert.True(h.HeadOnly); Assert.False(input.HeadOnly);
        Assert.Equal(input.InputIds, h.InputIds); Assert.Equal(input.AttentionMask, h.AttentionMask);
        Assert.Equal(input.TokenTypeIds, h.TokenTypeIds); Assert.Equal(input.PositionIds, h.PositionIds);
        Assert.Same(h, h.AsHeadOnly());
    }
}
