// The statistics TCAV reports: Student's two-sample t-test (scipy.stats.ttest_ind with equal
// variances, two-sided) via the regularised incomplete beta function.
namespace Glassbox.Explain.Concepts;

/// <summary>Small statistics helpers for TCAV.</summary>
public static class Statistics
{
    /// <summary>Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values.</summary>
    public static double StandardDeviation(IReadOnlyList<double> v)
    {
        if (v.Count < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1));
    }

    /// <summary>Two-sided p-value of Student's two-sample t-test with pooled variance (scipy's ttest_ind default).
    /// When both samples have zero variance: 1 if their means are equal, else 0.</summary>
    public static double StudentTTestPValue(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count < 2 || b.Count < 2) throw new ArgumentException($"A t-test needs at least two values per sample; got {a.Count} and {b.Count}.");
        int n1 = a.Count, n2 = b.Count, df = n1 + n2 - 2;
        double m1 = a.Average(), m2 = b.Average();
        double v1 = a.Sum(x => (x - m1) * (x - m1)), v2 = b.Sum(x => (x - m2) * (x - m2));
        double pooled = (v1 + v2) / df;
        if (pooled == 0) return m1 == m2 ? 1.0 : 0.0;
        double t = (m1 - m2) / Math.Sqrt(pooled * (1.0 / n1 + 1.0 / n2));
        return StudentTwoSided(t, df);
    }

    /// <summary>Two-sided p-value that one observation <paramref name="x"/> comes from the population <paramref name="sample"/>
    /// was drawn from: t = (x − mean) / (s·√(1 + 1/n)) with n − 1 degrees of freedom (the t-test for a single case against a
    /// sample, Crawford and Howell 1998; the two-sample test above with a sample of one). The sample variance is raised to
    /// <paramref name="minimumVariance"/> when smaller. When the variance is zero: 1 if x equals the mean, else 0.
    /// Returns the signed t as well.</summary>
    public static (double T, double PValue) SingleCaseTTest(double x, IReadOnlyList<double> sample, double minimumVariance = 0)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Count < 2) throw new ArgumentException($"A single-case t-test needs at least two sample values; got {sample.Count}.", nameof(sample));
        if (minimumVariance < 0) throw new ArgumentOutOfRangeException(nameof(minimumVariance), $"A variance cannot be negative ({minimumVariance}).");
        double m = sample.Average(), s = Math.Sqrt(Math.Max(StandardDeviation(sample) * StandardDeviation(sample), minimumVariance));
        if (s == 0) return x == m ? (0, 1.0) : (x > m ? double.PositiveInfinity : double.NegativeInfinity, 0.0);
        double t = (x - m) / (s * Math.Sqrt(1 + 1.0 / sample.Count));
        return (t, StudentTwoSided(t, sample.Count - 1));
    }

    /// <summary>P(|T| ≥ |t|) for Student's t with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentTwoSided(double t, double df) => RegularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));

    /// <summary>I_x(a, b) by Lentz's continued fraction (Numerical Recipes' betacf), accurate to ~1e-14.</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double lnFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
        if (x < (a + 1) / (a + b + 2)) return Math.Exp(lnFront) * ContinuedFraction(a, b, x) / a;
        return 1 - Math.Exp(lnFront) * ContinuedFraction(b, a, 1 - x) / b;
    }

    private static double ContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 300; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d; h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.Abs(del - 1) < 1e-15) break;
        }
        return h;
    }

    /// <summary>ln Γ(x) by the Lanczos approximation (g = 7, n = 9), relative error ~1e-15.</summary>
    public static double LogGamma(double x)
    {
        double[] c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        double s = c[0];
        for (int i = 1; i < 9; i++) s += c[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(s);
    }
}
