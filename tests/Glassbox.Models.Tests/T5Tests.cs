using System.Text.Json;
using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;
using Xunit.Abstractions;

namespace Glassbox.Models.Tests;

public class T5Tests(ITestOutputHelper log)
{
    private const string Name = "t5-tiny-random";

    /// <summary>Asserts like ForwardGolden.AssertClose (1e-4 absolute) and logs the worst error seen.</summary>
    private void Close(string what, JsonElement expected, Tensor actual)
    {
        var (vals, _) = ForwardGolden.Nested(expected);
        double worst = 0;
        if (vals.Length == actual.Length)
            for (int i = 0; i < vals.Length; i++) worst = Math.Max(worst, Math.Abs(vals[i] - actual.Span[i]));
        log.WriteLine($"{what}: max |error| {worst:E2}");
        ForwardGolden.AssertClose(what, expected, actual);
    }

    private static (T5 Model, T5Config Config) LoadTiny()
    {
        var dir = SharedData.Model(Name);
        var config = (T5Config)ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoint.Open(dir);
        return (T5.Load(config, ckpt), config);
    }

    [Fact]
    public void MatchesTransformersForwardGolden()
    {
        var (model, config) = LoadTiny();
        Assert.True(model.ScalesDecoderOutputs);
        using var golden = new ForwardGolden(Name);
        foreach (var c in golden.Cases)
        {
            var source = ForwardGolden.Input(c);
            var decIds = ForwardGolden.Ints2(c.GetProperty("inputs").GetProperty("decoder_input_ids"));
            var target = new ModelInput(decIds.GetLength(0), decIds.GetLength(1), ForwardGolden.Flat(decIds));
            using var _ = model.Hooks.Capture("encoder.*", out var enc);
            using var __ = model.Hooks.Capture("decoder.*", out var dec);
            var output = model.Forward(source, target);

            ForwardGolden.AssertLogits($"{Name} logits", c.GetProperty("logits"), output.Logits);
            Close($"{Name} encoder_last_hidden_state", c.GetProperty("encoder_last_hidden_state"), output.EncoderHidden);

            CheckStack("encoder", c.GetProperty("encoder_hidden_states"), c.GetProperty("encoder_attentions"), enc, config.NumLayers);
            CheckStack("decoder", c.GetProperty("decoder_hidden_states"), c.GetProperty("decoder_attentions"), dec, config.NumDecoderLayers);
            var cross = c.GetProperty("cross_attentions").EnumerateArray().ToArray();
            Assert.Equal(config.NumDecoderLayers, cross.Length);
            for (int i = 0; i < cross.Length; i++)
                Close($"{Name} cross_attentions[{i}]", cross[i], dec[$"decoder.blocks.{i}.cross_attn.hook_pattern"]);
        }

        // transformers' hidden_states: the embeddings, each block's output, and — last — the final norm's output.
        void CheckStack(string stack, JsonElement hidden, JsonElement attentions, ActivationCache cache, int layers)
        {
            var hs = hidden.EnumerateArray().ToArray();
            Assert.Equal(layers + 1, hs.Length);
            Close($"{Name} {stack}_hidden_states[0]", hs[0], cache[$"{stack}.blocks.0.hook_resid_pre"]);
            for (int i = 1; i < layers; i++)
                Close($"{Name} {stack}_hidden_states[{i}]", hs[i], cache[$"{stack}.blocks.{i - 1}.hook_resid_post"]);
            Close($"{Name} {stack}_hidden_states[{layers}]", hs[layers], cache[$"{stack}.ln_final.hook_normalized"]);
            var att = attentions.EnumerateArray().ToArray();
            Assert.Equal(layers, att.Length);
            for (int i = 0; i < layers; i++)
                Close($"{Name} {stack}_attentions[{i}]", att[i], cache[$"{stack}.blocks.{i}.attn.hook_pattern"]);
        }
    }

