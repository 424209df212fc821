using System.Text.Json;
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public class GenerationTests
{
    private static (int[] Prompt, int[] Generated, JsonElement[] Steps, JsonDocument Doc) Golden(string name)
    {
        var doc = PythonJson.Parse(Path.Combine(SharedData.Model(name), "generation.json"));
        var r = doc.RootElement;
        int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
        return (Ints(r.GetProperty("prompt_ids")), Ints(r.GetProperty("generated_ids")), [.. r.GetProperty("steps").EnumerateArray()], doc);
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2, true)]
    [InlineData(DecoderModels.Gpt2, false)]
    [InlineData(DecoderModels.NeoX, true)]
    [InlineData(DecoderModels.NeoX, false)]
    [InlineData(DecoderModels.Llama, true)]
    [InlineData(DecoderModels.Llama, false)]
    public void GreedyMatchesTransformersGolden(string name, bool useCache)
    {
        var (prompt, expected, steps, doc) = Golden(name);
        using var _ = doc;
        var lm = DecoderModels.Lm(name);
        // The golden decodes a fixed number of steps, EOS or not.
        var result = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = expected.Length, UseCache = useCache, EosTokenIds = [] });
        Assert.Equal(expected, result.GeneratedIds);
        Assert.Equal(prompt, result.PromptIds);
        Assert.Equal(FinishReason.MaxNewTokens, result.FinishReason);
        Assert.Equal(expected.Length, result.Steps.Count);
        for (int t = 0; t < expected.Length; t++)
        {
            var ids = steps[t].GetProperty("top_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var probs = steps[t].GetProperty("top_probabilities").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var got = result.Steps[t];
            Assert.Equal(ids, got.TopIds);
            for (int j = 0; j < probs.Length; j++)
                Assert.True(Math.Abs(probs[j] - got.TopProbabilities[j]) <= 1e-4, $"{name} step {t} top {j}: golden {probs[j]}, ours {got.TopProbabilities[j]}");
            Assert.Equal(got.TopProbabilities[0], got.Probability);
        }
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2)]
    [InlineData(DecoderModels.NeoX)]
    [InlineData(DecoderModels.Llama)]
    public void CacheAndFullReforwardAgree(string name)
    {
        var lm = DecoderModels.Lm(name);
        int[] prompt = [450, 3139, 286, 4881];
        var o = new GenerationOptions { MaxNewTokens = 12, EosTokenIds = [], ReturnProbabilities = true };
        var cached = Generator.Generate(lm, prompt, o);
        var full = Generator.Generate(lm, prompt, o with { UseCache = false });
        Assert.Equal(full.GeneratedIds, cached.GeneratedIds);
        for (int t = 0; t < full.Steps.Count; t++)
        {
            Assert.Equal(full.Steps[t].TopIds, cached.Steps[t].TopIds);
            var a = full.Steps[t].Probabilities!; var b = cached.Steps[t].Probabilities!;
            for (int j = 0; j < a.Length; j++) Assert.True(Math.Abs(a[j] - b[j]) <= 1e-6, $"{name} step {t} id {j}: {a[j]} vs {b[j]}");
        }
    }

    [Theory]
    [InlineData(DecoderModels.Gpt2, true)]
    [InlineData(DecoderModels.Llama, true)]
    [InlineData(DecoderModels.NeoX, false)]
    public void LeftPaddedBatchGeneratesWhatEachPromptGeneratesAlone(string name, bool useCache)
    {
        var lm = DecoderModels.Lm(name);
        int[][] prompts = [[464, 3139, 286, 4881, 318], [7454, 2402, 257, 640, 11, 287, 257, 1956], [11]];
        var o = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [], UseCache = useCache };
        var batched = Generator.GenerateBatch(lm, prompts, o);
        Assert.Equal(3, batched.Count);
        for (int r = 0; r < prompts.Length; r++)
        {
            var alone = Generator.Generate(lm, prompts[r], o);
            Assert.Equal(alone.GeneratedIds, batched[r].GeneratedIds);
            Assert.Equal(prompts[r], batched[r].PromptIds);
            for (int t = 0; t < alone.Steps.Count; t++)
                for (int j = 0; j < 10; j++)
                    Assert.True(Math.Abs(alone.Steps[t].TopProbabilities[j] - batched[r].Steps[t].TopProbabilities[j]) <= 1e-5);
        }
    }

    [Fact]
    public void EccoGreedyTokensAndLayerPredictionsOnTheTrainedGpt2()
    {
        // Ecco's generate() on gpt2-shakespeare-tiny (128 wide, 4 layers): the generated tokens, and
        // its logit lens: lm_head(hidden state at the last position of each step) with no final norm
        // for the intermediate layers (the last layer's hidden state is after ln_f in transformers).
        // Per-step residuals are collected by a hook while generating with the KV cache.
        var dir = SharedData.Model("gpt2-shakespeare-tiny");
        var config = (Configs.Gpt2Config)Configs.ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoints.Checkpoint.Open(dir);
        var model = Architectures.Gpt2.Load(config, ckpt);
        using var doc = PythonJson.Parse(Path.Combine(SharedData.Root, "golden", "ecco", "gpt2-shakespeare-tiny.json"));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            int[] ids = [.. c.GetProperty("token_ids").EnumerateArray().Select(x => x.GetInt32())];
            int nIn = c.GetProperty("n_input_tokens").GetInt32();
            var perStep = Enumerable.Range(0, model.LayerCount).Select(_ => new List<Tensor>()).ToArray();
            GenerationResult r;
            using (model.Hooks.Replace("blocks.*.hook_resid_post", (hook, x) =>
            {
                int layer = int.Parse(hook.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);
                perStep[layer].Add(Ops.Narrow(x, 1, x.Shape[1] - 1, 1)); // last position of this step
                return x;
            }))
                r = Generator.Generate(model, ids[..nIn], new GenerationOptions { MaxNewTokens = ids.Length - nIn, EosTokenIds = [] });
            Assert.Equal(ids[nIn..], r.GeneratedIds);

            var lp = c.GetProperty("layer_predictions").EnumerateArray().ToArray();
            Assert.Equal(r.GeneratedIds.Length, lp.Length);
            for (int g = 0; g < lp.Length; g++)
                foreach (var layer in lp[g].GetProperty("layers").EnumerateArray())
                {
                    int li = layer.GetProperty("layer").GetInt32();
                    using var logits = model.Unembed(perStep[li][g], withFinalNorm: li == model.LayerCount - 1);
                    var probs = LogitProcessors.Softmax(logits.Span);
                    var want = layer.GetProperty("top_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                    var wantP = layer.GetProperty("top_probabilities").EnumerateArray().Select(x => x.GetDouble()).ToArray();
                    var got = Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).Take(want.Length).ToArray();
                    Assert.Equal(want, got);
                    for (int j = 0; j < want.Length; j++)
                        Assert.True(Math.Abs(wantP[j] - probs[want[j]]) <= 1e-4, $"step {g} layer {li} top {j}: golden {wantP[j]}, ours {probs[want[j]]}");
                }
        }
    }

    [Fact]
    public void FullDistributionIsReportedPerStep()
    {
        var lm = DecoderModels.Lm(DecoderModels.Gpt2);
        var result = Generator.Generate(lm, [464, 3139], new GenerationOptions { MaxNewTokens = 3, ReturnProbabilities = true, ReportTopK = 5 });
        foreach (var step in result.Steps)
        {
            var p = step.Probabilities!;
            Assert.Equal(lm.VocabSize, p.Length);
            Assert.Equal(1.0, p.Sum(x => (double)x), 1e-5);
            var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i).Take(5).ToArray();
            Assert.Equal(order, step.TopIds);
            Assert.Equal(p[step.TokenId], step.Probability);
            for (int j = 0; j < 5; j++) Assert.Equal(p[order[j]], step.TopProbabilities[j]);
        }
        Assert.Null(Generator.Generate(lm, [464], GenerationOptions.Greedy(1)).Steps[0].Probabilities);
    }

    [Fact]
    public void EosStopTokensAndMaxNewTokensEndGeneration()
    {
        var (prompt, expected, _, doc) = Golden(DecoderModels.Gpt2);
        using var _ = doc;
        var lm = DecoderModels.Lm(DecoderModels.Gpt2);
        var byEos = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [expected[1]] });
        Assert.Equal(expected[..2], byEos.GeneratedIds);
        Assert.Equal(FinishReason.EndOfSequence, byEos.FinishReason);
        var byStop = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [expected[4]] });
        Assert.Equal(expected[..5], byStop.GeneratedIds);
        Assert.Equal(FinishReason.StopToken, byStop.FinishReason);
        var byMax = Generator.Generate(lm, prompt, GenerationOptions.Greedy(3));
        Assert.Equal(expected[..3], byMax.GeneratedIds);
        Assert.Equal(FinishReason.MaxNewTokens, byMax.FinishReason);
        Assert.Empty(Generator.Generate(lm, prompt, GenerationOptions.Greedy(0)).GeneratedIds);
        // The model's own EOS (50256 for GPT-2) is the default.
        var fake = new ScriptedLm(vocab: 5, eos: [4], (_, _) => [0, 0, 0, 0, 1]);
        var r = Generator.Generate(fake, [1], GenerationOptions.Greedy(10));
        Assert.Equal([4], r.GeneratedIds);
        Assert.Equal(FinishReason.EndOfSequence, r.FinishReason);
    }

    [Fact]
    public void GenerationStopsAtThePositionLimitAndRejectsTooLongPrompts()
    {
        var lm = DecoderModels.Lm(DecoderModels.Gpt2);
        var r = Generator.Generate(lm, [.. Enumerable.Repeat(11, 60)], new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [] });
        // Positions 60..63 take 4 more tokens; the logits at position 63 give a 5th.
        Assert.Equal(5, r.GeneratedIds.Length);
        Assert.Equal(FinishReason.MaxPositions, r.FinishReason);
        var e = Assert.Throws<ArgumentException>(() => Generator.Generate(lm, [.. Enumerable.Repeat(11, 65)], GenerationOptions.Greedy(2)));
        Assert.Contains("n_positions is 64", e.Message);
        Assert.Contains("truncate", e.Message);
        Assert.Throws<ArgumentException>(() => Generator.Generate(lm, [], GenerationOptions.Greedy(2)));
    }

    [Fact]
    public void RepetitionPenaltyFollowsTransformers()
    {
        // The processor: positive logits divided, negative multiplied, each seen id once.
        float[] s = [2f, -1f, 0.5f, 3f];
        LogitProcessors.RepetitionPenalty(s, [0, 1, 1, 0], 2.0);
        Assert.Equal([1f, -2f, 0.5f, 3f], s);

        // In generation, on GPT-2: every greedy choice is the argmax of the penalised logits of a
        // full re-forward, computed here by hand; and the penalty changes the golden continuation.
        var (prompt, expected, _, doc) = Golden(DecoderModels.Gpt2);
        using var _ = doc;
        var lm = DecoderModels.Lm(DecoderModels.Gpt2);
        const double penalty = 1.3;
        var r = Generator.Generate(lm, prompt, new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [], RepetitionPenalty = penalty });
        Assert.NotEqual(expected, r.GeneratedIds);
        var seq = prompt.ToList();
        foreach (int tok in r.GeneratedIds)
        {
            using var logits = lm.ForwardLogits(ModelInput.Single([.. seq]));
            var row = logits.Span.Slice((seq.Count - 1) * lm.VocabSize, lm.VocabSize).ToArray();
            foreach (int id in seq.Distinct()) row[id] = row[id] < 0 ? row[id] * (float)penalty : row[id] / (float)penalty;
            Assert.Equal(Array.IndexOf(row, row.Max()), tok);
            seq.Add(tok);
        }
        // A repeated id is what the penalty stops.
        Assert.Equal(r.GeneratedIds.Length, r.GeneratedIds.Distinct().Count());
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndFiltersAsTransformers()
    {
        var lm = DecoderModels.Lm(DecoderModels.Llama);
        int[] prompt = [1, 450, 7483];
        var o = new GenerationOptions { MaxNewTokens = 10, DoSample = true, Seed = 7, EosTokenIds = [] };
        var a = Generator.Generate(lm, prompt, o);
        var b = Generator.Generate(lm, prompt, o);
        Assert.Equal(a.GeneratedIds, b.GeneratedIds);
        var others = Enumerable.Range(8, 4).Select(seed => Generator.Generate(lm, prompt, o with { Seed = seed }).GeneratedIds).ToList();
        Assert.Contains(others, g => !g.SequenceEqual(a.GeneratedIds));
        // top-k 1 and a tiny top-p leave only the most likely token: sampling becomes greedy.
        var greedy = Generator.Generate(lm, prompt, o with { DoSample = false }).GeneratedIds;
        Assert.Equal(greedy, Generator.Generate(lm, prompt, o with { TopK = 1 }).GeneratedIds);
        Assert.Equal(greedy, Generator.Generate(lm, prompt, o with { TopP = 1e-6 }).GeneratedIds);
        // The sampled token always lies within top-k.
        var k5 = Generator.Generate(lm, prompt, o with { TopK = 5, MaxNewTokens = 20 });
        foreach (var step in k5.Steps) Assert.Contains(step.TokenId, step.TopIds.Take(5));
    }

    [Theory]
    [InlineData(1.0, 0, 1.0, new[] { 0.1, 0.2, 0.3, 0.4 })]
    [InlineData(0.5, 0, 1.0, new[] { 0.01 / 0.3, 0.04 / 0.3, 0.09 / 0.3, 0.16 / 0.3 })]
    [InlineData(1.0, 2, 1.0, new[] { 0, 0, 3 / 7.0, 4 / 7.0 })]
    [InlineData(1.0, 0, 0.75, new[] { 0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9 })]
    [InlineData(1.0, 0, 0.5, new[] { 0, 0, 3 / 7.0, 4 / 7.0 })]
    public void SamplingFrequenciesFollowTheProcessedDistribution(double temperature, int topK, double topP, double[] want)
    {
        // A model whose next-token distribution is always [0.1, 0.2, 0.3, 0.4].
        var fake = new ScriptedLm(vocab: 4, eos: [], (_, _) => [MathF.Log(0.1f), MathF.Log(0.2f), MathF.Log(0.3f), MathF.Log(0.4f)]);
        const int n = 20000;
        var r = Generator.Generate(fake, [0], new GenerationOptions { MaxNewTokens = n, DoSample = true, Seed = 1, Temperature = temperature, TopK = topK, TopP = topP });
        Assert.Equal(n, r.GeneratedIds.Length);
        for (int id = 0; id < 4; id++)
        {
            double f = r.GeneratedIds.Count(x => x == id) / (double)n;
            Assert.True(Math.Abs(f - want[id]) < 0.015, $"id {id}: frequency {f:F4}, expected {want[id]:F4}");
        }
        // The reported distribution is the model's own, whatever the sampling settings.
        Assert.Equal(new[] { 3, 2, 1, 0 }, r.Steps[0].TopIds);
        Assert.Equal(0.4f, r.Steps[0].TopProbabilities[0], 1e-6f);
    }

    [Fact]
    public void ProcessorsMatchTransformersDefinitions()
    {
        float[] s = [1f, 3f, 2f, 3f, 0f];
        LogitProcessors.TopK(s, 2); // ties with the 2nd largest stay
        Assert.Equal([float.NegativeInfinity, 3f, float.NegativeInfinity, 3f, float.NegativeInfinity], s);
        float[] t = [2f, 4f];
        LogitProcessors.Temperature(t, 2.0);
        Assert.Equal([1f, 2f], t);
        float[] p = [MathF.Log(0.5f), MathF.Log(0.25f), MathF.Log(0.25f)];
        LogitProcessors.TopP(p, 0.4); // most likely always kept
        Assert.Equal(2, p.Count(float.IsNegativeInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => Generator.Generate(new ScriptedLm(3, [], (_, _) => [0, 0, 0]), [0], new GenerationOptions { DoSample = true, Temperature = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Generator.Generate(new ScriptedLm(3, [], (_, _) => [0, 0, 0]), [0], new GenerationOptions { TopP = 0 }));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Seq2SeqGreedyMatchesTransformersGoldenOnT5(bool useCache)
    {
        const string name = "t5-tiny-random";
        var dir = SharedData.Model(name);
        var config = (Configs.T5Config)Configs.ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var ckpt = Checkpoints.Checkpoint.Open(dir);
        var model = Architectures.T5.Load(config, ckpt);
        using var doc = PythonJson.Parse(Path.Combine(dir, "generation.json"));
        var g = doc.RootElement;
        int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
        Assert.Equal(g.GetProperty("decoder_start_token_id").GetInt32(), model.DecoderStartTokenId);
        var expected = Ints(g.GetProperty("generated_ids"));
        var r = Generator.Generate(model, Ints(g.GetProperty("encoder_ids")), new GenerationOptions { MaxNewTokens = expected.Length, UseCache = useCache, EosTokenIds = [] });
        Assert.Equal(expected, r.GeneratedIds);
        var steps = g.GetProperty("steps").EnumerateArray().ToArray();
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(Ints(steps[t].GetProperty("top_ids")), r.Steps[t].TopIds);
            var probs = steps[t].GetProperty("top_probabilities").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            for (int j = 0; j < probs.Length; j++)
                Assert.True(Math.Abs(probs[j] - r.Steps[t].TopProbabilities[j]) <= 1e-4, $"t5 step {t} top {j}: golden {probs[j]}, ours {r.Steps[t].TopProbabilities[j]}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Seq2SeqEncodesOnceAndDecodesFromTheStartToken(bool useCache)
    {
        // Next token = (last decoder token + sum of encoder ids) mod vocab; EOS = 9.
        var fake = new ScriptedSeq2Seq(vocab: 10, start: 0, eos: 9);
        var r = Generator.Generate(fake, [2, 1], new GenerationOptions { MaxNewTokens = 20, UseCache = useCache });
        Assert.Equal(1, fake.EncodeCalls);
        Assert.Equal([3, 6, 9], r.GeneratedIds);
        Assert.Equal(FinishReason.EndOfSequence, r.FinishReason);
        Assert.Equal([2, 1], r.PromptIds);
        // With a cache only the new token goes in after the first step.
        Assert.Equal(useCache ? [1, 1, 1] : new[] { 1, 2, 3 }, fake.DecoderLengths);
    }

    /// <summary>A causal LM whose next-token logits are a function of the sequence so far.</summary>
    private sealed class ScriptedLm(int vocab, int[] eos, Func<int[], int, float[]> next) : ICausalLanguageModel
    {
        public int VocabSize => vocab;
        public IReadOnlyList<int> EosTokenIds => eos;
        public int? PadTokenId => null;
        public HookSet Hooks { get; } = new();
        public int LayerCount => 0;
        public int MaxPositions => 1 << 20;
        public Tensor TokenEmbeddings => Tensor.Zeros(vocab, 1);
        public Tensor Unembed(Tensor residual, bool withFinalNorm = true) => throw new NotSupportedException();

        public Tensor ForwardLogits(ModelInput input, KvCache? cache = null)
        {
            var y = Tensor.Empty(input.Batch, input.SeqLength, vocab);
            for (int b = 0; b < input.Batch; b++)
                for (int s = 0; s < input.SeqLength; s++)
                    next(input.InputIds, b * input.SeqLength + s).CopyTo(y.Span.Slice((b * input.SeqLength + s) * vocab, vocab));
            if (cache is not null) cache.Length += input.SeqLength;
            return y;
        }
    }

    private sealed class ScriptedSeq2Seq(int vocab, int start, int eos) : ISeq2SeqLanguageModel
    {
        public int EncodeCalls;
        public List<int> DecoderLengths { get; } = [];
        public int VocabSize => vocab;
        public IReadOnlyList<int> EosTokenIds => [eos];
        public int? PadTokenId => 0;
        public HookSet Hooks { get; } = new();
        public int LayerCount => 0;
        public int DecoderStartTokenId => start;

        public Tensor Encode(ModelInput input)
        {
            EncodeCalls++;
            return Tensor.FromArray(input.InputIds.Select(i => (float)i).ToArray(), 1, input.SeqLength, 1);
        }

        public Tensor DecodeLogits(Tensor encoderHidden, int[]? encoderMask, ModelInput decoderInput, KvCache? cache = null)
        {
            DecoderLengths.Add(decoderInput.SeqLength);
            int sum = (int)encoderHidden.ToArray().Sum();
            int s = decoderInput.SeqLength;
            var y = Tensor.Zeros(1, s, vocab);
            for (int j = 0; j < s; j++) y.Span[j * vocab + (decoderInput.InputIds[j] + sum) % vocab] = 5f;
            if (cache is not null) cache.Length += s;
            return y;
        }
    }
}
