// /api/tcav and /api/hierarchy against the library called directly on an independently loaded copy
// of the same model: the endpoint must return exactly what Tcav.Run / RunRelative and
// HierarchicalExplainer.Explain return for the same inputs and seed (the class's examples are
// recomputed here from the model's own argmax, not from the server's predictions). Bad input is a
// 400 JSON error naming the count, the valid layers or the labels; an aborted TCAV request stops.
using System.Net.Http.Json;
using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Explain.Concepts;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Hierarchy;
using Glassbox.Explain.Summaries;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Server.Tests;

[Collection(nameof(ServerCollection))]
public sealed class ConceptApiTests(ServerFixture f)
{
    private static readonly Lazy<(TransformerModel Model, Tokenizer Tokenizer, string Folder)> s_direct = new(() =>
    {
        string folder = Shared.Model("distilbert-sst2-tiny");
        return (AutoModel.FromPretrained(folder), Tokenizer.FromPretrained(folder), folder);
    });

    private static readonly string[] Layers = ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"];

    private string[] DevTexts() => File.ReadLines(f.DevFile).Skip(1).Select(l => l.Split('\t')[0]).ToArray();

    private async Task<string[]> Labels() =>
        (await f.Get("/api/info")).GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "sst2")
            .GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToArray();

    /// <summary>The rows the directly loaded model predicts as <paramref name="classIndex"/> (argmax of its logits).</summary>
    private static List<string> PredictedAs(IEnumerable<string> texts, int classIndex)
    {
        var (model, tokenizer, _) = s_direct.Value;
        var result = new List<string>();
        foreach (var t in texts)
        {
            using var _ = Tape.NoGrad();
            var logits = model.Forward(ModelInput.Single(tokenizer.Encode(t).Ids.ToArray())).Logits!.ToArray();
            if (Array.IndexOf(logits, logits.Max()) == classIndex) result.Add(t);
        }
        return result;
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Fact]
    public async Task Tcav_equals_the_library_with_the_same_seed_at_every_layer()
    {
        var labels = await Labels();
        int negative = Array.IndexOf(labels, "NEGATIVE");
        var ids = Enumerable.Range(0, 12).Select(i => i.ToString()).ToArray();
        var r = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = ids, conceptName = "first rows", @class = "NEGATIVE", layers = Layers, runs = 4, seed = 3 });

        var texts = DevTexts();
        var classExamples = PredictedAs(texts, negative);
        var tcav = new Tcav(s_direct.Value.Model, s_direct.Value.Tokenizer, labels);
        var results = r.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(Layers, results.Select(x => x.GetProperty("layer").GetString()));
        Assert.Equal(classExamples.Count, r.GetProperty("classExamples").GetInt32());
        Assert.Equal(12, r.GetProperty("conceptExamples").GetInt32());
        Assert.Equal("predicted", r.GetProperty("classExamplesFrom").GetString());
        for (int k = 0; k < Layers.Length; k++)
        {
            var expected = tcav.Run("first rows", texts[..12], texts, classExamples, negative, new TcavOptions { Layer = Layers[k], Runs = 4, Seed = 3 });
            var got = results[k];
            Assert.Equal(expected.Score, got.GetProperty("score").GetDouble(), 12);
            Assert.Equal(expected.ScoreStd, got.GetProperty("scoreStd").GetDouble(), 12);
            Assert.Equal(expected.RunScores, Doubles(got.GetProperty("runScores")));
            Assert.Equal(expected.RandomScores, Doubles(got.GetProperty("randomScores")));
            Assert.Equal(expected.RandomScores.Average(), got.GetProperty("randomMean").GetDouble(), 12);
            Assert.Equal(Statistics.StandardDeviation(expected.RandomScores), got.GetProperty("randomStd").GetDouble(), 12);
            Assert.Equal(expected.PValue, got.GetProperty("pValue").GetDouble(), 12);
            Assert.Equal(expected.Significant, got.GetProperty("significant").GetBoolean());
            Assert.Equal(expected.CavAccuracy, got.GetProperty("cavAccuracy").GetDouble(), 12);
            Assert.Equal(ExplanationSummary.Describe(expected), got.GetProperty("summary").GetString());
            Assert.Equal(expected.Significant, got.GetProperty("pValue").GetDouble() < 0.05);
            Assert.Equal(expected.ScorePValue, got.GetProperty("scorePValue").GetDouble(), 12);
            Assert.Equal(expected.CavPValue, got.GetProperty("cavPValue").GetDouble(), 12);
            Assert.Equal(expected.RandomCavAccuracy, got.GetProperty("randomCavAccuracy").GetDouble(), 12);
        }
    }

    [Fact]
    public async Task Relative_tcav_on_gold_labelled_rows_equals_RunRelative()
    {
        var labels = await Labels();
        int positive = Array.IndexOf(labels, "POSITIVE");
        var texts = DevTexts();
        var gold = File.ReadLines(f.DevFile).Skip(1).Select(l => int.Parse(l.Split('\t')[1].Trim())).ToArray();
        var a = Enumerable.Range(0, 10).ToArray();
        var b = Enumerable.Range(20, 11).ToArray();
        var r = await f.Post("/api/tcav", new
        {
            model = "sst2", dataset = "sst2-dev", conceptIds = a.Select(i => i.ToString()), conceptName = "A", negativeIds = b.Select(i => i.ToString()), negativeName = "B",
            @class = "POSITIVE", layers = new[] { Layers[1] }, runs = 3, seed = 5, pooling = "mean", classExamples = "gold",
        });
        var classExamples = texts.Where((_, i) => gold[i] == positive).ToList();
        var expected = new Tcav(s_direct.Value.Model, s_direct.Value.Tokenizer, labels).RunRelative("A", a.Select(i => texts[i]).ToList(), "B", b.Select(i => texts[i]).ToList(),
            texts, classExamples, positive, new TcavOptions { Layer = Layers[1], Runs = 3, Seed = 5, Pooling = Pooling.Mean });
        var got = r.GetProperty("results")[0];
        Assert.Equal("B", r.GetProperty("negative").GetString());
        Assert.Equal(11, r.GetProperty("negativeExamples").GetInt32());
        Assert.Equal(classExamples.Count, r.GetProperty("classExamples").GetInt32());
        Assert.Equal(expected.RunScores, Doubles(got.GetProperty("runScores")));
        Assert.Equal(expected.RandomScores, Doubles(got.GetProperty("randomScores")));
        Assert.Equal(expected.PValue, got.GetProperty("pValue").GetDouble(), 12);
        Assert.Equal(expected.CavAccuracy, got.GetProperty("cavAccuracy").GetDouble(), 12);
        Assert.Contains("A vs B", got.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task Info_lists_tcav_and_the_phrase_tree_only_for_classifiers()
    {
        var models = (await f.Get("/api/info")).GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        var tcav = models["sst2"].GetProperty("concepts").GetProperty("tcav");
        var layers = tcav.GetProperty("layers").EnumerateArray().Select(l => l.GetString()!).ToArray();
        // Every hook point the model runs through, the residual stream after each block among them.
        Assert.Equal(new Tcav(s_direct.Value.Model, s_direct.Value.Tokenizer, await Labels()).HookPoints(), layers);
        Assert.Equal(Layers, tcav.GetProperty("defaultLayers").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(10, tcav.GetProperty("minConceptExamples").GetInt32());
        Assert.Equal(new TcavOptions { Layer = "" }.Runs, tcav.GetProperty("defaultRuns").GetInt32()); // the library's default
        Assert.Equal(["soc", "agglomerative"], models["sst2"].GetProperty("concepts").GetProperty("hierarchy").GetProperty("methods").EnumerateArray().Select(x => x.GetString()));
        foreach (var name in new[] { "ner", "qa", "gpt2", "regression", "multilabel" })
            Assert.False(models[name].TryGetProperty("concepts", out _), $"{name} lists concept modules");
    }

    [Fact]
    public async Task Tcav_bad_input_is_a_400_naming_the_count_the_layers_or_the_labels()
    {
        var nine = Enumerable.Range(0, 9).Select(i => i.ToString()).ToArray();
        var twelve = Enumerable.Range(0, 12).Select(i => i.ToString()).ToArray();
        var e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = nine, @class = "NEGATIVE", layers = Layers }, 400);
        Assert.Equal("too_few_examples", e.GetProperty("code").GetString());
        Assert.Contains("9 examples", e.GetProperty("error").GetString());
        Assert.Contains("at least 10", e.GetProperty("error").GetString());
        // Repeated ids count once.
        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = nine.Append("0").ToArray(), @class = "NEGATIVE", layers = Layers }, 400);
        Assert.Contains("9 examples", e.GetProperty("error").GetString());

        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, @class = "NEGATIVE", layers = new[] { "blocks.7.hook_resid_post" } }, 400);
        Assert.Equal("unknown_layer", e.GetProperty("code").GetString());
        string message = e.GetProperty("error").GetString()!;
        Assert.Contains("'blocks.7.hook_resid_post'", message);
        foreach (var valid in new Tcav(s_direct.Value.Model, s_direct.Value.Tokenizer, await Labels()).HookPoints()) Assert.Contains(valid, message);

        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, @class = "NEUTRAL", layers = Layers }, 400);
        Assert.Equal("unknown_class", e.GetProperty("code").GetString());
        Assert.Contains("NEGATIVE, POSITIVE", e.GetProperty("error").GetString());

        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, @class = "NEGATIVE", layers = Layers, runs = 1000 }, 400);
        Assert.Contains("between 2", e.GetProperty("error").GetString());
        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, @class = "NEGATIVE", layers = Array.Empty<string>() }, 400);
        Assert.Equal("missing_field", e.GetProperty("code").GetString());
        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, @class = "NEGATIVE", layers = Layers, pooling = "max" }, 400);
        Assert.Contains("'cls' or 'mean'", e.GetProperty("error").GetString());
        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, negativeIds = Enumerable.Range(11, 10).Select(i => i.ToString()), @class = "NEGATIVE", layers = Layers }, 400);
        Assert.Contains("'11'", e.GetProperty("error").GetString());
        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve.Append("nope").ToArray(), @class = "NEGATIVE", layers = Layers }, 404);
        Assert.Contains("'nope'", e.GetProperty("error").GetString());
        e = await f.Post("/api/tcav", new { model = "ner", dataset = "sst2-dev", conceptIds = twelve, @class = "O", layers = Layers }, 400);
        Assert.Equal("not_supported", e.GetProperty("code").GetString());
        e = await f.Post("/api/tcav", new { model = "sst2", dataset = "sst2-dev", conceptIds = twelve, @class = "NEGATIVE", layers = Layers, extra = 1 }, 400);
        Assert.Equal("malformed_json", e.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("soc", null, 8, 1)]
    [InlineData("agglomerative", "POSITIVE", 20, 0)]
    public async Task Hierarchy_returns_the_library_tree(string method, string? className, int samples, int seed)
    {
        const string text = "not a good movie, but the acting is fine";
        var r = await f.Post("/api/hierarchy", new { model = "sst2", input = new { text }, method, @class = className, samples, seed });
        var labels = await Labels();
        var (model, tokenizer, folder) = s_direct.Value;
        var e = new HierarchicalExplainer(new TransformerExplainable(model, "sst2", labels), tokenizer).Explain(text,
            className is null ? null : Array.IndexOf(labels, className), new HierarchicalOptions
            {
                Scoring = method == "soc" ? PhraseScoring.Soc : PhraseScoring.Occlusion,
                Samples = samples,
                Seed = seed,
                BaselineId = new SequenceClassificationExplainer(model, tokenizer, folder).SpecialTokens.Pad,
            });
        Assert.Equal(e.TargetName, r.GetProperty("target").GetString());
        Assert.Equal(e.InputScore, r.GetProperty("inputScore").GetDouble(), 6);
        Assert.Equal(e.Words, r.GetProperty("words").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(method == "soc" ? "soc" : "occlusion", r.GetProperty("scoring").GetString());
        Assert.Equal(ExplanationSummary.Describe(e), r.GetProperty("summary").GetString());
        int nodes = 0;
        void Same(PhraseNode expected, JsonElement got)
        {
            nodes++;
            Assert.Equal(expected.Start, got.GetProperty("start").GetInt32());
            Assert.Equal(expected.End, got.GetProperty("end").GetInt32());
            Assert.Equal(expected.Text, got.GetProperty("text").GetString());
            Assert.Equal(expected.Score, got.GetProperty("score").GetDouble(), 6);
            Assert.Equal(expected.Interaction, got.GetProperty("interaction").GetDouble(), 6);
            var children = got.GetProperty("children").EnumerateArray().ToArray();
            Assert.Equal(expected.Children.Count, children.Length);
            if (children.Length == 2)
                Assert.Equal(got.GetProperty("score").GetDouble() - children[0].GetProperty("score").GetDouble() - children[1].GetProperty("score").GetDouble(),
                    got.GetProperty("interaction").GetDouble(), 9);
            for (int i = 0; i < children.Length; i++) Same(expected.Children[i], children[i]);
        }
        Same(e.Root, r.GetProperty("tree"));
        Assert.Equal(2 * e.Words.Count - 1, nodes); // a binary tree over the words
    }

    [Fact]
    public async Task A_long_text_gives_a_deep_tree_over_the_words_the_model_reads()
    {
        // 200 words; the model reads 64 tokens, so the tree covers the words that fit and is up to 63 levels deep.
        using var res = await f.Http.PostAsJsonAsync("/api/hierarchy", new { model = "sst2", input = new { text = string.Join(' ', Enumerable.Range(0, 200).Select(i => i % 2 == 0 ? "good" : "film")) }, method = "agglomerative" });
        Assert.Equal(200, (int)res.StatusCode);
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(), new JsonDocumentOptions { MaxDepth = 1024 });
        var r = doc.RootElement;
        int words = r.GetProperty("words").GetArrayLength();
        Assert.InRange(words, 32, 199);
        int nodes = 0, depth = 0;
        void Walk(JsonElement n, int d) { nodes++; depth = Math.Max(depth, d); foreach (var c in n.GetProperty("children").EnumerateArray()) Walk(c, d + 1); }
        Walk(r.GetProperty("tree"), 1);
        Assert.Equal(2 * words - 1, nodes);
        Assert.True(depth > 10, $"depth {depth}");
    }

    [Fact]
    public async Task Hierarchy_bad_input_is_a_400_json_error()
    {
        var e = await f.Post("/api/hierarchy", new { model = "sst2", input = new { text = "a fine film" }, method = "lime" }, 400);
        Assert.Contains("soc, agglomerative", e.GetProperty("error").GetString());
        e = await f.Post("/api/hierarchy", new { model = "sst2", input = new { text = "a fine film" }, samples = 100_000 }, 400);
        Assert.Contains("samples must be between 1 and", e.GetProperty("error").GetString());
        e = await f.Post("/api/hierarchy", new { model = "sst2", input = new { text = "a fine film" }, @class = "NEUTRAL" }, 400);
        Assert.Contains("NEGATIVE, POSITIVE", e.GetProperty("error").GetString());
        e = await f.Post("/api/hierarchy", new { model = "sst2", input = new { text = "  " } }, 400);
        Assert.Equal("bad_input", e.GetProperty("code").GetString());
        e = await f.Post("/api/hierarchy", new { model = "gpt2", input = new { text = "a fine film" } }, 400);
        Assert.Equal("not_supported", e.GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_aborted_tcav_request_stops_and_frees_the_model_and_long_texts_are_refused()
    {
        string folder = Directory.CreateTempSubdirectory("glassbox-tcav-cancel-").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(folder, "dev.tsv"), File.ReadLines(Shared.Data("sst2/dev.tsv")).Take(201));
            await using var server = GlassboxServer.Create(new ServerOptions
            {
                Port = 0, MaxHierarchyWords = 6,
                Models = [new("sst2", Shared.Model("distilbert-sst2-tiny"))], Datasets = [new("dev", Path.Combine(folder, "dev.tsv"))],
            });
            await server.StartAsync();
            using var http = new HttpClient { BaseAddress = server.Url };
            var hooks = (await ServerFixture.Read(await http.GetAsync("/api/info"), 200)).GetProperty("models")[0].GetProperty("concepts").GetProperty("tcav")
                .GetProperty("layers").EnumerateArray().Select(l => l.GetString()!).Where(l => l.Contains("resid") || l.Contains("_out")).Take(12).ToArray();
            using var cts = new CancellationTokenSource();
            var started = System.Diagnostics.Stopwatch.StartNew();
            var call = http.PostAsJsonAsync("/api/tcav", new { model = "sst2", dataset = "dev", conceptIds = Enumerable.Range(0, 60).Select(i => i.ToString()), @class = "NEGATIVE", layers = hooks, runs = 50 }, cts.Token);
            await Task.Delay(1500);
            Assert.False(call.IsCompleted, "the request should still be running after 1.5 s (12 layers × 50 runs)");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (server.Stats.Cancelled == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Equal(1, server.Stats.Cancelled);
            // The model's gate is free again: a hierarchy request is answered.
            using var res = await http.PostAsJsonAsync("/api/hierarchy", new { model = "sst2", input = new { text = "a fine film" }, method = "agglomerative" });
            Assert.Equal(200, (int)res.StatusCode);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"took {started.Elapsed}");
            // And a text with more words than MaxHierarchyWords is refused before any work.
            using var tooLong = await http.PostAsJsonAsync("/api/hierarchy", new { model = "sst2", input = new { text = "one two three four five six seven" } });
            string error = (await ServerFixture.Read(tooLong, 413)).GetProperty("error").GetString()!;
            Assert.Contains("7 words", error);
            Assert.Contains("limited to 6", error);
        }
        finally { Directory.Delete(folder, true); }
    }
}
