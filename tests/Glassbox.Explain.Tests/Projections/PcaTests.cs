using Glassbox.Explain.Projections;

namespace Glassbox.Explain.Tests.Projections;

public class PcaTests
{
    [Fact]
    public void MatchesTheSklearnDocstringExampleWorkedByHand()
    {
        // sklearn.decomposition.PCA docstring: X = [[-1,-1],[-2,-1],[-3,-2],[1,1],[2,1],[3,2]],
        // explained_variance_ratio_ [0.9924..., 0.0075...], singular_values_ [6.30061..., 0.54980...].
        // By hand: XᵀX = [[28, 18], [18, 12]], eigenvalues 20 ± √388; S = √λ; ratio λ/40.
        double[][] x = [[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]];
        var p = Pca.Fit(x, 2);
        double l1 = 20 + Math.Sqrt(388), l2 = 20 - Math.Sqrt(388);
        Assert.Equal(Math.Sqrt(l1), p.SingularValues[0], 10);
        Assert.Equal(Math.Sqrt(l2), p.SingularValues[1], 10);
        Assert.Equal(6.30061, p.SingularValues[0], 5);
        Assert.Equal(0.54980, p.SingularValues[1], 5);
        Assert.Equal(l1 / 40, p.ExplainedVarianceRatio[0], 10);
        Assert.Equal(0.9924, p.ExplainedVarianceRatio[0], 4);
        Assert.Equal(l1 / 5, p.ExplainedVariance[0], 10); // S²/(n − 1)
        // first component ∝ (18, λ₁ − 28); svd_flip makes the largest entry positive
        double norm = Math.Sqrt(18 * 18 + (l1 - 28) * (l1 - 28));
        Assert.Equal(18 / norm, p.Components[0][0], 10);
        Assert.Equal((l1 - 28) / norm, p.Components[0][1], 10);
        Assert.Equal(-(l1 - 28) / norm, p.Components[1][0], 10);
        Assert.Equal(18 / norm, p.Components[1][1], 10);
        Assert.Equal(-1 * p.Components[0][0] - 1 * p.Components[0][1], p.Embedding[0][0], 10);
    }

    [Fact]
    public void EqualsNaiveJacobiEigendecompositionUpToSign()
    {
        var x = ProjectionData.Random(60, 9, 11);
        for (int i = 0; i < x.Length; i++) { x[i][3] = 3 * x[i][0] + 0.1 * x[i][3]; x[i][5] *= 5; }
        var p = Pca.Fit(x, 9);
        int n = x.Length, d = 9;
        var mean = Enumerable.Range(0, d).Select(j => x.Average(r => r[j])).ToArray();
        var cov = Enumerable.Range(0, d).Select(a => Enumerable.Range(0, d).Select(b => x.Sum(r => (r[a] - mean[a]) * (r[b] - mean[b])) / (n - 1)).ToArray()).ToArray();
        var (values, vectors) = ProjectionData.Jacobi(cov);
        for (int k = 0; k < d; k++)
        {
            Assert.Equal(values[k], p.ExplainedVariance[k], 9);
            double dot = ProjectionData.Dot(vectors[k], p.Components[k]);
            Assert.Equal(1.0, Math.Abs(dot), 8);
        }
    }

