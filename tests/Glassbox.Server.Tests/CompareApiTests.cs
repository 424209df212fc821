// POST /api/compare against a server of its own on 127.0.0.1: the trained SST-2 classifier and a
// random DistilBERT with the same labels, compared on SST-2 dev's first 60 rows. Every number is
// recomputed here from the two models' /api/predict answers and the gold labels in the file
// (accuracy, macro F1, agreement, McNemar's table and its exact p-value from a binomial sum);
// bad requests get a 4xx JSON error naming what to change.
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Glassbox.Server;

namespace Glassbox.Server.Tests;

public sealed class CompareServerFixture : IAsyncLifetime
{
    public GlassboxServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string Folder { get; } = Directory.CreateTempSubdirectory("glassbox-compare-tests-").FullName;
    public string DevFile => Path.Combine(Folder, "dev60.tsv");

    public async Task InitializeAsync()
    {
        File.WriteAllLines(DevFile, File.ReadLines(Shared.Data("sst2/dev.tsv")).Take(61));
        File.WriteAllLines(Path.Combine(Folder, "unlabelled.tsv"), ["sentence", "a fine film", "a dull film"]);
        Server = GlassboxServer.Create(new ServerOptions
        {
            Port = 0,
            Models =
            [
                new("sst2", Shared.Model("distilbert-sst2-tiny")),
                new("random-sst2", Shared.Model("distilbert-tiny-random-sst2")),
                new("sst2-copy", Shared.Model("distilbert-sst2-tiny")),
                new("nli", Shared.Model("roberta-tiny-random-nli")),
                new("regression", Shared.Model("bert-tiny-random-regression")),
                new("crossencoder", Shared.Model("bert-tiny-random-crossencoder")),
                new("qa", Shared.Model("bert-tiny-random-qa")),
            ],
            Datasets = [new("dev", DevFile), new("unlabelled", Path.Combine(Folder, "unlabelled.tsv"))],
        });
        await Server.StartAsync();
        Http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    public async Task<JsonElement> Post(string path, object body, int expectStatus = 200)
    {
        using var res = await Http.PostAsJsonAsync(path, body);
        return await ServerFixture.Read(res, expectStatus);
    }
}

public sealed class CompareApiTests(CompareServerFixture f) : IClassFixture<CompareServerFixture>
{
    private async Task<int[]> Predicted(string model)
    {
        var r = await f.Post("/api/predict", new { model, dataset = "dev" });
        return r.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("labelIndex").GetInt32()).ToArray();
    }

    private int[] Gold() => File.ReadLines(f.DevFile).Skip(1).Select(l => int.Parse(l.Split('\t')[1].Trim())).ToArray();

    private static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    /// <summary>2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1, summed directly (n is small here).</summary>
    private static double McNemarByHand(int b, int c)
    {
        int n = b + c, s = Math.Min(b, c);
        double tail = 0, binom = 1;
        for (int k = 0; k <= s; k++) { tail += binom; binom = binom * (n - k) / (k + 1); }
        return Math.Min(1, 2 * tail / Math.Pow(2, n));
    }

    private static double MacroF1(int[] gold, int[] pred)
    {
        double sum = 0;
        for (int c = 0; c < 2; c++)
        {
            int tp = gold.Zip(pred).Count(t => t.First == c && t.Second == c);
            int fp = gold.Zip(pred).Count(t => t.First != c && t.Second == c);
            int fn = gold.Zip(pred).Count(t => t.First == c && t.Second != c);
            sum += 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
        }
        return sum / 2;
    }

