// The extension API end to end: the sample project's lexicon model and review dataset
// (samples/CustomModel, compiled into this test project) registered with GlassboxApp beside a native
// model and a black-box wrapper of that same native model. Expected values are known answers from
// the lexicon's definition (p(positive) = σ(#positive − #negative), a negation flips the next
// sentiment word, ties go to the first label) and invariants (KernelSHAP's efficiency; a black box of
// a model gives the model's own occlusion attributions).
using System.Net.Http.Json;
using System.Text.Json;
using CustomModel;
using Glassbox.Explain;
using Glassbox.Explain.Extensions;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Glassbox.Server.Tests;

public sealed class CustomModelFixture : IAsyncLifetime
{
    public GlassboxServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public static string SampleFile(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "samples", "CustomModel", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"samples/CustomModel/{name} was not found above the test binaries.");
    }

    public async Task InitializeAsync()
    {
        string sst2 = Shared.Model("distilbert-sst2-tiny");
        Server = await GlassboxApp.Create(new ServerOptions { Port = 0 })
            .AddModel("lexicon", new LexiconSentiment())
            .AddModel("sst2", sst2)
            .AddModel("opaque-sst2", new OpaqueModel(AutoModel.FromPretrained(sst2), sst2), Tokenizer.FromPretrained(sst2))
            .AddDataset("reviews", Reviews.Load(SampleFile("reviews.txt")))
            .StartAsync();
        Http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    public async Task<JsonElement> Post(string path, object body, int expectStatus = 200)
    {
        using var res = await Http.PostAsJsonAsync(path, body);
        return await ServerFixture.Read(res, expectStatus);
    }

    public async Task<JsonElement> Get(string path)
    {
        using var res = await Http.GetAsync(path);
        return await ServerFixture.Read(res, 200);
    }
}

/// <summary>The native SST-2 model behind the black-box interface: scores only, no hooks, no gradients.</summary>
internal sealed class OpaqueModel(TransformerModel model, string folder) : IExplainableModel
{
    public string Name => folder;
    public IReadOnlyList<string> OutputNames { get; } = AutoModel.ConfigOf(model)!.Id2Label!;
    public bool SupportsGradients => false;
    public HookSet? Hooks => null;

    public Tensor Predict(ModelInput input)
    {
        using var _ = Tape.NoGrad();
        lock (model) return Ops.Softmax(model.Forward(input).Logits!, -1);
    }
}

