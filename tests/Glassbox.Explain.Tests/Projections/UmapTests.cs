using Glassbox.Explain.Projections;

namespace Glassbox.Explain.Tests.Projections;

public class UmapTests
{
    [Fact]
    public void AbParamsMatchUmapLearnDefaults()
    {
        // umap-learn: find_ab_params(spread=1.0, min_dist=0.1) → a ≈ 1.5769, b ≈ 0.8951 (the values
        // UMAP() reports for its defaults).
        var (a, b) = Umap.FindAbParams(1.0, 0.1);
        Assert.Equal(1.5769, a, 3);
        Assert.Equal(0.8951, b, 3);
        // min_dist = 0 pins the curve's knee at 0: b is larger than with min_dist = 0.1
        var (a0, b0) = Umap.FindAbParams(1.0, 0.0);
        Assert.True(b0 < b || a0 != a);
    }

    [Fact]
    public void SmoothKnnDistHitsLog2KWorkedByHand()
    {
        // distances [0, 1, 2, 3], k = 4: ρ = 1, need e^{−0/σ} + e^{−1/σ} + e^{−2/σ} = log₂ 4 = 2,
        // so u + u² = 1 with u = e^{−1/σ}: u = (√5 − 1)/2, σ = −1/ln u.
        var (sigma, rho) = Umap.SmoothKnnDist([[0, 1, 2, 3]], 4);
        Assert.Equal(1.0, rho[0]);
        Assert.Equal(-1 / Math.Log((Math.Sqrt(5) - 1) / 2), sigma[0], 4);
        // every row of a real neighbour table meets its target
        var x = ProjectionData.Random(50, 4, 1);
        var g = Neighbors.Exact(x, 9);
        var dists = g.Distances.Select(r => new[] { 0.0 }.Concat(r).ToArray()).ToArray();
        var (s2, r2) = Umap.SmoothKnnDist(dists, 10);
        for (int i = 0; i < 50; i++)
            Assert.Equal(Math.Log2(10), dists[i].Skip(1).Sum(d => d - r2[i] > 0 ? Math.Exp(-(d - r2[i]) / s2[i]) : 1.0), 4);
    }

    [Theory]
    [InlineData(2, UmapInit.Spectral)]
    [InlineData(3, UmapInit.Spectral)]
    [InlineData(2, UmapInit.Random)]
    public void SeparatedClustersStaySeparated(int dim, UmapInit init)
    {
        var (x, y) = ProjectionData.Blobs(5, 60, 20, seed: 3);
        var r = Umap.Fit(x, new UmapOptions(Components: dim, Seed: 7, Init: init));
        Assert.Equal(dim, r.Embedding[0].Length);
        double acc = ProjectionQuality.KnnAccuracy(r.Embedding, y, 5);
        double trust = ProjectionQuality.Trustworthiness(x, r.Embedding, 5);
        Assert.True(acc >= 0.95, $"kNN accuracy {acc:F3} < 0.95");
        Assert.True(trust >= 0.9, $"trustworthiness {trust:F3} < 0.9");
    }

    [Fact]
    public void ConnectedDataUsesTheSpectralLayoutAndKeepsNeighbourhoods()
    {
        // overlapping blobs: one connected graph, so the Lanczos path of the spectral init runs
        var (x, _) = ProjectionData.Blobs(3, 100, 10, seed: 4, spread: 1.5);
        var r = Umap.Fit(x, new UmapOptions(Seed: 1));
        Assert.Equal("spectral", r.Initialisation);
        double trust = ProjectionQuality.Trustworthiness(x, r.Embedding, 5);
        Assert.True(trust >= 0.9, $"trustworthiness {trust:F3} < 0.9");
    }

    [Fact]
    public void SameSeedSameEmbeddingOtherSeedDifferent()
    {
        var (x, _) = ProjectionData.Blobs(3, 40, 8, seed: 9);
        var o = new UmapOptions(Seed: 5, Epochs: 100);
        var a = Umap.Fit(x, o).Embedding;
        var b = Umap.Fit(x, o).Embedding;
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        var c = Umap.Fit(x, o with { Seed = 6 }).Embedding;
        Assert.NotEqual(a[0], c[0]);
    }

    [Fact]
    public void ApproximateNeighboursGiveTheSameQuality()
    {
        var (x, y) = ProjectionData.Blobs(4, 150, 16, seed: 2);
        var r = Umap.Fit(x, new UmapOptions(Seed: 3, ApproximateNeighbors: true));
        Assert.True(r.ApproximateNeighbors);
        Assert.True(ProjectionQuality.KnnAccuracy(r.Embedding, y) >= 0.95);
    }

    [Fact]
    public void BadOptionsAreRefused()
    {
        var x = ProjectionData.Random(10, 3, 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Umap.Fit(x, new UmapOptions(Neighbors: 11)));
        Assert.Contains("n_neighbors = 11", ex.Message);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Umap.Fit(x, new UmapOptions(Components: 4)));
        Assert.Contains("2-D or 3-D", ex.Message);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Umap.Fit(x, new UmapOptions(Neighbors: 3, MinDist: 2)));
        Assert.Contains("min_dist", ex.Message);
        x[4][1] = double.PositiveInfinity;
        var ex2 = Assert.Throws<ArgumentException>(() => Umap.Fit(x, new UmapOptions(Neighbors: 3)));
        Assert.Contains("[4, 1]", ex2.Message);
    }
}
