using System.Numerics;
using Glassbox.Explain.Metrics;

namespace Glassbox.Explain.Tests.Metrics;

public class PairedMetricsTests
{
    [Theory]
    // statsmodels mcnemar(exact=True): p = min(1, 2·binom.cdf(min(b, c), b + c, 0.5)), worked by hand:
    [InlineData(1, 9, 22.0 / 1024)]     // 2·(C(10,0) + C(10,1))/2^10 = 2·11/1024
    [InlineData(9, 1, 22.0 / 1024)]     // symmetric in b and c
    [InlineData(0, 5, 2.0 / 32)]        // 2·1/2^5
    [InlineData(2, 8, 112.0 / 1024)]    // 2·(1 + 10 + 45)/1024
    [InlineData(3, 12, 1152.0 / 32768)] // 2·(1 + 15 + 105 + 455)/2^15
    [InlineData(5, 5, 1.0)]             // 2·638/1024 > 1, capped
    [InlineData(4, 5, 1.0)]             // 2·256/512 = 1
    [InlineData(0, 0, 1.0)]             // no discordant pairs: binom.cdf(0, 0, .5)·2 = 2, capped
    [InlineData(0, 1, 1.0)]             // 2·1/2
    public void McNemar_exact_p_values_match_hand_computed_binomial_tails(int b, int c, double expected)
    {
        Assert.Equal(expected, PairedMetrics.McNemarExactPValue(b, c), 14);
    }

    [Theory]
    [InlineData(30, 70)]
    [InlineData(400, 520)]
    [InlineData(900, 1100)]
    [InlineData(0, 1000)]     // 2^-999, near the bottom of double's range
    [InlineData(2500, 2600)]
    public void McNemar_exact_p_value_equals_an_exact_rational_twin(int b, int c)
    {
        // Naive twin: 2·Σ_{k≤s} C(n,k) / 2^n in exact integers, then one division.
        int n = b + c, s = Math.Min(b, c);
        BigInteger tail = 0, binom = 1;
        for (int k = 0; k <= s; k++)
        {
            tail += binom;
            binom = binom * (n - k) / (k + 1);
        }
        double expected = Math.Min(1, Math.Exp(BigInteger.Log(2 * tail) - n * Math.Log(2)));
        double actual = PairedMetrics.McNemarExactPValue(b, c);
        Assert.True(Math.Abs(actual - expected) <= 1e-10 * expected, $"b={b} c={c}: {actual} vs {expected}");
        Assert.True(actual > 0);
    }

    [Fact]
    public void McNemar_p_value_falls_as_the_discordant_split_grows_more_lopsided()
    {
        double previous = 1.1;
        for (int b = 50; b >= 0; b -= 5)
        {
            double p = PairedMetrics.McNemarExactPValue(b, 100 - b);
            Assert.True(p < previous || p == 1 && previous > 1, $"b={b}: {p} after {previous}");
            previous = p;
        }
    }

    [Fact]
    public void McNemar_table_counts_the_four_kinds_of_pairs()
    {
        bool[] a = [true, true, false, false, true, false, true];
        bool[] b = [true, false, true, false, false, false, true];
        var r = PairedMetrics.McNemar(a, b);
        Assert.Equal(2, r.BothCorrect);
        Assert.Equal(2, r.OnlyFirstCorrect);
        Assert.Equal(1, r.OnlySecondCorrect);
        Assert.Equal(2, r.BothWrong);
        Assert.Equal(1, r.Statistic);
        Assert.Equal(1.0, r.PValue); // 2·(1 + 3)/8 = 1
    }

    [Fact]
    public void Cohen_kappa_matches_sklearn_docstring()
    {
        // sklearn.metrics.cohen_kappa_score: y1 = [neg, pos, neg, neu, pos], y2 = [neg, pos, neg, neu, neg] → 0.6875.
        // By hand: p_o = 4/5, marginals (2, 1, 2) and (3, 1, 1), p_e = (6 + 1 + 2)/25, κ = (0.8 − 0.36)/0.64.
        int[] y1 = [0, 2, 0, 1, 2], y2 = [0, 2, 0, 1, 0];
        Assert.Equal(0.6875, PairedMetrics.CohenKappa(y1, y2, 3), 14);
        Assert.Equal(0.8, PairedMetrics.Agreement(y1, y2), 14);
    }

    [Fact]
    public void Cohen_kappa_known_values_and_undefined_case()
    {
        Assert.Equal(1.0, PairedMetrics.CohenKappa([0, 1, 1, 0], [0, 1, 1, 0], 2), 14);
        Assert.Equal(-1.0, PairedMetrics.CohenKappa([0, 1, 0, 1], [1, 0, 1, 0], 2), 14);
        // Independent raters: p_o = 1/2 = p_e.
        Assert.Equal(0.0, PairedMetrics.CohenKappa([0, 0, 1, 1], [0, 1, 0, 1], 2), 14);
        // Both predict one class everywhere: p_e = 1, 0/0 → NaN (sklearn returns nan).
        Assert.True(double.IsNaN(PairedMetrics.CohenKappa([1, 1, 1], [1, 1, 1], 2)));
    }

    [Fact]
    public void Compare_pairs_accuracy_agreement_and_mcnemar()
    {
        int[] gold = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0];
        int[] a = [0, 1, 1, 0, 1, 0, 1, 1, 0, 1];   // 9/10 right
        int[] b = [1, 0, 1, 0, 0, 1, 0, 1, 1, 0];   // 4/10 right
        var r = PairedMetrics.Compare(gold, a, b, 2);
        Assert.Equal(10, r.Count);
        Assert.Equal(0.9, r.FirstAccuracy, 14);
        Assert.Equal(0.4, r.SecondAccuracy, 14);
        Assert.Equal(ClassificationMetrics.Accuracy(gold, a), r.FirstAccuracy, 14);
        Assert.Equal(0.3, r.Agreement, 14); // same class at indices 2, 3, 7
        // a right and b wrong at 0, 1, 4, 5, 6, 8 (b = 6); b right and a wrong at 9 (c = 1): 2·(1 + 7)/2^7.
        Assert.Equal((3, 6, 1, 0), (r.McNemar.BothCorrect, r.McNemar.OnlyFirstCorrect, r.McNemar.OnlySecondCorrect, r.McNemar.BothWrong));
        Assert.Equal(16.0 / 128, r.McNemar.PValue, 14);
    }

    [Fact]
    public void Bad_input_names_the_metric_and_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => PairedMetrics.Agreement([0, 1], [0]));
        Assert.Contains("Agreement", e.Message);
        Assert.Contains("second", e.Message);
        e = Assert.Throws<ArgumentException>(() => PairedMetrics.CohenKappa([0, 3], [0, 1], 2));
        Assert.Contains("first[1] = 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => PairedMetrics.McNemarExactPValue(-1, 3));
        Assert.Contains("non-negative", e.Message);
        e = Assert.Throws<ArgumentException>(() => PairedMetrics.Compare([], [], [], 2));
        Assert.Contains("empty", e.Message);
    }
}
