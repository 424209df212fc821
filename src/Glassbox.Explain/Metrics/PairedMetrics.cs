// Two classifiers compared on the same examples: how often they agree (raw agreement and Cohen's
// kappa, as sklearn's cohen_kappa_score), and whether their accuracies differ by more than chance
// (McNemar's exact test on the paired correctness, as statsmodels' mcnemar(table, exact=True)).
//
// McNemar looks only at the discordant pairs: b examples only the first model gets right, c only
// the second. Under the null hypothesis (equal accuracy) each discordant example is a fair coin,
// so min(b, c) ~ Binomial(b + c, 1/2) and the two-sided p-value is 2·P(X ≤ min(b, c)), capped at
// 1 (statsmodels' definition; b + c = 0 gives 1). The binomial tail is summed from its largest
// term down, as ratios of neighbouring terms, so it neither overflows nor underflows for any n.
namespace Glassbox.Explain.Metrics;

/// <summary>McNemar's 2×2 table of paired correctness and its exact test. OnlyFirstCorrect and
/// OnlySecondCorrect are the discordant counts (b and c); Statistic is min(b, c), as statsmodels
/// reports it for the exact test; PValue is two-sided.</summary>
public sealed record McNemarResult(int BothCorrect, int OnlyFirstCorrect, int OnlySecondCorrect, int BothWrong, int Statistic, double PValue);

/// <summary>Two models' predictions on the same examples: the share of examples where their
/// predictions are equal, Cohen's kappa of the two predictions (NaN when undefined: both models
/// predict one and the same class everywhere), each model's accuracy, and McNemar's test.</summary>
public sealed record PairedComparison(int Count, double Agreement, double CohenKappa, double FirstAccuracy, double SecondAccuracy, McNemarResult McNemar);

public static class PairedMetrics
{
    /// <summary>Fraction of examples on which the two predictions are the same class.</summary>
    public static double Agreement(int[] first, int[] second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        MetricChecks.SameLength("Agreement", "first", first.Length, "second", second.Length);
        MetricChecks.NotEmpty("Agreement", "first", first.Length);
        int same = 0;
        for (int i = 0; i < first.Length; i++) if (first[i] == second[i]) same++;
        return same / (double)first.Length;
    }

    /// <summary>Cohen's kappa between two labelings with class indices in 0..classes-1:
    /// (p_o − p_e) / (1 − p_e), p_e from the two marginals (sklearn's cohen_kappa_score, unweighted).
    /// NaN when p_e = 1 (both labelings use one and the same single class), as sklearn.</summary>
    public static double CohenKappa(int[] first, int[] second, int classes)
    {
        const string M = "CohenKappa";
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        MetricChecks.SameLength(M, "first", first.Length, "second", second.Length);
        MetricChecks.NotEmpty(M, "first", first.Length);
        if (classes < 1) throw new ArgumentException($"{M}: classes is {classes}; give the number of labels (at least 1).");
        MetricChecks.Labels(M, "first", first, classes);
        MetricChecks.Labels(M, "second", second, classes);
        int n = first.Length;
        var rowSum = new double[classes];
        var colSum = new double[classes];
        int same = 0;
        for (int i = 0; i < n; i++)
        {
            rowSum[first[i]]++;
            colSum[second[i]]++;
            if (first[i] == second[i]) same++;
        }
        double po = same / (double)n, pe = 0;
        for (int c = 0; c < classes; c++) pe += rowSum[c] / n * (colSum[c] / n);
        // sklearn computes 1 − Σw·O / Σw·E with w = 1 − I; Σw·E = 1 − p_e, so 0 there is 0/0.
        return 1 - pe <= 0 ? double.NaN : (po - pe) / (1 - pe);
    }

    /// <summary>McNemar's exact test of paired correctness: the 2×2 table and the two-sided p-value
    /// (statsmodels.stats.contingency_tables.mcnemar(table, exact=True)).</summary>
    public static McNemarResult McNemar(bool[] firstCorrect, bool[] secondCorrect)
    {
        ArgumentNullException.ThrowIfNull(firstCorrect);
        ArgumentNullException.ThrowIfNull(secondCorrect);
        MetricChecks.SameLength("McNemar", "firstCorrect", firstCorrect.Length, "secondCorrect", secondCorrect.Length);
        int both = 0, onlyFirst = 0, onlySecond = 0, neither = 0;
        for (int i = 0; i < firstCorrect.Length; i++)
        {
            if (firstCorrect[i] && secondCorrect[i]) both++;
            else if (firstCorrect[i]) onlyFirst++;
            else if (secondCorrect[i]) onlySecond++;
            else neither++;
        }
        return new McNemarResult(both, onlyFirst, onlySecond, neither, Math.Min(onlyFirst, onlySecond), McNemarExactPValue(onlyFirst, onlySecond));
    }

    /// <summary>Two-sided exact McNemar p-value from the discordant counts b and c:
    /// min(1, 2·P(X ≤ min(b, c))) with X ~ Binomial(b + c, 1/2); 1 when b + c = 0.</summary>
    public static double McNemarExactPValue(int b, int c)
    {
        if (b < 0 || c < 0) throw new ArgumentException($"McNemar: discordant counts must be non-negative, not b = {b}, c = {c}.");
        int n = b + c, s = Math.Min(b, c);
        if (n == 0 || 2 * s >= n) return 1; // the lower tail holds at least half the mass
        // log of the largest term in the tail, C(n, s)/2^n (the terms increase up to n/2).
        double logTop = -n * Math.Log(2);
        for (int k = 0; k < s; k++) logTop += Math.Log(n - k) - Math.Log(k + 1);
        // Σ_{k≤s} C(n,k)/C(n,s), walking down with C(n,k-1)/C(n,k) = k/(n-k+1).
        double sum = 1, term = 1;
        for (int k = s; k > 0; k--)
        {
            term *= k / (double)(n - k + 1);
            sum += term;
            if (term < 1e-18 * sum) break;
        }
        return Math.Min(1, 2 * Math.Exp(logTop) * sum);
    }

    /// <summary>Compares two models' class predictions against the same gold classes.</summary>
    public static PairedComparison Compare(int[] gold, int[] first, int[] second, int classes)
    {
        const string M = "PairedMetrics";
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        MetricChecks.SameLength(M, "gold", gold.Length, "first", first.Length);
        MetricChecks.SameLength(M, "gold", gold.Length, "second", second.Length);
        MetricChecks.NotEmpty(M, "gold", gold.Length);
        MetricChecks.Labels(M, "gold", gold, classes);
        var firstCorrect = new bool[gold.Length];
        var secondCorrect = new bool[gold.Length];
        for (int i = 0; i < gold.Length; i++)
        {
            firstCorrect[i] = first[i] == gold[i];
            secondCorrect[i] = second[i] == gold[i];
        }
        var mcnemar = McNemar(firstCorrect, secondCorrect);
        double n = gold.Length;
        return new PairedComparison(gold.Length, Agreement(first, second), CohenKappa(first, second, classes),
            (mcnemar.BothCorrect + mcnemar.OnlyFirstCorrect) / n, (mcnemar.BothCorrect + mcnemar.OnlySecondCorrect) / n, mcnemar);
    }
}
