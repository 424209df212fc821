using Glassbox.Tensors;

namespace Glassbox.Tensors.Tests;

/// <summary>End-to-end: small models trained by AdamW with the tape must actually learn.</summary>
public class TrainingTests
{
    [Fact]
    public void MlpLearnsXorLikeTaskWithAdamW()
    {
        // Two Gaussian-free clusters labelled by the sign of x0·x1 (not linearly separable).
        var rng = new Random(1);
        int n = 256;
        var xs = new float[n * 2]; var ys = new int[n];
        for (int i = 0; i < n; i++)
        {
            float a = (float)(rng.NextDouble() * 2 - 1), b = (float)(rng.NextDouble() * 2 - 1);
            xs[2 * i] = a; xs[2 * i + 1] = b; ys[i] = a * b > 0 ? 1 : 0;
        }
        using var x = Tensor.FromArray(xs, n, 2);
        var w1 = Tensor.RandomNormal([32, 2], 2, std: 0.7f); var b1 = Tensor.Zeros(32);
        var w2 = Tensor.RandomNormal([2, 32], 3, std: 0.2f); var b2 = Tensor.Zeros(2);
        Tensor[] ps = [w1, b1, w2, b2];
        var opt = new AdamW(ps, learningRate: 0.02f, weightDecay: 0.0f);
        var sched = new LinearSchedule(0.02f, 20, 400);
        float first = 0, last = 0;
        for (int step = 0; step < 400; step++)
        {
            using var tape = Tape.Record();
            tape.Watch(ps);
            var logits = Ops.Linear(Ops.Relu(Ops.Linear(x, w1, b1)), w2, b2);
            var loss = Ops.CrossEntropy(logits, ys);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            var g = tape.Gradient(loss, ps);
            Optimizer.ClipGradNorm(g, 5f);
            opt.LearningRate = sched.RateAt(step);
            opt.Step(g);
        }
        Assert.True(first > 0.6f, $"initial loss {first}");
        Assert.True(last < 0.15f, $"final loss {last} should fall below 0.15 (from {first})");
    }

    [Fact]
    public void OneLayerAttentionLearnsToCopyTheFirstToken()
    {
        // Sequences of 4 one-hot tokens (vocab 6): predict at the last position the first token.
        // Solvable only by attending back to position 0 (a learned positional embedding tells where).
        int vocab = 6, seq = 4, d = 16, batch = 48;
        var rng = new Random(5);
        var emb = Tensor.RandomNormal([vocab, d], 10, std: 0.5f);
        var pos = Tensor.RandomNormal([seq, d], 11, std: 0.5f);
        var wq = Tensor.RandomNormal([d, d], 12, std: 0.25f);
        var wk = Tensor.RandomNormal([d, d], 13, std: 0.25f);
        var wv = Tensor.RandomNormal([d, d], 14, std: 0.25f);
        var wo = Tensor.RandomNormal([vocab, d], 15, std: 0.25f);
        var lnw = Tensor.Ones(d); var lnb = Tensor.Zeros(d);
        Tensor[] ps = [emb, pos, wq, wk, wv, wo, lnw, lnb];
        var opt = new AdamW(ps, learningRate: 0.03f, weightDecay: 0.01f);
        using var causal = Ops.AttentionBias([], 1, seq, seq, causal: true);
        float first = 0, last = 0;
        for (int step = 0; step < 300; step++)
        {
            var ids = new int[batch * seq]; var targets = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < seq; s++) ids[b * seq + s] = rng.Next(vocab);
                targets[b] = ids[b * seq];
            }
            using var tape = Tape.Record();
            tape.Watch(ps);
            var h = Ops.Add(Ops.Embedding(emb, ids, batch, seq), pos);                    // [b, s, d]
            var q = Ops.Linear(h, wq); var k = Ops.Linear(h, wk); var v = Ops.Linear(h, wv);
            var scores = Ops.Add(Ops.Mul(Ops.MatMul(q, k, transB: true), 1f / MathF.Sqrt(d)), Ops.Reshape(causal, 1, seq, seq));
            var attn = Ops.MatMul(Ops.Softmax(scores), v);                               // [b, s, d]
            var r = Ops.LayerNorm(Ops.Add(h, attn), lnw, lnb);
            var lastPos = Ops.Reshape(Ops.Narrow(r, 1, seq - 1, 1), batch, d);
            var loss = Ops.CrossEntropy(Ops.Linear(lastPos, wo), targets);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            opt.Step(tape.Gradient(loss, ps));
        }
        Assert.True(first > 1.5f, $"initial loss {first}");
        Assert.True(last < 0.3f, $"final loss {last} should fall below 0.3 (from {first}, chance = ln 6 ≈ 1.79)");
    }

    [Fact]
    public void SgdMomentumMatchesHandComputedSteps()
    {
        var p = Tensor.FromArray([1f], 1);
        var opt = new Sgd([p], 0.1f, momentum: 0.9f);
        opt.Step([Tensor.FromArray([1f], 1)]);  // v=1, p=0.9
        opt.Step([Tensor.FromArray([1f], 1)]);  // v=1.9, p=0.71
        Assert.Equal(0.71f, p.Span[0], 5);
    }

    [Fact]
    public void AdamWFirstStepMovesBySignTimesLrAndDecaysWeights()
    {
        var p = Tensor.FromArray([2f, -3f], 2);
        var opt = new AdamW([p], learningRate: 0.1f, weightDecay: 0.5f);
        opt.Step([Tensor.FromArray([0.3f, -7f], 2)]);
        // p·(1 − lr·wd) − lr·sign(g) (Adam's bias-corrected first step is ±lr up to eps)
        Assert.Equal(2f * 0.95f - 0.1f, p.Span[0], 4);
        Assert.Equal(-3f * 0.95f + 0.1f, p.Span[1], 4);
    }

    [Fact]
    public void ClipGradNormScalesToMaxNorm()
    {
        var g = new Tensor?[] { Tensor.FromArray([3f, 0f], 2), Tensor.FromArray([4f], 1), null };
        float norm = Optimizer.ClipGradNorm(g, 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, g[0]!.Span[0], 4);
        Assert.Equal(0.8f, g[1]!.Span[0], 4);
    }

    [Fact]
    public void LinearScheduleWarmsUpThenDecays()
    {
        var s = new LinearSchedule(1f, 10, 110);
        Assert.Equal(0f, s.RateAt(0)); Assert.Equal(0.5f, s.RateAt(5)); Assert.Equal(1f, s.RateAt(10));
        Assert.Equal(0.5f, s.RateAt(60), 5); Assert.Equal(0f, s.RateAt(110));
    }
}
