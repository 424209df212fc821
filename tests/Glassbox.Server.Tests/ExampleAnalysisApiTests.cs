// /api/lm, /api/neighbours and /api/quality: every number equals what the library computes when
// called directly on a separately loaded copy of the model (LanguageModelAnalyzer,
// RepresentationIndex, ExplanationEvaluator), plus invariants (attributions sum to 1, a pool
// example's nearest neighbour is itself, the last layer's lens rank is the generated token's rank
// 1 under greedy decoding) and bad input: a model of the wrong task gets a 400 naming its task,
// too many tokens a 4xx, and a cancelled request stops the work.
using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.LanguageModels;
using Glassbox.Explain.Quality;
using Glassbox.Explain.TrainingData;
using Glassbox.Models;
using Glassbox.Tokenizers;

namespace Glassbox.Server.Tests;

[Collection(nameof(ServerCollection))]
public sealed class ExampleAnalysisApiTests(ServerFixture f)
{
    private static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    private static void Says(JsonElement e, string code, params string[] words)
    {
        Assert.Equal(code, e.GetProperty("code").GetString());
        string msg = e.GetProperty("error").GetString()!;
        foreach (var w in words) Assert.Contains(w, msg);
    }

    [Fact]
    public async Task Info_lists_the_analysis_modules_only_for_models_whose_task_fits()
    {
        var models = (await f.Get("/api/info")).GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        JsonElement A(string model) => models[model].GetProperty("analysis");
        Assert.Equal(["lm-salience", "logit-lens", "layer-predictions"], Strings(A("gpt2").GetProperty("modules")));
        Assert.Equal(["ig", "saliency", "grad_x_input"], Strings(A("gpt2").GetProperty("lmAttributions")));
        Assert.Empty(Strings(A("gpt2").GetProperty("trainingPools")));
        Assert.Equal(["nearest-examples", "explanation-quality"], Strings(A("sst2").GetProperty("modules")));
        // sst2-dev is labelled single text; qa-mini has pairs, so it cannot be the pool.
        Assert.Equal(["sst2-dev"], Strings(A("sst2").GetProperty("trainingPools")));
        Assert.Contains("lig", Strings(A("sst2").GetProperty("qualityMethods")));
        Assert.Equal(["comprehensiveness", "sufficiency", "aopc", "deletionArea", "insertionArea", "kendallTauLoo"], Strings(A("sst2").GetProperty("qualityMetrics")));
        Assert.Empty(Strings(A("ner").GetProperty("modules")));
        Assert.Empty(Strings(A("qa").GetProperty("modules")));
        Assert.DoesNotContain("explanation-quality", Strings(A("regression").GetProperty("modules")));
        Assert.DoesNotContain("lm-salience", Strings(A("sst2").GetProperty("modules")));
    }

