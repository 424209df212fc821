namespace Glassbox.Explain.Tests.Projections;

internal static class ProjectionData
{
    /// <summary>`clusters` isotropic Gaussian blobs (σ = 1) around centres drawn from N(0, spread²) in d dimensions.</summary>
    public static (double[][] X, int[] Labels) Blobs(int clusters, int perCluster, int d, int seed, double spread = 10)
    {
        var rng = new Random(seed);
        double G() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, d).Select(_ => spread * G()).ToArray()).ToArray();
        var x = new List<double[]>(); var y = new List<int>();
        for (int i = 0; i < clusters * perCluster; i++)
        {
            int c = i % clusters;
            x.Add(centres[c].Select(v => v + G()).ToArray());
            y.Add(c);
        }
        return ([.. x], [.. y]);
    }

    public static double[][] Random(int n, int d, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => rng.NextDouble() * 2 - 1).ToArray()).ToArray();
    }

    /// <summary>Cyclic Jacobi eigenvalue algorithm: the naive twin of SymmetricEigen (values descending, vectors as rows).</summary>
    public static (double[] Values, double[][] Vectors) Jacobi(double[][] a)
    {
        int n = a.Length;
        var m = a.Select(r => (double[])r.Clone()).ToArray();
        var v = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => i == j ? 1.0 : 0.0).ToArray()).ToArray();
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += m[p][q] * m[p][q];
            if (off < 1e-26) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(m[p][q]) < 1e-300) continue;
                    double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double mkp = m[k][p], mkq = m[k][q];
                        m[k][p] = c * mkp - s * mkq; m[k][q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double mpk = m[p][k], mqk = m[q][k];
                        m[p][k] = c * mpk - s * mqk; m[q][k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => m[i][i]).ToArray();
        return (order.Select(i => m[i][i]).ToArray(), order.Select(i => Enumerable.Range(0, n).Select(k => v[k][i]).ToArray()).ToArray());
    }

    public static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
}
