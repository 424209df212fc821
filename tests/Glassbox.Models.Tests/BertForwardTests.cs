using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public class BertForwardTests
{
    [Theory]
    [InlineData("bert-tiny-random-mlm", BertHead.MaskedLM)]
    [InlineData("bert-tiny-random-qa", BertHead.QuestionAnswering)]
    [InlineData("bert-tiny-random-ner", BertHead.TokenClassification)]
    [InlineData("bert-tiny-random-multilabel", BertHead.SequenceClassification)]
    [InlineData("bert-tiny-random-crossencoder", BertHead.SequenceClassification)]
    [InlineData("bert-tiny-random-regression", BertHead.SequenceClassification)]
    public void MatchesTransformersGolden(string name, BertHead head)
    {
        var dir = SharedData.Model(name);
        var config = (BertConfig)ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoint.Open(dir);
        var model = Bert.Load(config, head, ckpt);
        using var golden = new ForwardGolden(name);
        foreach (var c in golden.Cases)
        {
            var input = ForwardGolden.Input(c);
            using var _ = model.Hooks.Capture("blocks.*", out var cache);
            using var __ = model.Hooks.Capture("hook_*", out var emb);
            var output = model.Forward(input);
            int s = input.SeqLength;
            bool ValidPos(int flatPos) => input.AttentionMask![flatPos] == 1;
            if (c.TryGetProperty("logits", out var logits))
            {
                Func<int, bool>? valid = head == BertHead.SequenceClassification ? null : ValidPos;
                ForwardGolden.AssertLogits($"{name} logits", logits, output.Logits!, valid);
            }
            if (c.TryGetProperty("start_logits", out var st))
            {
                ForwardGolden.AssertClose($"{name} start", st, output.StartLogits!, 1e-4, 1e-4);
                ForwardGolden.AssertClose($"{name} end", c.GetProperty("end_logits"), output.EndLogits!, 1e-4, 1e-4);
            }
            var hs = c.GetProperty("hidden_states").EnumerateArray().ToArray();
            int h = config.HiddenSize;
            Assert.Equal(config.NumHiddenLayers + 1, hs.Length);
            ForwardGolden.AssertClose($"{name} hidden_states[0]", hs[0], cache["blocks.0.hook_resid_pre"], valid: i => ValidPos(i / h));
            for (int i = 0; i < config.NumHiddenLayers; i++)
                ForwardGolden.AssertClose($"{name} hidden_states[{i + 1}]", hs[i + 1], cache[$"blocks.{i}.hook_resid_post"], valid: i2 => ValidPos(i2 / h));
            var att = c.GetProperty("attentions").EnumerateArray().ToArray();
            for (int i = 0; i < config.NumHiddenLayers; i++)
            {
                var p = cache[$"blocks.{i}.attn.hook_pattern"];
                int heads = p.Shape[1];
                // rows of padded queries are arbitrary in both implementations' use; compare valid query rows
                ForwardGolden.AssertClose($"{name} attentions[{i}]", att[i], p, valid: idx => ValidPos((idx / (s * heads * s)) * s + (idx / s) % s));
            }
        }
    }

    [Fact]
    public void BinAndSafetensorsGiveIdenticalOutputs()
    {
        var dir = SharedData.Model("bert-tiny-random-mlm");
        var config = (BertConfig)ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var a = Checkpoint.Open(Path.Combine(dir, "model.safetensors"));
        using var b = Checkpoint.Open(Path.Combine(dir, "pytorch_model.bin"));
        var input = ModelInput.Single([101, 1045, 2293, 2017, 102]);
        var la = Bert.Load(config, BertHead.MaskedLM, a).Forward(input).Logits!.ToArray();
        var lb = Bert.Load(config, BertHead.MaskedLM, b).Forward(input).Logits!.ToArray();
        Assert.Equal(la, lb);
    }

    [Fact]
    public void PaddingInvariance()
    {
        var dir = SharedData.Model("bert-tiny-random-multilabel");
        var config = (BertConfig)ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoint.Open(dir);
        var model = Bert.Load(config, BertHead.SequenceClassification, ckpt);
        int[] sentence = [101, 1045, 2293, 2017, 102];
        var alone = model.Forward(ModelInput.Single(sentence)).Logits!.ToArray();
        var batch = ModelInput.Pad([sentence, [101, 1996, 3185, 2001, 2025, 2204, 2012, 2035, 1010, 102]], padId: 0);
        var batched = model.Forward(batch).Logits!;
        for (int j = 0; j < alone.Length; j++) Assert.True(Math.Abs(alone[j] - batched.Span[j]) <= 1e-5, $"label {j}: {alone[j]} vs {batched.Span[j]}");
    }

    [Fact]
    public void TooLongInputNamesTheLimitAndTheWayOut()
    {
        var dir = SharedData.Model("bert-tiny-random-mlm");
        var config = (BertConfig)ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoint.Open(dir);
        var model = Bert.Load(config, BertHead.MaskedLM, ckpt);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ModelInput.Single(Enumerable.Repeat(1000, 65).ToArray())));
        Assert.Contains("max_position_embeddings is 64", e.Message);
        Assert.Contains("truncat", e.Message);
    }
}
