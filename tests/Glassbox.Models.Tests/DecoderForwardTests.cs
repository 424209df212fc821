using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

/// <summary>Loads the decoder-only test models from ../shared/models.</summary>
internal static class DecoderModels
{
    public const string Gpt2 = "gpt2-tiny-random", NeoX = "gpt-neox-tiny-random", Llama = "llama-tiny-random";

    public static TransformerModel Load(string name)
    {
        var dir = SharedData.Model(name);
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoint.Open(dir);
        return config switch
        {
            Gpt2Config c => Architectures.Gpt2.Load(c, ckpt),
            GptNeoXConfig c => GptNeoX.Load(c, ckpt),
            LlamaConfig c => Architectures.Llama.Load(c, ckpt),
            _ => throw new InvalidOperationException($"{name} is not a decoder-only model"),
        };
    }

    public static ICausalLanguageModel Lm(string name) => (ICausalLanguageModel)Load(name);
}

public class DecoderForwardTests
{
    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void MatchesTransformersGolden(string name)
    {
        var model = DecoderModels.Load(name);
        var lm = (ICausalLanguageModel)model;
        using var golden = new ForwardGolden(name);
        var cases = golden.Cases;
        Assert.Equal(["right", "left"], cases.Select(c => c.GetProperty("padding_side").GetString()));
        bool rotary = name != DecoderModels.Gpt2;
        int nanRowsSeen = 0;
        foreach (var c in cases)
        {
            var input = ForwardGolden.Input(c);
            int b = input.Batch, s = input.SeqLength;
            var run = Run(model, input);
            string what = $"{name} ({c.GetProperty("padding_side").GetString()} padding)";

            // transformers 5 (eager, float64) returns NaN for a whole left-padded row of the rotary
            // models: its fully masked pad queries softmax to NaN, and 0·NaN carries that into the
            // real tokens at the next layer. Those rows are checked below against the right-padded
            // case instead; every other row directly.
            var lse = ForwardGolden.Nested(c.GetProperty("logits").GetProperty("logsumexp")).Values;
            var nanRow = Enumerable.Range(0, b).Select(r => double.IsNaN(lse[r * s + s - 1])).ToArray();
            for (int r = 0; r < b; r++)
                if (nanRow[r])
                {
                    Assert.True(rotary && input.AttentionMask![r * s] == 0, $"{what}: golden row {r} is NaN but is not a left-padded row of a rotary model");
                    nanRowsSeen++;
                }
            CheckAgainst(c, input, run, what, row => !nanRow[row]);

            // A left-padded row of a rotary model equals the same tokens right-padded (attention
            // sees only position differences): realign our row and check it against the right-padded golden.
            if (nanRow.Any(x => x))
            {
                var right = cases[0];
                var rightInput = ForwardGolden.Input(right);
                var shift = Enumerable.Range(0, b).Select(r => nanRow[r] ? input.AttentionMask!.Skip(r * s).Take(s).TakeWhile(m => m == 0).Count() : 0).ToArray();
                for (int r = 0; r < b; r++)
                    if (nanRow[r])
                        Assert.Equal(rightInput.InputIds.Skip(r * s).Take(s - shift[r]), input.InputIds.Skip(r * s + shift[r]).Take(s - shift[r]));
                var realigned = new Captured(Realign(run.Logits, shift, false), [.. run.Hidden.Select(t => Realign(t, shift, false))], [.. run.Attentions.Select(t => Realign(t, shift, true))]);
                CheckAgainst(right, rightInput, realigned, what + " realigned to right padding", row => nanRow[row]);
            }

            // The cache path gives the same logits.
            using var viaLm = lm.ForwardLogits(input, new KvCache());
            Assert.Equal(run.Logits.ToArray(), viaLm.ToArray());
        }
        Assert.Equal(rotary ? 1 : 0, nanRowsSeen);
    }

    /// <summary>Logits, hidden states (embeddings, each block, the last after the final norm, as transformers
    /// reports them) and attention patterns of one run.</summary>
    private sealed record Captured(Tensor Logits, Tensor[] Hidden, Tensor[] Attentions);

