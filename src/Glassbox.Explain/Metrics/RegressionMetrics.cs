// Regression metrics: mean squared error (sklearn's mean_squared_error), mean absolute error,
// Pearson's r (scipy.stats.pearsonr) and Spearman's ρ (scipy.stats.spearmanr: Pearson's r of the
// ranks, tied values sharing their average rank). Sums run in double with the means subtracted
// first, so large offsets do not cancel. A correlation with a constant side is NaN (scipy returns
// NaN and warns).
namespace Glassbox.Explain.Metrics;

/// <summary>Everything <see cref="RegressionMetrics.Compute"/> measures.</summary>
public sealed record RegressionReport(int Count, double MeanSquaredError, double MeanAbsoluteError, double Pearson, double Spearman);

public static class RegressionMetrics
{
    /// <summary>MSE, MAE, Pearson and Spearman of predictions against gold values.</summary>
    public static RegressionReport Compute(double[] gold, double[] predicted)
    {
        Check("RegressionMetrics", gold, predicted);
        double se = 0, ae = 0;
        for (int i = 0; i < gold.Length; i++) { double d = predicted[i] - gold[i]; se += d * d; ae += Math.Abs(d); }
        return new RegressionReport(gold.Length, se / gold.Length, ae / gold.Length, PearsonCore(gold, predicted), PearsonCore(Ranks(gold), Ranks(predicted)));
    }

    /// <summary>Pearson's correlation coefficient; NaN when either side is constant.</summary>
    public static double Pearson(double[] x, double[] y)
    {
        Check("Pearson", x, y);
        return PearsonCore(x, y);
    }

    /// <summary>Spearman's rank correlation (average ranks for ties); NaN when either side is constant.</summary>
    public static double Spearman(double[] x, double[] y)
    {
        Check("Spearman", x, y);
        return PearsonCore(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks with ties given their average rank (scipy.stats.rankdata, method="average").</summary>
    public static double[] Ranks(double[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var idx = Enumerable.Range(0, x.Length).ToArray();
        var keys = (double[])x.Clone();
        Array.Sort(keys, idx);
        var ranks = new double[x.Length];
        for (int start = 0; start < idx.Length;)
        {
            int end = start;
            while (end < idx.Length && keys[end] == keys[start]) end++;
            double avg = (start + 1 + end) / 2.0; // mean of ranks start+1 .. end
            for (int j = start; j < end; j++) ranks[idx[j]] = avg;
            start = end;
        }
        return ranks;
    }

    private static double PearsonCore(double[] x, double[] y)
    {
        int n = x.Length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
        mx /= n; my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) return double.NaN;
        double r = sxy / Math.Sqrt(sxx * syy);
        return Math.Clamp(r, -1.0, 1.0);
    }

    private static void Check(string metric, double[] gold, double[] predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        MetricChecks.SameLength(metric, "gold", gold.Length, "predicted", predicted.Length);
        MetricChecks.NotEmpty(metric, "gold", gold.Length);
        MetricChecks.Finite(metric, "gold", gold);
        MetricChecks.Finite(metric, "predicted", predicted);
    }
}
