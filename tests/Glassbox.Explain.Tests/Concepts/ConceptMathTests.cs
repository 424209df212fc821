using Glassbox.Explain.Concepts;

namespace Glassbox.Explain.Tests.Concepts;

public sealed class ConceptMathTests
{
    [Theory]
    // Two-sided critical values of Student's t from standard tables: P(|T| ≥ t) = p.
    [InlineData(2.228139, 10, 0.05)]
    [InlineData(2.570582, 5, 0.05)]
    [InlineData(2.845340, 20, 0.01)]
    [InlineData(1.812461, 10, 0.10)]
    [InlineData(0.0, 7, 1.0)]
    public void StudentTMatchesTables(double t, int df, double p)
    {
        Assert.Equal(p, Statistics.StudentTwoSided(t, df), 5);
        Assert.Equal(p, Statistics.StudentTwoSided(-t, df), 5);
    }

    [Fact]
    public void TTestOfSamplesMatchesTheHandComputedStatistic()
    {
        double[] a = [0.9, 0.8, 0.85, 0.95, 0.7], b = [0.5, 0.45, 0.6, 0.55, 0.4];
        // means 0.84 and 0.50; SS 0.037 and 0.025; pooled variance 0.062/8; t = 0.34 / sqrt(0.00775 * 0.4)
        double t = 0.34 / Math.Sqrt(0.062 / 8 * 0.4);
        Assert.Equal(Statistics.StudentTwoSided(t, 8), Statistics.StudentTTestPValue(a, b), 12);
        Assert.True(Statistics.StudentTTestPValue(a, b) < 0.001);
        Assert.Equal(1.0, Statistics.StudentTTestPValue([0.5, 0.5], [0.5, 0.5]));
        Assert.Equal(0.0, Statistics.StudentTTestPValue([1.0, 1.0], [0.0, 0.0]));
        Assert.Throws<ArgumentException>(() => Statistics.StudentTTestPValue([1.0], [0.0, 1.0]));
    }

    [Fact]
    public void SingleCaseTTestMatchesTheHandComputedStatistic()
    {
        double[] sample = [0.5, 0.4, 0.6, 0.5, 0.45, 0.55];
        // mean 0.5; SS 0.025; s = sqrt(0.005); t = (0.8 - 0.5) / (s * sqrt(1 + 1/6)), 5 degrees of freedom
        double t = 0.3 / (Math.Sqrt(0.005) * Math.Sqrt(7.0 / 6));
        var (tt, p) = Statistics.SingleCaseTTest(0.8, sample);
        Assert.Equal(t, tt, 12);
        Assert.Equal(Statistics.StudentTwoSided(t, 5), p, 12);
        Assert.True(p is > 0.01 and < 0.02, $"p {p}"); // t ≈ 3.93: between the 0.01 (4.03) and 0.02 (3.36) critical values
        Assert.Equal(p, Statistics.SingleCaseTTest(0.2, sample).PValue, 12); // symmetric
        Assert.True(Statistics.SingleCaseTTest(0.2, sample).T < 0);
        Assert.Equal(1.0, Statistics.SingleCaseTTest(0.5, [0.5, 0.5]).PValue);
        Assert.Equal(0.0, Statistics.SingleCaseTTest(0.9, [0.5, 0.5]).PValue);
        Assert.Throws<ArgumentException>(() => Statistics.SingleCaseTTest(0.5, [0.5]));
        // A floor on the variance: a zero-spread sample no longer makes a small difference certain.
        var floored = Statistics.SingleCaseTTest(0.55, [0.5, 0.5, 0.5, 0.5], minimumVariance: 0.25 / 30);
        Assert.Equal(0.05 / Math.Sqrt(0.25 / 30 * 1.25), floored.T, 12);
        Assert.True(floored.PValue > 0.5, $"p {floored.PValue}");
        Assert.Equal(t, Statistics.SingleCaseTTest(0.8, sample, minimumVariance: 1e-6).T, 12); // below the sample's: no effect
    }

    [Fact]
    public void LogGammaMatchesFactorials()
    {
        for (int n = 1; n < 15; n++)
        {
            double fact = 1;
            for (int k = 2; k < n; k++) fact *= k;
            Assert.Equal(Math.Log(fact), Statistics.LogGamma(n), 10);
        }
        Assert.Equal(0.5 * Math.Log(Math.PI), Statistics.LogGamma(0.5), 12);
    }

    [Fact]
    public void LogisticRegressionSatisfiesItsOptimalityCondition()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 5).Select(_ => rng.NextDouble() * 2 - 1).ToArray()).ToArray();
        double[] truth = [2, -1, 0.5, 0, 1];
        var y = x.Select(r => rng.NextDouble() < 1 / (1 + Math.Exp(-(r.Zip(truth, (a, b) => a * b).Sum() + 0.3))) ? 1.0 : 0.0).ToArray();
        const double c = 1.0;
        var (w, b) = LogisticRegression.Fit(x, y, c);
        // Gradient of ½‖w‖² + C Σ logloss is zero at the optimum (intercept unpenalised).
        var grad = (double[])w.Clone();
        double gb = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = c * (1 / (1 + Math.Exp(-LogisticRegression.Decision(w, b, x[i]))) - y[i]);
            for (int j = 0; j < w.Length; j++) grad[j] += r * x[i][j];
            gb += r;
        }
        Assert.All(grad, g => Assert.True(Math.Abs(g) < 1e-8, $"gradient {g}"));
        Assert.True(Math.Abs(gb) < 1e-8);
    }

    [Fact]
    public void CavPointsFromRandomToConcept()
    {
        var rng = new Random(1);
        double[][] Cloud(double shift) => Enumerable.Range(0, 30).Select(_ => new[] { shift + rng.NextDouble(), rng.NextDouble(), rng.NextDouble() }).ToArray();
        var (cav, acc) = Tcav.TrainCav(Cloud(3), Cloud(0), new TcavOptions { Layer = "x" }, new Random(0));
        Assert.Equal(1.0, Math.Sqrt(cav.Sum(v => v * v)), 9);
        Assert.True(cav[0] > 0.9, $"CAV {string.Join(", ", cav)}");
        Assert.Equal(1.0, acc);
    }

    [Fact]
    public void CavHeldOutSplitIsStratified()
    {
        // Identical rows carry no signal, so the fit is w = 0 with a positive intercept (30 vs 12 rows): every held-out row is
        // called positive, and the accuracy is exactly (positives held out) / (rows held out). Stratified, a third of each side
        // is held out as sklearn's train_test_split(stratify=y) does (ceil(42 · 0.33) = 14 rows: 10 + 4), whatever the seed; an unstratified split would vary with the seed.
        double[][] Rows(int n) => Enumerable.Range(0, n).Select(_ => new[] { 1.0, 1.0 }).ToArray();
        for (int seed = 0; seed < 5; seed++)
        {
            var (_, acc) = Tcav.TrainCav(Rows(30), Rows(12), new TcavOptions { Layer = "x" }, new Random(seed));
            Assert.Equal(10.0 / 14, acc, 12);
        }
    }
}
