using Glassbox.Tensors;
using static Glassbox.Tensors.Tests.GradCheck;

namespace Glassbox.Tensors.Tests;

public class GradientTests
{
    [Theory]
    [InlineData(new[] { 3, 4 }, new[] { 3, 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 2, 1, 4 }, new[] { 3, 1 })]
    [InlineData(new[] { 1 }, new[] { 2, 5 })]
    [InlineData(new[] { 2, 3, 1, 5 }, new[] { 1, 3, 4, 1 })]
    public void BinaryOpsWithBroadcasting(int[] sa, int[] sb)
    {
        Check(t => Ops.Add(t[0], t[1]), [Rand(1, sa), Rand(2, sb)]);
        Check(t => Ops.Sub(t[0], t[1]), [Rand(3, sa), Rand(4, sb)]);
        Check(t => Ops.Mul(t[0], t[1]), [Rand(5, sa), Rand(6, sb)]);
        Check(t => Ops.Div(t[0], t[1]), [Rand(7, sa), RandAwayFromZero(8, 1.5f, sb)]);
    }

    [Fact]
    public void ScalarOps()
    {
        Check(t => Ops.Add(t[0], 2.5f), [Rand(1, 3, 5)]);
        Check(t => Ops.Mul(t[0], -1.7f), [Rand(2, 3, 5)]);
        Check(t => Ops.Div(t[0], 3f), [Rand(3, 7)]);
        Check(t => Ops.Neg(t[0]), [Rand(4, 7)]);
        Check(t => Ops.Affine(t[0], 0.3f, -2f), [Rand(5, 2, 2)]);
    }

    [Fact]
    public void UnaryOps()
    {
        Check(t => Ops.Exp(t[0]), [Rand(1, 4, 6)]);
        Check(t => Ops.Log(t[0]), [Ops.Add(Ops.Exp(Rand(2, 4, 6)), 0.5f)]);
        Check(t => Ops.Sqrt(t[0]), [Ops.Add(Ops.Exp(Rand(3, 9)), 0.5f)]);
        Check(t => Ops.Rsqrt(t[0]), [Ops.Add(Ops.Exp(Rand(4, 9)), 0.5f)]);
        Check(t => Ops.Pow(t[0], 3f), [Rand(5, 9)]);
        Check(t => Ops.Pow(t[0], 2f), [Rand(6, 9)]);
        Check(t => Ops.Pow(t[0], 0.5f), [Ops.Add(Ops.Exp(Rand(7, 9)), 0.5f)]);
        Check(t => Ops.Tanh(t[0]), [Rand(8, 4, 6)]);
        Check(t => Ops.Sigmoid(t[0]), [Rand(9, 4, 6)]);
        Check(t => Ops.Relu(t[0]), [RandAwayFromZero(10, 0.1f, 4, 6)]);
        Check(t => Ops.Abs(t[0]), [RandAwayFromZero(15, 0.1f, 4, 6)]);
        Check(t => Ops.Silu(t[0]), [Rand(11, 4, 6)]);
        Check(t => Ops.Gelu(t[0]), [Rand(12, 4, 6)]);
        Check(t => Ops.GeluTanh(t[0]), [Rand(13, 4, 6)]);
        Check(t => Ops.Clamp(t[0], -0.5f, 0.7f), [Ops.Mul(RandAwayFromZero(14, 0.05f, 40), 0.6f)], maxElements: 10);
    }

    [Fact]
    public void WhereAndMaskedFill()
    {
        var cond = Tensor.FromArray([1, 0, 1, 0, 0, 1], 2, 3);
        Check(t => Ops.Where(cond, t[0], t[1]), [Rand(1, 2, 3), Rand(2, 3)]);
        var mask = Tensor.FromArray([0, 1, 0], 3);
        Check(t => Ops.MaskedFill(t[0], mask, -5f), [Rand(3, 2, 3)]);
    }

    [Fact]
    public void ShapeOps()
    {
        Check(t => Ops.Reshape(t[0], 6, -1), [Rand(1, 2, 3, 4)]);
        Check(t => Ops.Transpose(t[0], 0, 2), [Rand(2, 2, 3, 4)]);
        Check(t => Ops.Permute(t[0], 0, 2, 1, 3), [Rand(3, 2, 3, 4, 5)]);
        Check(t => Ops.Permute(t[0], 3, 1, 0, 2), [Rand(4, 2, 3, 4, 5)]);
        Check(t => Ops.Narrow(t[0], 1, 1, 2), [Rand(5, 2, 4, 3)]);
        Check(t => Ops.Slice(t[0], -1, -3, -1), [Rand(6, 2, 5)]);
        Check(t => Ops.Concat([t[0], t[1], t[0]], 1), [Rand(7, 2, 3, 2), Rand(8, 2, 1, 2)]);
        Check(t => Ops.Stack([t[0], t[1]], 1), [Rand(9, 2, 3), Rand(10, 2, 3)]);
        Check(t => Ops.IndexSelect(t[0], 1, [2, 0, 2, 1]), [Rand(11, 2, 3, 2)]);
        Check(t => Ops.Embedding(t[0], [3, 1, 3, 0, 2, 2], 2, 3), [Rand(12, 4, 5)]);
        Check(t => Ops.Gather(t[0], 1, [0, 2, 1, 1, 0, 0], [2, 3]), [Rand(13, 2, 3)]);
        Check(t => Ops.BroadcastTo(t[0], 3, 2, 4), [Rand(14, 2, 1)]);
        Check(t => Ops.Unsqueeze(Ops.Squeeze(t[0], 1), 0), [Rand(15, 3, 1, 2)]);
    }

