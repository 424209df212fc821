using Glassbox.Explain.Metrics;

namespace Glassbox.Explain.Tests.Metrics;

public class RegressionAndCounterfactualMetricsTests
{
    [Fact]
    public void RegressionMatchesHandComputation()
    {
        // dx = dy·perm: sxy = 2.25 − 0.25 − 0.25 + 2.25 = 4, sxx = syy = 5 → r = 0.8; ranks equal values.
        var r = RegressionMetrics.Compute([1, 2, 3, 4], [1, 3, 2, 4]);
        Assert.Equal(0.5, r.MeanSquaredError, 12);
        Assert.Equal(0.5, r.MeanAbsoluteError, 12);
        Assert.Equal(0.8, r.Pearson, 12);
        Assert.Equal(0.8, r.Spearman, 12);
    }

    [Fact]
    public void SpearmanAveragesTiedRanksAsScipy()
    {
        // scipy.stats.spearmanr docstring: spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) → 0.8207826816681233
        // (by hand: ranks [1, 2, 3.5, 5, 3.5], r = 8/√95).
        Assert.Equal([1, 2, 3.5, 5, 3.5], RegressionMetrics.Ranks([5, 6, 7, 8, 7]));
        Assert.Equal(0.8207826816681233, RegressionMetrics.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 12);
        Assert.Equal(8 / Math.Sqrt(95), RegressionMetrics.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 12);
    }

    [Fact]
    public void SpearmanOfMonotoneTransformIsOne()
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, 100).Select(_ => rng.NextDouble() * 6 - 3).ToArray();
        Assert.Equal(1.0, RegressionMetrics.Spearman(x, x.Select(Math.Exp).ToArray()), 12);
        Assert.Equal(-1.0, RegressionMetrics.Spearman(x, x.Select(v => -v * v * v).ToArray()), 12);
        Assert.True(RegressionMetrics.Pearson(x, x.Select(Math.Exp).ToArray()) < 1 - 1e-3); // Pearson is not rank-based
        Assert.Equal(1.0, RegressionMetrics.Pearson(x, x.Select(v => 3 * v + 1e6).ToArray()), 9); // affine, large offset
    }

    [Fact]
    public void ConstantSideGivesNaNCorrelation()
    {
        var r = RegressionMetrics.Compute([1, 2, 3], [5, 5, 5]);
        Assert.True(double.IsNaN(r.Pearson));
        Assert.True(double.IsNaN(r.Spearman));
        Assert.Equal((16 + 9 + 4) / 3.0, r.MeanSquaredError, 12);
    }

    [Fact]
    public void RegressionRefusesBadInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => RegressionMetrics.Compute([1, 2], [1]));
        Assert.Contains("gold has 2 entries but predicted has 1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RegressionMetrics.Compute([1, double.NaN], [1, 2]));
        Assert.Contains("gold[1] is NaN", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RegressionMetrics.Spearman([], []));
        Assert.Contains("empty", ex.Message);
    }

    [Fact]
    public void JensenShannonInBitsMatchesHandValues()
    {
        Assert.Equal(1.0, CounterfactualMetrics.JensenShannon([1, 0], [0, 1]), 12);
        Assert.Equal(0.0, CounterfactualMetrics.JensenShannon([0.3, 0.7], [0.3, 0.7]), 12);
        // p = [½, ½], q = [1, 0], m = [¾, ¼]: ½[½log₂(⅔) + ½log₂2] + ½log₂(4/3)
        double expected = 0.5 * (0.5 * Math.Log2(2.0 / 3) + 0.5) + 0.5 * Math.Log2(4.0 / 3);
        Assert.Equal(expected, CounterfactualMetrics.JensenShannon([0.5, 0.5], [1, 0]), 12);
        Assert.Equal(0.311278124459133, expected, 12);
        // normalised like scipy: scaling an input changes nothing; symmetric
        Assert.Equal(expected, CounterfactualMetrics.JensenShannon([2, 2], [3, 0]), 12);
        Assert.Equal(expected, CounterfactualMetrics.JensenShannon([1, 0], [0.5, 0.5]), 12);
    }

    [Fact]
    public void FlipRateAndMeanJsdPoolAllPairs()
    {
        var original = new List<double[]> { new[] { 0.9, 0.1 }, new[] { 0.2, 0.8 }, new[] { 0.5, 0.5 } };
        var cfs = new List<IReadOnlyList<double[]>>
        {
            new[] { new[] { 0.9, 0.1 }, new[] { 0.1, 0.9 } },           // one flip of two
            new[] { new[] { 0.6, 0.4 }, new[] { 1.0, 0.0 }, new[] { 0.3, 0.7 } }, // two flips of three
            Array.Empty<double[]>(),                                    // no counterfactual
        };
        var r = CounterfactualMetrics.Compute(original, cfs);
        Assert.Equal(5, r.Pairs);
        Assert.Equal(3.0 / 5, r.FlipRate, 12);
        Assert.Equal(0.5, r.FlipRateByExample[0], 12);
        Assert.Equal(2.0 / 3, r.FlipRateByExample[1], 12);
        Assert.True(double.IsNaN(r.FlipRateByExample[2]));
        double sum = CounterfactualMetrics.JensenShannon([0.9, 0.1], [0.1, 0.9]) + CounterfactualMetrics.JensenShannon([0.2, 0.8], [0.6, 0.4])
            + CounterfactualMetrics.JensenShannon([0.2, 0.8], [1, 0]) + CounterfactualMetrics.JensenShannon([0.2, 0.8], [0.3, 0.7]);
        Assert.Equal(sum / 5, r.MeanJensenShannon, 12);
    }

    [Fact]
    public void CounterfactualMetricsRefuseBadInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => CounterfactualMetrics.Compute([new[] { 0.5, 0.5 }], [new[] { new[] { 0.2, 0.3, 0.5 } }]));
        Assert.Contains("counterfactuals[0][0] has 3 probabilities; example 0 has 2", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => CounterfactualMetrics.Compute([new[] { 0.5, 0.5 }], [Array.Empty<double[]>()]));
        Assert.Contains("none of the 1 examples has a counterfactual", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => CounterfactualMetrics.JensenShannon([0.5, -0.1], [0.5, 0.5]));
        Assert.Contains("p[1] = -0.1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => CounterfactualMetrics.JensenShannon([0.5, double.NaN], [0.5, 0.5]));
        Assert.Contains("p[1] = NaN", ex.Message);
    }
}