    [Fact]
    public void ComponentsAreOrthonormalOrderedAndReconstructAtFullRank()
    {
        var x = ProjectionData.Random(40, 6, 3);
        var p = Pca.Fit(x, 6);
        for (int a = 0; a < 6; a++)
            for (int b = 0; b < 6; b++)
                Assert.Equal(a == b ? 1.0 : 0.0, ProjectionData.Dot(p.Components[a], p.Components[b]), 10);
        for (int k = 1; k < 6; k++) Assert.True(p.ExplainedVariance[k] <= p.ExplainedVariance[k - 1]);
        Assert.Equal(1.0, p.ExplainedVarianceRatio.Sum(), 10);
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < 6; j++)
            {
                double rec = p.Mean[j] + Enumerable.Range(0, 6).Sum(k => p.Embedding[i][k] * p.Components[k][j]);
                Assert.Equal(x[i][j], rec, 10);
            }
        // the embedding's variance along each component is the explained variance
        for (int k = 0; k < 6; k++)
            Assert.Equal(p.ExplainedVariance[k], p.Embedding.Sum(r => r[k] * r[k]) / (x.Length - 1), 10);
        // Transform of the fitted data reproduces the embedding
        var t = p.Transform(x);
        Assert.Equal(p.Embedding[7][2], t[7][2], 12);
    }

    [Fact]
    public void FewerRowsThanColumnsUsesTheGramMatrixWithTheSameResult()
    {
        var x = ProjectionData.Random(6, 15, 8);
        var p = Pca.Fit(x, 3);
        int n = 6, d = 15;
        var mean = Enumerable.Range(0, d).Select(j => x.Average(r => r[j])).ToArray();
        var cov = Enumerable.Range(0, d).Select(a => Enumerable.Range(0, d).Select(b => x.Sum(r => (r[a] - mean[a]) * (r[b] - mean[b])) / (n - 1)).ToArray()).ToArray();
        var (values, vectors) = ProjectionData.Jacobi(cov);
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(values[k], p.ExplainedVariance[k], 9);
            Assert.Equal(1.0, Math.Abs(ProjectionData.Dot(vectors[k], p.Components[k])), 8);
        }
        Assert.Equal(values.Take(3).Sum() / values.Sum(), p.ExplainedVarianceRatio.Sum(), 9);
        // sign convention: the largest-magnitude entry of each component is positive
        foreach (var c in p.Components) Assert.True(c.MaxBy(Math.Abs) > 0);
    }

    [Fact]
    public void SymmetricEigenMatchesJacobiIncludingRepeatedEigenvalues()
    {
        var rng = new Random(2);
        int n = 25;
        var b = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray()).ToArray();
        var a = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => b[i][j] + b[j][i]).ToArray()).ToArray();
        var (v1, e1) = SymmetricEigen.Decompose(a);
        var (v2, _) = ProjectionData.Jacobi(a);
        for (int k = 0; k < n; k++) Assert.Equal(v2[k], v1[k], 9);
        for (int k = 0; k < n; k++)
        {
            // A v = λ v
            for (int i = 0; i < n; i++) Assert.Equal(v1[k] * e1[k][i], ProjectionData.Dot(a[i], e1[k]), 9);
        }
        // a matrix with a repeated eigenvalue: diag(2, 2, 2, 1) rotated stays diagonalised correctly
        double[][] rep = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 1.5, 0.5], [0, 0, 0.5, 1.5]];
        var (rv, re) = SymmetricEigen.Decompose(rep);
        Assert.Equal([2, 2, 2, 1], rv.Select(v => Math.Round(v, 12)));
        for (int a1 = 0; a1 < 4; a1++) for (int b1 = 0; b1 < 4; b1++) Assert.Equal(a1 == b1 ? 1 : 0, ProjectionData.Dot(re[a1], re[b1]), 12);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => Pca.Fit([[1, 2], [3]], 1));
        Assert.Contains("row 1 has 1 columns but row 0 has 2", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Pca.Fit([[1, 2], [3, double.NaN]], 1));
        Assert.Contains("[1, 1] is NaN", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Pca.Fit([[1, 2]], 1));
        Assert.Contains("at least 2", ex.Message);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit([[1, 2, 3], [3, 4, 5]], 3));
        Assert.Contains("at most 2 exist", ex2.Message);
        ex = Assert.Throws<ArgumentException>(() => Pca.Fit([[1.0, 2], [3, 4]], 1).Transform([[1.0, 2, 3]]));
        Assert.Contains("fitted on 2", ex.Message);
    }
}
