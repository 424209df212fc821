using Glassbox.Models.Configs;

namespace Glassbox.Models.Tests;

public sealed class ConfigTests
{
    [Fact]
    public void EveryStoredConfigLoadsAsItsArchitecture()
    {
        var expected = new Dictionary<string, Type>
        {
            ["bert-tiny-random-mlm"] = typeof(BertConfig),
            ["bert-tiny-random-qa"] = typeof(BertConfig),
            ["bert-tiny-random-ner"] = typeof(BertConfig),
            ["bert-tiny-random-multilabel"] = typeof(BertConfig),
            ["bert-tiny-random-crossencoder"] = typeof(BertConfig),
            ["bert-tiny-random-regression"] = typeof(BertConfig),
            ["distilbert-tiny-random-sst2"] = typeof(DistilBertConfig),
            ["distilbert-sst2-tiny"] = typeof(DistilBertConfig),
            ["roberta-tiny-random-nli"] = typeof(BertConfig),
            ["gpt2-tiny-random"] = typeof(Gpt2Config),
            ["gpt2-shakespeare-tiny"] = typeof(Gpt2Config),
            ["gpt-neox-tiny-random"] = typeof(GptNeoXConfig),
            ["llama-tiny-random"] = typeof(LlamaConfig),
            ["t5-tiny-random"] = typeof(T5Config),
            ["vit-tiny-random"] = typeof(VitConfig),
        };
        foreach (var (model, type) in expected)
        {
            var c = ModelConfig.Load(SharedData.Model(model)); // a folder works as well as the file
            Assert.IsType(type, c);
            Assert.NotEmpty(c.Architectures);
            Assert.True(c.Width > 0 && c.LayerCount > 0 && c.HeadCount > 0, model);
        }
    }

    [Fact]
    public void ValuesAndLabelsAreRead()
    {
        var multi = Assert.IsType<BertConfig>(ModelConfig.Load(SharedData.Model("bert-tiny-random-multilabel")));
        Assert.Equal("multi_label_classification", multi.ProblemType);
        Assert.Equal(["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"], multi.Id2Label);
        Assert.Equal(3, multi.Label2Id["joy"]);
        Assert.Equal(7, multi.NumLabels);
        Assert.Equal(["BertForSequenceClassification"], multi.Architectures);
        Assert.Equal("float32", multi.TorchDtype);
        Assert.Equal(16, multi.HiddenSize);
        Assert.Equal(0.1, multi.HiddenDropoutProb);
        Assert.Equal(1e-12f, multi.LayerNormEps);

        var nli = ModelConfig.Load(SharedData.Model("roberta-tiny-random-nli"));
        Assert.Equal("roberta", nli.ModelType);
        Assert.Equal(2, nli.Label2Id["ENTAILMENT"]);
        Assert.Equal(1, nli.PadTokenId);

        var mlm = ModelConfig.Load(SharedData.Model("bert-tiny-random-mlm"));
        Assert.Equal(["LABEL_0", "LABEL_1"], mlm.Id2Label); // transformers' default when absent
        Assert.Null(mlm.ProblemType);

        var gpt2 = Assert.IsType<Gpt2Config>(ModelConfig.Load(SharedData.Model("gpt2-tiny-random")));
        Assert.Equal("float16", gpt2.TorchDtype);
        Assert.Equal(64, gpt2.NInner); // n_inner null → 4 × n_embd
        Assert.Equal(50256, gpt2.EosTokenId);

        var neox = Assert.IsType<GptNeoXConfig>(ModelConfig.Load(SharedData.Model("gpt-neox-tiny-random")));
        Assert.Equal(0.5, neox.Rope.PartialRotaryFactor);
        Assert.Equal(4, neox.RotaryDims);
        Assert.False(neox.TieWordEmbeddings);

        var llama = Assert.IsType<LlamaConfig>(ModelConfig.Load(SharedData.Model("llama-tiny-random")));
        Assert.Equal("bfloat16", llama.TorchDtype);
        Assert.Equal(1, llama.NumKeyValueHeads);
        Assert.Equal(8, llama.HeadDim);
        Assert.Equal(10000.0, llama.Rope.Theta);

        var t5 = Assert.IsType<T5Config>(ModelConfig.Load(SharedData.Model("t5-tiny-random")));
        Assert.True(t5.IsEncoderDecoder);
        Assert.Equal("relu", t5.DenseActFn);
        Assert.False(t5.IsGatedAct);
        Assert.Equal(32, t5.RelativeAttentionNumBuckets);

        var vit = Assert.IsType<VitConfig>(ModelConfig.Load(SharedData.Model("vit-tiny-random")));
        Assert.Equal(["red", "green", "blue"], vit.Id2Label);
        Assert.Equal(16, vit.NumPatches);
        Assert.Equal(16, vit.PoolerOutputSize);
    }

