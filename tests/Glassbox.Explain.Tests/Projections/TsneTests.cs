using Glassbox.Explain.Projections;

namespace Glassbox.Explain.Tests.Projections;

public class TsneTests
{
    [Fact]
    public void ConditionalPHasTheAskedPerplexity()
    {
        var rng = new Random(1);
        var d = Enumerable.Range(0, 60).Select(_ => rng.NextDouble() * 20).ToArray();
        foreach (var perplexity in new[] { 5.0, 15.0, 30.0 })
        {
            var p = Tsne.ConditionalP(d, perplexity);
            Assert.Equal(1.0, p.Sum(), 10);
            double entropy = -p.Where(v => v > 0).Sum(v => v * Math.Log(v));
            Assert.Equal(perplexity, Math.Exp(entropy), 3);
        }
    }

    [Fact]
    public void BarnesHutGradientWithAngleZeroEqualsTheExactGradient()
    {
        // θ = 0 never summarises a cell, so the tree walk must reproduce the O(n²) sum (naive twin).
        foreach (int dim in new[] { 2, 3 })
        {
            var rng = new Random(dim);
            int n = 40;
            var y = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, dim).Select(_ => rng.NextDouble() * 4).ToArray()).ToArray();
            y[5] = (double[])y[4].Clone(); // a duplicate point
            var p = Enumerable.Range(0, n).Select(i =>
            {
                var cols = Enumerable.Range(0, n).Where(j => j != i && (i + j) % 3 == 0).ToArray();
                return (cols, cols.Select(j => 0.001 * (1 + (i * j) % 5)).ToArray());
            }).ToArray();
            double dof = Math.Max(dim - 1, 1);
            var exact = Enumerable.Range(0, n).Select(_ => new double[dim]).ToArray();
            var bh = Enumerable.Range(0, n).Select(_ => new double[dim]).ToArray();
            Tsne.ExactGradient(y, p, 1.0, dof, exact);
            Tsne.BarnesHutGradient(y, p, 1.0, dof, 0.0, bh);
            for (int i = 0; i < n; i++) for (int c = 0; c < dim; c++) Assert.Equal(exact[i][c], bh[i][c], 10);
            // θ = 0.5 stays close
            Tsne.BarnesHutGradient(y, p, 1.0, dof, 0.5, bh);
            double err = 0, norm = 0;
            for (int i = 0; i < n; i++) for (int c = 0; c < dim; c++) { err += Math.Pow(exact[i][c] - bh[i][c], 2); norm += exact[i][c] * exact[i][c]; }
            Assert.True(Math.Sqrt(err / norm) < 0.05, $"relative BH error {Math.Sqrt(err / norm):F4}");
        }
    }

    [Theory]
    [InlineData(2, TsneMethod.Exact)]
    [InlineData(2, TsneMethod.BarnesHut)]
    [InlineData(3, TsneMethod.BarnesHut)]
    public void SeparatedClustersStaySeparated(int dim, TsneMethod method)
    {
        var (x, y) = ProjectionData.Blobs(5, 50, 20, seed: 3);
        var r = Tsne.Fit(x, new TsneOptions(Components: dim, Method: method, Perplexity: 20));
        Assert.Equal(method, r.Method);
        double acc = ProjectionQuality.KnnAccuracy(r.Embedding, y, 5);
        double trust = ProjectionQuality.Trustworthiness(x, r.Embedding, 5);
        Assert.True(acc >= 0.95, $"kNN accuracy {acc:F3} < 0.95");
        Assert.True(trust >= 0.9, $"trustworthiness {trust:F3} < 0.9");
        if (method == TsneMethod.Exact) Assert.True(r.KlDivergence is > 0 and < 2, $"KL {r.KlDivergence}");
    }

    [Fact]
    public void DeterministicForASeed()
    {
        var (x, _) = ProjectionData.Blobs(3, 30, 6, seed: 1);
        var o = new TsneOptions(Perplexity: 10, Iterations: 300, Init: TsneInit.Random, Seed: 4, Method: TsneMethod.BarnesHut);
        var a = Tsne.Fit(x, o).Embedding;
        var b = Tsne.Fit(x, o).Embedding;
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        Assert.NotEqual(a[0], Tsne.Fit(x, o with { Seed = 5 }).Embedding[0]);
    }

    [Fact]
    public void BadOptionsAreRefused()
    {
        var x = ProjectionData.Random(20, 3, 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Tsne.Fit(x, new TsneOptions(Perplexity: 20)));
        Assert.Contains("less than the number of points (20)", ex.Message);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Tsne.Fit(x, new TsneOptions(Perplexity: 5, Iterations: 100)));
        Assert.Contains("at least 250", ex.Message);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Tsne.Fit(x, new TsneOptions(Perplexity: 5, Components: 1)));
        Assert.Contains("2-D or 3-D", ex.Message);
    }
}
