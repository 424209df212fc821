// Binary logistic regression with sklearn's default objective: ½‖w‖² + C·Σ log-loss, intercept not
// penalised. Fitted by Newton's method (IRLS) with a Cholesky solve, in double: with the L2 term the
// objective is strictly convex, so Newton converges in a handful of steps even when n < d.
namespace Glassbox.Explain.Concepts;

/// <summary>L2-regularised binary logistic regression (sklearn LogisticRegression(C) objective), fitted by Newton's method.</summary>
public static class LogisticRegression
{
    /// <summary>Fits weights and intercept to rows <paramref name="x"/> with labels <paramref name="y"/> (0 or 1).</summary>
    public static (double[] Weights, double Intercept) Fit(double[][] x, double[] y, double c = 1.0, int maxIterations = 50, double tolerance = 1e-10)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Length == 0 || x.Length != y.Length)
            throw new ArgumentException($"Logistic regression needs as many labels as rows and at least one row; got {x.Length} rows and {y.Length} labels.");
        if (c <= 0) throw new ArgumentOutOfRangeException(nameof(c), $"C must be positive, not {c}.");
        int n = x.Length, d = x[0].Length, p = d + 1; // last parameter: intercept
        if (x.Any(r => r.Length != d)) throw new ArgumentException("Logistic regression rows must all have the same width.", nameof(x));
        var theta = new double[p];
        for (int it = 0; it < maxIterations; it++)
        {
            var grad = new double[p];
            var hess = new double[p, p];
            for (int j = 0; j < d; j++) { grad[j] = theta[j]; hess[j, j] = 1.0; }
            hess[d, d] = 1e-10; // keeps the system positive definite when one class is absent
            for (int i = 0; i < n; i++)
            {
                double z = theta[d];
                var row = x[i];
                for (int j = 0; j < d; j++) z += theta[j] * row[j];
                double mu = Sigmoid(z), r = c * (mu - y[i]), wgt = c * mu * (1 - mu);
                for (int j = 0; j < d; j++) grad[j] += r * row[j];
                grad[d] += r;
                for (int j = 0; j < d; j++)
                {
                    double a = wgt * row[j];
                    for (int k = 0; k <= j; k++) hess[j, k] += a * row[k];
                    hess[d, j] += a;
                }
                hess[d, d] += wgt;
            }
            for (int j = 0; j < p; j++)
                for (int k = j + 1; k < p; k++) hess[j, k] = hess[k, j];
            var step = CholeskySolve(hess, grad);
            double change = 0;
            for (int j = 0; j < p; j++) { theta[j] -= step[j]; change = Math.Max(change, Math.Abs(step[j])); }
            if (change < tolerance) break;
        }
        return (theta[..d], theta[d]);
    }

    /// <summary>w·x + b.</summary>
    public static double Decision(double[] w, double b, double[] x)
    {
        double z = b;
        for (int j = 0; j < w.Length; j++) z += w[j] * x[j];
        return z;
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    private static double[] CholeskySolve(double[,] a, double[] b)
    {
        int n = b.Length;
        var l = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            double s = a[j, j];
            for (int k = 0; k < j; k++) s -= l[j, k] * l[j, k];
            if (s <= 0) throw new InvalidOperationException("Logistic regression: the Hessian is not positive definite.");
            l[j, j] = Math.Sqrt(s);
            for (int i = j + 1; i < n; i++)
            {
                double t = a[i, j];
                for (int k = 0; k < j; k++) t -= l[i, k] * l[j, k];
                l[i, j] = t / l[j, j];
            }
        }
        var z = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * z[k];
            z[i] = s / l[i, i];
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = z[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }
}