    [Fact]
    public void AbsentKeysTakeTransformersDefaults()
    {
        var bert = Assert.IsType<BertConfig>(ModelConfig.Parse("{\"model_type\":\"bert\"}"));
        Assert.Equal((30522, 768, 12, 12, 3072, 512, 2, "gelu"), (bert.VocabSize, bert.HiddenSize, bert.NumHiddenLayers, bert.NumAttentionHeads, bert.IntermediateSize, bert.MaxPositionEmbeddings, bert.TypeVocabSize, bert.HiddenAct));
        Assert.Equal(0, bert.PadTokenId);
        Assert.Equal("absolute", bert.PositionEmbeddingType);
        var roberta = ModelConfig.Parse("{\"model_type\":\"roberta\"}") as BertConfig;
        Assert.Equal((50265, 1), (roberta!.VocabSize, roberta.PadTokenId));
        var distil = Assert.IsType<DistilBertConfig>(ModelConfig.Parse("{\"model_type\":\"distilbert\"}"));
        Assert.Equal((768, 6, 12, 3072), (distil.Dim, distil.NLayers, distil.NHeads, distil.HiddenDim));
        Assert.Equal(0.2, distil.SeqClassifDropout);
        var gpt2 = Assert.IsType<Gpt2Config>(ModelConfig.Parse("{\"model_type\":\"gpt2\"}"));
        Assert.Equal((50257, 1024, 768, 3072, "gelu_new"), (gpt2.VocabSize, gpt2.NPositions, gpt2.NEmbd, gpt2.NInner, gpt2.ActivationFunction));
        var neox = Assert.IsType<GptNeoXConfig>(ModelConfig.Parse("{\"model_type\":\"gpt_neox\",\"rotary_pct\":0.25,\"rotary_emb_base\":5000}"));
        Assert.Equal((0.25, 5000.0), (neox.Rope.PartialRotaryFactor, neox.Rope.Theta)); // legacy keys
        var llama = Assert.IsType<LlamaConfig>(ModelConfig.Parse("{\"model_type\":\"llama\",\"num_attention_heads\":8,\"hidden_size\":64,\"eos_token_id\":[5,7]}"));
        Assert.Equal((8, 8), (llama.NumKeyValueHeads, llama.HeadDim));
        Assert.Equal([5, 7], llama.EosTokenIds);
        var t5 = Assert.IsType<T5Config>(ModelConfig.Parse("{\"model_type\":\"t5\",\"feed_forward_proj\":\"gated-gelu\",\"num_layers\":3}"));
        Assert.Equal((true, "gelu_new", 3), (t5.IsGatedAct, t5.DenseActFn, t5.NumDecoderLayers));
        var vit = Assert.IsType<VitConfig>(ModelConfig.Parse("{\"model_type\":\"vit\"}"));
        Assert.Equal((224, 16, 196), (vit.ImageSize, vit.PatchSize, vit.NumPatches));
    }

    [Fact]
    public void BadConfigsGiveClearErrors()
    {
        var e = Assert.Throws<ConfigException>(() => ModelConfig.Parse("{\"model_type\":\"mamba\"}", "x/config.json"));
        Assert.Contains("x/config.json", e.Message);
        Assert.Contains("mamba", e.Message);
        foreach (var t in new[] { "bert", "distilbert", "roberta", "gpt2", "gpt_neox", "llama", "t5", "vit" }) Assert.Contains(t, e.Message);
        Assert.Contains("model_type", Assert.Throws<ConfigException>(() => ModelConfig.Parse("{}", "c.json")).Message);
        Assert.Contains("c.json", Assert.Throws<ConfigException>(() => ModelConfig.Parse("{\"model_type\":\"bert\",\"hidden_size\":NaN}", "c.json")).Message);
        Assert.Contains("hidden_size", Assert.Throws<ConfigException>(() => ModelConfig.Parse("{\"model_type\":\"bert\",\"hidden_size\":\"big\"}", "c.json")).Message);
    }

    [Fact]
    public void VitPreprocessorConfigLoads()
    {
        var p = ImageProcessorConfig.Load(SharedData.Model("vit-tiny-random"));
        Assert.Equal((32, 32, 2), (p.Height, p.Width, p.Resample));
        Assert.True(p.DoResize && p.DoRescale && p.DoNormalize);
        Assert.Equal(1.0 / 255, p.RescaleFactor, 12);
        Assert.Equal([0.5, 0.5, 0.5], p.ImageMean);
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), "{\"image_processor_type\":\"CLIPImageProcessor\"}");
        Assert.Contains("CLIPImageProcessor", Assert.Throws<ConfigException>(() => ImageProcessorConfig.Load(dir.Path)).Message);
        File.WriteAllText(dir.File("preprocessor_config.json"), "{\"size\":{\"height\":\"x\"}}");
        Assert.Contains(dir.Path, Assert.Throws<ConfigException>(() => ImageProcessorConfig.Load(dir.Path)).Message);
        File.WriteAllText(dir.File("preprocessor_config.json"), "{\"image_std\":[0.5,0,0.5]}");
        Assert.Contains("image_std", Assert.Throws<ConfigException>(() => ImageProcessorConfig.Load(dir.Path)).Message);
    }
}