    private static Captured Run(TransformerModel model, ModelInput input)
    {
        int layers = model.LayerCount;
        ModelOutput output;
        ActivationCache cache, fin;
        using (model.Hooks.Capture("blocks.*", out cache))
        using (model.Hooks.Capture("ln_final.hook_normalized", out fin))
            output = model.Forward(input);
        Assert.Equal(fin["ln_final.hook_normalized"].ToArray(), output.LastHiddenState!.ToArray());
        Tensor[] hidden = [cache["blocks.0.hook_resid_pre"], .. Enumerable.Range(0, layers - 1).Select(i => cache[$"blocks.{i}.hook_resid_post"]), fin["ln_final.hook_normalized"]];
        return new Captured(output.Logits!, hidden, [.. Enumerable.Range(0, layers).Select(i => cache[$"blocks.{i}.attn.hook_pattern"])]);
    }

    private static void CheckAgainst(System.Text.Json.JsonElement c, ModelInput input, Captured run, string what, Func<int, bool> rowChecked)
    {
        int s = input.SeqLength;
        bool Valid(int flatPos) => input.AttentionMask![flatPos] == 1 && rowChecked(flatPos / s);
        ForwardGolden.AssertLogits($"{what} logits", c.GetProperty("logits"), run.Logits, Valid);
        var hs = c.GetProperty("hidden_states").EnumerateArray().ToArray();
        Assert.Equal(run.Hidden.Length, hs.Length);
        int h = run.Hidden[0].Shape[2];
        for (int i = 0; i < hs.Length; i++)
            ForwardGolden.AssertClose($"{what} hidden_states[{i}]", hs[i], run.Hidden[i], valid: j => Valid(j / h));
        var att = c.GetProperty("attentions").EnumerateArray().ToArray();
        Assert.Equal(run.Attentions.Length, att.Length);
        for (int i = 0; i < att.Length; i++)
        {
            int heads = run.Attentions[i].Shape[1];
            // rows of padded queries are not compared (their values are arbitrary in both implementations)
            ForwardGolden.AssertClose($"{what} attentions[{i}]", att[i], run.Attentions[i], valid: idx => Valid((idx / (s * heads * s)) * s + (idx / s) % s));
        }
    }