    [Fact]
    public void Reductions()
    {
        Check(t => Ops.Sum(t[0]), [Rand(1, 3, 4)]);
        Check(t => Ops.Mean(t[0]), [Rand(2, 3, 4)]);
        Check(t => Ops.Sum(t[0], 1), [Rand(3, 3, 4, 2)]);
        Check(t => Ops.Sum(t[0], -1, keepDim: true), [Rand(4, 3, 4)]);
        Check(t => Ops.Mean(t[0], 0), [Rand(5, 3, 4)]);
        Check(t => Ops.Max(t[0], 1), [Rand(6, 3, 5, 2)]);
        Check(t => Ops.LogSumExp(t[0], -1), [Rand(7, 3, 5)]);
        Check(t => Ops.LogSumExp(t[0], 0, keepDim: true), [Rand(8, 3, 5)]);
        Check(t => Ops.Softmax(t[0], -1), [Rand(9, 3, 7)]);
        Check(t => Ops.Softmax(t[0], 1), [Rand(10, 2, 4, 3)]);
        Check(t => Ops.LogSoftmax(t[0], -1), [Rand(11, 3, 7)]);
        Check(t => Ops.LogSoftmax(t[0], 0), [Rand(12, 4, 3)]);
    }

    [Fact]
    public void Normalisations()
    {
        Check(t => Ops.LayerNorm(t[0], t[1], t[2], 1e-5f), [Rand(1, 3, 8), Rand(2, 8), Rand(3, 8)]);
        Check(t => Ops.LayerNorm(t[0], null, null, 1e-5f), [Rand(4, 2, 3, 6)]);
        Check(t => Ops.RmsNorm(t[0], t[1], 1e-6f), [Rand(5, 3, 8), Rand(6, 8)]);
        Check(t => Ops.RmsNorm(t[0], null), [Rand(7, 4, 5)]);
    }

