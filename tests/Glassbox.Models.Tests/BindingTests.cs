using Glassbox.Models.Checkpoints;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests;

public sealed class BindingTests
{
    private static string Write(TempDir dir, params (string Name, int[] Shape)[] tensors)
    {
        var w = new SafetensorsWriter();
        foreach (var (name, shape) in tensors)
        {
            using var t = Tensor.Full(1f, shape);
            w.Add(name, t);
        }
        w.Add("bert.embeddings.position_ids", new long[] { 0, 1 }, [1, 2]); // a buffer, ignored by default
        var p = dir.File("m.safetensors");
        w.Save(p);
        return p;
    }

    [Fact]
    public void StrictModeListsEveryProblemInOneError()
    {
        using var dir = new TempDir();
        using var c = Checkpoint.Open(Write(dir, ("bert.a.weight", [2, 3]), ("bert.b.weight", [4]), ("extra.weight", [1])));
        var expected = new Dictionary<string, int[]> { ["bert.a.weight"] = [2, 3], ["bert.b.weight"] = [5], ["bert.c.weight"] = [1], ["bert.d.bias"] = [2] };
        var e = Assert.Throws<WeightBindingException>(() => WeightBinder.Bind(expected, c));
        Assert.Contains(c.FilePath, e.Message);
        Assert.Contains("missing (2): bert.c.weight, bert.d.bias", e.Message);
        Assert.Contains("unexpected (1): extra.weight", e.Message);
        Assert.Contains("bert.b.weight: expected [5], checkpoint 'bert.b.weight' has [4]", e.Message);
        Assert.DoesNotContain("position_ids", e.Message);
        Assert.Equal(["bert.embeddings.position_ids"], e.Report.Ignored);
    }

    [Fact]
    public void LenientModeReturnsTheReportAndBindsWhatMatches()
    {
        using var dir = new TempDir();
        using var c = Checkpoint.Open(Write(dir, ("bert.a.weight", [2, 3]), ("extra.weight", [1])));
        var expected = new Dictionary<string, int[]> { ["bert.a.weight"] = [2, 3], ["bert.c.weight"] = [1] };
        using var bound = WeightBinder.Bind(expected, c, new BindingOptions { Strict = false });
        Assert.False(bound.Report.IsClean);
        Assert.Equal(["bert.c.weight"], bound.Report.Missing);
        Assert.Equal(["extra.weight"], bound.Report.Unexpected);
        Assert.Equal([2, 3], bound["bert.a.weight"].Shape);
        Assert.False(bound.Tensors.ContainsKey("bert.c.weight"));
    }

    [Fact]
    public void BasePrefixIsAddedOrDroppedAndTiesAreFilled()
    {
        using var dir = new TempDir();
        // A base-model checkpoint (no "bert." prefix) loaded into a head model that expects one…
        using (var c = Checkpoint.Open(Write(dir, ("embeddings.word.weight", [4, 2]), ("encoder.w", [2]))))
        {
            var expected = new Dictionary<string, int[]> { ["bert.embeddings.word.weight"] = [4, 2], ["bert.encoder.w"] = [2], ["decoder.weight"] = [4, 2] };
            using var bound = WeightBinder.Bind(expected, c, new BindingOptions
            {
                BasePrefix = "bert.",
                Tied = new Dictionary<string, string> { ["decoder.weight"] = "bert.embeddings.word.weight" },
            });
            Assert.True(bound.Report.IsClean);
            Assert.Same(bound["bert.embeddings.word.weight"], bound["decoder.weight"]); // tied: one tensor
            Assert.Equal("embeddings.word.weight", bound.Report.Sources["bert.embeddings.word.weight"]);
        }
        // …and a head checkpoint loaded into a bare base model.
        using (var c = Checkpoint.Open(Write(dir, ("bert.encoder.w", [2]), ("classifier.weight", [3, 2]))))
        {
            var expected = new Dictionary<string, int[]> { ["encoder.w"] = [2] };
            var plan = WeightBinder.Plan(expected, c, new BindingOptions { BasePrefix = "bert.", IgnoreUnexpected = [@"^classifier\.", @"position_ids$"] });
            Assert.True(plan.IsClean);
            Assert.Equal(["classifier.weight", "bert.embeddings.position_ids"], plan.Ignored);
        }
    }

    [Fact]
    public void RenamesApplyBeforeMatchingAndIntegerTensorsAreReported()
    {
        using var dir = new TempDir();
        var w = new SafetensorsWriter();
        using (var t = Tensor.Full(2f, 3)) w.Add("embed_out.weight", t);
        w.Add("layer.counts", new long[] { 1, 2, 3 }, [3]);
        w.Save(dir.File("r.safetensors"));
        using var c = Checkpoint.Open(dir.File("r.safetensors"));
        var expected = new Dictionary<string, int[]> { ["lm_head.weight"] = [3], ["layer.counts"] = [3] };
        var e = Assert.Throws<WeightBindingException>(() => WeightBinder.Bind(expected, c, new BindingOptions { Renames = [new(@"^embed_out\.", "lm_head.")] }));
        Assert.Contains("not floating-point (1): layer.counts", e.Message);
        Assert.Equal("embed_out.weight", e.Report.Sources["lm_head.weight"]);
    }
}
