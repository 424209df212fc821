using Glassbox.Explain.Projections;

namespace Glassbox.Explain.Tests.Projections;

public class NeighborsAndQualityTests
{
    [Fact]
    public void ExactNeighborsEqualASortedBruteForce()
    {
        var x = ProjectionData.Random(80, 5, 4);
        var g = Neighbors.Exact(x, 7);
        for (int i = 0; i < x.Length; i++)
        {
            var expected = Enumerable.Range(0, x.Length).Where(j => j != i)
                .OrderBy(j => Math.Sqrt(x[i].Zip(x[j], (a, b) => (a - b) * (a - b)).Sum())).ThenBy(j => j).Take(7).ToArray();
            Assert.Equal(expected, g.Indices[i]);
            for (int e = 1; e < 7; e++) Assert.True(g.Distances[i][e] >= g.Distances[i][e - 1]);
        }
    }

    [Fact]
    public void NnDescentRecallsAtLeastNinetyPercentOfExactNeighbours()
    {
        var (x, _) = ProjectionData.Blobs(8, 300, 32, seed: 5, spread: 3); // 2400 points, overlapping blobs
        var exact = Neighbors.Exact(x, 15);
        var approx = Neighbors.Approximate(x, 15, seed: 1);
        double recall = ProjectionQuality.Recall(approx, exact);
        Assert.True(recall >= 0.9, $"NN-descent recall {recall:F3} < 0.9");
        // uniform random data (no cluster structure to help) in 16-D
        var u = ProjectionData.Random(2000, 16, 9);
        double recallU = ProjectionQuality.Recall(Neighbors.Approximate(u, 10, seed: 2), Neighbors.Exact(u, 10));
        Assert.True(recallU >= 0.9, $"NN-descent recall on uniform data {recallU:F3} < 0.9");
        // deterministic for a seed
        var again = Neighbors.Approximate(x, 15, seed: 1);
        Assert.Equal(approx.Indices[123], again.Indices[123]);
        Assert.Equal(approx.Indices[2000], again.Indices[2000]);
    }

    [Fact]
    public void TrustworthinessMatchesSklearnTests()
    {
        // sklearn/manifold/tests/test_t_sne.py::test_trustworthiness: an affine map keeps T = 1;
        // X = 0..4 embedded as [0, 2, 4, 1, 3] with n_neighbors=1 gives exactly 0.2 (by hand: penalties 2+2+3+3+2).
        var rng = new Random(0);
        var x = Enumerable.Range(0, 100).Select(_ => new[] { rng.NextDouble(), rng.NextDouble() }).ToArray();
        Assert.Equal(1.0, ProjectionQuality.Trustworthiness(x, x.Select(r => r.Select(v => 5 + v / 10).ToArray()).ToArray()), 12);
        double[][] line = [[0], [1], [2], [3], [4]];
        double[][] emb = [[0], [2], [4], [1], [3]];
        Assert.Equal(0.2, ProjectionQuality.Trustworthiness(line, emb, 1), 12);
        // shuffled: low trust
        var ordered = Enumerable.Range(0, 100).Select(i => new double[] { i }).ToArray();
        var shuffled = ordered.OrderBy(_ => rng.Next()).ToArray();
        Assert.True(ProjectionQuality.Trustworthiness(ordered, shuffled) < 0.6);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ProjectionQuality.Trustworthiness(line, emb, 3));
        Assert.Contains("k < n/2", ex.Message);
    }

    [Fact]
    public void KnnAccuracyCountsLeaveOneOutVotes()
    {
        double[][] e = [[0], [0.1], [0.2], [10], [10.1], [10.2]];
        Assert.Equal(1.0, ProjectionQuality.KnnAccuracy(e, [0, 0, 0, 1, 1, 1], 2));
        // point 2 (label 1) sees points 1 and 0 (label 0) → wrong; points 0 and 1 see a 0/1 tie,
        // broken by the nearest neighbour (label 0) → right: 5 of 6.
        Assert.Equal(5.0 / 6, ProjectionQuality.KnnAccuracy(e, [0, 0, 1, 1, 1, 1], 2), 12);
    }
}
