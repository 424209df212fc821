// Principal component analysis in double, as sklearn.decomposition.PCA computes it (its
// "covariance_eigh" solver when n ≥ d; the Gram matrix when n < d, which gives the same
// components): centre the columns, eigendecompose C = XᵀX/(n − 1) (or XXᵀ), keep the top
// components. explained_variance = eigenvalue of C = S²/(n − 1); the ratio divides by the total
// variance (the trace). Signs follow sklearn's svd_flip(u_based_decision=False), used by PCA since
// scikit-learn 1.5: in every component the entry of largest absolute value is positive.
using System.Numerics.Tensors;

namespace Glassbox.Explain.Projections;

/// <summary>A fitted PCA: Embedding [n, k] of the data it was fitted on, Components [k, d]
/// (orthonormal rows), the column Mean, explained variance and its ratio, singular values of the
/// centred data.</summary>
public sealed record PcaResult(double[][] Embedding, double[][] Components, double[] Mean, double[] ExplainedVariance,
    double[] ExplainedVarianceRatio, double[] SingularValues)
{
    /// <summary>Projects new rows with the fitted mean and components.</summary>
    public double[][] Transform(double[][] data)
    {
        var (_, d) = ProjectionInput.Check("Pca.Transform", data, 1);
        if (d != Mean.Length) throw new ArgumentException($"Pca.Transform: rows have {d} columns; the PCA was fitted on {Mean.Length}.");
        return Pca.Project(data, Mean, Components);
    }
}

public static class Pca
{
    /// <summary>Fits PCA with `components` components (1 ≤ components ≤ min(n, d)); n ≥ 2.</summary>
    public static PcaResult Fit(double[][] data, int components = 2)
    {
        var (n, d) = ProjectionInput.Check("Pca", data, 2);
        int maxK = Math.Min(n, d);
        if (components < 1 || components > maxK)
            throw new ArgumentOutOfRangeException(nameof(components), $"Pca: {components} components asked for; with {n} rows and {d} columns at most {maxK} exist.");

        var mean = new double[d];
        foreach (var row in data) TensorPrimitives.Add(mean, row, mean);
        TensorPrimitives.Divide(mean, n, mean);
        // centred columns (column-major), so every Gram entry is one contiguous dot product
        var cols = new double[d][];
        for (int j = 0; j < d; j++) cols[j] = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) cols[j][i] = data[i][j] - mean[j];

        double[] variances; double[][] comps;
        if (n >= d)
        {
            var c = Gram(cols, n - 1);
            var (values, vectors) = SymmetricEigen.Decompose(c);
            variances = values.Select(v => Math.Max(v, 0.0)).ToArray(); // sklearn clips tiny negatives
            comps = vectors;
        }
        else
        {
            var rows = new double[n][];
            for (int i = 0; i < n; i++) { rows[i] = new double[d]; for (int j = 0; j < d; j++) rows[i][j] = cols[j][i]; }
            var g = Gram(rows, n - 1); // XXᵀ/(n − 1): same non-zero eigenvalues as XᵀX/(n − 1)
            var (values, vectors) = SymmetricEigen.Decompose(g);
            variances = values.Select(v => Math.Max(v, 0.0)).ToArray();
            comps = new double[n][];
            for (int k = 0; k < n; k++)
            {
                // v = Xᵀu / ‖Xᵀu‖ (= Xᵀu / √((n − 1)λ)); a null direction gets a zero vector
                var v = new double[d];
                for (int i = 0; i < n; i++) TensorPrimitives.MultiplyAdd(rows[i], vectors[k][i], v, v);
                double norm = TensorPrimitives.Norm<double>(v);
                if (norm > 1e-12 * Math.Sqrt(variances[0] * (n - 1) + 1e-300)) TensorPrimitives.Divide(v, norm, v);
                else Array.Clear(v);
                comps[k] = v;
            }
        }
        double total = variances.Sum();
        var kept = comps.Take(components).Select(v => (double[])v.Clone()).ToArray();
        foreach (var v in kept) FlipSign(v);
        var ev = variances.Take(components).ToArray();
        var ratio = ev.Select(v => total > 0 ? v / total : 0.0).ToArray();
        var sv = ev.Select(v => Math.Sqrt(v * (n - 1))).ToArray();
        return new PcaResult(Project(data, mean, kept), kept, mean, ev, ratio, sv);
    }

    internal static double[][] Project(double[][] data, double[] mean, double[][] components)
    {
        var result = new double[data.Length][];
        var centred = new double[mean.Length];
        for (int i = 0; i < data.Length; i++)
        {
            TensorPrimitives.Subtract(data[i], mean, centred);
            result[i] = components.Select(c => TensorPrimitives.Dot<double>(centred, c)).ToArray();
        }
        return result;
    }

    // svd_flip(u_based_decision=False): the largest-magnitude entry (first on ties) becomes positive.
    private static void FlipSign(double[] v)
    {
        int best = 0;
        for (int j = 1; j < v.Length; j++) if (Math.Abs(v[j]) > Math.Abs(v[best])) best = j;
        if (v[best] < 0) TensorPrimitives.Negate(v, v);
    }

    // G[a][b] = ⟨vectors[a], vectors[b]⟩ / divisor; rows split across threads, each entry one dot product.
    private static double[][] Gram(double[][] vectors, int divisor)
    {
        int m = vectors.Length;
        var g = new double[m][];
        for (int a = 0; a < m; a++) g[a] = new double[m];
        Parallel.For(0, m, a =>
        {
            for (int b = a; b < m; b++) g[a][b] = TensorPrimitives.Dot<double>(vectors[a], vectors[b]) / divisor;
        });
        for (int a = 0; a < m; a++) for (int b = 0; b < a; b++) g[a][b] = g[b][a];
        return g;
    }
}