    [Fact]
    public async Task Paired_metrics_agree_with_each_models_predictions_and_the_gold_labels()
    {
        int[] gold = Gold(), a = await Predicted("sst2"), b = await Predicted("random-sst2");
        var r = await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev" });
        Assert.Equal(["sst2", "random-sst2"], Strings(r.GetProperty("models")));
        Assert.Equal(["NEGATIVE", "POSITIVE"], Strings(r.GetProperty("labels")));
        Assert.Equal(0, r.GetProperty("skipped").GetInt32());
        var all = r.GetProperty("slices")[0];
        Assert.Equal("all", all.GetProperty("slice").GetString());
        Assert.Equal(60, all.GetProperty("count").GetInt32());

        var scores = all.GetProperty("models").EnumerateArray().ToArray();
        Assert.Equal("sst2", scores[0].GetProperty("model").GetString());
        Assert.Equal(gold.Zip(a).Count(t => t.First == t.Second) / 60.0, scores[0].GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(gold.Zip(b).Count(t => t.First == t.Second) / 60.0, scores[1].GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(MacroF1(gold, a), scores[0].GetProperty("macroF1").GetDouble(), 12);
        Assert.Equal(MacroF1(gold, b), scores[1].GetProperty("macroF1").GetDouble(), 12);

        var pair = all.GetProperty("pairs").EnumerateArray().Single();
        Assert.Equal(("sst2", "random-sst2"), (pair.GetProperty("first").GetString(), pair.GetProperty("second").GetString()));
        Assert.Equal(a.Zip(b).Count(t => t.First == t.Second) / 60.0, pair.GetProperty("agreement").GetDouble(), 12);
        var idx = Enumerable.Range(0, 60).ToArray();
        string[] onlyA = idx.Where(i => a[i] == gold[i] && b[i] != gold[i]).Select(i => i.ToString()).ToArray();
        string[] onlyB = idx.Where(i => b[i] == gold[i] && a[i] != gold[i]).Select(i => i.ToString()).ToArray();
        Assert.Equal(idx.Count(i => a[i] == gold[i] && b[i] == gold[i]), pair.GetProperty("bothCorrect").GetInt32());
        Assert.Equal(onlyA.Length, pair.GetProperty("onlyFirstCorrect").GetInt32());
        Assert.Equal(onlyB.Length, pair.GetProperty("onlySecondCorrect").GetInt32());
        Assert.Equal(idx.Count(i => a[i] != gold[i] && b[i] != gold[i]), pair.GetProperty("bothWrong").GetInt32());
        Assert.Equal(onlyA, Strings(pair.GetProperty("onlyFirstCorrectIds")));
        Assert.Equal(onlyB, Strings(pair.GetProperty("onlySecondCorrectIds")));
        Assert.Equal(McNemarByHand(onlyA.Length, onlyB.Length), pair.GetProperty("mcNemarPValue").GetDouble(), 12);
        // The trained model (81% on SST-2 dev) beats a random one on these rows, and the test notices.
        Assert.True(onlyA.Length > onlyB.Length, $"b = {onlyA.Length}, c = {onlyB.Length}");
        Assert.True(pair.GetProperty("mcNemarPValue").GetDouble() < 0.05, pair.GetRawText());

        Assert.Equal(idx.Where(i => a[i] != b[i]).Select(i => i.ToString()), Strings(r.GetProperty("disagreements")));
    }

    [Fact]
    public async Task Facets_partition_the_examples_by_gold_label_and_by_agreement()
    {
        int[] gold = Gold();
        var byLabel = (await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev", facet = "label" })).GetProperty("slices").EnumerateArray().ToArray();
        Assert.Equal(["all", "label=NEGATIVE", "label=POSITIVE"], byLabel.Select(s => s.GetProperty("slice").GetString()));
        Assert.Equal(gold.Count(g => g == 0), byLabel[1].GetProperty("count").GetInt32());
        Assert.All(Strings(byLabel[1].GetProperty("ids")), id => Assert.Equal(0, gold[int.Parse(id)]));
        Assert.Equal(60, byLabel[1].GetProperty("count").GetInt32() + byLabel[2].GetProperty("count").GetInt32());

        var r = await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev", facet = "agreement" });
        var slices = r.GetProperty("slices").EnumerateArray().ToArray();
        Assert.Equal(["all", "models agree", "models disagree"], slices.Select(s => s.GetProperty("slice").GetString()));
        Assert.Equal(Strings(r.GetProperty("disagreements")), Strings(slices[2].GetProperty("ids")));
        Assert.Equal(1.0, slices[1].GetProperty("pairs")[0].GetProperty("agreement").GetDouble());
        if (slices[2].GetProperty("count").GetInt32() > 0)
        {
            Assert.Equal(0.0, slices[2].GetProperty("pairs")[0].GetProperty("agreement").GetDouble());
            // Two classes and disagreement everywhere: exactly one model is right on each example.
            var p = slices[2].GetProperty("pairs")[0];
            Assert.Equal(0, p.GetProperty("bothCorrect").GetInt32() + p.GetProperty("bothWrong").GetInt32());
        }
    }

    [Fact]
    public async Task Ids_select_the_examples_and_three_models_give_three_pairs()
    {
        var r = await f.Post("/api/compare", new { models = new[] { "random-sst2", "sst2" }, dataset = "dev", ids = new[] { "3", "1", "4", "7" } });
        var all = r.GetProperty("slices")[0];
        Assert.Equal(["3", "1", "4", "7"], Strings(all.GetProperty("ids")));
        Assert.Equal("random-sst2", all.GetProperty("pairs")[0].GetProperty("first").GetString());
        int[] gold = Gold(), a = await Predicted("sst2");
        int[] rows = [3, 1, 4, 7];
        Assert.Equal(rows.Count(i => a[i] == gold[i]) / 4.0, all.GetProperty("models")[1].GetProperty("accuracy").GetDouble(), 12);
    }

    [Fact]
    public async Task Three_models_give_every_pair_and_a_model_paired_with_its_copy_agrees_everywhere()
    {
        var r = await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2", "sst2-copy" }, dataset = "dev" });
        var pairs = r.GetProperty("slices")[0].GetProperty("pairs").EnumerateArray()
            .Select(p => (p.GetProperty("first").GetString(), p.GetProperty("second").GetString())).ToArray();
        Assert.Equal([("sst2", "random-sst2"), ("sst2", "sst2-copy"), ("random-sst2", "sst2-copy")], pairs);
        var same = r.GetProperty("slices")[0].GetProperty("pairs")[1];
        Assert.Equal(1.0, same.GetProperty("agreement").GetDouble());
        Assert.Equal(1.0, same.GetProperty("kappa").GetDouble(), 12);
        Assert.Equal(0, same.GetProperty("onlyFirstCorrect").GetInt32() + same.GetProperty("onlySecondCorrect").GetInt32());
        Assert.Equal(1.0, same.GetProperty("mcNemarPValue").GetDouble());
        // The copy's pairing with the random model is the original's.
        var x = r.GetProperty("slices")[0].GetProperty("pairs")[0];
        var y = r.GetProperty("slices")[0].GetProperty("pairs")[2];
        Assert.Equal(x.GetProperty("onlyFirstCorrect").GetInt32(), y.GetProperty("onlySecondCorrect").GetInt32());
        Assert.Equal(x.GetProperty("mcNemarPValue").GetDouble(), y.GetProperty("mcNemarPValue").GetDouble());
        Assert.Equal(x.GetProperty("kappa").GetDouble(), y.GetProperty("kappa").GetDouble(), 12);
    }

    private static void Says(JsonElement e, string code, params string[] words)
    {
        Assert.Equal(code, e.GetProperty("code").GetString());
        string msg = e.GetProperty("error").GetString()!;
        foreach (var w in words) Assert.Contains(w, msg);
    }

    [Fact]
    public async Task Bad_requests_are_json_errors_that_say_what_to_change()
    {
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "nope", "gone" }, dataset = "dev" }, 404), "unknown_model", "'nope'", "'gone'", "served models: sst2, random-sst2, sst2-copy");
        Says(await f.Post("/api/compare", new { dataset = "dev" }, 400), "missing_field", "'models'", "sst2");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2" }, dataset = "dev" }, 400), "bad_input", "two or more");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "sst2" }, dataset = "dev" }, 400), "bad_input", "'sst2' is named twice");
        Says(await f.Post("/api/compare", new { models = Enumerable.Repeat("sst2", 9).ToArray(), dataset = "dev" }, 400), "too_many_models", "at most 8");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "nli" }, dataset = "dev" }, 400), "incompatible_models",
            "NEGATIVE, POSITIVE", "CONTRADICTION, NEUTRAL, ENTAILMENT", "different labels");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "qa" }, dataset = "dev" }, 400), "incompatible_models", "classification", "question-answering");
        Says(await f.Post("/api/compare", new { models = new[] { "regression", "crossencoder" }, dataset = "dev" }, 400), "not_supported", "classification", "regression");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" } }, 400), "missing_field", "'dataset'");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "nope" }, 404), "unknown_dataset", "'nope'", "dev");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev", facet = "colour" }, 400), "bad_input", "'colour'", "label", "agreement");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev", ids = new[] { "1", "999" } }, 404), "unknown_id", "'999'");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "unlabelled" }, 400), "no_gold_labels", "unlabelled", "NEGATIVE");
        Says(await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev", colour = "red" }, 400), "malformed_json", "colour");
        using (var content = new StringContent("{\"models\": [\"sst2\",", Encoding.UTF8, "application/json"))
        using (var res = await f.Http.PostAsync("/api/compare", content))
            Says(await ServerFixture.Read(res, 400), "malformed_json", "/api/compare");
        using (var content = new StringContent("models=sst2", Encoding.UTF8, "text/plain"))
        using (var res = await f.Http.PostAsync("/api/compare", content))
            Says(await ServerFixture.Read(res, 415), "unsupported_media_type", "application/json");
        // The server keeps serving.
        var ok = await f.Post("/api/compare", new { models = new[] { "sst2", "random-sst2" }, dataset = "dev", ids = new[] { "0", "1" } });
        Assert.Equal(2, ok.GetProperty("slices")[0].GetProperty("count").GetInt32());
    }
}