    [Fact]
    public void Losses()
    {
        Check(t => Ops.CrossEntropy(t[0], [2, -100, 0, 4]), [Rand(1, 4, 5)]);
        Check(t => Ops.BinaryCrossEntropyWithLogits(t[0], t[1]), [Rand(2, 3, 4), Tensor.RandomUniform([3, 4], 3)]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MatMulAllTransposes(bool ta, bool tb)
    {
        int m = 3, k = 5, n = 4;
        int[] sa = ta ? [k, m] : [m, k], sb = tb ? [n, k] : [k, n];
        Check(t => Ops.MatMul(t[0], t[1], ta, tb), [Rand(1, sa), Rand(2, sb)]);
        Check(t => Ops.MatMul(t[0], t[1], ta, tb), [Rand(3, [2, .. sa]), Rand(4, [2, .. sb])]);
        Check(t => Ops.MatMul(t[0], t[1], ta, tb), [Rand(5, [2, 3, .. sa]), Rand(6, sb)]);
        Check(t => Ops.MatMul(t[0], t[1], ta, tb), [Rand(7, sa), Rand(8, [2, .. sb])]);
    }

    [Fact]
    public void LinearWithAndWithoutBias()
    {
        Check(t => Ops.Linear(t[0], t[1], t[2]), [Rand(1, 2, 3, 5), Rand(2, 4, 5), Rand(3, 4)]);
        Check(t => Ops.Linear(t[0], t[1]), [Rand(4, 6, 5), Rand(5, 4, 5)]);
    }

    [Theory]
    [InlineData(RotaryStyle.Half, 8)]
    [InlineData(RotaryStyle.Half, 4)]
    [InlineData(RotaryStyle.Interleaved, 8)]
    public void RotaryEmbedding(RotaryStyle style, int rotDim)
    {
        Check(t => Ops.Rotary(t[0], [0, 1, 2, 5], rotDim, 10000, style), [Rand(1, 2, 2, 4, 8)]);
        Check(t => Ops.Rotary(t[0], [0, 1, 2, 3, 0, 0, 1, 2], rotDim, 500, style), [Rand(2, 2, 1, 4, 8)]);
    }

    [Fact]
    public void ComposedAttentionBlock()
    {
        // softmax(QKᵀ/√d + mask)·V through a linear projection: the path layer attributions take.
        var bias = Ops.AttentionBias([1, 1, 1, 0], 1, 4, 4, causal: true);
        Check(t =>
        {
            var q = Ops.Reshape(Ops.Linear(t[0], t[1]), 1, 4, 2, 3).Permute(0, 2, 1, 3);
            var k = Ops.Reshape(Ops.Linear(t[0], t[2]), 1, 4, 2, 3).Permute(0, 2, 1, 3);
            var scores = Ops.Add(Ops.Mul(Ops.MatMul(q, k, transB: true), 1f / MathF.Sqrt(3)), bias);
            var p = Ops.Softmax(scores);
            return Ops.MatMul(p, q);
        }, [Rand(1, 1, 4, 6), Ops.Mul(Rand(2, 6, 6), 0.5f), Ops.Mul(Rand(3, 6, 6), 0.5f)]);
    }

    [Fact]
    public void GradientOfIntermediateTensorAndUnusedInput()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        var unused = Tensor.FromArray([5f], 1);
        using var tape = Tape.Record();
        tape.Watch(x); tape.Watch(unused);
        var h = Ops.Mul(x, 2f);       // intermediate
        var y = Ops.Sum(Ops.Pow(h, 2f)); // Σ (2x)² → dy/dh = 2h, dy/dx = 8x
        var g = tape.Gradient(y, [h, x, unused]);
        Assert.Equal([4f, 8f, 12f], g[0].ToArray());
        Assert.Equal([8f, 16f, 24f], g[1].ToArray());
        Assert.Equal([0f], g[2].ToArray());
        Assert.Equal(0, tape.NodeCount); // released after backward
    }

    [Fact]
    public void NoTapeRecordsNothingAndUntrackedInputsAreNotRecorded()
    {
        var a = Tensor.Ones(2, 2);
        using var tape = Tape.Record();
        using var b = Ops.Add(a, a);
        Assert.Equal(0, tape.NodeCount); // a is not watched
        tape.Watch(a);
        using var c = Ops.Add(a, a);
        Assert.Equal(1, tape.NodeCount);
        using (Tape.NoGrad()) { using var d = Ops.Add(a, a); }
        Assert.Equal(1, tape.NodeCount);
    }

    [Fact]
    public void WeightGradientsAreNotComputedUnlessAsked()
    {
        // Only the path to the requested tensor is walked: Linear's backward is asked for x only.
        var x = Rand(1, 2, 3); var w = Rand(2, 4, 3);
        using var tape = Tape.Record();
        tape.Watch(x); tape.Watch(w);
        var y = Ops.Sum(Ops.Linear(x, w));
        var g = tape.Gradient(y, [x]);
        Assert.Single(g);
        Assert.Equal(x.Shape, g[0].Shape);
    }

    [Fact]
    public void AccumulateAddsAcrossMicroBatches()
    {
        var w = Tensor.FromArray([1f, -2f], 2);
        var grads = new Tensor?[1];
        for (int i = 1; i <= 3; i++)
        {
            using var tape = Tape.Record();
            tape.Watch(w);
            using var xi = Tensor.Full(i, 2);
            var y = Ops.Sum(Ops.Mul(w, xi));
            tape.Accumulate(y, [w], grads);
        }
        Assert.Equal([6f, 6f], grads[0]!.ToArray());
    }

    [Fact]
    public void DetachStopsGradients()
    {
        var x = Tensor.FromArray([3f], 1);
        using var tape = Tape.Record();
        tape.Watch(x);
        var d = Ops.Detach(Ops.Mul(x, 2f));
        var y = Ops.Sum(Ops.Add(Ops.Mul(x, d), x));
        var g = tape.Gradient(y, [x]);
        Assert.Equal(7f, g[0].Span[0]); // d is a constant 6: dy/dx = 6 + 1
    }

    [Fact]
    public void SeededVectorJacobianProduct()
    {
        var x = Tensor.FromArray([1f, 2f], 2);
        using var tape = Tape.Record();
        tape.Watch(x);
        var y = Ops.Mul(x, x);
        var g = tape.Gradient(y, [x], seed: Tensor.FromArray([1f, 10f], 2));
        Assert.Equal([2f, 40f], g[0].ToArray());
    }
}

public class GradCheckSelfTest
{
    [Fact]
    public void ADeliberatelyWrongBackwardIsCaught()
    {
        static Tensor WrongSquare(Tensor x)
        {
            var y = Ops.Mul(x, x).Detach();
            Tape.Add(y, [x], (g, _) => [Ops.Mul(g, x)], "WrongSquare"); // should be 2·x·g
            return y;
        }
        Assert.ThrowsAny<Exception>(() => GradCheck.Check(t => WrongSquare(t[0]), [GradCheck.Rand(1, 5)]));
    }
}
