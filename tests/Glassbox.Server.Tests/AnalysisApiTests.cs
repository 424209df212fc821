// Metrics, projections and counterfactuals through the API: numbers checked against what the
// predictions and the data imply (accuracy = trace of the confusion matrix / n, slices partition
// the data, PCA output is centred with decreasing explained variance, generators' edits are what
// their rules say).
using System.Text.Json;

namespace Glassbox.Server.Tests;

[Collection(nameof(ServerCollection))]
public sealed class AnalysisApiTests(ServerFixture f)
{
    [Fact]
    public async Task Info_lists_metrics_projections_and_generators_by_task()
    {
        var models = (await f.Get("/api/info")).GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        string[] Names(string model, string field) => models[model].GetProperty(field).EnumerateArray().Select(x => x.GetString()!).ToArray();
        Assert.Contains("accuracy", Names("sst2", "metrics"));
        Assert.Contains("confusion-matrix", Names("sst2", "metrics"));
        Assert.Equal(["pca", "umap"], Names("sst2", "projections"));
        Assert.Equal(["word-replacer", "scrambler", "hotflip", "ablation-flip"], Names("sst2", "generators"));
        Assert.Contains("pearson", Names("regression", "metrics"));
        Assert.Empty(Names("gpt2", "metrics"));
        Assert.Empty(Names("gpt2", "generators"));
        Assert.Empty(Names("ner", "generators"));
    }

    [Fact]
    public async Task Metrics_per_slice_agree_with_the_predictions_and_gold_labels()
    {
        var preds = (await f.Post("/api/predict", new { model = "sst2", dataset = "sst2-dev" })).GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("labelIndex").GetInt32()).ToArray();
        var gold = File.ReadLines(f.DevFile).Skip(1).Select(l => int.Parse(l.Split('\t')[1].Trim())).ToArray();
        var r = await f.Post("/api/metrics", new { model = "sst2", dataset = "sst2-dev", facet = "label" });
        var slices = r.GetProperty("slices").EnumerateArray().ToArray();
        var all = slices[0];
        Assert.Equal("all", all.GetProperty("slice").GetString());
        Assert.Equal(60, all.GetProperty("count").GetInt32());
        double accuracy = gold.Zip(preds).Count(t => t.First == t.Second) / 60.0;
        Assert.Equal(accuracy, all.GetProperty("accuracy").GetDouble(), 12);
        var cm = all.GetProperty("confusionMatrix").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        for (int g = 0; g < 2; g++)
            for (int p = 0; p < 2; p++)
                Assert.Equal(gold.Zip(preds).Count(t => t.First == g && t.Second == p), cm[g][p]);
        // Slices by gold label partition the data, and their ids are the dataset's.
        var bySlice = slices.Skip(1).ToArray();
        Assert.Equal(2, bySlice.Length);
        Assert.Equal(60, bySlice.Sum(s => s.GetProperty("count").GetInt32()));
        var negIds = bySlice.Single(s => s.GetProperty("slice").GetString()!.Contains("NEGATIVE")).GetProperty("ids").EnumerateArray().Select(i => int.Parse(i.GetString()!)).ToArray();
        Assert.All(negIds, i => Assert.Equal(0, gold[i]));
        Assert.Equal(gold.Count(g => g == 0), negIds.Length);
        Assert.Equal(["NEGATIVE", "POSITIVE"], r.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task Pca_projection_is_centred_with_decreasing_explained_variance()
    {
        var r = await f.Post("/api/project", new { model = "sst2", dataset = "sst2-dev", method = "pca", dimensions = 3 });
        var points = r.GetProperty("points").EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        Assert.Equal(60, points.Length);
        Assert.All(points, p => Assert.Equal(3, p.Length));
        for (int k = 0; k < 3; k++) Assert.Equal(0, points.Average(p => p[k]), 6);
        var ratio = r.GetProperty("explainedVarianceRatio").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.True(ratio[0] >= ratio[1] && ratio[1] >= ratio[2] && ratio.Sum() <= 1 + 1e-9, string.Join(", ", ratio));
        // The variance along each axis is proportional to its explained variance.
        double Var(int k) => points.Sum(p => p[k] * p[k]);
        Assert.Equal(ratio[0] / ratio[1], Var(0) / Var(1), 6);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => i.ToString()), r.GetProperty("ids").EnumerateArray().Select(i => i.GetString()));
    }

    [Fact]
    public async Task Umap_projection_is_seeded_and_finite()
    {
        var a = await f.Post("/api/project", new { model = "sst2", dataset = "sst2-dev", method = "umap", dimensions = 2 });
        var b = await f.Post("/api/project", new { model = "sst2", dataset = "sst2-dev", method = "umap", dimensions = 2 });
        var points = a.GetProperty("points").EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        Assert.Equal(60, points.Length);
        Assert.All(points, p => { Assert.Equal(2, p.Length); Assert.True(p.All(double.IsFinite)); });
        Assert.Equal(a.GetProperty("points").GetRawText(), b.GetProperty("points").GetRawText()); // same seed, same layout
        Assert.True(points.Select(p => p[0]).Distinct().Count() > 30, "points are spread out, not collapsed");
    }

    [Fact]
    public async Task Generators_return_counterfactuals_with_their_edits_and_predictions()
    {
        const string text = "it 's a charming and often affecting journey .";
        var wr = await f.Post("/api/generate", new { model = "sst2", generator = "word-replacer", rules = "charming -> dull|tedious", input = new { text } });
        var cfs = wr.GetProperty("counterfactuals").EnumerateArray().ToArray();
        Assert.Equal(["it 's a dull and often affecting journey .", "it 's a tedious and often affecting journey ."], cfs.Select(c => c.GetProperty("text").GetString()));
        Assert.All(cfs, c => Assert.Equal("charming", c.GetProperty("edits")[0].GetProperty("original").GetString()));
        Assert.All(cfs, c => Assert.Contains(c.GetProperty("predictedLabel").GetString(), new[] { "NEGATIVE", "POSITIVE" }));

        var sc = await f.Post("/api/generate", new { model = "sst2", generator = "scrambler", count = 3, seed = 1, input = new { text } });
        var words = text.Split(' ').Order().ToArray();
        var scrambled = sc.GetProperty("counterfactuals").EnumerateArray().ToArray();
        Assert.Equal(3, scrambled.Length);
        Assert.All(scrambled, c => Assert.Equal(words, c.GetProperty("text").GetString()!.Split(' ').Order().ToArray()));

        var hf = await f.Post("/api/generate", new { model = "sst2", generator = "hotflip", count = 2, input = new { text } });
        var flips = hf.GetProperty("counterfactuals").EnumerateArray().ToArray();
        Assert.InRange(flips.Length, 0, 2);
        foreach (var c in flips)
        {
            Assert.NotEqual(text, c.GetProperty("text").GetString());
            // A counterfactual that flips reports a prediction different from the original's (POSITIVE).
            Assert.Equal(c.GetProperty("predictedLabel").GetString() != "POSITIVE", c.GetProperty("flipped").GetBoolean());
        }
    }
}
