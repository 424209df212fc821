// Eigendecomposition of a dense symmetric matrix in double: Householder reduction to tridiagonal
// form followed by the implicit QL algorithm with shifts (EISPACK tred2 / tql2, as in JAMA).
// O(n³) and accurate to machine precision; the tests compare it with a cyclic Jacobi twin.
// The QL stage keeps eigenvectors as rows (z[i] is the i-th vector) so each Givens rotation
// updates two contiguous rows, which vectorises and stays in cache.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

internal static class SymmetricEigen
{
    /// <summary>Eigenvalues in decreasing order and unit eigenvectors as rows (vectors[i] belongs to values[i]).</summary>
    public static (double[] Values, double[][] Vectors) Decompose(double[][] a)
    {
        int n = a.Length;
        if (n == 0) return ([], []);
        var v = new double[n][];
        for (int i = 0; i < n; i++) v[i] = (double[])a[i].Clone();
        var d = new double[n]; var e = new double[n];
        Tred2(v, d, e);
        // transpose: z[i] = column i of v
        var z = new double[n][];
        for (int i = 0; i < n; i++) { z[i] = new double[n]; for (int k = 0; k < n; k++) z[i][k] = v[k][i]; }
        Tql2(z, d, e);
        var order = Enumerable.Range(0, n).OrderByDescending(i => d[i]).ThenBy(i => i).ToArray();
        return (order.Select(i => d[i]).ToArray(), order.Select(i => z[i]).ToArray());
    }

    // Householder tridiagonalisation; on return v holds the accumulated transformation,
    // d the diagonal and e the sub-diagonal (e[0] = 0).
    private static void Tred2(double[][] v, double[] d, double[] e)
    {
        int n = d.Length;
        for (int j = 0; j < n; j++) d[j] = v[n - 1][j];
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++) { d[j] = v[i - 1][j]; v[i][j] = 0; v[j][i] = 0; }
            }
            else
            {
                for (int k = 0; k < i; k++) { d[k] /= scale; h += d[k] * d[k]; }
                double f = d[i - 1], g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++) e[j] = 0;
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[j][i] = f;
                    g = e[j] + v[j][j] * f;
                    for (int k = j + 1; k <= i - 1; k++) { g += v[k][j] * d[k]; e[k] += v[k][j] * f; }
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++) { e[j] /= h; f += e[j] * d[j]; }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++)
                {
                    f = d[j]; g = e[j];
                    for (int k = j; k <= i - 1; k++) v[k][j] -= f * e[k] + g * d[k];
                    d[j] = v[i - 1][j];
                    v[i][j] = 0;
                }
            }
            d[i] = h;
        }
        for (int i = 0; i < n - 1; i++)
        {
            v[n - 1][i] = v[i][i];
            v[i][i] = 1;
            double h = d[i + 1];
            if (h != 0)
            {
                for (int k = 0; k <= i; k++) d[k] = v[k][i + 1] / h;
                for (int j = 0; j <= i; j++)
                {
                    double g = 0;
                    for (int k = 0; k <= i; k++) g += v[k][i + 1] * v[k][j];
                    for (int k = 0; k <= i; k++) v[k][j] -= g * d[k];
                }
            }
            for (int k = 0; k <= i; k++) v[k][i + 1] = 0;
        }
        for (int j = 0; j < n; j++) { d[j] = v[n - 1][j]; v[n - 1][j] = 0; }
        v[n - 1][n - 1] = 1;
        e[0] = 0;
    }

    // Implicit QL on the tridiagonal (d, e); z rows are rotated along.
    private static void Tql2(double[][] z, double[] d, double[] e)
    {
        int n = d.Length;
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0, eps = Math.Pow(2, -52);
        var tmp = new double[n];
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n)
            {
                if (Math.Abs(e[m]) <= eps * tst1) break;
                m++;
            }
            if (m == n) m = n - 1;
            if (m > l)
            {
                int iter = 0;
                do
                {
                    if (++iter > 60 * n) throw new InvalidOperationException("SymmetricEigen: the QL iteration did not converge (is the matrix finite?).");
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    p = d[m];
                    double c = 1, c2 = c, c3 = c, el1 = e[l + 1], s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2; c2 = c; s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        // rotate vectors i and i+1: z[i+1] ← s·z[i] + c·z[i+1]; z[i] ← c·z[i] − s·z[i+1]
                        var zi = z[i]; var zi1 = z[i + 1];
                        TensorPrimitives.Multiply(zi, s, tmp);
                        TensorPrimitives.MultiplyAdd(zi1, c, tmp, tmp);       // tmp = s·zi + c·zi1
                        TensorPrimitives.Multiply(zi, c, zi);
                        TensorPrimitives.MultiplyAdd(zi1, -s, zi, zi);        // zi = c·zi − s·zi1
                        tmp.CopyTo(zi1, 0);
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }

    private static double Hypot(double a, double b)
    {
        a = Math.Abs(a); b = Math.Abs(b);
        if (a < b) (a, b) = (b, a);
        if (a == 0) return 0;
        double r = b / a;
        return a * Math.Sqrt(1 + r * r);
    }
}
