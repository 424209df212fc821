// Rank correlations used to compare attributions: Kendall's τ-b (ties in either ranking handled
// as scipy.stats.kendalltau's default variant does) and Spearman's ρ (Pearson correlation of
// average ranks, as scipy.stats.spearmanr). Both are NaN when a ranking is constant or there are
// fewer than two values, as scipy returns; callers leave NaN out of their averages. Token counts
// are small (≤ 512), so τ is the plain O(n²) pair count.
namespace Glassbox.Explain.Quality;

public static class RankCorrelation
{
    /// <summary>Kendall's τ-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), with n₀ = n(n−1)/2 and
    /// n₁, n₂ the pairs tied in x and in y. +1 for identical orderings, −1 for reversed ones.</summary>
    public static double KendallTauB(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check(x, y, nameof(KendallTauB));
        int n = x.Length;
        long concordant = 0, discordant = 0, tiesX = 0, tiesY = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                int sx = Math.Sign(x[i] - x[j]), sy = Math.Sign(y[i] - y[j]);
                if (sx == 0) tiesX++;
                if (sy == 0) tiesY++;
                if (sx == 0 || sy == 0) continue;
                if (sx == sy) concordant++; else discordant++;
            }
        long n0 = (long)n * (n - 1) / 2;
        double denom = Math.Sqrt((double)(n0 - tiesX) * (n0 - tiesY));
        return denom == 0 ? double.NaN : (concordant - discordant) / denom;
    }

    /// <summary>Spearman's ρ: the Pearson correlation of the average ranks (ties share the mean of their ranks).</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check(x, y, nameof(Spearman));
        return Pearson(AverageRanks(x), AverageRanks(y));
    }

    /// <summary>Ranks 1..n in ascending order of value; tied values get the mean of the ranks they span.</summary>
    public static double[] AverageRanks(ReadOnlySpan<double> v)
    {
        var values = v.ToArray();
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ThenBy(i => i).ToArray();
        var ranks = new double[values.Length];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = rank;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>Pearson's r; NaN when either vector is constant.</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check(x, y, nameof(Pearson));
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
        return sxx == 0 || syy == 0 ? double.NaN : Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    private static void Check(ReadOnlySpan<double> x, ReadOnlySpan<double> y, string what)
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"{what}: the two rankings have different lengths ({x.Length} and {y.Length}).");
        for (int i = 0; i < x.Length; i++)
            if (double.IsNaN(x[i]) || double.IsNaN(y[i]))
                throw new ArgumentException($"{what}: value {i} is NaN; rank correlations need finite scores.");
    }
}
