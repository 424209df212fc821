// TracIn against its closed form on a softmax head over fixed features, where the loss gradient is
// (p − e_y) ⊗ [x, 1] and so a checkpoint contributes lr · (r·r')(x·x' + 1); nearest neighbours
// against a brute-force sort; and everything end to end on the trained SST-2 DistilBERT.
using Glassbox.Explain.Counterfactuals;
using Glassbox.Explain.Tests.Counterfactuals;
using Glassbox.Explain.TrainingData;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests.TrainingData;

public class TracInTests
{
    private static readonly double[][] X = [[1.0, -0.5], [0.2, 0.8], [-1.2, 0.3], [0.5, 0.5], [2.0, -1.0]];
    private static readonly int[] Y = [1, 0, 0, 1, 2];

    private static ToyHeadModel Checkpoint(int seed)
    {
        var rng = new Random(seed);
        var w = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 2).Select(_ => rng.NextDouble() * 2 - 1).ToArray()).ToArray();
        var b = Enumerable.Range(0, 3).Select(_ => rng.NextDouble() - 0.5).ToArray();
        return new ToyHeadModel(X, w, b);
    }

    /// <summary>Σ_i lr_i (r_i·r'_i)(x·x' + 1) with r = softmax(Wx + b) − e_y, from the float32 weights the model uses.</summary>
    private static double HandComputed((ToyHeadModel M, double Lr)[] ckpts, int train, int test)
    {
        double total = 0;
        foreach (var (m, lr) in ckpts)
        {
            double[] R(int i)
            {
                var z = Enumerable.Range(0, 3).Select(c => m.B[c] + m.W[c, 0] * m.Table[i, 0] + m.W[c, 1] * m.Table[i, 1]).Select(v => (double)v).ToArray();
                double mx = z.Max(), s = z.Sum(v => Math.Exp(v - mx));
                return z.Select((v, c) => Math.Exp(v - mx) / s - (c == Y[i] ? 1 : 0)).ToArray();
            }
            double rr = R(train).Zip(R(test)).Sum(t => t.First * t.Second);
            double xx = m.Table[train, 0] * m.Table[test, 0] + m.Table[train, 1] * m.Table[test, 1] + 1.0;
            total += lr * rr * xx;
        }
        return total;
    }

    [Theory]
    [InlineData(TracInVariant.FullGradient)]
    [InlineData(TracInVariant.LastLayer)]
    public void EqualsTheClosedFormOnAToyHead(TracInVariant variant)
    {
        var ckpts = new[] { (Checkpoint(1), 0.5), (Checkpoint(2), 0.25), (Checkpoint(3), 0.1) };
        var train = Enumerable.Range(0, 4).Select(i => ToyHeadModel.Example(i, Y[i])).ToArray();
        var tests = new[] { ToyHeadModel.Example(4, Y[4]), ToyHeadModel.Example(0, Y[0]) };
        var scores = TracIn.Scores(ckpts.Select(c => new TracInCheckpoint(c.Item1, c.Item2)).ToArray(), train, tests, new TracInOptions { Variant = variant });
        for (int q = 0; q < tests.Length; q++)
            for (int j = 0; j < train.Length; j++)
            {
                double expected = HandComputed(ckpts, j, tests[q].Ids[0]);
                Assert.True(Math.Abs(expected - scores[q][j]) <= 1e-5 * (1 + Math.Abs(expected)), $"{variant} test {q} train {j}: closed form {expected}, TracIn {scores[q][j]}");
            }
        // An example is its own proponent: a gradient step on it lowers its own loss.
        Assert.True(scores[1][0] > 0);
    }

    [Fact]
    public void BadInput()
    {
        var m = Checkpoint(1);
        var train = new[] { ToyHeadModel.Example(0, 1) };
        var test = ToyHeadModel.Example(1, 0);
        Assert.Contains("at least one checkpoint", Assert.Throws<ArgumentException>(() => TracIn.Explain([], train, test)).Message);
        Assert.Contains("learning rate", Assert.Throws<ArgumentOutOfRangeException>(() => TracIn.Explain([new(m, 0)], train, test)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => TracIn.Explain([new(m, 1)], [], test)).Message);
        var black = new TracInCheckpoint(new BlackBoxOf(m), 1);
        Assert.Contains("black-box", Assert.Throws<NotSupportedException>(() => TracIn.Explain([black], train, test, new TracInOptions { Variant = TracInVariant.FullGradient })).Message);
        Assert.Contains("black-box", Assert.Throws<NotSupportedException>(() => TracIn.Explain([black], train, test)).Message);
        Assert.Contains("no parameter", Assert.Throws<ArgumentException>(() => TracIn.Explain([new(m, 1)], train, test, new TracInOptions { Variant = TracInVariant.FullGradient, ParameterPattern = "^nothing" })).Message);
        Assert.Contains("label 7", Assert.Throws<ArgumentOutOfRangeException>(() => TracIn.Explain([new(m, 1)], [ToyHeadModel.Example(0, 7)], test)).Message);
    }
}