    [Fact]
    public void GoldenTensorsAreLoadedAsStored()
    {
        var (model, _) = LoadTiny();
        using var golden = new ForwardGolden(Name);
        foreach (var p in golden.Root.GetProperty("tensors").EnumerateObject())
        {
            // encoder/decoder.embed_tokens and lm_head are transformers' tied views of shared.weight.
            string name = p.Name is "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight" or "lm_head.weight" ? "shared.weight" : p.Name;
            var t = model.Parameters[name];
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            Assert.Equal(shape, t.Shape);
            double sum = 0; foreach (var v in t.Span) sum += v;
            double expected = p.Value.GetProperty("sum").GetDouble();
            Assert.True(Math.Abs(sum - expected) <= 1e-3 + 1e-6 * Math.Abs(expected), $"{p.Name}: sum {sum} vs golden {expected}");
        }
    }

    /// <summary>Greedy decoding as the golden did it (full re-forward each step), and again through the
    /// KV cache: the same tokens, per-step top-10 probabilities within 1e-4 of transformers'.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GreedyDecodingMatchesGenerationGolden(bool useCache)
    {
        var (model, _) = LoadTiny();
        using var doc = PythonJson.Parse(Path.Combine(SharedData.Model(Name), "generation.json"));
        var g = doc.RootElement;
        var src = g.GetProperty("encoder_ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        int start = g.GetProperty("decoder_start_token_id").GetInt32();
        Assert.Equal(start, model.DecoderStartTokenId);
        var expectedIds = g.GetProperty("generated_ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var steps = g.GetProperty("steps").EnumerateArray().ToArray();

        var (ids, probs) = Greedy(model, src, expectedIds.Length, useCache);
        Assert.Equal(expectedIds, ids);
        double worstP = 0;
        for (int s = 0; s < steps.Length; s++)
        {
            var topIds = steps[s].GetProperty("top_ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var topP = steps[s].GetProperty("top_probabilities").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int j = 0; j < topIds.Length; j++) worstP = Math.Max(worstP, Math.Abs(probs[s][topIds[j]] - topP[j]));
            for (int j = 0; j < topIds.Length; j++)
                Assert.True(Math.Abs(probs[s][topIds[j]] - topP[j]) <= 1e-4, $"step {s} id {topIds[j]}: p {probs[s][topIds[j]]} vs golden {topP[j]}");
            var ours = Enumerable.Range(0, probs[s].Length).OrderByDescending(i => probs[s][i]).Take(topIds.Length).ToArray();
            Assert.Equal(topIds[0], ours[0]);
        }
        log.WriteLine($"greedy (cache {useCache}): {ids.Length} tokens equal; top-10 probabilities max |error| {worstP:E2}");
    }

    [Fact]
    public void CachedAndUncachedDecodingAgree()
    {
        var (model, _) = LoadTiny();
        int[] src = [10680, 27409, 20266, 21288, 10375, 474, 1204, 705, 3805, 23, 1017, 13223, 14187, 794, 3836, 1146, 5845, 18242, 4, 2];
        var (a, pa) = Greedy(model, src, 12, useCache: false);
        var (b, pb) = Greedy(model, src, 12, useCache: true);
        Assert.Equal(a, b);
        for (int s = 0; s < pa.Length; s++)
            for (int v = 0; v < pa[s].Length; v++)
                Assert.True(Math.Abs(pa[s][v] - pb[s][v]) <= 1e-6, $"step {s} id {v}: {pa[s][v]} vs cached {pb[s][v]}");
    }

    /// <summary>Greedy decoding through DecodeLogits; returns the tokens and each step's full distribution.</summary>
    private static (int[] Ids, double[][] Probs) Greedy(T5 model, int[] source, int steps, bool useCache)
    {
        var input = ModelInput.Single(source);
        var encoded = model.Encode(input);
        var cache = useCache ? new KvCache() : null;
        var dec = new List<int> { model.DecoderStartTokenId };
        var ids = new List<int>(); var probs = new List<double[]>();
        for (int s = 0; s < steps; s++)
        {
            var step = useCache && s > 0 ? new ModelInput(1, 1, [dec[^1]]) : new ModelInput(1, dec.Count, [.. dec]);
            var logits = model.DecodeLogits(encoded, input.AttentionMask, step, cache);
            int v = logits.Shape[^1];
            var last = logits.Span.Slice(logits.Length - v, v);
            double m = double.NegativeInfinity; foreach (var x in last) m = Math.Max(m, x);
            var p = new double[v]; double z = 0;
            for (int i = 0; i < v; i++) { p[i] = Math.Exp(last[i] - m); z += p[i]; }
            int best = 0;
            for (int i = 0; i < v; i++) { p[i] /= z; if (p[i] > p[best]) best = i; }
            ids.Add(best); probs.Add(p); dec.Add(best);
        }
        if (cache is not null) Assert.Equal(steps, cache.Length);
        return ([.. ids], [.. probs]);
    }

    /// <summary>A padded batch of two sources decoded step by step through one cache: each row agrees
    /// with uncached decoding, and the padded row with the same sentence decoded alone.</summary>
    [Fact]
    public void BatchedCachedDecodingOverPaddedSources()
    {
        var (model, _) = LoadTiny();
        int[] shortSrc = [8, 16342, 13555, 2];
        var batch = ModelInput.Pad([shortSrc, [10680, 27409, 20266, 21288, 10375, 474, 2]], padId: 0);
        var encoded = model.Encode(batch);
        var cache = new KvCache();
        int[][] targets = [[0, 644, 4598, 229, 13], [0, 2116, 7, 99, 5]];
        int v = model.VocabSize;
        for (int t = 0; t < targets[0].Length; t++)
        {
            var step = model.DecodeLogits(encoded, batch.AttentionMask, new ModelInput(2, 1, [targets[0][t], targets[1][t]]), cache);
            var prefix = new ModelInput(2, t + 1, [.. targets[0][..(t + 1)], .. targets[1][..(t + 1)]]);
            var full = model.DecodeLogits(encoded, batch.AttentionMask, prefix);
            var alone = model.DecodeLogits(model.Encode(ModelInput.Single(shortSrc)), null, new ModelInput(1, t + 1, targets[0][..(t + 1)]));
            for (int row = 0; row < 2; row++)
                for (int j = 0; j < v; j++)
                {
                    float cached = step.Span[row * v + j], uncached = full.Span[(row * (t + 1) + t) * v + j];
                    Assert.True(Math.Abs(cached - uncached) <= 1e-5, $"step {t} row {row} id {j}: cached {cached} vs uncached {uncached}");
                    if (row == 0) Assert.True(Math.Abs(cached - alone.Span[t * v + j]) <= 1e-5, $"step {t} id {j}: batched {cached} vs alone {alone.Span[t * v + j]}");
                }
        }
        Assert.Equal(targets[0].Length, cache.Length);
    }

    /// <summary>Gradients flow from a decoder logit back through cross-attention into the encoder.</summary>
    [Fact]
    public void GradientAtAnEncoderResidualEqualsFiniteDifference()
    {
        var (model, config) = LoadTiny();
        const string at = "encoder.blocks.1.hook_resid_pre";
        var source = ModelInput.Single([8, 16342, 13555, 14329, 23, 2]);
        var target = new ModelInput(1, 3, [0, 644, 4598]);
        int v = model.VocabSize, targetId = 229, pos = 2, s = source.SeqLength, h = config.DModel;
        float Logit(Tensor logits) => logits.Span[pos * v + targetId];
        Tensor grad;
        using (var tape = Tape.Record())
        using (model.Hooks.Capture(at, out var cache))
        {
            var logits = model.Forward(source, target).Logits;
            var y = Ops.Sum(Ops.Narrow(Ops.Narrow(logits, 1, pos, 1), 2, targetId, 1));
            grad = tape.Gradient(y, cache[at])[0];
        }
        Assert.Equal([1, s, h], grad.Shape);
        const float eps = 1e-2f;
        double worst = 0, norm = 0;
        foreach (int p in new[] { 0, s / 2, s - 1 })
            for (int j = 0; j < h; j++)
            {
                int idx = p * h + j;
                float F(float delta)
                {
                    using (model.Hooks.Replace(at, (_, x) => { var y = x.Clone(); y.Span[idx] += delta; return y; }))
                        return Logit(model.Forward(source, target).Logits);
                }
                double fd = (F(eps) - F(-eps)) / (2.0 * eps), g = grad.Span[idx];
                worst = Math.Max(worst, Math.Abs(fd - g) / (1e-2 + Math.Abs(g)));
                norm = Math.Max(norm, Math.Abs(g));
            }
        Assert.True(norm > 1e-3, "gradient is (near) zero");
        Assert.True(worst < 2e-2, $"gradient vs finite difference, worst relative error {worst:E2}");
    }

    [Fact]
    public void SourcePaddingDoesNotChangeTheResult()
    {
        var (model, _) = LoadTiny();
        int[] sentence = [8, 16342, 13555, 14329, 23, 2];
        int[] longer = [10680, 27409, 20266, 21288, 10375, 474, 1204, 705, 3805, 2];
        var target = new ModelInput(1, 3, [0, 644, 4598]);
        var alone = model.Forward(ModelInput.Single(sentence), target).Logits.ToArray();
        foreach (bool left in new[] { false, true })
        {
            var batch = ModelInput.Pad([sentence, longer], padId: 0, padLeft: left);
            var batched = model.Forward(batch, new ModelInput(2, 3, [0, 644, 4598, 0, 644, 4598])).Logits;
            // T5's relative positions make left padding shift nothing within the sentence (distances are unchanged).
            for (int j = 0; j < alone.Length; j++)
                Assert.True(Math.Abs(alone[j] - batched.Span[j]) <= 1e-5, $"padLeft {left} logit {j}: {alone[j]} vs {batched.Span[j]}");
        }
    }

    [Fact]
    public void OneStepForwardIsTheFirstDecoderStep()
    {
        var (model, _) = LoadTiny();
        var input = ModelInput.Single([8, 16342, 13555, 2]);
        var one = model.Forward(input).Logits!;
        Assert.Equal([1, 1, model.VocabSize], one.Shape);
        var full = model.Forward(input, new ModelInput(1, 1, [model.DecoderStartTokenId])).Logits;
        Assert.Equal(full.ToArray(), one.ToArray());
    }

    [Fact]
    public void LogitLensOnTheLastDecoderBlockGivesTheLogits()
    {
        var (model, config) = LoadTiny();
        var input = ModelInput.Single([8, 16342, 13555, 2]);
        using var _ = model.Hooks.Capture($"decoder.blocks.{config.NumDecoderLayers - 1}.hook_resid_post", out var cache);
        var logits = model.Forward(input, new ModelInput(1, 2, [0, 644])).Logits;
        var lens = model.Unembed(cache[$"decoder.blocks.{config.NumDecoderLayers - 1}.hook_resid_post"]);
        Assert.Equal(logits.ToArray(), lens.ToArray());
    }

    [Fact]
    public void ZeroingCrossAttentionMakesTheDecoderIgnoreTheSource()
    {
        var (model, _) = LoadTiny();
        var target = new ModelInput(1, 2, [0, 644]);
        float[] Run(int[] src) => model.Forward(ModelInput.Single(src), target).Logits.ToArray();
        var a = Run([8, 16342, 13555, 2]); var b = Run([10680, 27409, 2]);
        Assert.True(a.Zip(b).Max(t => Math.Abs(t.First - t.Second)) > 1e-3, "different sources should give different logits");
        using (model.Hooks.Zero("decoder.blocks.*.hook_cross_attn_out"))
        {
            var za = Run([8, 16342, 13555, 2]); var zb = Run([10680, 27409, 2]);
            Assert.Equal(za, zb);
        }
    }

    [Fact]
    public void EmptySourceIsAClearError()
    {
        var (model, _) = LoadTiny();
        var e = Assert.Throws<ArgumentException>(() => model.Encode(new ModelInput(1, 0, [])));
        Assert.Contains("source is empty", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => model.Forward(new ModelInput(1, 0, [])));
        Assert.Contains("source is empty", e2.Message);
    }

    [Fact]
    public void LongSourcesHaveNoPositionLimit()
    {
        // Relative buckets saturate at max_distance, so there is no max_position_embeddings to exceed.
        var (model, config) = LoadTiny();
        int n = config.RelativeAttentionMaxDistance + 20;
        var src = Enumerable.Range(0, n).Select(i => 100 + i).ToArray();
        var logits = model.Forward(ModelInput.Single(src)).Logits!;
        Assert.All(logits.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ACheckpointMissingALayerNamesIt()
    {
        var dir = SharedData.Model(Name);
        var config = (T5Config)ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var tmp = new TempDir();
        const string dropped = "decoder.block.1.layer.2.DenseReluDense.wo.weight";
        using (var ckpt = Checkpoint.Open(dir))
        {
            var w = new SafetensorsWriter();
            foreach (var n in ckpt.Names.Where(n => n != dropped)) w.Add(n, ckpt.ToTensor(n));
            w.Save(tmp.File("model.safetensors"));
        }
        using var broken = Checkpoint.Open(tmp.File("model.safetensors"));
        var e = Assert.Throws<WeightBindingException>(() => T5.Load(config, broken));
        Assert.Contains("missing (1)", e.Message);
        Assert.Contains(dropped, e.Message);
    }

    private static T5Config TinyConfigWith(Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.Model(Name), "config.json")))!.AsObject();
        edit(json);
        return (T5Config)ModelConfig.Parse(json.ToJsonString());
    }

    /// <summary>T5 v1.1 / Flan layout: untied head stored as lm_head.weight, embeddings stored under the
    /// stacks' names only, no d_model^-½ scaling (no scale_decoder_outputs key, tie_word_embeddings false).</summary>
    [Fact]
    public void UntiedHeadUsesLmHeadWeightWithoutScaling()
    {
        var config = TinyConfigWith(j => { j["tie_word_embeddings"] = false; j.Remove("scale_decoder_outputs"); });
        using var tmp = new TempDir();
        using var lmHead = Tensor.RandomNormal([config.VocabSize, config.DModel], seed: 7, std: 0.2f);
        using (var ckpt = Checkpoint.Open(SharedData.Model(Name)))
        {
            var w = new SafetensorsWriter();
            foreach (var n in ckpt.Names)
            {
                using var t = ckpt.ToTensor(n);
                if (n == "shared.weight") { w.Add("encoder.embed_tokens.weight", t); w.Add("decoder.embed_tokens.weight", t); }
                else w.Add(n, t);
            }
            w.Add("lm_head.weight", lmHead);
            w.Save(tmp.File("model.safetensors"));
        }
        using var file = Checkpoint.Open(tmp.File("model.safetensors"));
        var model = T5.Load(config, file);
        Assert.False(model.ScalesDecoderOutputs);
        using var _ = model.Hooks.Capture("decoder.ln_final.hook_normalized", out var cache);
        var logits = model.Forward(ModelInput.Single([8, 16342, 13555, 2]), new ModelInput(1, 2, [0, 644])).Logits;
        var expected = Ops.Linear(cache["decoder.ln_final.hook_normalized"], lmHead);
        Assert.Equal(expected.ToArray(), logits.ToArray());
        // And the tied model (same weights otherwise) gives different logits: the head really changed.
        var (tied, _) = LoadTiny();
        var tiedLogits = tied.Forward(ModelInput.Single([8, 16342, 13555, 2]), new ModelInput(1, 2, [0, 644])).Logits;
        Assert.NotEqual(tiedLogits.ToArray(), logits.ToArray());
    }

    /// <summary>feed_forward_proj "gated-gelu": wo·(gelu_new(wi_0·x) ⊙ wi_1·x), checked against a scalar twin.</summary>
    [Fact]
    public void GatedGeluFeedForwardMatchesAScalarTwin()
    {
        var config = TinyConfigWith(j => { j["feed_forward_proj"] = "gated-gelu"; j["vocab_size"] = 50; });
        Assert.True(config.IsGatedAct);
        var expected = T5.ExpectedParameters(config);
        Assert.Contains("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", expected.Keys);
        Assert.DoesNotContain("encoder.block.0.layer.1.DenseReluDense.wi.weight", expected.Keys);
        int seed = 1;
        var parameters = expected.ToDictionary(kv => kv.Key, kv => Tensor.RandomNormal(kv.Value, seed++, std: 0.3f));
        var model = new T5(config, parameters, scaleDecoderOutputs: true);
        using var _ = model.Hooks.Capture("encoder.blocks.1.*", out var cache);
        model.Forward(ModelInput.Single([3, 14, 15, 9, 2]), new ModelInput(1, 2, [0, 7]));
        var pre = cache["encoder.blocks.1.mlp.hook_pre"].Span; var lin = cache["encoder.blocks.1.mlp.hook_pre_linear"].Span;
        var post = cache["encoder.blocks.1.mlp.hook_post"]; var mlpOut = cache["encoder.blocks.1.hook_mlp_out"];
        for (int i = 0; i < pre.Length; i++)
        {
            double x = pre[i], gelu = 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            Assert.True(Math.Abs(gelu * lin[i] - post.Span[i]) <= 1e-5, $"hook_post[{i}]: {post.Span[i]} vs {gelu * lin[i]}");
        }
        var wo = parameters["encoder.block.1.layer.1.DenseReluDense.wo.weight"]; // [d_model, d_ff]
        int rows = post.Length / config.DFf;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < config.DModel; o++)
            {
                double acc = 0;
                for (int f = 0; f < config.DFf; f++) acc += (double)post.Span[r * config.DFf + f] * wo.Span[o * config.DFf + f];
                Assert.True(Math.Abs(acc - mlpOut.Span[r * config.DModel + o]) <= 1e-4, $"hook_mlp_out[{r},{o}]: {mlpOut.Span[r * config.DModel + o]} vs {acc}");
            }
    }

    [Fact]
    public void RelativePositionBucketsFollowMeshTensorFlow()
    {
        // Encoder (bidirectional, 32 buckets, max distance 128): 16 per direction, 8 exact.
        int Bi(int rp) => T5.RelativePositionBucket(rp, true, 32, 128);
        Assert.Equal(0, Bi(0)); Assert.Equal(1, Bi(-1)); Assert.Equal(7, Bi(-7)); Assert.Equal(17, Bi(1)); Assert.Equal(23, Bi(7));
        Assert.Equal(8, Bi(-8));
        Assert.Equal(10, Bi(-16));   // 8 + log(2)/log(16)·8 = 8 + 2 exactly: float32 must not round below 2
        Assert.Equal(12, Bi(-32)); Assert.Equal(14, Bi(-64)); Assert.Equal(15, Bi(-128)); Assert.Equal(15, Bi(-5000));
        Assert.Equal(26, Bi(16)); Assert.Equal(31, Bi(5000));
        // Decoder (unidirectional): future keys share bucket 0; 16 exact, then logarithmic to 128.
        int Uni(int rp) => T5.RelativePositionBucket(rp, false, 32, 128);
        Assert.Equal(0, Uni(3)); Assert.Equal(0, Uni(0)); Assert.Equal(5, Uni(-5)); Assert.Equal(15, Uni(-15));
        Assert.Equal(16, Uni(-16)); Assert.Equal(17, Uni(-20)); Assert.Equal(21, Uni(-32)); Assert.Equal(31, Uni(-127)); Assert.Equal(31, Uni(-1000));
    }
}
