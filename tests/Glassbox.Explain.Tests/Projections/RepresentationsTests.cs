using System.Text.Json;
using Glassbox.Explain.Projections;
using Glassbox.Models;
using Glassbox.Models.Configs;

namespace Glassbox.Explain.Tests.Projections;

public class RepresentationsTests
{
    // transformers' hidden_states (float64) from forward.json: hidden_states[i + 1] = blocks.{i}.hook_resid_post.
    private static (ModelInput Input, double[][][] Hidden, int[][] Mask) Golden(string name, int layer)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Shared.Model(name), "forward.json")));
        var c = doc.RootElement.GetProperty("cases")[0];
        var inputs = c.GetProperty("inputs");
        int[][] Ints(string key) => inputs.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var ids = Ints("input_ids"); var mask = Ints("attention_mask");
        var input = new ModelInput(ids.Length, ids[0].Length, ids.SelectMany(r => r).ToArray(), mask.SelectMany(r => r).ToArray());
        var hidden = c.GetProperty("hidden_states")[layer + 1].EnumerateArray()
            .Select(b => b.EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray()).ToArray();
        return (input, hidden, mask);
    }

    [Fact]
    public void PooledRowsMatchTransformersHiddenStates()
    {
        const string name = "distilbert-tiny-random-sst2";
        var dir = Shared.Model(name);
        var model = AutoModel.FromPretrained(dir);
        var explainable = new TransformerExplainable(model, dir, ModelConfig.Load(Path.Combine(dir, "config.json")).Id2Label);
        var (input, hidden, mask) = Golden(name, 1);
        var cls = Representations.Collect(explainable, [input], "blocks.1.hook_resid_post", Pooling.Cls);
        var mean = Representations.Collect(model, [input], "blocks.1.hook_resid_post", Pooling.Mean);
        var last = Representations.Collect(model, [input], "blocks.1.hook_resid_post", Pooling.Last);
        Assert.Equal(2, cls.Length);
        for (int b = 0; b < 2; b++)
        {
            var valid = Enumerable.Range(0, mask[b].Length).Where(p => mask[b][p] == 1).ToArray();
            for (int j = 0; j < hidden[b][0].Length; j++)
            {
                Assert.Equal(hidden[b][0][j], cls[b][j], 4);
                Assert.Equal(valid.Average(p => hidden[b][p][j]), mean[b][j], 4);
                Assert.Equal(hidden[b][valid[^1]][j], last[b][j], 4);
            }
        }
        // batches are concatenated in order; a padded example pools the same as alone
        var twice = Representations.Collect(model, [input, input], "blocks.1.hook_resid_post", Pooling.Mean);
        Assert.Equal(4, twice.Length);
        Assert.Equal(mean[1], twice[3]);
        // and a projection runs on them
        var p = Pca.Fit(twice, 2);
        Assert.Equal(4, p.Embedding.Length);
    }

    [Fact]
    public void WrongHookPointsAreExplained()
    {
        var dir = Shared.Model("distilbert-tiny-random-sst2");
        var model = AutoModel.FromPretrained(dir);
        var input = ModelInput.Single([101, 1045, 2293, 102]);
        var ex = Assert.Throws<ArgumentException>(() => Representations.Collect(model, [input], "blocks.9.hook_resid_post", Pooling.Cls));
        Assert.Contains("never reached hook point 'blocks.9.hook_resid_post'", ex.Message);
        Assert.Contains("blocks.0.hook_resid_post", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Representations.Collect(model, [input], "blocks.*.hook_resid_post", Pooling.Cls));
        Assert.Contains("is a pattern", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Representations.Collect(model, [input], "blocks.0.attn.hook_pattern", Pooling.Mean));
        Assert.Contains("pooling needs [batch 1, positions 4, width]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Representations.Collect(model, [], "blocks.0.hook_resid_post", Pooling.Mean));
        Assert.Contains("no input", ex.Message);
    }
}