public sealed class CustomModelApiTests(CustomModelFixture f) : IClassFixture<CustomModelFixture>
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private async Task<JsonElement> Model(string name) =>
        (await f.Get("/api/info")).GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);

    private static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Fact]
    public async Task Info_offers_what_the_spec_fits()
    {
        var lexicon = await Model("lexicon");
        Assert.Equal("classification", lexicon.GetProperty("task").GetString());
        Assert.StartsWith("custom", lexicon.GetProperty("architecture").GetString());
        Assert.Equal(["negative", "positive"], Strings(lexicon.GetProperty("labels")));
        Assert.Equal(["occlusion", "lime", "kernel-shap"], Strings(lexicon.GetProperty("interpreters")));
        Assert.False(lexicon.GetProperty("attention").GetBoolean());
        Assert.Contains("accuracy", Strings(lexicon.GetProperty("metrics")));
        Assert.Equal(["pca", "umap"], Strings(lexicon.GetProperty("projections"))); // it declares Embeddings
        Assert.Equal(["word-replacer", "scrambler"], Strings(lexicon.GetProperty("generators"))); // no gradients, no token ids
        var probs = lexicon.GetProperty("outputSpec").GetProperty("probabilities");
        Assert.Equal("MulticlassPreds", probs.GetProperty("type").GetString());
        Assert.Equal("label", probs.GetProperty("parent").GetString());
        Assert.Equal("Embeddings", lexicon.GetProperty("outputSpec").GetProperty("features").GetProperty("type").GetString());
        Assert.False(lexicon.GetProperty("inputSpec").TryGetProperty("pair", out _));
        // Modules that need hook points or a native model are not listed: TCAV/hierarchy, neighbours, explanation quality, LM views.
        Assert.False(lexicon.TryGetProperty("concepts", out _));
        Assert.Empty(Strings(lexicon.GetProperty("analysis").GetProperty("modules")));

        var opaque = await Model("opaque-sst2");
        Assert.Equal(["occlusion", "lime", "kernel-shap"], Strings(opaque.GetProperty("interpreters")));
        Assert.Empty(Strings(opaque.GetProperty("projections"))); // no Embeddings declared
        Assert.Contains("ablation-flip", Strings(opaque.GetProperty("generators")));
        Assert.DoesNotContain("hotflip", Strings(opaque.GetProperty("generators")));
        var native = await Model("sst2");
        Assert.Contains("lig", Strings(native.GetProperty("interpreters")));

        var reviews = (await f.Get("/api/info")).GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "reviews");
        Assert.Equal(13, reviews.GetProperty("size").GetInt32());
        Assert.Equal(["negative", "positive"], Strings(reviews.GetProperty("labels")));
        Assert.Contains("lexicon", Strings(reviews.GetProperty("compatibleModels")));
    }

    [Fact]
    public async Task Predictions_follow_the_lexicon()
    {
        var r = await f.Post("/api/predict", new { model = "lexicon", inputs = new[] { new { text = "a great and wonderful film" }, new { text = "not good" }, new { text = "no opinion" } } });
        var p = r.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(Sigmoid(2), p[0].GetProperty("probabilities")[1].GetDouble(), 12);
        Assert.Equal("positive", p[0].GetProperty("label").GetString());
        Assert.Equal(Sigmoid(-1), p[1].GetProperty("probabilities")[1].GetDouble(), 12);
        Assert.Equal("negative", p[1].GetProperty("label").GetString());
        Assert.Equal(0.5, p[2].GetProperty("probabilities")[0].GetDouble(), 12);
        Assert.Equal("negative", p[2].GetProperty("label").GetString()); // a tie goes to the first label
        Assert.Equal(["a", "great", "and", "wonderful", "film"], Strings(p[0].GetProperty("tokens")));
    }

    [Fact]
    public async Task Occlusion_lime_and_kernel_shap_explain_the_words()
    {
        // σ(1 − 1) = ½; without "great" σ(−1), without "dull" σ(1): occlusion = ½ − those, the other words 0.
        var r = await f.Post("/api/interpret", new { model = "lexicon", input = new { text = "a great but dull film" }, methods = new[] { "occlusion", "lime", "kernel-shap" }, target = "positive", samples = 300 });
        var results = r.GetProperty("results").EnumerateArray().ToDictionary(x => x.GetProperty("method").GetString()!);
        double[] Raw(string m) => results[m].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("raw").GetDouble()).ToArray();
        Assert.Equal(["a", "great", "but", "dull", "film"], results["occlusion"].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("token").GetString()!).ToArray());
        var occ = Raw("occlusion");
        Assert.Equal(0.5 - Sigmoid(-1), occ[1], 6);
        Assert.Equal(0.5 - Sigmoid(1), occ[3], 6);
        Assert.All(new[] { occ[0], occ[2], occ[4] }, v => Assert.Equal(0, v, 6));
        var tok = results["occlusion"].GetProperty("tokens")[3];
        Assert.Equal(12, tok.GetProperty("start").GetInt32());
        Assert.Equal(16, tok.GetProperty("end").GetInt32());

        var lime = Raw("lime");
        Assert.True(lime[1] > 0.05 && lime[3] < -0.05, $"LIME: great {lime[1]}, dull {lime[3]}");
        Assert.All(new[] { lime[0], lime[2], lime[4] }, v => Assert.True(Math.Abs(v) < 0.02, $"LIME gave {v} to a neutral word"));

        // KernelSHAP: efficiency (sum = f(x) − f(∅) = ½ − ½) and symmetry of great/dull.
        var shap = Raw("kernel-shap");
        Assert.Equal(0, shap.Sum(), 3);
        Assert.True(shap[1] > 0.1 && shap[3] < -0.1);
        Assert.Equal(shap[1], -shap[3], 2);
        Assert.Equal("positive", r.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Metrics_on_the_sample_dataset_are_the_known_answer()
    {
        // 13 reviews; the lexicon gets all but "The plot is thin, yet I could not stop smiling." (no sentiment word: a tie, so negative).
        var r = await f.Post("/api/metrics", new { model = "lexicon", dataset = "reviews" });
        var all = r.GetProperty("slices")[0];
        Assert.Equal(13, all.GetProperty("count").GetInt32());
        Assert.Equal(12.0 / 13, all.GetProperty("accuracy").GetDouble(), 12);
        var cm = all.GetProperty("confusionMatrix").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal([[6, 0], [1, 6]], cm);
    }

    [Fact]
    public async Task Projector_uses_the_declared_embeddings_and_generators_re_predict()
    {
        var p = await f.Post("/api/project", new { model = "lexicon", dataset = "reviews", method = "pca", dimensions = 2 });
        Assert.Equal(13, p.GetProperty("points").GetArrayLength());
        Assert.Contains("features", p.GetProperty("embedding").GetString());
        // Two features (#positive, #negative): two components explain all the variance.
        Assert.Equal(1.0, p.GetProperty("explainedVarianceRatio").EnumerateArray().Sum(v => v.GetDouble()), 9);

        var g = await f.Post("/api/generate", new { model = "lexicon", generator = "word-replacer", input = new { text = "a great film" }, rules = "great -> awful" });
        var c = g.GetProperty("counterfactuals")[0];
        Assert.Equal("a awful film", c.GetProperty("text").GetString());
        Assert.Equal("negative", c.GetProperty("predictedLabel").GetString());
        Assert.True(c.GetProperty("flipped").GetBoolean());
    }

    [Fact]
    public async Task Gradient_methods_attention_and_missing_embeddings_are_a_clear_400()
    {
        var e = await f.Post("/api/interpret", new { model = "lexicon", input = new { text = "great" }, methods = new[] { "lig" } }, 400);
        Assert.Equal("needs_gradients", e.GetProperty("code").GetString());
        Assert.Contains("needs gradients", e.GetProperty("error").GetString());
        Assert.Contains("occlusion, lime, kernel-shap", e.GetProperty("error").GetString());
        e = await f.Post("/api/interpret", new { model = "opaque-sst2", input = new { text = "great" }, methods = new[] { "saliency" } }, 400);
        Assert.Contains("needs gradients", e.GetProperty("error").GetString());
        e = await f.Post("/api/attention", new { model = "lexicon", input = new { text = "great" } }, 400);
        Assert.Contains("black box", e.GetProperty("error").GetString());
        e = await f.Post("/api/project", new { model = "opaque-sst2", dataset = "reviews", method = "pca" }, 400);
        Assert.Equal("no_projections", e.GetProperty("code").GetString());
        e = await f.Post("/api/predict", new { model = "lexicon", inputs = new[] { new { text = "great", pair = "x" } } }, 400);
        Assert.Contains("reads one text ('review')", e.GetProperty("error").GetString());
        e = await f.Post("/api/generate", new { model = "lexicon", generator = "hotflip", input = new { text = "great" } }, 400);
        Assert.Contains("word-replacer, scrambler", e.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_black_box_of_the_native_model_gives_its_predictions_and_occlusion()
    {
        const string text = "a gripping , funny and touching film";
        var native = (await f.Post("/api/predict", new { model = "sst2", inputs = new[] { new { text } } })).GetProperty("predictions")[0];
        var opaque = (await f.Post("/api/predict", new { model = "opaque-sst2", inputs = new[] { new { text } } })).GetProperty("predictions")[0];
        Assert.Equal(native.GetProperty("label").GetString(), opaque.GetProperty("label").GetString());
        for (int i = 0; i < 2; i++)
            Assert.Equal(native.GetProperty("probabilities")[i].GetDouble(), opaque.GetProperty("probabilities")[i].GetDouble(), 5);
        double[] Occlusion(JsonElement r) => r.GetProperty("results")[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("raw").GetDouble()).ToArray();
        var a = Occlusion(await f.Post("/api/interpret", new { model = "sst2", input = new { text }, methods = new[] { "occlusion" }, target = "POSITIVE" }));
        var b = Occlusion(await f.Post("/api/interpret", new { model = "opaque-sst2", input = new { text }, methods = new[] { "occlusion" }, target = "POSITIVE" }));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 4);
        Assert.Contains(a, v => Math.Abs(v) > 1e-3);
    }

    [Fact]
    public void A_spec_the_server_does_not_know_is_refused_at_registration()
    {
        var unknown = Assert.Throws<ArgumentException>(() => GlassboxApp.Create().AddModel("m", new SpecOnly(new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["sparkles"] = new("Sparkles") }))));
        Assert.Contains("'Sparkles'", unknown.Message);
        Assert.Contains(string.Join(", ", FieldType.KnownOutputs), unknown.Message);
        var gradients = Assert.Throws<ArgumentException>(() => GlassboxApp.Create().AddModel("m", new SpecOnly(new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["p"] = FieldType.MulticlassPreds(["a", "b"]) }, gradients: true))));
        Assert.Contains("declares gradients", gradients.Message);
        var noLabels = Assert.Throws<ArgumentException>(() => GlassboxApp.Create().AddModel("m", new SpecOnly(new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["p"] = new(FieldType.MulticlassPredsType) }))));
        Assert.Contains("no labels", noLabels.Message);
        var noText = Assert.Throws<ArgumentException>(() => GlassboxApp.Create().AddModel("m", new SpecOnly(new ModelSpec(
            new Dictionary<string, FieldType> { ["x"] = FieldType.Scalar() },
            new Dictionary<string, FieldType> { ["p"] = FieldType.RegressionScore() }))));
        Assert.Contains("input 'x' is Scalar", noText.Message);
        var data = Assert.Throws<SpecException>(() => new TextDataset(new Dictionary<string, FieldType> { ["t"] = new("Picture") }, []));
        Assert.Contains("dataset field types: Id, TextSegment, CategoryLabel, Scalar", data.Message);
    }

    [Fact]
    public async Task A_model_that_breaks_its_contract_is_a_502_naming_the_field()
    {
        await using var server = await GlassboxApp.Create(new ServerOptions { Port = 0 }).AddModel("short", new ShortOutputs()).StartAsync();
        using var http = new HttpClient { BaseAddress = server.Url };
        using var res = await http.PostAsJsonAsync("/api/predict", new { model = "short", inputs = new[] { new { text = "x" } } });
        var e = await ServerFixture.Read(res, 502);
        Assert.Contains("returned 1 values for 'p'; its spec declares 2", e.GetProperty("error").GetString());
    }

    [Fact]
    public async Task MapGlassbox_hosts_the_app_inside_an_existing_application()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/hello", () => "host endpoint");
        app.MapGet("/api/health", () => Results.Json(new { ok = true }));
        app.MapGlassbox(GlassboxApp.Create().AddModel("lexicon", new LexiconSentiment()));
        await app.StartAsync();
        var url = app.Urls.First();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal("host endpoint", await http.GetStringAsync("/hello"));
        Assert.Contains("\"ok\":true", await http.GetStringAsync("/api/health")); // the host's own /api route keeps precedence
        var info = await ServerFixture.Read(await http.GetAsync("/api/info"), 200);
        Assert.Equal("lexicon", info.GetProperty("models")[0].GetProperty("name").GetString());
        var page = await http.GetStringAsync("/");
        Assert.Contains("<div id=\"app\"", page);
        var missing = await ServerFixture.Read(await http.GetAsync("/api/nope"), 404);
        Assert.Equal("unknown_endpoint", missing.GetProperty("code").GetString());
        await app.StopAsync();
    }

    [Fact]
    public async Task Span_labels_and_regression_scores_come_back_as_declared()
    {
        await using var server = await GlassboxApp.Create(new ServerOptions { Port = 0 }).AddModel("caps", new Capitals()).AddModel("len", new Length()).StartAsync();
        using var http = new HttpClient { BaseAddress = server.Url };
        var info = await ServerFixture.Read(await http.GetAsync("/api/info"), 200);
        var models = info.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal("span-labeling", models["caps"].GetProperty("task").GetString());
        Assert.Empty(Strings(models["caps"].GetProperty("interpreters"))); // no scalar output to attribute
        Assert.Empty(Strings(models["caps"].GetProperty("metrics")));
        Assert.Equal("regression", models["len"].GetProperty("task").GetString());
        Assert.Contains("mse", Strings(models["len"].GetProperty("metrics")));
        var p = await ServerFixture.Read(await http.PostAsJsonAsync("/api/predict", new { model = "caps", inputs = new[] { new { text = "Ada met Alan in London" } } }), 200);
        var spans = p.GetProperty("predictions")[0].GetProperty("spans").EnumerateArray().Select(s => (s.GetProperty("text").GetString(), s.GetProperty("start").GetInt32())).ToArray();
        Assert.Equal([("Ada", 0), ("Alan", 8), ("London", 16)], spans);
        // Regression: occlusion of each word removes its length (+1 for the space it shared, the words are re-joined by single spaces).
        var r = await ServerFixture.Read(await http.PostAsJsonAsync("/api/interpret", new { model = "len", input = new { text = "ab cde" }, methods = new[] { "occlusion" } }), 200);
        Assert.Equal("value", r.GetProperty("target").GetString());
        var occ = r.GetProperty("results")[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("raw").GetDouble()).ToArray();
        Assert.Equal([6 - 3.0, 6 - 2.0], occ);
    }

    private sealed class Capitals : ITextModel
    {
        public ModelSpec Spec { get; } = new(new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["names"] = FieldType.SpanLabels() });
        public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs) => inputs.Select(x => new FieldValues
        {
            ["names"] = WordPerturbation.Words(x.Text("text")).Where(w => char.IsUpper(w.Word[0])).Select(w => new SpanLabel(w.Start, w.End, "NAME")).ToArray(),
        }).ToArray();
    }

    private sealed class Length : ITextModel
    {
        public ModelSpec Spec { get; } = new(new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["chars"] = FieldType.RegressionScore() });
        public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs) => inputs.Select(x => new FieldValues { ["chars"] = (double)x.Text("text").Length }).ToArray();
    }

    private sealed class SpecOnly(ModelSpec spec) : ITextModel
    {
        public ModelSpec Spec => spec;
        public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs) => [];
    }

    private sealed class ShortOutputs : ITextModel
    {
        public ModelSpec Spec { get; } = new(new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment() },
            new Dictionary<string, FieldType> { ["p"] = FieldType.MulticlassPreds(["a", "b"]) });
        public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs) => inputs.Select(_ => new FieldValues { ["p"] = new[] { 1.0 } }).ToArray();
    }
}