    [Theory]
    [InlineData("ig", LmAttributionMethod.IntegratedGradients)]
    [InlineData("grad_x_input", LmAttributionMethod.InputXGradient)]
    public async Task Lm_salience_logit_lens_and_rankings_equal_the_library(string method, LmAttributionMethod expected)
    {
        const string prompt = "The quick brown fox";
        var r = await f.Post("/api/lm", new { model = "gpt2", input = new { text = prompt }, maxNewTokens = 4, method, steps = 20, topK = 5 });

        var lm = LanguageModelAnalyzer.FromPretrained(Shared.Model("gpt2-tiny-random"));
        var a = lm.Generate(prompt, new LmGenerateOptions { MaxNewTokens = 4, Attributions = [expected], IgSteps = 20, InternalBatchSize = 25, ReportTopK = 5, CaptureActivations = false });

        Assert.Equal(a.TokenIds, r.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.Equal(a.Tokens, r.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("token").GetString()));
        Assert.Equal(a.FirstGeneratedIndex, r.GetProperty("firstGenerated").GetInt32());
        Assert.Equal(lm.Tokenizer!.Decode(a.GeneratedIds, skipSpecialTokens: true), r.GetProperty("generatedText").GetString());
        var generated = r.GetProperty("generated").EnumerateArray().ToArray();
        Assert.Equal(a.GeneratedIds.Length, generated.Length);
        for (int t = 0; t < generated.Length; t++)
        {
            var g = generated[t];
            Assert.Equal(a.FirstGeneratedIndex + t, g.GetProperty("position").GetInt32());
            Assert.Equal(a.Steps[t].Probability, g.GetProperty("probability").GetDouble(), 6);
            Assert.Equal(a.Steps[t].TopIds.Select(id => lm.Tokenizer.IdToToken(id)), g.GetProperty("alternatives").EnumerateArray().Select(x => x.GetProperty("token").GetString()));
            var expectedAttr = a.Attributions[expected][t].Normalized;
            var got = g.GetProperty("attribution").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            // Token t is attributed to every token before it, and the shares sum to 1 (Ecco's L2 normalisation).
            Assert.Equal(a.FirstGeneratedIndex + t, got.Length);
            Assert.Equal(expectedAttr.Length, got.Length);
            for (int p = 0; p < got.Length; p++) Assert.Equal(expectedAttr[p], got[p], 6);
            Assert.Equal(1, got.Sum(), 5);
            if (expected == LmAttributionMethod.IntegratedGradients)
                Assert.Equal(a.Attributions[expected][t].ConvergenceDelta!.Value, g.GetProperty("convergenceDelta").GetDouble(), 6);
        }

        var ranks = a.Rankings();
        var gotRanks = r.GetProperty("rankings").EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(a.LayerCount, r.GetProperty("layers").GetInt32());
        Assert.Equal(ranks, gotRanks);
        // Greedy decoding: the last layer's lens is the model's output, so every generated token ranks first there.
        Assert.All(gotRanks[^1], rank => Assert.Equal(1, rank));

        var lens = r.GetProperty("layerPredictions").EnumerateArray().ToArray();
        Assert.Equal(generated.Length, lens.Length);
        for (int t = 0; t < lens.Length; t++)
        {
            int position = a.FirstGeneratedIndex + t;
            Assert.Equal(position, lens[t].GetProperty("position").GetInt32());
            var expectedLayers = a.LayerPredictions(position, 5);
            var gotLayers = lens[t].GetProperty("layers").EnumerateArray().ToArray();
            Assert.Equal(expectedLayers.Count, gotLayers.Length);
            for (int l = 0; l < gotLayers.Length; l++)
            {
                var cands = gotLayers[l].EnumerateArray().ToArray();
                Assert.Equal(expectedLayers[l].TopTokens, cands.Select(c => c.GetProperty("token").GetString()));
                for (int k = 0; k < cands.Length; k++) Assert.Equal(expectedLayers[l].TopProbabilities[k], cands[k].GetProperty("probability").GetDouble(), 6);
            }
        }
    }

    [Fact]
    public async Task Lm_method_none_returns_the_lens_without_attributions()
    {
        var r = await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello there" }, maxNewTokens = 2, method = "none" });
        Assert.Equal("none", r.GetProperty("method").GetString());
        Assert.All(r.GetProperty("generated").EnumerateArray(), g => Assert.False(g.TryGetProperty("attribution", out _)));
        Assert.Equal(2, r.GetProperty("rankings").GetArrayLength());
    }

