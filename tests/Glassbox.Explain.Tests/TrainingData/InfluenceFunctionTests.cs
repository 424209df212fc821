// Influence functions where exact answers exist: a softmax classifier head on fixed features,
// trained here to convergence by Newton's method (gradient written out, Hessian by central finite
// differences of it: a naive twin of the library's closed form). Influence scores must predict the
// real change of the test loss when each training example is left out and the head retrained.
using Glassbox.Explain.TrainingData;
using Xunit.Abstractions;

namespace Glassbox.Explain.Tests.TrainingData;

public class InfluenceFunctionTests(ITestOutputHelper output)
{
    private const int N = 40, D = 3, C = 2;
    private const double Lambda = 0.05;

    /// <summary>Features, labels (noisy logistic truth), and three held-out test points.</summary>
    private static (double[][] X, int[] Y, double[][] TestX, int[] TestY) Data()
    {
        var rng = new Random(11);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double[] truth = [1.5, -2.0, 0.7];
        double[][] Rows(int n) => Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, D).Select(_ => Normal()).ToArray()).ToArray();
        int Label(double[] x) => rng.NextDouble() < 1 / (1 + Math.Exp(-(x.Zip(truth).Sum(t => t.First * t.Second) + 0.3))) ? 1 : 0;
        var X = Rows(N); var Y = X.Select(Label).ToArray();
        var tx = Rows(3); var ty = tx.Select(Label).ToArray();
        return (X, Y, tx, ty);
    }

    // θ = [W row-major (C·D), b (C)]
    private static double[] Probs(double[] theta, double[] x)
    {
        var z = new double[C];
        for (int c = 0; c < C; c++) { z[c] = theta[C * D + c]; for (int k = 0; k < D; k++) z[c] += theta[c * D + k] * x[k]; }
        double m = z.Max(), s = z.Sum(v => Math.Exp(v - m));
        return z.Select(v => Math.Exp(v - m) / s).ToArray();
    }

    private static double Loss(double[] theta, double[] x, int y) => -Math.Log(Probs(theta, x)[y]);

    /// <summary>Gradient of (1/N) Σ_{i ∉ skip} loss_i + (λ/2)‖θ‖².</summary>
    private static double[] ObjectiveGradient(double[] theta, double[][] X, int[] Y, int skip)
    {
        var g = theta.Select(t => Lambda * t).ToArray();
        for (int i = 0; i < X.Length; i++)
        {
            if (i == skip) continue;
            var p = Probs(theta, X[i]);
            for (int c = 0; c < C; c++)
            {
                double r = (p[c] - (c == Y[i] ? 1 : 0)) / N;
                for (int k = 0; k < D; k++) g[c * D + k] += r * X[i][k];
                g[C * D + c] += r;
            }
        }
        return g;
    }

    private static double[,] FiniteDifferenceHessian(double[] theta, double[][] X, int[] Y, int skip)
    {
        int P = theta.Length; var h = new double[P, P]; const double eps = 1e-5;
        for (int j = 0; j < P; j++)
        {
            var a = (double[])theta.Clone(); a[j] += eps;
            var b = (double[])theta.Clone(); b[j] -= eps;
            var ga = ObjectiveGradient(a, X, Y, skip); var gb = ObjectiveGradient(b, X, Y, skip);
            for (int i = 0; i < P; i++) h[i, j] = (ga[i] - gb[i]) / (2 * eps);
        }
        return h;
    }

    private static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length; var m = (double[,])a.Clone(); var x = (double[])b.Clone();
        for (int col = 0; col < n; col++)
        {
            int piv = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            for (int k = 0; k < n; k++) (m[col, k], m[piv, k]) = (m[piv, k], m[col, k]);
            (x[col], x[piv]) = (x[piv], x[col]);
            for (int r = col + 1; r < n; r++)
            {
                double f = m[r, col] / m[col, col];
                for (int k = col; k < n; k++) m[r, k] -= f * m[col, k];
                x[r] -= f * x[col];
            }
        }
        for (int r = n - 1; r >= 0; r--) { for (int k = r + 1; k < n; k++) x[r] -= m[r, k] * x[k]; x[r] /= m[r, r]; }
        return x;
    }

    private static double[] Train(double[][] X, int[] Y, int skip, double[]? start = null)
    {
        var theta = start is null ? new double[C * D + C] : (double[])start.Clone();
        for (int it = 0; it < 100; it++)
        {
            var g = ObjectiveGradient(theta, X, Y, skip);
            if (Math.Sqrt(g.Sum(v => v * v)) < 1e-13) break;
            var step = Solve(FiniteDifferenceHessian(theta, X, Y, skip), g);
            for (int i = 0; i < theta.Length; i++) theta[i] -= step[i];
        }
        return theta;
    }

    private static (double[][] W, double[] B) Split(double[] theta) =>
        (Enumerable.Range(0, C).Select(c => theta.Skip(c * D).Take(D).ToArray()).ToArray(), theta.Skip(C * D).ToArray());

    private static double Pearson(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        double cov = a.Zip(b).Sum(t => (t.First - ma) * (t.Second - mb));
        return cov / Math.Sqrt(a.Sum(v => (v - ma) * (v - ma)) * b.Sum(v => (v - mb) * (v - mb)));
    }

    private static double Spearman(double[] a, double[] b)
    {
        static double[] Ranks(double[] v)
        {
            var order = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ToArray();
            var r = new double[v.Length];
            for (int i = 0; i < order.Length;)
            {
                int j = i; while (j + 1 < order.Length && v[order[j + 1]] == v[order[i]]) j++;
                for (int k = i; k <= j; k++) r[order[k]] = (i + j) / 2.0;
                i = j + 1;
            }
            return r;
        }
        return Pearson(Ranks(a), Ranks(b));
    }

    [Fact]
    public void HessianEqualsFiniteDifferencesOfTheObjective()
    {
        var (X, Y, _, _) = Data();
        var theta = Train(X, Y, -1);
        var (w, b) = Split(theta);
        var exact = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = Lambda }).Hessian();
        var fd = FiniteDifferenceHessian(theta, X, Y, -1);
        for (int i = 0; i < theta.Length; i++)
            for (int j = 0; j < theta.Length; j++)
                Assert.True(Math.Abs(exact[i, j] - fd[i, j]) < 1e-7, $"H[{i},{j}]: {exact[i, j]} vs finite differences {fd[i, j]}");
    }

    [Fact]
    public void ScoresPredictLeaveOneOutRetraining()
    {
        var (X, Y, TX, TY) = Data();
        var theta = Train(X, Y, -1);
        var (w, b) = Split(theta);
        var influence = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = Lambda });
        var retrained = Enumerable.Range(0, N).Select(j => Train(X, Y, j, theta)).ToArray();
        for (int t = 0; t < TX.Length; t++)
        {
            var predicted = influence.Scores(TX[t], TY[t]).Select(s => s / N).ToArray();
            double baseLoss = Loss(theta, TX[t], TY[t]);
            var actual = retrained.Select(th => Loss(th, TX[t], TY[t]) - baseLoss).ToArray();
            double r = Pearson(predicted, actual), rho = Spearman(predicted, actual);
            output.WriteLine($"test point {t}: Pearson {r:F4}, Spearman {rho:F4}");
            Assert.True(r >= 0.9, $"test point {t}: Pearson {r:F4} between influence and leave-one-out retraining");
            Assert.True(rho >= 0.8, $"test point {t}: Spearman {rho:F4}");
            // Helpful examples (positive score) are those whose removal raises the test loss.
            int best = Enumerable.Range(0, N).MaxBy(j => predicted[j]);
            Assert.True(actual[best] > 0);
        }
    }

    [Fact]
    public void LissaConvergesToTheExactSolve()
    {
        var (X, Y, TX, TY) = Data();
        var (w, b) = Split(Train(X, Y, -1));
        var exact = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = Lambda });
        var lissa = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = Lambda, Solver = InfluenceSolver.LiSSA, Lissa = new LissaOptions { Depth = 20000 } });
        var se = exact.Scores(TX[0], TY[0]);
        var sl = lissa.Scores(TX[0], TY[0]);
        double scale = se.Max(Math.Abs);
        for (int j = 0; j < N; j++) Assert.True(Math.Abs(se[j] - sl[j]) <= 1e-6 * scale, $"row {j}: exact {se[j]}, LiSSA {sl[j]}");
        Assert.InRange(lissa.LastLissaSteps, 2, 20000 - 1); // stopped on tolerance, not depth
        // Stochastic LiSSA (mini-batches of 10, averaged over repeats) lands close too.
        var sto = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = Lambda, Solver = InfluenceSolver.LiSSA, Lissa = new LissaOptions { Depth = 3000, BatchSize = 10, Repeats = 8, Seed = 1 } });
        Assert.True(Pearson(se, sto.Scores(TX[0], TY[0])) > 0.99);
    }

    [Fact]
    public void ModelPathEqualsFeaturePath()
    {
        var (X, Y, TX, TY) = Data();
        var (w, b) = Split(Train(X, Y, -1));
        var all = X.Concat(TX).ToArray();
        var model = new ToyHeadModel(all, w, b);
        var train = Enumerable.Range(0, N).Select(i => ToyHeadModel.Example(i, Y[i])).ToArray();
        var opts = new InfluenceOptions { Damping = Lambda, TopK = 5 };
        var result = HeadInfluence.Build(model, train, opts).Explain(ToyHeadModel.Example(N, TY[0]));
        var direct = new HeadInfluence(w, b, X, Y, opts).Scores(TX[0], TY[0]);
        for (int j = 0; j < N; j++) Assert.Equal(direct[j], result.Scores[j], 4); // float32 features vs double
        Assert.Equal(5, result.Helpful.Count);
        Assert.True(result.Helpful.Zip(result.Helpful.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        Assert.True(result.Harmful.Zip(result.Harmful.Skip(1)).All(p => p.First.Score <= p.Second.Score));
        Assert.All(result.Helpful, h => Assert.True(h.Score > 0));
        Assert.All(result.Harmful, h => Assert.True(h.Score < 0));
        Assert.Equal(Enumerable.Range(0, N).MaxBy(j => direct[j]), result.Helpful[0].Index);
    }

    [Fact]
    public void BadInput()
    {
        var (X, Y, _, _) = Data();
        var (w, b) = Split(Train(X, Y, -1));
        var inf = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = Lambda });
        Assert.Contains("head reads 3", Assert.Throws<ArgumentException>(() => inf.Scores([1.0, 2.0], 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => inf.Scores([1.0, 2.0, 3.0], 2));
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new HeadInfluence(w, b, [], [])).Message);
        Assert.Contains("row 1", Assert.Throws<ArgumentException>(() => new HeadInfluence(w, b, [[1, 2, 3], [1, 2]], [0, 1])).Message);
        // Without damping a two-class softmax head is flat along "add the same vector to both rows".
        var flat = new HeadInfluence(w, b, X, Y, new InfluenceOptions { Damping = 0 });
        Assert.Contains("Damping", Assert.Throws<InvalidOperationException>(() => flat.Scores([1.0, 2.0, 3.0], 0)).Message);
        var black = new Glassbox.Explain.Tests.Counterfactuals.BlackBoxOf(new ToyHeadModel(X, w, b));
        Assert.Contains("black-box", Assert.Throws<NotSupportedException>(() => HeadInfluence.Build(black, [ToyHeadModel.Example(0, 1)])).Message);
        var model = new ToyHeadModel(X, w, b);
        Assert.Contains("no label", Assert.Throws<ArgumentException>(() => HeadInfluence.Build(model, [ToyHeadModel.Example(0, null)])).Message);
        Assert.Contains("label 5", Assert.Throws<ArgumentOutOfRangeException>(() => HeadInfluence.Build(model, [ToyHeadModel.Example(0, 5)])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => HeadInfluence.Build(model, [])).Message);
    }
}
