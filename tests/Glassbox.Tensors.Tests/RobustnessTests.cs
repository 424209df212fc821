using Glassbox.Tensors;

namespace Glassbox.Tensors.Tests;

public class RobustnessTests
{
    [Fact]
    public void SoftmaxLogSoftmaxLogSumExpStableAtExtremes()
    {
        using var x = Tensor.FromArray([1e4f, 1e4f, -1e4f, -1e4f, -1e4f, -1e4f, float.MaxValue, float.MinValue, 0f], 3, 3);
        using var sm = Ops.Softmax(x);
        using var lsm = Ops.LogSoftmax(x);
        using var lse = Ops.LogSumExp(x, -1);
        foreach (var v in sm.Span) Assert.True(float.IsFinite(v));
        foreach (var v in lse.Span) Assert.True(float.IsFinite(v));
        foreach (var v in lsm.Span) Assert.False(float.IsNaN(v));
        Assert.Equal(0.5f, sm.Span[0], 6);
        Assert.Equal(1f / 3, sm.Span[3], 6);
        Assert.Equal(1f, sm.Span[6], 6);
        Assert.Equal(1e4f + MathF.Log(2), lse.Span[0], 1);
        Assert.Equal(-1e4f + MathF.Log(3), lse.Span[1], 1);
        Assert.Equal(-MathF.Log(2), lsm.Span[0], 5);
        // A fully masked row (every score float.MinValue) is uniform, as in transformers.
        using var masked = Tensor.Full(float.MinValue, 1, 4);
        Assert.All(Ops.Softmax(masked).ToArray(), v => Assert.Equal(0.25f, v));
    }

    [Fact]
    public void LayerNormOfConstantRowsIsFinite()
    {
        using var x = Tensor.Full(1e4f, 2, 8);
        using var y = Ops.LayerNorm(x, null, null, 1e-5f);
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
        using var z = Ops.LayerNorm(Tensor.Zeros(2, 8), Tensor.Ones(8), Tensor.Zeros(8), 1e-12f);
        Assert.All(z.ToArray(), v => Assert.False(float.IsNaN(v)));
        using var r = Ops.RmsNorm(Tensor.Zeros(3, 4), null, 1e-6f);
        Assert.All(r.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void NoNaNFromRandomFiniteInputsAcrossScales()
    {
        var rng = new Random(3);
        foreach (float scale in new[] { 1e-30f, 1e-3f, 1f, 1e3f, 1e8f, 1e30f })
        {
            using var x = Tensor.RandomNormal([5, 33], rng.Next(), std: scale);
            foreach (var t in new[] { Ops.Softmax(x), Ops.LogSoftmax(x), Ops.LayerNorm(x, null, null), Ops.LogSumExp(x, -1) })
                Assert.All(t.ToArray(), v => Assert.False(float.IsNaN(v), $"NaN at scale {scale}"));
        }
    }

    [Fact]
    public void ShapeMismatchErrorsNameOpAndBothShapes()
    {
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(4, 5);
        var e = Assert.Throws<ArgumentException>(() => Ops.Add(a, b));
        Assert.Contains("Add", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Ops.MatMul(a, b));
        Assert.Contains("MatMul", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Ops.Linear(a, b));
        Assert.Contains("Linear", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Ops.Concat([a, b], 0));
        Assert.Contains("Concat", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Ops.Reshape(a, 4, 2));
        Assert.Contains("Reshape", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Ops.LayerNorm(a, Tensor.Ones(4), null));
        Assert.Contains("LayerNorm", e.Message); Assert.Contains("[4]", e.Message); Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Ops.BinaryCrossEntropyWithLogits(a, b));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f], 3));
    }

    [Fact]
    public void OutOfRangeIndicesAreRejectedWithShapes()
    {
        using var w = Tensor.Zeros(5, 4);
        var e = Assert.Throws<IndexOutOfRangeException>(() => Ops.Embedding(w, [1, 5], 2));
        Assert.Contains("Embedding", e.Message); Assert.Contains("5", e.Message); Assert.Contains("[5, 4]", e.Message);
        e = Assert.Throws<IndexOutOfRangeException>(() => Ops.IndexSelect(w, 1, [-1]));
        Assert.Contains("IndexSelect", e.Message); Assert.Contains("[5, 4]", e.Message);
        e = Assert.Throws<IndexOutOfRangeException>(() => Ops.CrossEntropy(w, [0, 1, 2, 3, 4]));
        Assert.Contains("CrossEntropy", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Narrow(w, 0, 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Sum(w, 2));
        Assert.Throws<IndexOutOfRangeException>(() => w[5, 0]);
    }

    [Fact]
    public void UseAfterDisposeIsAClearError()
    {
        var t = Tensor.Ones(3);
        t.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => t.Span[0]);
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void ResultsIdenticalRunToRun()
    {
        float[] Run()
        {
            using var tape = Tape.Record();
            var x = tape.Watch(Tensor.RandomNormal([16, 96], 1));
            var w = Tensor.RandomNormal([200, 96], 2);
            var h = Ops.GeluTanh(Ops.Linear(x, w));
            var y = Ops.Sum(Ops.LogSoftmax(Ops.LayerNorm(h, null, null)));
            var g = tape.Gradient(y, [x])[0];
            return [.. h.ToArray(), .. g.ToArray()];
        }
        var a = Run(); var b = Run();
        Assert.Equal(a, b);
    }
}