public class NearestNeighbourTests
{
    private static (EncodedExample[] Examples, float[] Vectors) Random(int n, int d, int seed)
    {
        var t = Tensor.RandomNormal([n, d], seed);
        var v = t.ToArray();
        for (int i = 0; i < 5; i++) v[(n - 1 - i) * d] = v[i * d]; // a few near-duplicates in the first coordinate
        return (Enumerable.Range(0, n).Select(i => new EncodedExample($"e{i}", [i], i % 2)).ToArray(), v);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 10)]
    [InlineData(DistanceMetric.L2, 10)]
    [InlineData(DistanceMetric.Cosine, 1000)]
    [InlineData(DistanceMetric.L2, 7)]
    public void EqualsBruteForce(DistanceMetric metric, int chunk)
    {
        const int n = 257, d = 16;
        var (ex, v) = Random(n, d, 5);
        var index = new RepresentationIndex(ex, v, d);
        var q = Tensor.RandomNormal([d], 99).ToArray();
        var brute = Enumerable.Range(0, n).Select(i =>
        {
            double dot = 0, qq = 0, xx = 0, l2 = 0;
            for (int k = 0; k < d; k++) { double a = q[k], b = v[i * d + k]; dot += a * b; qq += a * a; xx += b * b; l2 += (a - b) * (a - b); }
            return (i, score: metric == DistanceMetric.Cosine ? dot / Math.Sqrt(qq * xx) : Math.Sqrt(l2));
        }).ToArray();
        var expected = (metric == DistanceMetric.Cosine ? brute.OrderByDescending(t => t.score) : brute.OrderBy(t => t.score)).ThenBy(t => t.i).Take(12).ToArray();
        var got = index.Search(q, 12, metric, chunk);
        Assert.Equal(expected.Select(e => e.i), got.Select(g => g.Index));
        for (int k = 0; k < 12; k++) Assert.Equal(expected[k].score, got[k].Score, 5);
        Assert.Equal(n, index.Search(q, 10_000, metric, chunk).Count);
    }

    [Fact]
    public void BadInput()
    {
        var (ex, v) = Random(10, 4, 1);
        var index = new RepresentationIndex(ex, v, 4);
        Assert.Contains("dimension 3", Assert.Throws<ArgumentException>(() => index.Search(new float[3], 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new float[4], 0));
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => index.Search([1, float.NaN, 0, 0], 1)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new RepresentationIndex([], [], 4)).Message);
        Assert.Contains("dimension 4", Assert.Throws<ArgumentException>(() => new RepresentationIndex(ex, new float[39], 4)).Message);
        Assert.Contains("black-box", Assert.Throws<NotSupportedException>(() => RepresentationIndex.Build(new LinearBlackBox([1], 0, 0), ex)).Message);
        Assert.Contains("raw vectors", Assert.Throws<InvalidOperationException>(() => index.Explain(new ToyClassifier(), ex[0])).Message);
    }
}

[Collection("Counterfactual models")]
public class TrainingDataSst2Tests
{
    private static readonly Lazy<(IReadOnlyList<EncodedExample> Train, EncodedExample Test)> s_data = new(() =>
    {
        var lines = File.ReadLines(Path.Combine(Shared.Model(".."), "data", "sst2", "train.tsv")).Skip(1).Take(16)
            .Select(l => l.Split('\t')).Select((p, i) => new TextExample($"train{i}", p[0].Trim(), int.Parse(p[1]))).ToArray();
        var enc = Sst2Model.Encoder;
        return (EncodedExample.From(enc, lines), EncodedExample.From(enc, new TextExample("test", "a charming and funny film .")));
    });

    private static void AssertSorted(TrainingAttribution r, int n)
    {
        Assert.Equal(n, r.Scores.Count);
        Assert.True(r.Helpful.Count > 0 || r.Harmful.Count > 0);
        Assert.True(r.Helpful.Zip(r.Helpful.Skip(1)).All(p => p.First.Score >= p.Second.Score), "helpful not sorted");
        Assert.True(r.Harmful.Zip(r.Harmful.Skip(1)).All(p => p.First.Score <= p.Second.Score), "harmful not sorted");
        foreach (var h in r.Helpful.Concat(r.Harmful)) Assert.Equal(r.Scores[h.Index], h.Score);
    }

