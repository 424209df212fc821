using System.Text.Json;
using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Models.Images;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public class EncoderForwardTests
{
    private static T Config<T>(string name) where T : ModelConfig => (T)ModelConfig.Load(Path.Combine(SharedData.Model(name), "config.json"));

    /// <summary>Checks hidden states (hook_resid_pre of block 0, then every hook_resid_post) and attention
    /// patterns of one golden case, skipping padded positions (and padded query rows).</summary>
    private static void AssertInternals(string name, JsonElement c, ActivationCache cache, int layers, int hidden, int[]? mask, int seq)
    {
        bool ValidPos(int flatPos) => mask is null || mask[flatPos] == 1;
        var hs = c.GetProperty("hidden_states").EnumerateArray().ToArray();
        Assert.Equal(layers + 1, hs.Length);
        ForwardGolden.AssertClose($"{name} hidden_states[0]", hs[0], cache["blocks.0.hook_resid_pre"], valid: i => ValidPos(i / hidden));
        for (int i = 0; i < layers; i++)
            ForwardGolden.AssertClose($"{name} hidden_states[{i + 1}]", hs[i + 1], cache[$"blocks.{i}.hook_resid_post"], valid: i2 => ValidPos(i2 / hidden));
        var att = c.GetProperty("attentions").EnumerateArray().ToArray();
        Assert.Equal(layers, att.Length);
        for (int i = 0; i < layers; i++)
        {
            var p = cache[$"blocks.{i}.attn.hook_pattern"];
            int heads = p.Shape[1];
            ForwardGolden.AssertClose($"{name} attentions[{i}]", att[i], p, valid: idx => ValidPos((idx / (seq * heads * seq)) * seq + (idx / seq) % seq));
        }
    }

    [Fact]
    public void DistilBertMatchesTransformersGolden()
    {
        const string name = "distilbert-tiny-random-sst2";
        var config = Config<DistilBertConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = DistilBert.Load(config, DistilBertHead.SequenceClassification, ckpt);
        Assert.Equal("DistilBertForSequenceClassification", model.ArchitectureName);
        using var golden = new ForwardGolden(name);
        Assert.True(golden.Cases.Length >= 2);
        foreach (var c in golden.Cases)
        {
            var input = ForwardGolden.Input(c);
            using var _ = model.Hooks.Capture("blocks.*", out var cache);
            var output = model.Forward(input);
            ForwardGolden.AssertLogits($"{name} logits", c.GetProperty("logits"), output.Logits!);
            AssertInternals(name, c, cache, config.NLayers, config.Dim, input.AttentionMask, input.SeqLength);
        }
    }

    [Fact]
    public void RobertaShardedMatchesTransformersGolden()
    {
        const string name = "roberta-tiny-random-nli";
        var config = Config<BertConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        Assert.EndsWith(".index.json", ckpt.FilePath); // the sharded path is the one under test
        var model = Roberta.Load(config, RobertaHead.SequenceClassification, ckpt);
        using var golden = new ForwardGolden(name);
        foreach (var c in golden.Cases)
        {
            var input = ForwardGolden.Input(c);
            using var _ = model.Hooks.Capture("blocks.*", out var cache);
            var output = model.Forward(input);
            ForwardGolden.AssertLogits($"{name} logits", c.GetProperty("logits"), output.Logits!);
            AssertInternals(name, c, cache, config.NumHiddenLayers, config.HiddenSize, input.AttentionMask, input.SeqLength);
        }
    }

    [Fact]
    public void RobertaPositionsStartAfterPaddingIdx()
    {
        const string name = "roberta-tiny-random-nli";
        var config = Config<BertConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = Roberta.Load(config, RobertaHead.SequenceClassification, ckpt);
        // pad_token_id is 1: real tokens count 2, 3, ...; pads sit at position 1.
        var input = new ModelInput(2, 4, [50257, 100, 50258, 1, 1, 50257, 100, 50258], [1, 1, 1, 0, 0, 1, 1, 1]);
        Assert.Equal(new[] { 2, 3, 4, 1, 1, 2, 3, 4 }, model.PositionIds(input));
    }

    [Fact]
    public void VitMatchesTransformersGoldenFromThePng()
    {
        const string name = "vit-tiny-random";
        var dir = SharedData.Model(name);
        var config = Config<VitConfig>(name);
        using var ckpt = Checkpoint.Open(dir);
        var model = Vit.Load(config, VitHead.ImageClassification, ckpt);
        using var golden = new ForwardGolden(name);
        var c = golden.Cases[0];
        var inputs = c.GetProperty("inputs");
        var pixels = VitImageProcessor.FromPretrained(dir).Preprocess(Path.Combine(dir, inputs.GetProperty("image").GetString()!));
        ForwardGolden.AssertClose($"{name} pixel_values", inputs.GetProperty("pixel_values"), pixels);

        using var _ = model.Hooks.Capture("blocks.*", out var cache);
        var output = model.Forward(pixels);
        ForwardGolden.AssertLogits($"{name} logits", c.GetProperty("logits"), output.Logits!);
        AssertInternals(name, c, cache, config.NumHiddenLayers, config.HiddenSize, mask: null, seq: model.PatchCount + 1);
    }

    [Fact]
    public void VitOnGoldenPixelValuesMatchesLogits()
    {
        // Independent of the image pipeline: feed the golden pixel_values directly.
        const string name = "vit-tiny-random";
        var config = Config<VitConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = Vit.Load(config, VitHead.ImageClassification, ckpt);
        using var golden = new ForwardGolden(name);
        var c = golden.Cases[0];
        var (vals, shape) = ForwardGolden.Nested(c.GetProperty("inputs").GetProperty("pixel_values"));
        var pixels = Tensor.FromArray(vals.Select(v => (float)v).ToArray(), shape);
        using var _ = model.Hooks.Capture("*", out var cache);
        var output = model.Forward(pixels);
        ForwardGolden.AssertLogits($"{name} logits", c.GetProperty("logits"), output.Logits!);
        Assert.Equal(new[] { 1, model.PatchCount + 1, config.HiddenSize }, cache["hook_embed"].Shape);
        Assert.True(cache.ContainsKey("ln_final.hook_normalized"));
        Assert.True(cache.ContainsKey("blocks.1.mlp.hook_post"));
    }

    [Fact]
    public void VitBatchesAndGivesPixelGradients()
    {
        const string name = "vit-tiny-random";
        var dir = SharedData.Model(name);
        using var ckpt = Checkpoint.Open(dir);
        var model = Vit.Load(Config<VitConfig>(name), VitHead.ImageClassification, ckpt);
        var image = RgbImage.Load(Path.Combine(dir, "example.png"));
        var processor = VitImageProcessor.FromPretrained(dir);
        var one = processor.Preprocess(image);
        var flipped = new RgbImage(image.Width, image.Height, image.Pixels.Reverse().ToArray());
        var two = processor.Preprocess([image, flipped]);
        var l1 = model.Forward(one).Logits!.ToArray();
        var l2 = model.Forward(two).Logits!;
        for (int j = 0; j < l1.Length; j++) Assert.True(Math.Abs(l1[j] - l2.Span[j]) <= 1e-5);
        var lf = model.Forward(processor.Preprocess(flipped)).Logits!.ToArray();
        for (int j = 0; j < lf.Length; j++) Assert.True(Math.Abs(lf[j] - l2.Span[l1.Length + j]) <= 1e-5);

        // Saliency on pixels: d logit[2] / d pixel equals a central difference.
        Tensor grad;
        using (var tape = Tape.Record())
        {
            tape.Watch(one);
            var logit = Ops.Narrow(model.Forward(one).Logits!, 1, 2, 1);
            grad = tape.Gradient(Ops.Sum(logit), one)[0];
        }
        foreach (int at in new[] { 0, 517, 1600, 3071 })
        {
            const float eps = 1e-2f;
            float Logit(float delta)
            {
                var p = one.Clone();
                p.Span[at] += delta;
                return model.Forward(p).Logits!.Span[2];
            }
            double fd = (Logit(eps) - Logit(-eps)) / (2 * eps);
            Assert.True(Math.Abs(fd - grad.Span[at]) <= 2e-3 + 2e-2 * Math.Abs(fd), $"pixel {at}: tape {grad.Span[at]} vs finite difference {fd}");
        }
    }

    [Fact]
    public void VitRejectsWrongImageSize()
    {
        const string name = "vit-tiny-random";
        var config = Config<VitConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = Vit.Load(config, VitHead.ImageClassification, ckpt);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(1, 3, 48, 40)));
        Assert.Contains("32×32", e.Message);
        Assert.Throws<NotSupportedException>(() => model.Forward(ModelInput.Single([1, 2, 3])));
    }

    [Fact]
    public void VitPatchUnfoldEqualsTheConvolution()
    {
        // Direct convolution with stride = kernel = p, computed naively, against the GEMM path.
        var rng = new Random(7);
        int b = 2, c = 3, size = 8, p = 4, h = 5;
        var px = Tensor.FromArray(Enumerable.Range(0, b * c * size * size).Select(_ => (float)rng.NextDouble()).ToArray(), b, c, size, size);
        var w = Tensor.FromArray(Enumerable.Range(0, h * c * p * p).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), h, c, p, p);
        var ours = Ops.Linear(Vit.Unfold(px, p), Ops.Reshape(w, h, c * p * p));
        int g = size / p;
        for (int bi = 0; bi < b; bi++)
            for (int gy = 0; gy < g; gy++)
                for (int gx = 0; gx < g; gx++)
                    for (int o = 0; o < h; o++)
                    {
                        double s = 0;
                        for (int ci = 0; ci < c; ci++)
                            for (int ky = 0; ky < p; ky++)
                                for (int kx = 0; kx < p; kx++)
                                    s += px[bi, ci, gy * p + ky, gx * p + kx] * w[o, ci, ky, kx];
                        Assert.True(Math.Abs(s - ours[bi, gy * g + gx, o]) < 1e-5, $"patch ({gy},{gx}) out {o}");
                    }
    }

    [Fact]
    public void TrainedDistilBertMatchesPyTorchLogitsAndCaptumAttentions()
    {
        // distilbert-sst2-tiny has no forward.json; its PyTorch logits are in the ONNX folder's golden
        // (float32 PyTorch) and Captum's golden carries float64 probabilities and every attention matrix.
        const string name = "distilbert-sst2-tiny";
        var config = Config<DistilBertConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = DistilBert.Load(config, DistilBertHead.SequenceClassification, ckpt);

        using var onnx = PythonJson.Parse(Path.Combine(SharedData.Model("distilbert-sst2-tiny-onnx"), "onnx-golden.json"));
        int checkedCases = 0;
        foreach (var c in onnx.RootElement.GetProperty("cases").EnumerateArray())
        {
            var ids = c.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var logits = model.Forward(ModelInput.Single(ids)).Logits!;
            var expected = c.GetProperty("torch_logits").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - logits.Span[j]) <= 1e-4 + 1e-4 * Math.Abs(expected[j]), $"{c.GetProperty("text")}: logit {j} {logits.Span[j]} vs PyTorch {expected[j]}");
            checkedCases++;
        }
        Assert.Equal(4, checkedCases);

        using var captum = PythonJson.Parse(Path.Combine(SharedData.Root, "golden", "captum", "distilbert-sst2.json"));
        foreach (var c in captum.RootElement.GetProperty("cases").EnumerateArray())
        {
            var ids = c.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            using var _ = model.Hooks.Capture("blocks.*.attn.hook_pattern", out var cache);
            var probs = Ops.Softmax(model.Forward(ModelInput.Single(ids)).Logits!, -1);
            var expected = c.GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - probs.Span[j]) <= 1e-4, $"{c.GetProperty("text")}: p{j} {probs.Span[j]} vs Captum {expected[j]}");
            var att = c.GetProperty("attention").EnumerateArray().ToArray();
            Assert.Equal(config.NLayers, att.Length);
            for (int i = 0; i < att.Length; i++)
            {
                var pattern = cache[$"blocks.{i}.attn.hook_pattern"];
                var (vals, shape) = ForwardGolden.Nested(att[i]);
                // Captum's golden stores each layer either with or without the batch axis.
                var ours = shape.Length == 3 ? Ops.Reshape(pattern, pattern.Shape[1..]) : pattern;
                ForwardGolden.AssertClose($"{name} attention[{i}]", att[i], ours);
            }
        }
    }

    [Fact]
    public void DistilBertPaddingInvariance()
    {
        const string name = "distilbert-sst2-tiny";
        var config = Config<DistilBertConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = DistilBert.Load(config, DistilBertHead.SequenceClassification, ckpt);
        int[] sentence = [101, 1045, 2293, 2017, 102];
        var alone = model.Forward(ModelInput.Single(sentence)).Logits!.ToArray();
        var batch = ModelInput.Pad([sentence, [101, 1996, 3185, 2001, 2025, 2204, 2012, 2035, 1010, 102]], padId: 0);
        var batched = model.Forward(batch).Logits!;
        for (int j = 0; j < alone.Length; j++) Assert.True(Math.Abs(alone[j] - batched.Span[j]) <= 1e-5, $"label {j}: {alone[j]} vs {batched.Span[j]}");
        // The second row must not be affected by the first either.
        var second = model.Forward(ModelInput.Single([101, 1996, 3185, 2001, 2025, 2204, 2012, 2035, 1010, 102])).Logits!.ToArray();
        for (int j = 0; j < second.Length; j++) Assert.True(Math.Abs(second[j] - batched.Span[alone.Length + j]) <= 1e-5);
    }

    [Fact]
    public void RobertaPaddingInvariance()
    {
        const string name = "roberta-tiny-random-nli";
        var config = Config<BertConfig>(name);
        using var ckpt = Checkpoint.Open(SharedData.Model(name));
        var model = Roberta.Load(config, RobertaHead.SequenceClassification, ckpt);
        int[] sentence = [50257, 32, 582, 318, 2712, 257, 10047, 13, 50258];
        var alone = model.Forward(ModelInput.Single(sentence)).Logits!.ToArray();
        int[] longer = [50257, 2437, 867, 661, 2107, 287, 11307, 30, 50258, 50258, 24814, 2815, 468, 257, 50258];
        foreach (int pad in new[] { config.PadTokenId!.Value, 50260 })
        {
            var batched = model.Forward(ModelInput.Pad([sentence, longer], padId: pad)).Logits!;
            for (int j = 0; j < alone.Length; j++) Assert.True(Math.Abs(alone[j] - batched.Span[j]) <= 1e-5, $"pad {pad} label {j}: {alone[j]} vs {batched.Span[j]}");
        }
    }

    [Fact]
    public void TooLongInputsNameTheLimitAndTheWayOut()
    {
        {
            const string name = "distilbert-tiny-random-sst2";
            using var ckpt = Checkpoint.Open(SharedData.Model(name));
            var model = DistilBert.Load(Config<DistilBertConfig>(name), DistilBertHead.SequenceClassification, ckpt);
            var e = Assert.Throws<ArgumentException>(() => model.Forward(ModelInput.Single(Enumerable.Repeat(1000, 65).ToArray())));
            Assert.Contains("max_position_embeddings is 64", e.Message);
            Assert.Contains("truncat", e.Message);
        }
        {
            const string name = "roberta-tiny-random-nli";
            using var ckpt = Checkpoint.Open(SharedData.Model(name));
            var model = Roberta.Load(Config<BertConfig>(name), RobertaHead.SequenceClassification, ckpt);
            Assert.Equal(64, model.MaxTokens);
            model.Forward(ModelInput.Single(Enumerable.Repeat(1000, 64).ToArray()));
            var e = Assert.Throws<ArgumentException>(() => model.Forward(ModelInput.Single(Enumerable.Repeat(1000, 65).ToArray())));
            Assert.Contains("at most 64", e.Message);
            Assert.Contains("truncat", e.Message);
        }
    }

    [Fact]
    public void DistilBertSinusoidalPositionsAreComputedWhenAbsent()
    {
        const string name = "distilbert-tiny-random-sst2";
        var config = Config<DistilBertConfig>(name) with { SinusoidalPosEmbds = true };
        using var full = Checkpoint.Open(SharedData.Model(name));
        using var tmp = new TempDir();
        var w = new SafetensorsWriter();
        var table = DistilBert.SinusoidalTable(config.MaxPositionEmbeddings, config.Dim);
        foreach (var n in full.Names)
            if (n != "distilbert.embeddings.position_embeddings.weight") w.Add(n, full.ToTensor(n));
        w.Save(tmp.File("model.safetensors"));
        using var without = Checkpoint.Open(tmp.File("model.safetensors"));
        var computed = DistilBert.Load(config, DistilBertHead.SequenceClassification, without);

        var w2 = new SafetensorsWriter();
        foreach (var n in full.Names) w2.Add(n, n == "distilbert.embeddings.position_embeddings.weight" ? table : full.ToTensor(n));
        w2.Save(tmp.File("with.safetensors"));
        using var with = Checkpoint.Open(tmp.File("with.safetensors"));
        var stored = DistilBert.Load(config, DistilBertHead.SequenceClassification, with);

        var input = ModelInput.Single([101, 1045, 2293, 2017, 102]);
        Assert.Equal(stored.Forward(input).Logits!.ToArray(), computed.Forward(input).Logits!.ToArray());
        // Spot values of the table: sin(pos) in column 0, cos(pos / 10000^(2/dim)) in column 3.
        Assert.Equal(MathF.Sin(5), table[5, 0], 5);
        Assert.Equal((float)Math.Cos(7 / Math.Pow(10000, 2.0 / config.Dim)), table[7, 3], 5);
    }

    [Fact]
    public void MaskedLmHeadsUseTheTiedEmbeddings()
    {
        // No MLM goldens exist for these families: give the random checkpoints synthetic heads in
        // transformers' names and check the logits against the head computed by hand.
        var rng = new Random(11);
        Tensor Rand(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, x) => a * x)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), shape);
        using var tmp = new TempDir();
        int[] ids = [101, 1045, 2293, 2017, 102];
        foreach (var (name, family) in new[] { ("distilbert-tiny-random-sst2", "distilbert"), ("roberta-tiny-random-nli", "roberta") })
        {
            using var full = Checkpoint.Open(SharedData.Model(name));
            var w = new SafetensorsWriter();
            foreach (var n in full.Names)
                if (!n.StartsWith("pre_classifier", StringComparison.Ordinal) && !n.StartsWith("classifier", StringComparison.Ordinal)) w.Add(n, full.ToTensor(n));
            var emb = full.ToTensor($"{family}.embeddings.word_embeddings.weight");
            int h = emb.Shape[1], vocab = emb.Shape[0];
            var (dense, norm, decoder, bias) = family == "distilbert"
                ? ("vocab_transform", "vocab_layer_norm", "vocab_projector.weight", "vocab_projector.bias")
                : ("lm_head.dense", "lm_head.layer_norm", "lm_head.decoder.weight", "lm_head.bias");
            var head = new Dictionary<string, Tensor>
            {
                [dense + ".weight"] = Rand(h, h), [dense + ".bias"] = Rand(h),
                [norm + ".weight"] = Rand(h), [norm + ".bias"] = Rand(h), [bias] = Rand(vocab),
            };
            foreach (var (k, v) in head) w.Add(k, v);
            w.Add(decoder, emb);
            var file = tmp.File(family + ".safetensors");
            w.Save(file);
            using var ckpt = Checkpoint.Open(file);
            TransformerModel model = family == "distilbert"
                ? DistilBert.Load(Config<DistilBertConfig>(name), DistilBertHead.MaskedLM, ckpt)
                : Roberta.Load(Config<BertConfig>(name), RobertaHead.MaskedLM, ckpt);
            var output = model.Forward(ModelInput.Single(ids));
            Assert.Equal(new[] { 1, ids.Length, vocab }, output.Logits!.Shape);
            var t = Ops.Gelu(Ops.Linear(output.LastHiddenState!, head[dense + ".weight"], head[dense + ".bias"]));
            t = Ops.LayerNorm(t, head[norm + ".weight"], head[norm + ".bias"], 1e-12f);
            var expected = Ops.Linear(t, emb, head[bias]);
            for (int i = 0; i < expected.Length; i += 997)
                Assert.True(Math.Abs(expected.Span[i] - output.Logits.Span[i]) <= 1e-4, $"{family} logit {i}: {output.Logits.Span[i]} vs {expected.Span[i]}");
        }
    }

    [Fact]
    public void HooksPatchAndAblateOnTheNewEncoders()
    {
        // Patching blocks.0.hook_resid_post from an identical run changes nothing; zero-ablating head 0's
        // hook_z equals zeroing that head's input columns of the output projection (computed independently).
        const string name = "distilbert-tiny-random-sst2";
        var dir = SharedData.Model(name);
        var config = Config<DistilBertConfig>(name);
        using var ckpt = Checkpoint.Open(dir);
        var model = DistilBert.Load(config, DistilBertHead.SequenceClassification, ckpt);
        var input = ModelInput.Single([101, 1045, 2293, 2017, 102]);
        float[] baseline;
        ActivationCache source;
        using (model.Hooks.Capture("blocks.0.hook_resid_post", out source)) baseline = model.Forward(input).Logits!.ToArray();
        using (model.Hooks.PatchFrom(source, "blocks.0.hook_resid_post"))
            Assert.Equal(baseline, model.Forward(input).Logits!.ToArray());

        int hd = config.Dim / config.NHeads;
        float[] ablated;
        using (model.Hooks.Replace("blocks.1.attn.hook_z", (_, z) =>
        {
            var y = z.Clone(); // [b, s, heads, d]
            for (int p = 0; p < z.Shape[1]; p++)
                for (int j = 0; j < hd; j++) y.Span[(p * config.NHeads + 0) * hd + j] = 0;
            return y;
        })) ablated = model.Forward(input).Logits!.ToArray();
        var edited = ckpt.Names.ToDictionary(n => n, n => ckpt.ToTensor(n));
        var w = edited["distilbert.transformer.layer.1.attention.out_lin.weight"]; // [out, in]; head 0 is input columns 0..hd-1
        for (int o = 0; o < config.Dim; o++)
            for (int j = 0; j < hd; j++) w.Span[o * config.Dim + j] = 0;
        var other = new DistilBert(config, DistilBertHead.SequenceClassification, edited);
        var expected = other.Forward(input).Logits!.ToArray();
        for (int j = 0; j < expected.Length; j++) Assert.True(Math.Abs(expected[j] - ablated[j]) <= 1e-5, $"label {j}: {ablated[j]} vs {expected[j]}");
        Assert.True(Math.Abs(ablated[0] - baseline[0]) > 1e-6, "ablating a head should change the output");

        // ViT: the same patching identity over every block.
        var vdir = SharedData.Model("vit-tiny-random");
        using var vckpt = Checkpoint.Open(vdir);
        var vit = Vit.Load(Config<VitConfig>("vit-tiny-random"), VitHead.ImageClassification, vckpt);
        var pixels = VitImageProcessor.FromPretrained(vdir).Preprocess(Path.Combine(vdir, "example.png"));
        float[] vbase;
        ActivationCache vsource;
        using (vit.Hooks.Capture("blocks.*.hook_resid_post", out vsource)) vbase = vit.Forward(pixels).Logits!.ToArray();
        using (vit.Hooks.PatchFrom(vsource, "blocks.*.hook_resid_post"))
            Assert.Equal(vbase, vit.Forward(pixels).Logits!.ToArray());
        // Patching from a different image does change the result.
        ActivationCache zeroRun;
        using (vit.Hooks.Capture("blocks.0.hook_resid_post", out zeroRun)) vit.Forward(Tensor.Zeros(1, 3, 32, 32));
        using (vit.Hooks.PatchFrom(zeroRun, "blocks.0.hook_resid_post"))
            Assert.NotEqual(vbase, vit.Forward(pixels).Logits!.ToArray());
    }
}