    /// <summary>Moves each batch row's positions left by shift[row] along axis 1 (or, for patterns
    /// [b, h, q, k], along both query and key axes), filling the vacated end with zeros.</summary>
    private static Tensor Realign(Tensor t, int[] shift, bool pattern)
    {
        var y = Tensor.Zeros(t.Shape);
        var X = t.Span; var Y = y.Span;
        if (!pattern)
        {
            int s = t.Shape[1], inner = t.Length / (t.Shape[0] * s);
            for (int b = 0; b < t.Shape[0]; b++)
                for (int j = 0; j + shift[b] < s; j++)
                    X.Slice((b * s + j + shift[b]) * inner, inner).CopyTo(Y.Slice((b * s + j) * inner, inner));
            return y;
        }
        int hN = t.Shape[1], q = t.Shape[2], k = t.Shape[3];
        for (int b = 0; b < t.Shape[0]; b++)
            for (int hh = 0; hh < hN; hh++)
                for (int i = 0; i + shift[b] < q; i++)
                    for (int j = 0; j + shift[b] < k; j++)
                        Y[((b * hN + hh) * q + i) * k + j] = X[((b * hN + hh) * q + i + shift[b]) * k + j + shift[b]];
        return y;
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void LoadedTensorsMatchTheGoldenSummaries(string name)
    {
        // fp16 (GPT-2) and bf16 (Llama) weights are widened to float32 exactly.
        var model = DecoderModels.Load(name);
        using var golden = new ForwardGolden(name);
        var tensors = golden.Root.GetProperty("tensors");
        int checkedCount = 0;
        foreach (var t in tensors.EnumerateObject())
        {
            // The golden lists transformers' module names; GPT-NeoX's head is embed_out in the file, lm_head in transformers 5.
            string ours = t.Name == "lm_head.weight" && name == DecoderModels.NeoX ? "embed_out.weight" : t.Name;
            if (!model.Parameters.TryGetValue(ours, out var p))
            {
                Assert.True(t.Name == "lm_head.weight" && name == DecoderModels.Gpt2, $"{name}: no parameter for golden tensor {t.Name}");
                p = model.Parameters["transformer.wte.weight"]; // tied
            }
            var shape = t.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            Assert.Equal(shape, p.Shape);
            double sum = 0;
            foreach (var v in p.Span) sum += v;
            double expected = t.Value.GetProperty("sum").GetDouble();
            Assert.True(Math.Abs(sum - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)) + 1e-4, $"{name} {t.Name}: sum {sum} vs golden {expected}");
            var first = t.Value.GetProperty("first").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], p.Span[i], 1e-7);
            checkedCount++;
        }
        Assert.True(checkedCount >= 20);
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2, 50256)]
    [InlineData(DecoderModels.NeoX, 0)]
    [InlineData(DecoderModels.Llama, 2)]
    public void LeftPaddedBatchGivesTheSameLastTokenLogitsAsThePromptAlone(string name, int pad)
    {
        // With explicit position ids from the mask cumsum (what generate passes), a left-padded
        // prompt gives the same logits as the prompt alone.
        var lm = DecoderModels.Lm(name);
        int[] prompt = [464, 3139, 286, 4881, 318], longer = [7454, 2402, 257, 640, 11, 287, 257, 1956, 1290];
        using var alone = lm.ForwardLogits(ModelInput.Single(prompt));
        var batch = ModelInput.Pad([prompt, longer], pad, padLeft: true);
        var pos = new int[batch.InputIds.Length];
        for (int r = 0; r < batch.Batch; r++)
            for (int j = 0, c = 0; j < batch.SeqLength; j++)
            {
                int m = batch.AttentionMask![r * batch.SeqLength + j];
                c += m;
                pos[r * batch.SeqLength + j] = m == 0 ? 1 : c - 1;
            }
        using var batched = lm.ForwardLogits(new ModelInput(batch.Batch, batch.SeqLength, batch.InputIds, batch.AttentionMask, positionIds: pos));
        int v = lm.VocabSize, s = batch.SeqLength;
        var a = alone.Span.Slice((prompt.Length - 1) * v, v);
        var b = batched.Span.Slice((s - 1) * v, v);
        double worst = 0;
        for (int j = 0; j < v; j++) worst = Math.Max(worst, Math.Abs(a[j] - b[j]));
        Assert.True(worst <= 1e-5, $"{name}: last-token logits differ by {worst:E2} between the prompt alone and left-padded in a batch");

        // Right padding needs no position ids: the prompt's own positions are 0..n-1.
        using var right = lm.ForwardLogits(ModelInput.Pad([prompt, longer], pad, padLeft: false));
        var rr = right.Span.Slice((prompt.Length - 1) * v, v);
        worst = 0;
        for (int j = 0; j < v; j++) worst = Math.Max(worst, Math.Abs(a[j] - rr[j]));
        Assert.True(worst <= 1e-5, $"{name}: right-padded last-token logits differ by {worst:E2}");
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2, "n_positions is 64")]
    [InlineData(DecoderModels.NeoX, "max_position_embeddings is 64")]
    [InlineData(DecoderModels.Llama, "max_position_embeddings is 64")]
    public void TooLongPromptNamesTheLimitAndTheWayOut(string name, string limit)
    {
        var lm = DecoderModels.Lm(name);
        var e = Assert.Throws<ArgumentException>(() => lm.ForwardLogits(ModelInput.Single(Enumerable.Repeat(11, 65).ToArray())));
        Assert.Contains(limit, e.Message);
        Assert.Contains("truncate", e.Message);
        // Exactly at the limit is fine.
        using var ok = lm.ForwardLogits(ModelInput.Single(Enumerable.Repeat(11, 64).ToArray()));
        Assert.Equal([1, 64, lm.VocabSize], ok.Shape);
        // Through a cache: 60 cached + 5 new is over the limit too.
        var cache = new KvCache();
        using var _ = lm.ForwardLogits(ModelInput.Single(Enumerable.Repeat(11, 60).ToArray()), cache);
        var e2 = Assert.Throws<ArgumentException>(() => lm.ForwardLogits(ModelInput.Single(Enumerable.Repeat(11, 5).ToArray()), cache));
        Assert.Contains("64", e2.Message);
        Assert.Contains("--max-new-tokens", e2.Message);
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void CachedForwardEqualsFullForward(string name)
    {
        // Prompt in two chunks through a cache (with a left-padded batch) = one full forward.
        var lm = DecoderModels.Lm(name);
        int[] ids = [7454, 2402, 257, 640, 11, 287, 257, 1956, 1290];
        var batch = ModelInput.Pad([ids, ids[3..]], 0, padLeft: true);
        int s = batch.SeqLength, v = lm.VocabSize;
        using var full = lm.ForwardLogits(batch);
        var cache = new KvCache();
        int[] Part(int[] a, int from, int len) => [.. Enumerable.Range(0, batch.Batch).SelectMany(r => a.Skip(r * s + from).Take(len))];
        using var first = lm.ForwardLogits(new ModelInput(2, 5, Part(batch.InputIds, 0, 5), Part(batch.AttentionMask!, 0, 5)), cache);
        Assert.Equal(5, cache.Length);
        using var second = lm.ForwardLogits(new ModelInput(2, s - 5, Part(batch.InputIds, 5, s - 5), Part(batch.AttentionMask!, 5, s - 5)), cache);
        Assert.Equal(s, cache.Length);
        double worst = 0;
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < s; j++)
            {
                if (batch.AttentionMask![r * s + j] == 0) continue;
                var part = j < 5 ? first.Span.Slice((r * 5 + j) * v, v) : second.Span.Slice((r * (s - 5) + j - 5) * v, v);
                var want = full.Span.Slice((r * s + j) * v, v);
                for (int k = 0; k < v; k++) worst = Math.Max(worst, Math.Abs(part[k] - want[k]));
            }
        Assert.True(worst <= 1e-5, $"{name}: cached vs full logits differ by {worst:E2}");
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void LastTokenLogitsAreTheLastRowOfTheFullLogits(string name)
    {
        var lm = DecoderModels.Lm(name);
        var batch = ModelInput.Pad([[464, 3139, 286], [7454, 2402, 257, 640, 11]], 0, padLeft: true);
        using var full = lm.ForwardLogits(batch);
        using var last = ((Generation.ILastTokenLogits)lm).ForwardLastLogits(batch);
        int s = batch.SeqLength, v = lm.VocabSize;
        Assert.Equal([2, 1, v], last.Shape);
        double worst = 0;
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < v; j++) worst = Math.Max(worst, Math.Abs(full.Span[(r * s + s - 1) * v + j] - last.Span[r * v + j]));
        Assert.True(worst <= 1e-6, $"{name}: last-token logits differ by {worst:E2}");
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void UnembedIsTheLogitLens(string name)
    {
        var model = DecoderModels.Load(name);
        var lm = (ICausalLanguageModel)model;
        var input = ModelInput.Single([464, 3139, 286, 4881, 318]);
        Tensor logits;
        using (model.Hooks.Capture($"blocks.{model.LayerCount - 1}.hook_resid_post", out var cache))
        using (model.Hooks.Capture("ln_final.hook_normalized", out var fin))
        {
            logits = lm.ForwardLogits(input);
            Assert.Equal(logits.ToArray(), lm.Unembed(cache[$"blocks.{model.LayerCount - 1}.hook_resid_post"]).ToArray());
            Assert.Equal(logits.ToArray(), lm.Unembed(fin["ln_final.hook_normalized"], withFinalNorm: false).ToArray());
        }
        Assert.Equal(lm.VocabSize, lm.TokenEmbeddings.Shape[0]);
    }
}
