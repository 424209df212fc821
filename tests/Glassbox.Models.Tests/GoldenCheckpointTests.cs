using System.Text.Json;
using Glassbox.Models.Checkpoints;

namespace Glassbox.Models.Tests;

/// <summary>Every stored checkpoint loads in every stored format and matches forward.json's "tensors" section.</summary>
public sealed class GoldenCheckpointTests
{
    public static TheoryData<string> ModelsWithGoldens()
    {
        var d = new TheoryData<string>();
        foreach (var m in SharedData.ModelNames)
            if (File.Exists(Path.Combine(SharedData.Model(m), "forward.json"))) d.Add(m);
        return d;
    }

    /// <summary>How each checkpoint's stored names map to the names the golden (transformers 5, as loaded) uses.</summary>
    internal static BindingOptions OptionsFor(string model) => model switch
    {
        "bert-tiny-random-mlm" => new BindingOptions
        {
            Tied = new Dictionary<string, string>
            {
                ["cls.predictions.decoder.weight"] = "bert.embeddings.word_embeddings.weight",
                ["cls.predictions.decoder.bias"] = "cls.predictions.bias",
            },
        },
        "gpt2-tiny-random" => new BindingOptions { Tied = new Dictionary<string, string> { ["lm_head.weight"] = "transformer.wte.weight" } },
        "t5-tiny-random" => new BindingOptions
        {
            Tied = new Dictionary<string, string>
            {
                ["encoder.embed_tokens.weight"] = "shared.weight",
                ["decoder.embed_tokens.weight"] = "shared.weight",
                ["lm_head.weight"] = "shared.weight",
            },
        },
        "gpt-neox-tiny-random" => new BindingOptions { Renames = [new(@"^embed_out\.", "lm_head.")] },
        "vit-tiny-random" => new BindingOptions
        {
            Renames =
            [
                new(@"^vit\.encoder\.layer\.(\d+)\.attention\.attention\.query\.", "vit.layers.$1.attention.q_proj."),
                new(@"^vit\.encoder\.layer\.(\d+)\.attention\.attention\.key\.", "vit.layers.$1.attention.k_proj."),
                new(@"^vit\.encoder\.layer\.(\d+)\.attention\.attention\.value\.", "vit.layers.$1.attention.v_proj."),
                new(@"^vit\.encoder\.layer\.(\d+)\.attention\.output\.dense\.", "vit.layers.$1.attention.o_proj."),
                new(@"^vit\.encoder\.layer\.(\d+)\.intermediate\.dense\.", "vit.layers.$1.mlp.fc1."),
                new(@"^vit\.encoder\.layer\.(\d+)\.output\.dense\.", "vit.layers.$1.mlp.fc2."),
                new(@"^vit\.encoder\.layer\.(\d+)\.", "vit.layers.$1."),
            ],
        },
        _ => new BindingOptions(),
    };

    internal sealed record GoldenTensor(int[] Shape, double Sum, double SumSq, double[] First);

    internal static Dictionary<string, GoldenTensor> Goldens(string model)
    {
        using var doc = PythonJson.Parse(Path.Combine(SharedData.Model(model), "forward.json"));
        var result = new Dictionary<string, GoldenTensor>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.GetProperty("tensors").EnumerateObject())
        {
            var v = p.Value;
            result[p.Name] = new GoldenTensor(
                v.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                v.GetProperty("sum").GetDouble(),
                v.GetProperty("sumsq").GetDouble(),
                v.GetProperty("first").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        }
        return result;
    }

    private static void AssertMatches(string model, string file, Checkpoint ckpt)
    {
        var goldens = Goldens(model);
        var expected = goldens.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        using var bound = WeightBinder.Bind(expected, ckpt, OptionsFor(model)); // strict: names and shapes all match
        Assert.Equal(goldens.Count, bound.Tensors.Count);
        foreach (var (name, g) in goldens)
        {
            var t = bound[name];
            Assert.Equal(g.Shape, t.Shape);
            double sum = 0, sumsq = 0;
            foreach (var x in t.Span) { sum += x; sumsq += (double)x * x; }
            AssertClose(g.Sum, sum, $"{model}/{file} {name} sum");
            AssertClose(g.SumSq, sumsq, $"{model}/{file} {name} sumsq");
            for (int i = 0; i < g.First.Length; i++)
                AssertClose(g.First[i], t.Span[i], $"{model}/{file} {name} [{i}]");
        }
    }

