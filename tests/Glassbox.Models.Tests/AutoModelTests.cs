using Glassbox.Models.Architectures;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public class AutoModelTests
{
    /// <summary>Architectures this build must load, and the class each one maps to.</summary>
    private static readonly Dictionary<string, Type> s_required = new()
    {
        ["BertForMaskedLM"] = typeof(Bert),
        ["BertForSequenceClassification"] = typeof(Bert),
        ["BertForTokenClassification"] = typeof(Bert),
        ["BertForQuestionAnswering"] = typeof(Bert),
        ["DistilBertForSequenceClassification"] = typeof(DistilBert),
        ["RobertaForSequenceClassification"] = typeof(Roberta),
        ["ViTForImageClassification"] = typeof(Vit),
        ["GPT2LMHeadModel"] = typeof(Gpt2),
        ["GPTNeoXForCausalLM"] = typeof(GptNeoX),
        ["LlamaForCausalLM"] = typeof(Llama),
        ["T5ForConditionalGeneration"] = typeof(T5),
    };

    [Fact]
    public void PicksTheRightClassForEverySharedModel()
    {
        int loaded = 0;
        foreach (var name in SharedData.ModelNames)
        {
            var dir = SharedData.Model(name);
            if (!File.Exists(Path.Combine(dir, "config.json"))) continue; // e.g. the ONNX export
            var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
            string arch = config.Architectures[0];
            Assert.Equal(arch, AutoModel.ArchitectureOf(config));
            Assert.True(s_required.TryGetValue(arch, out var type), $"{name}: architecture {arch} has no expected class in this test");
            var model = AutoModel.FromPretrained(dir);
            Assert.Equal(arch, model.ArchitectureName);
            Assert.IsType(type, model);
            loaded++;
        }
        Assert.Equal(15, loaded); // every shared folder with a config.json
    }

    [Fact]
    public void AutoLoadedModelsComputeTheSameAsDirectlyLoadedOnes()
    {
        var dir = SharedData.Model("distilbert-tiny-random-sst2");
        var auto = (DistilBert)AutoModel.FromPretrained(dir);
        using var ckpt = Checkpoint.Open(dir);
        var direct = DistilBert.Load((DistilBertConfig)ModelConfig.Load(Path.Combine(dir, "config.json")), DistilBertHead.SequenceClassification, ckpt);
        var input = ModelInput.Single([101, 1045, 2293, 2017, 102]);
        Assert.Equal(direct.Forward(input).Logits!.ToArray(), auto.Forward(input).Logits!.ToArray());

        // The (config, checkpoint) overload.
        var fromParts = AutoModel.FromPretrained(direct.Config, ckpt);
        Assert.Equal("DistilBertForSequenceClassification", fromParts.ArchitectureName);
    }

    [Fact]
    public void UnknownModelTypeListsTheSupportedOnes()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("config.json"), """{"model_type": "albert", "architectures": ["AlbertForMaskedLM"]}""");
        var e = Assert.ThrowsAny<Exception>(() => AutoModel.FromPretrained(tmp.Path));
        Assert.Contains("albert", e.Message);
        foreach (var t in new[] { "bert", "distilbert", "roberta", "vit" }) Assert.Contains(t, e.Message);
    }

    [Fact]
    public void UnknownArchitectureListsTheSupportedOnes()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("config.json"), """{"model_type": "bert", "architectures": ["BertForNextSentencePrediction"]}""");
        var e = Assert.Throws<NotSupportedException>(() => AutoModel.FromPretrained(tmp.Path));
        Assert.Contains("BertForNextSentencePrediction", e.Message);
        foreach (var a in AutoModel.SupportedArchitectures) Assert.Contains(a, e.Message);
    }

    [Fact]
    public void LanguageModelsComeBackAsTheirContracts()
    {
        Assert.IsAssignableFrom<ICausalLanguageModel>(AutoModel.FromPretrained(SharedData.Model("gpt2-tiny-random")));
        Assert.IsAssignableFrom<ISeq2SeqLanguageModel>(AutoModel.FromPretrained(SharedData.Model("t5-tiny-random")));
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("config.json"), """{"model_type": "gpt2", "architectures": ["GPT2Model"]}""");
        var e = Assert.Throws<NotSupportedException>(() => AutoModel.FromPretrained(tmp.Path));
        Assert.Contains("GPT2Model", e.Message);
        Assert.Contains("GPT2LMHeadModel", e.Message);
    }

    [Fact]
    public void BareConfigFallsBackToTheBaseModel()
    {
        var config = ModelConfig.Parse("""{"model_type": "distilbert", "dim": 16, "n_layers": 1, "n_heads": 2, "hidden_dim": 32, "vocab_size": 50, "max_position_embeddings": 8}""");
        Assert.Equal("DistilBertModel", AutoModel.ArchitectureOf(config));
    }

    [Theory]
    [InlineData("distilbert-tiny-random-sst2", "distilbert.transformer.layer.1.")]
    [InlineData("roberta-tiny-random-nli", "roberta.encoder.layer.1.")]
    [InlineData("vit-tiny-random", "vit.encoder.layer.1.")]
    public void CheckpointMissingALayerNamesTheMissingTensors(string name, string layerPrefix)
    {
        var dir = SharedData.Model(name);
        using var tmp = new TempDir();
        File.Copy(Path.Combine(dir, "config.json"), tmp.File("config.json"));
        var dropped = new List<string>();
        using (var full = Checkpoint.Open(dir))
        {
            var w = new SafetensorsWriter();
            foreach (var n in full.Names)
            {
                if (n.StartsWith(layerPrefix, StringComparison.Ordinal)) { dropped.Add(n); continue; }
                w.Add(n, full.ToTensor(n));
            }
            w.Save(tmp.File("model.safetensors"));
        }
        Assert.NotEmpty(dropped);
        var e = Assert.Throws<WeightBindingException>(() => AutoModel.FromPretrained(tmp.Path));
        Assert.Contains("missing", e.Message);
        foreach (var n in dropped) Assert.Contains(n, e.Message);
        Assert.Equal(dropped.Order(StringComparer.Ordinal), e.Report.Missing.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FolderWithoutConfigIsAClearError()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => AutoModel.FromPretrained(tmp.Path));
        Assert.Contains("config.json", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => AutoModel.FromPretrained(tmp.File("nope")));
    }

    [Fact]
    public void HubIdsResolveThroughTheCache()
    {
        // huggingface_hub's layout: models--org--name/refs/main → commit, snapshots/<commit>/files.
        using var tmp = new TempDir();
        const string commit = "0123456789abcdef0123456789abcdef01234567";
        var snapshot = Path.Combine(tmp.Path, "models--glassbox-test--distilbert-tiny", "snapshots", commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(tmp.Path, "models--glassbox-test--distilbert-tiny", "refs"));
        File.WriteAllText(Path.Combine(tmp.Path, "models--glassbox-test--distilbert-tiny", "refs", "main"), commit);
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(SharedData.Model("distilbert-tiny-random-sst2"), f), Path.Combine(snapshot, f));
        var model = AutoModel.FromPretrained("glassbox-test/distilbert-tiny", hub: new Hub.HubOptions { CacheDir = tmp.Path, Offline = true });
        Assert.IsType<DistilBert>(model);
        Assert.ThrowsAny<Exception>(() => AutoModel.FromPretrained("glassbox-test/absent", hub: new Hub.HubOptions { CacheDir = tmp.Path, Offline = true }));
    }

    [Fact]
    public void VitFromAutoModelRunsOnProcessedPixels()
    {
        var dir = SharedData.Model("vit-tiny-random");
        var model = Assert.IsType<Vit>(AutoModel.FromPretrained(dir));
        var pixels = Images.VitImageProcessor.FromPretrained(dir).Preprocess(Path.Combine(dir, "example.png"));
        var logits = model.Forward(pixels).Logits!;
        Assert.Equal(new[] { 1, 3 }, logits.Shape);
        Assert.Equal(2, Ops.ArgMax(logits)[0]); // golden logits: [-2.10, 0.019, 0.454] → "blue"
    }
}