    [Fact]
    public async Task Lm_bad_input_is_4xx_naming_the_task_and_the_limits()
    {
        Says(await f.Post("/api/lm", new { model = "sst2", input = new { text = "a fine film" } }, 400), "not_supported", "'sst2'", "classification", "text-generation");
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, maxNewTokens = 1000 }, 400), "too_many_tokens", "maxNewTokens", "32");
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, maxNewTokens = 0 }, 400), "too_many_tokens", "maxNewTokens");
        // gpt2-tiny-random takes 64 positions: a prompt of 70 words cannot be continued.
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = string.Join(" ", Enumerable.Repeat("word", 70)) }, maxNewTokens = 4 }, 413), "too_many_tokens", "64");
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, method = "magic" }, 400), "unknown_method", "'magic'", "ig");
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, steps = 100000 }, 400), "bad_input", "steps");
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, topK = 500 }, 400), "bad_input", "topK");
        Says(await f.Post("/api/lm", new { model = "gpt2" }, 400), "missing_field", "'input'");
        Says(await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, bogus = 1 }, 400), "malformed_json");
        // The server keeps serving.
        Assert.Equal(1, (await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, maxNewTokens = 1, method = "saliency" })).GetProperty("generated").GetArrayLength());
    }

    private static (TransformerModel Model, Tokenizer Tokenizer) Sst2()
    {
        string folder = Shared.Model("distilbert-sst2-tiny");
        return (AutoModel.FromPretrained(folder), Tokenizer.FromPretrained(folder));
    }

    // The server trims fields as it loads a dataset.
    private string[][] DevRows() => File.ReadLines(f.DevFile).Skip(1).Select(l => l.Split('\t').Select(c => c.Trim()).ToArray()).ToArray();

    [Fact]
    public async Task Nearest_examples_equal_the_library_index_and_leave_the_datapoint_itself_out()
    {
        var rows = DevRows();
        var r = await f.Post("/api/neighbours", new { model = "sst2", pool = "sst2-dev", input = new { id = "3", text = rows[3][0] }, k = 5 });

        var (model, tokenizer) = Sst2();
        var explainable = new TransformerExplainable(model, "sst2", ["NEGATIVE", "POSITIVE"]);
        var train = rows.Select((row, i) =>
        {
            var e = tokenizer.Encode(row[0], addSpecialTokens: true);
            return new EncodedExample(i.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Ids, int.Parse(row[1].Trim()), row[0], e.TypeIds);
        }).ToArray();
        string hook = $"blocks.{model.LayerCount - 1}.hook_resid_post";
        var index = RepresentationIndex.Build(explainable, train, hook, Pooling.Cls);
        var query = RepresentationIndex.Represent(explainable, [train[3]], hook, Pooling.Cls)[0];
        var expected = index.Search(query, 6).Where(n => n.Id != "3").Take(5).ToArray();

        Assert.True(r.GetProperty("excludedSelf").GetBoolean());
        Assert.Equal(60, r.GetProperty("poolSize").GetInt32());
        var got = r.GetProperty("neighbours").EnumerateArray().ToArray();
        Assert.Equal(expected.Select(n => n.Id), got.Select(n => n.GetProperty("id").GetString()));
        for (int i = 0; i < got.Length; i++)
        {
            Assert.Equal(i + 1, got[i].GetProperty("rank").GetInt32());
            Assert.Equal(expected[i].Score, got[i].GetProperty("similarity").GetDouble(), 5);
            Assert.Equal(rows[int.Parse(expected[i].Id)][1].Trim(), got[i].GetProperty("label").GetString());
            Assert.Equal(rows[int.Parse(expected[i].Id)][0], got[i].GetProperty("text").GetString());
        }
        // Nearest first.
        var sims = got.Select(n => n.GetProperty("similarity").GetDouble()).ToArray();
        Assert.True(sims.Zip(sims.Skip(1)).All(p => p.First >= p.Second), string.Join(", ", sims));
        // ✓/✗ compares each neighbour's gold label with the model's prediction for the datapoint.
        string predicted = r.GetProperty("predictedLabel").GetString()!;
        foreach (var n in got)
            Assert.Equal(n.GetProperty("label").GetString() == (predicted == "POSITIVE" ? "1" : "0"), n.GetProperty("sameAsPrediction").GetBoolean());
    }

    [Fact]
    public async Task A_pool_text_given_without_its_id_is_its_own_nearest_neighbour()
    {
        var rows = DevRows();
        var r = await f.Post("/api/neighbours", new { model = "sst2", pool = "sst2-dev", input = new { text = rows[7][0] }, k = 3 });
        Assert.False(r.GetProperty("excludedSelf").GetBoolean());
        var first = r.GetProperty("neighbours")[0];
        Assert.Equal("7", first.GetProperty("id").GetString());
        Assert.Equal(1, first.GetProperty("similarity").GetDouble(), 5);
    }

    [Fact]
    public async Task Nearest_examples_bad_input_is_4xx_naming_the_task_and_the_pools()
    {
        Says(await f.Post("/api/neighbours", new { model = "gpt2", pool = "sst2-dev", input = new { text = "Hello" } }, 400), "not_supported", "'gpt2'", "text-generation");
        Says(await f.Post("/api/neighbours", new { model = "ner", pool = "sst2-dev", input = new { text = "Hello" } }, 400), "not_supported", "token-classification");
        Says(await f.Post("/api/neighbours", new { model = "sst2", input = new { text = "a fine film" } }, 400), "missing_field", "'pool'", "sst2-dev");
        Says(await f.Post("/api/neighbours", new { model = "sst2", pool = "qa-mini", input = new { text = "a fine film" } }, 400), "bad_pool", "qa-mini", "pairs", "sst2-dev");
        Says(await f.Post("/api/neighbours", new { model = "sst2", pool = "nope", input = new { text = "a fine film" } }, 404), "unknown_dataset", "'nope'");
        Says(await f.Post("/api/neighbours", new { model = "sst2", pool = "sst2-dev", input = new { text = "a fine film" }, k = 0 }, 400), "bad_input", "k must be");
        Says(await f.Post("/api/neighbours", new { model = "sst2", pool = "sst2-dev", input = new { text = "a fine film" }, k = 101 }, 400), "bad_input", "100");
        Says(await f.Post("/api/neighbours", new { model = "sst2", pool = "sst2-dev", input = new { text = "" } }, 400), "bad_input", "empty");
    }

    [Fact]
    public async Task Quality_scores_equal_the_library_evaluator_with_the_random_baseline_last()
    {
        const string text = "a gorgeous , witty , seductive movie .";
        var r = await f.Post("/api/quality", new { model = "sst2", input = new { text }, methods = new[] { "saliency", "lig" }, steps = 20 });

        var (model, tokenizer) = Sst2();
        var explainer = new SequenceClassificationExplainer(model, tokenizer, Shared.Model("distilbert-sst2-tiny"));
        var report = new ExplanationEvaluator(explainer, new QualityOptions { Target = QualityTarget.Predicted, IncludeRandomBaseline = true })
            .Evaluate([new EvaluationExample(text)], [AttributionMethod.Saliency, AttributionMethod.Lig],
                new ExplainerOptions { Steps = 20, Samples = 200, InternalBatchSize = 25 });
        var ex = report.Examples[0];

        Assert.Equal(ex.TargetName, r.GetProperty("target").GetString());
        var methods = r.GetProperty("methods").EnumerateArray().ToArray();
        Assert.Equal(["saliency", "lig", "random"], methods.Select(m => m.GetProperty("method").GetString()));
        Assert.True(methods[2].GetProperty("baseline").GetBoolean());
        Assert.Equal(ex.Methods["saliency"].Faithfulness.FullScore, r.GetProperty("targetProbability").GetDouble(), 6);
        Assert.Equal(ex.Methods["saliency"].Faithfulness.TextTokens, r.GetProperty("textTokens").GetInt32());
        foreach (var m in methods)
        {
            var expected = ex.Methods[m.GetProperty("method").GetString()!].Metrics;
            foreach (var k in QualityMetrics.Faithfulness)
            {
                var v = m.GetProperty("metrics").GetProperty(k);
                if (double.IsFinite(expected[k])) Assert.Equal(expected[k], v.GetDouble(), 6);
                else Assert.Equal(JsonValueKind.Null, v.ValueKind);
            }
        }
        var dirs = r.GetProperty("higherIsBetter");
        Assert.True(dirs.GetProperty("comprehensiveness").GetBoolean());
        Assert.False(dirs.GetProperty("sufficiency").GetBoolean());
    }

    [Fact]
    public async Task Quality_for_the_gold_label_explains_that_class()
    {
        var r = await f.Post("/api/quality", new { model = "sst2", input = new { text = "a dull , lifeless film", label = "1" }, methods = new[] { "saliency" }, target = "label" });
        Assert.Equal("POSITIVE", r.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Quality_bad_input_is_4xx_naming_the_task_and_the_methods()
    {
        Says(await f.Post("/api/quality", new { model = "gpt2", input = new { text = "Hello" } }, 400), "not_supported", "'gpt2'", "text-generation");
        Says(await f.Post("/api/quality", new { model = "regression", input = new { text = "Hello" } }, 400), "not_supported", "regression");
        Says(await f.Post("/api/quality", new { model = "sst2", input = new { text = "fine" }, methods = new[] { "magic" } }, 400), "unknown_method", "'magic'", "lig");
        Says(await f.Post("/api/quality", new { model = "sst2", input = new { text = "fine" }, methods = new[] { "lig", "lig" } }, 400), "bad_input", "twice");
        Says(await f.Post("/api/quality", new { model = "sst2", input = new { text = "fine" }, target = "label" }, 400), "no_gold_label", "NEGATIVE");
        Says(await f.Post("/api/quality", new { model = "sst2", input = new { text = "fine" }, target = "other" }, 400), "bad_input", "'other'");
        Says(await f.Post("/api/quality", new { model = "sst2", input = new { text = "fine" }, steps = 0 }, 400), "bad_input", "steps");
    }

    [Fact]
    public async Task A_cancelled_lm_request_stops_and_the_server_keeps_serving()
    {
        long before = f.Server.Stats.Cancelled;
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            var body = new { model = "gpt2", input = new { text = "Once upon a time" }, maxNewTokens = 32, method = "ig", steps = 300 };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(f.Http, "/api/lm", body, cts.Token));
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (f.Server.Stats.Cancelled == before && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(f.Server.Stats.Cancelled > before, "the server saw the cancellation");
        var r = await f.Post("/api/lm", new { model = "gpt2", input = new { text = "Hello" }, maxNewTokens = 1, method = "saliency" });
        Assert.Equal(1, r.GetProperty("generated").GetArrayLength());
    }
}

/// <summary>The seq2seq path of /api/lm (T5: attributions over the encoder tokens, the decoder start token and the
/// tokens generated before), on a server of its own, against the library's Generate with attributions.</summary>
public sealed class Seq2SeqLmApiTests
{
    [Fact]
    public async Task T5_salience_and_rankings_equal_the_library()
    {
        await using var server = GlassboxServer.Create(new ServerOptions { Port = 0, Models = [new("t5", Shared.Model("t5-tiny-random"))] });
        await server.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(5) };
        const string prompt = "translate English to German: hello";
        using var res = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(http, "/api/lm",
            new { model = "t5", input = new { text = prompt }, maxNewTokens = 3, method = "saliency", topK = 3 });
        var r = await ServerFixture.Read(res, 200);

        var lm = LanguageModelAnalyzer.FromPretrained(Shared.Model("t5-tiny-random"));
        var a = lm.Generate(prompt, new LmGenerateOptions { MaxNewTokens = 3, Attributions = [LmAttributionMethod.Saliency], IgSteps = 50, InternalBatchSize = 25, ReportTopK = 3, CaptureActivations = false });
        Assert.Equal(a.TokenIds, r.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.Equal(a.FirstGeneratedIndex, r.GetProperty("firstGenerated").GetInt32());
        Assert.Equal(a.InputTokenCount + 1, a.FirstGeneratedIndex); // the decoder start token sits between
        var generated = r.GetProperty("generated").EnumerateArray().ToArray();
        Assert.Equal(a.GeneratedIds.Length, generated.Length);
        for (int t = 0; t < generated.Length; t++)
        {
            var expected = a.Attributions[LmAttributionMethod.Saliency][t].Normalized;
            var got = generated[t].GetProperty("attribution").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(a.FirstGeneratedIndex + t, got.Length);
            for (int p = 0; p < got.Length; p++) Assert.Equal(expected[p], got[p], 6);
        }
        Assert.Equal(a.Rankings(), r.GetProperty("rankings").EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray());
        var info = await ServerFixture.Read(await http.GetAsync("/api/info"), 200);
        Assert.Equal(["lm-salience", "logit-lens", "layer-predictions"], info.GetProperty("models")[0].GetProperty("analysis").GetProperty("modules").EnumerateArray().Select(x => x.GetString()));
    }
}