    private static void AssertClose(double expected, double actual, string what)
    {
        double tol = 1e-7 + 1e-8 * Math.Abs(expected);
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R}");
    }

    [Theory]
    [MemberData(nameof(ModelsWithGoldens))]
    public void EveryStoredFormatMatchesTheGolden(string model)
    {
        string dir = SharedData.Model(model);
        int formats = 0;
        foreach (var f in new[] { "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin" })
        {
            string path = Path.Combine(dir, f);
            if (!File.Exists(path)) continue;
            using var ckpt = Checkpoint.Open(path);
            AssertMatches(model, f, ckpt);
            formats++;
        }
        Assert.True(formats > 0, $"{model}: no weights found");
        using var preferred = Checkpoint.Open(dir); // folder: the preferred format
        Assert.NotEmpty(preferred.Names);
    }

    [Fact]
    public void StoredFormatsAreTheOnesTheReadmeNames()
    {
        using (var c = Checkpoint.Open(SharedData.Model("roberta-tiny-random-nli"))) Assert.Equal(3, Assert.IsType<ShardedCheckpoint>(c).ShardFiles.Count);
        using (var c = Checkpoint.Open(Path.Combine(SharedData.Model("gpt2-tiny-random"), "model.safetensors"))) Assert.All(c.Infos, i => Assert.Equal(DType.F16, i.DType));
        using (var c = Checkpoint.Open(Path.Combine(SharedData.Model("llama-tiny-random"), "model.safetensors"))) Assert.All(c.Infos, i => Assert.Equal(DType.BF16, i.DType));
        using (var c = Checkpoint.Open(Path.Combine(SharedData.Model("bert-tiny-random-mlm"), "pytorch_model.bin"))) Assert.IsType<TorchCheckpoint>(c);
        using (var c = Checkpoint.Open(SharedData.Model("bert-tiny-random-mlm"))) Assert.IsType<SafetensorsFile>(c); // safetensors preferred
        using (var c = Checkpoint.Open(Path.Combine(SharedData.Model("bert-tiny-random-qa"), "model.safetensors"))) Assert.Equal("pt", c.Metadata["format"]);
    }

    [Fact]
    public void SafetensorsAndBinAreBitIdentical()
    {
        string dir = SharedData.Model("bert-tiny-random-mlm");
        using var st = Checkpoint.Open(Path.Combine(dir, "model.safetensors"));
        using var bin = Assert.IsType<TorchCheckpoint>(Checkpoint.Open(Path.Combine(dir, "pytorch_model.bin")));
        Assert.Equal(st.Names.Count + 2, bin.Names.Count); // the .bin also lists the tied decoder
        foreach (var name in st.Names)
        {
            Assert.Equal(st.GetInfo(name), bin.GetInfo(name));
            Assert.True(st.ReadBytes(name).AsSpan().SequenceEqual(bin.ReadBytes(name)), $"{name} differs");
        }
        // Tied weights are saved once and shared: both names view the same storage.
        Assert.True(bin.SharesStorage("cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"));
        Assert.True(bin.ReadBytes("cls.predictions.decoder.weight").AsSpan().SequenceEqual(st.ReadBytes("bert.embeddings.word_embeddings.weight")));
    }

    [Fact]
    public void CheckpointsWithoutGoldensStillLoad()
    {
        foreach (var m in new[] { "distilbert-sst2-tiny", "gpt2-shakespeare-tiny" })
        {
            using var c = Checkpoint.Open(SharedData.Model(m));
            foreach (var n in c.Names)
            {
                using var t = c.ToTensor(n);
                Assert.Equal(c.GetInfo(n).ElementCount, t.Length);
                foreach (var x in t.Span) Assert.True(float.IsFinite(x));
            }
        }
    }
}
