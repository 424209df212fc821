// Integration rules for integrated gradients, as Captum defines them (approximation_methods.py):
// points α ∈ [0, 1] and weights (summing to 1, except Captum's trapezoid: (n−1)/n).
namespace Glassbox.Explain;

public enum QuadratureRule { RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid, GaussLegendre }

public static class Quadrature
{
    public static QuadratureRule Parse(string name) => name.ToLowerInvariant().Replace("-", "_") switch
    {
        "riemann_left" or "left" => QuadratureRule.RiemannLeft,
        "riemann_right" or "right" => QuadratureRule.RiemannRight,
        "riemann_middle" or "middle" => QuadratureRule.RiemannMiddle,
        "riemann_trapezoid" or "trapezoid" => QuadratureRule.RiemannTrapezoid,
        "gausslegendre" or "gauss_legendre" or "gl" => QuadratureRule.GaussLegendre,
        _ => throw new ArgumentException($"Unknown quadrature '{name}'; use riemann_left, riemann_right, riemann_middle, riemann_trapezoid or gausslegendre."),
    };

    public static string Name(QuadratureRule r) => r switch
    {
        QuadratureRule.RiemannLeft => "riemann_left",
        QuadratureRule.RiemannRight => "riemann_right",
        QuadratureRule.RiemannMiddle => "riemann_middle",
        QuadratureRule.RiemannTrapezoid => "riemann_trapezoid",
        _ => "gausslegendre",
    };

    /// <summary>(alphas, weights) for n points.</summary>
    public static (double[] Alphas, double[] Weights) Points(QuadratureRule rule, int n)
    {
        if (n < 1 || (rule == QuadratureRule.RiemannTrapezoid && n < 2))
            throw new ArgumentOutOfRangeException(nameof(n), $"Quadrature {Name(rule)} needs at least {(rule == QuadratureRule.RiemannTrapezoid ? 2 : 1)} steps, got {n}.");
        var a = new double[n]; var w = new double[n];
        switch (rule)
        {
            case QuadratureRule.RiemannLeft:
                for (int i = 0; i < n; i++) { a[i] = Lin(0, 1 - 1.0 / n, n, i); w[i] = 1.0 / n; }
                break;
            case QuadratureRule.RiemannRight:
                for (int i = 0; i < n; i++) { a[i] = Lin(1.0 / n, 1, n, i); w[i] = 1.0 / n; }
                break;
            case QuadratureRule.RiemannMiddle:
                for (int i = 0; i < n; i++) { a[i] = Lin(1.0 / (2 * n), 1 - 1.0 / (2 * n), n, i); w[i] = 1.0 / n; }
                break;
            case QuadratureRule.RiemannTrapezoid:
                // Captum's trapezoid keeps step 1/n and halves the end points, so the weights sum
                // to (n−1)/n rather than 1; we match it (the goldens are Captum's numbers).
                for (int i = 0; i < n; i++) { a[i] = Lin(0, 1, n, i); w[i] = (i == 0 || i == n - 1 ? 0.5 : 1.0) / n; }
                break;
            default:
                var (x, gw) = GaussLegendre(n);
                for (int i = 0; i < n; i++) { a[i] = 0.5 * (x[i] + 1); w[i] = 0.5 * gw[i]; }
                break;
        }
        return (a, w);
    }

    private static double Lin(double start, double stop, int n, int i) => n == 1 ? start : start + (stop - start) * i / (n - 1);

    /// <summary>Nodes (ascending) and weights of n-point Gauss–Legendre on [-1, 1], by Newton's
    /// method on the Legendre recurrence (as numpy.polynomial.legendre.leggauss, to ~1e-15).</summary>
    public static (double[] Nodes, double[] Weights) GaussLegendre(int n)
    {
        var x = new double[n]; var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            double z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), dp = 0;
            for (int it = 0; it < 100; it++)
            {
                double p0 = 1, p1 = z;
                for (int k = 2; k <= n; k++) { double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k; p0 = p1; p1 = p2; }
                double pn = n == 1 ? z : p1, pm = n == 1 ? 1 : p0;
                dp = n * (z * pn - pm) / (z * z - 1);
                double dz = pn / dp;
                z -= dz;
                if (Math.Abs(dz) < 1e-16) break;
            }
            {
                double p0 = 1, p1 = z;
                for (int k = 2; k <= n; k++) { double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k; p0 = p1; p1 = p2; }
                double pn = n == 1 ? z : p1, pm = n == 1 ? 1 : p0;
                dp = n * (z * pn - pm) / (z * z - 1);
            }
            x[n - 1 - i] = z;
            w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
        }
        return (x, w);
    }
}