    [Fact]
    public void InfluenceAndTracInRunEndToEnd()
    {
        var (train, test) = s_data.Value;
        var model = Sst2Model.Model;
        var inf = HeadInfluence.Build(model, train, new InfluenceOptions { Damping = 0.01, TopK = 5 }).Explain(test);
        AssertSorted(inf, train.Count);
        Assert.All(inf.Helpful, h => Assert.True(h.Score > 0));
        Assert.All(inf.Harmful, h => Assert.True(h.Score < 0));
        Assert.Equal(1, inf.TestLabel); // the model's prediction for a clearly positive sentence

        var ckpts = new[] { new TracInCheckpoint(model, 5e-4), new TracInCheckpoint(model, 1e-4) };
        var last = TracIn.Explain(ckpts, train, test);
        AssertSorted(last, train.Count);
        // The closed-form head gradient equals autograd restricted to the classifier parameters.
        var head = TracIn.Explain(ckpts, train, test, new TracInOptions { Variant = TracInVariant.FullGradient, ParameterPattern = @"^classifier\." });
        for (int j = 0; j < train.Count; j++) Assert.True(Math.Abs(last.Scores[j] - head.Scores[j]) <= 1e-4 * (1e-6 + Math.Abs(last.Scores[j])) + 1e-9, $"row {j}: {last.Scores[j]} vs {head.Scores[j]}");
        var full = TracIn.Explain(ckpts, train.Take(6).ToArray(), test, new TracInOptions { Variant = TracInVariant.FullGradient });
        AssertSorted(full, 6);
    }

    [Fact]
    public void NearestNeighboursOverHiddenStates()
    {
        var (train, test) = s_data.Value;
        var model = Sst2Model.Model;
        var index = RepresentationIndex.Build(model, train, "blocks.1.hook_resid_post", Pooling.Cls, batchSize: 4);
        // Each row is the [CLS] activation of that example run alone.
        for (int i = 0; i < 3; i++)
        {
            using var _ = Tape.NoGrad();
            using (model.Hooks!.Capture("blocks.1.hook_resid_post", out var cache))
            {
                model.Predict(ModelInput.Single(train[i].Ids)).Dispose();
                var a = cache["blocks.1.hook_resid_post"];
                for (int k = 0; k < index.Dim; k++) Assert.Equal(a[0, 0, k], index.Row(i)[k], 4);
            }
        }
        foreach (var metric in new[] { DistanceMetric.Cosine, DistanceMetric.L2 })
        {
            var r = index.Explain(model, test, k: 4, metric);
            Assert.All(r.Helpful, h => Assert.Equal(r.TestLabel, h.Label));
            Assert.All(r.Harmful, h => Assert.NotEqual(r.TestLabel, h.Label));
            var order = metric == DistanceMetric.Cosine ? r.Helpful.Select(h => -h.Score) : r.Helpful.Select(h => h.Score);
            Assert.True(order.Zip(order.Skip(1)).All(p => p.First <= p.Second));
        }
        var mean = RepresentationIndex.Build(model, train, "blocks.1.hook_resid_post", Pooling.Mean);
        Assert.Equal(64, mean.Dim);
        Assert.Contains("no hook point", Assert.Throws<ArgumentException>(() => RepresentationIndex.Build(model, train, "blocks.9.nothing")).Message);
    }
}

[Collection("Counterfactual models")]
public class TracInTrainingRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("glassbox-tracin-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Card(string json) => File.WriteAllText(Path.Combine(_dir, "training.json"), json);

    [Fact]
    public void ReadsEpochCheckpointsAndLearningRates()
    {
        string model = Shared.Model("distilbert-sst2-tiny").Replace("\\", "/");
        Card($$"""{"history": [{"epoch": 1, "meanLearningRate": 0.001, "checkpoint": "{{model}}"}, {"epoch": 2, "meanLearningRate": 0.0005, "checkpoint": "{{model}}"}]}""");
        var ckpts = TracInCheckpoint.FromTrainingRun(_dir);
        Assert.Equal([0.001, 0.0005], ckpts.Select(c => c.LearningRate));
        Assert.All(ckpts, c => Assert.Equal(["NEGATIVE", "POSITIVE"], c.Model.OutputNames));
    }

    [Fact]
    public void BadRunFolders()
    {
        Assert.Contains("--save-every-epoch", Assert.Throws<FileNotFoundException>(() => TracInCheckpoint.FromTrainingRun(_dir)).Message);
        Card("""{"history": [{"epoch": 1, "meanLearningRate": 0.001}]}""");
        Assert.Contains("--save-every-epoch", Assert.Throws<ArgumentException>(() => TracInCheckpoint.FromTrainingRun(_dir)).Message);
        Card("""{"history": [{"epoch": 1, "meanLearningRate": 0.001, "checkpoint": "checkpoints/epoch-1"}]}""");
        Assert.Contains("epoch-1", Assert.Throws<DirectoryNotFoundException>(() => TracInCheckpoint.FromTrainingRun(_dir)).Message);
        Card("""{"history": [{"epoch": 1, "checkpoint": "checkpoints/epoch-1"}]}""");
        Assert.Contains("meanLearningRate", Assert.Throws<FormatException>(() => TracInCheckpoint.FromTrainingRun(_dir)).Message);
    }
}
