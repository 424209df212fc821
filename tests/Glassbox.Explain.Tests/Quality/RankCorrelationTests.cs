using Glassbox.Explain.Quality;

namespace Glassbox.Explain.Tests.Quality;

public class RankCorrelationTests
{
    [Fact]
    public void KendallOfIdenticalRankingIsOneAndOfReversedIsMinusOne()
    {
        double[] a = [0.3, -1.2, 2.5, 0.9, 0.1, 4.0];
        Assert.Equal(1.0, RankCorrelation.KendallTauB(a, a), 12);
        Assert.Equal(-1.0, RankCorrelation.KendallTauB(a, a.Select(v => -v).ToArray()), 12);
        // Any strictly increasing transform keeps the ranking.
        Assert.Equal(1.0, RankCorrelation.KendallTauB(a, a.Select(v => Math.Exp(v) * 3 + 1).ToArray()), 12);
    }

    [Fact]
    public void KendallTauBHandlesTiesAsScipy()
    {
        // scipy.stats.kendalltau's documented example: x = [12, 2, 1, 12, 2], y = [1, 4, 7, 1, 0] → τ-b = −0.47140452079103173.
        // By hand: 10 pairs; tied in x (0,3), (1,4); tied in y (0,3); concordant (0,4), (3,4); discordant
        // (0,1), (0,2), (1,2), (1,3), (2,3), (2,4). τ-b = (2 − 6)/√((10 − 2)(10 − 1)) = −4/√72.
        double tau = RankCorrelation.KendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]);
        Assert.Equal(-4 / Math.Sqrt(72), tau, 12);
        Assert.Equal(-0.47140452079103173, tau, 12);
    }

    [Fact]
    public void KendallIsNaNForAConstantRanking()
    {
        Assert.True(double.IsNaN(RankCorrelation.KendallTauB([1, 1, 1], [1, 2, 3])));
        Assert.True(double.IsNaN(RankCorrelation.KendallTauB([1], [2])));
    }

    [Fact]
    public void SpearmanUsesAverageRanks()
    {
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233 (y's two 7s share rank 3.5).
        Assert.Equal(0.8207826816681233, RankCorrelation.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 12);
        Assert.Equal([1, 2.5, 2.5, 4], RankCorrelation.AverageRanks([10, 20, 20, 30]));
        Assert.Equal(-1.0, RankCorrelation.Spearman([1, 2, 3], [9, 4, 1]), 12);
        Assert.True(double.IsNaN(RankCorrelation.Spearman([1, 2, 3], [5, 5, 5])));
    }

    [Fact]
    public void KendallEqualsBruteForceDefinitionOnRandomData()
    {
        // τ-b written directly from its definition with sign products, on data with many ties.
        var rng = new Random(7);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = rng.Next(2, 30);
            var x = Enumerable.Range(0, n).Select(_ => (double)rng.Next(5)).ToArray();
            var y = Enumerable.Range(0, n).Select(_ => (double)rng.Next(5)).ToArray();
            double num = 0, tx = 0, ty = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    if (i == j) continue;
                    double a = Math.Sign(x[i] - x[j]), b = Math.Sign(y[i] - y[j]);
                    num += a * b; tx += a * a; ty += b * b;
                }
            double expected = tx == 0 || ty == 0 ? double.NaN : num / Math.Sqrt(tx * ty);
            double actual = RankCorrelation.KendallTauB(x, y);
            if (double.IsNaN(expected)) Assert.True(double.IsNaN(actual));
            else Assert.Equal(expected, actual, 12);
        }
    }

    [Fact]
    public void MismatchedOrNaNInputIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => RankCorrelation.KendallTauB([1, 2], [1, 2, 3]));
        Assert.Contains("different lengths", e.Message);
        Assert.Throws<ArgumentException>(() => RankCorrelation.Spearman([1, double.NaN], [1, 2]));
    }
}
