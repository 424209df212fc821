// Perturbation attributions: they only call Predict, so they work on any model, black boxes
// included. Features are token positions, or groups of positions (words) through a feature mask:
// every position of a group gets the group's score, as Captum's feature_mask does.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain;

public enum SurrogateModel { Ridge, Lasso }

public static class PerturbationMethods
{
    /// <summary>Leave-one-out (Captum FeatureAblation / Occlusion over tokens or words):
    /// score(x) − score(x with the feature replaced by baselineId).</summary>
    public static float[] FeatureAblation(IExplainableModel model, ModelInput input, int target, int baselineId,
        IReadOnlyList<int[]>? featureGroups = null, int batchSize = 32)
    {
        var groups = Groups(input, featureGroups);
        double full = ModelChecks.Score(model, input, target);
        var masks = groups.Select((_, g) => Enumerable.Range(0, groups.Count).Select(k => k != g).ToArray()).ToList();
        var scores = ScoreMasks(model, input, target, baselineId, groups, masks, batchSize);
        var perGroup = scores.Select(s => full - s).ToArray();
        return Spread(perGroup, groups, input.SeqLength);
    }

    /// <summary>LIME (Ribeiro et al. 2016) as Captum's Lime: features kept with probability ½,
    /// samples weighted by exp(−d²/(2w²)) with d the cosine distance to the unperturbed input in
    /// the binary representation, a weighted linear surrogate (ridge or Lasso) fitted with an
    /// intercept; its coefficients are the attributions.</summary>
    public static float[] Lime(IExplainableModel model, ModelInput input, int target, int baselineId, int samples = 200, int seed = 0,
        double kernelWidth = 1.0, SurrogateModel surrogate = SurrogateModel.Ridge, double alpha = 1e-3, IReadOnlyList<int[]>? featureGroups = null, int batchSize = 32)
    {
        var groups = Groups(input, featureGroups);
        int m = groups.Count;
        var rng = new Random(seed);
        var masks = new List<bool[]> { Enumerable.Repeat(true, m).ToArray() };
        while (masks.Count < samples) masks.Add(Enumerable.Range(0, m).Select(_ => rng.NextDouble() < 0.5).ToArray());
        var y = ScoreMasks(model, input, target, baselineId, groups, masks, batchSize);
        var w = masks.Select(z =>
        {
            int on = z.Count(b => b);
            double cos = on == 0 ? 0 : on / (Math.Sqrt(on) * Math.Sqrt(m));
            double d = 1 - cos;
            return Math.Exp(-d * d / (2 * kernelWidth * kernelWidth));
        }).ToArray();
        var coef = surrogate == SurrogateModel.Ridge ? Linear.Ridge(masks, y, w, alpha) : Linear.Lasso(masks, y, w, alpha);
        return Spread(coef, groups, input.SeqLength);
    }

    /// <summary>KernelSHAP (Lundberg &amp; Lee 2017): coalitions sampled by size from the Shapley kernel
    /// distribution, the empty and full coalitions included with a large weight (they pin the
    /// intercept and the efficiency constraint), weighted least squares.</summary>
    public static float[] KernelShap(IExplainableModel model, ModelInput input, int target, int baselineId, int samples = 200, int seed = 0,
        IReadOnlyList<int[]>? featureGroups = null, int batchSize = 32)
    {
        var groups = Groups(input, featureGroups);
        int m = groups.Count;
        var rng = new Random(seed);
        var masks = new List<bool[]> { new bool[m], Enumerable.Repeat(true, m).ToArray() };
        var weights = new List<double> { 1e6, 1e6 };
        if (m > 1)
        {
            // P(size = s) ∝ (m−1)/(s(m−s)) for 1 ≤ s ≤ m−1; each sampled coalition then has weight 1.
            var sizeW = Enumerable.Range(1, m - 1).Select(s => (m - 1.0) / (s * (double)(m - s))).ToArray();
            double tot = sizeW.Sum();
            while (masks.Count < samples)
            {
                double u = rng.NextDouble() * tot; int s = 1;
                for (double acc = sizeW[0]; acc < u && s < m - 1; s++) acc += sizeW[s];
                var perm = Enumerable.Range(0, m).OrderBy(_ => rng.Next()).Take(s).ToHashSet();
                masks.Add(Enumerable.Range(0, m).Select(perm.Contains).ToArray());
                weights.Add(1.0);
            }
        }
        var y = ScoreMasks(model, input, target, baselineId, groups, masks, batchSize);
        var coef = Linear.Ridge(masks, y, [.. weights], 1e-9);
        return Spread(coef, groups, input.SeqLength);
    }

    private static List<int[]> Groups(ModelInput input, IReadOnlyList<int[]>? featureGroups)
    {
        if (input.Batch != 1) throw new ArgumentException($"Perturbation attributions take one example (batch 1), got batch {input.Batch}.");
        if (input.SeqLength == 0) throw new ArgumentException("Perturbation attributions: the input has no tokens.");
        var groups = featureGroups?.ToList() ?? Enumerable.Range(0, input.SeqLength).Select(i => new[] { i }).ToList();
        foreach (var g in groups)
            foreach (int p in g)
                if ((uint)p >= (uint)input.SeqLength) throw new ArgumentOutOfRangeException(nameof(featureGroups), $"Feature group position {p} is outside the {input.SeqLength} tokens.");
        return groups;
    }

    private static float[] Spread(double[] perGroup, List<int[]> groups, int seq)
    {
        var r = new float[seq];
        for (int g = 0; g < groups.Count; g++) foreach (int p in groups[g]) r[p] = (float)perGroup[g];
        return r;
    }

    /// <summary>Scores of the target for the input with features off (mask false) replaced by baselineId.</summary>
    internal static double[] ScoreMasks(IExplainableModel model, ModelInput input, int target, int baselineId, List<int[]> groups, List<bool[]> masks, int batchSize)
    {
        var result = new double[masks.Count];
        int s = input.SeqLength;
        using var _ = Tape.NoGrad();
        for (int start = 0; start < masks.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, masks.Count - start);
            var rep = ModelChecks.Repeat(input, n);
            for (int i = 0; i < n; i++)
                for (int g = 0; g < groups.Count; g++)
                    if (!masks[start + i][g])
                        foreach (int p in groups[g]) rep.InputIds[i * s + p] = baselineId;
            var scores = model.Predict(rep);
            ModelChecks.CheckTarget(model, target, scores);
            int k = scores.Shape[^1];
            for (int i = 0; i < n; i++) result[start + i] = scores.Span[i * k + target];
        }
        return result;
    }
}

/// <summary>Weighted linear least squares with an (unpenalised) intercept.</summary>
internal static class Linear
{
    /// <summary>Ridge: minimise Σ wᵢ(yᵢ − b − xᵢ·β)² + α‖β‖²; returns β.</summary>
    public static double[] Ridge(List<bool[]> x, double[] y, double[] w, double alpha)
    {
        int m = x[0].Length, p = m + 1;
        var a = new double[p, p]; var rhs = new double[p];
        for (int i = 0; i < x.Count; i++)
        {
            var row = new double[p];
            row[0] = 1;
            for (int j = 0; j < m; j++) row[j + 1] = x[i][j] ? 1 : 0;
            for (int r = 0; r < p; r++)
            {
                rhs[r] += w[i] * row[r] * y[i];
                for (int c = 0; c < p; c++) a[r, c] += w[i] * row[r] * row[c];
            }
        }
        for (int j = 1; j < p; j++) a[j, j] += alpha;
        var sol = Solve(a, rhs);
        return sol[1..];
    }

    /// <summary>Lasso by cyclic coordinate descent (sklearn's objective: (1/2Σw)Σwᵢ(yᵢ−b−xᵢβ)² + α‖β‖₁).</summary>
    public static double[] Lasso(List<bool[]> x, double[] y, double[] w, double alpha, int iterations = 1000)
    {
        int n = x.Count, m = x[0].Length;
        double wsum = w.Sum();
        var beta = new double[m];
        double b = 0;
        var resid = new double[n];
        for (int it = 0; it < iterations; it++)
        {
            // intercept
            double num = 0;
            for (int i = 0; i < n; i++) { double pred = Predict(x[i], beta); num += w[i] * (y[i] - pred); }
            b = num / wsum;
            for (int i = 0; i < n; i++) resid[i] = y[i] - b - Predict(x[i], beta);
            double maxChange = 0;
            for (int j = 0; j < m; j++)
            {
                double rho = 0, z = 0;
                for (int i = 0; i < n; i++)
                    if (x[i][j]) { rho += w[i] * (resid[i] + beta[j]); z += w[i]; }
                rho /= wsum; z /= wsum;
                double nb = z == 0 ? 0 : Math.Sign(rho) * Math.Max(Math.Abs(rho) - alpha, 0) / z;
                if (nb != beta[j])
                {
                    for (int i = 0; i < n; i++) if (x[i][j]) resid[i] -= nb - beta[j];
                    maxChange = Math.Max(maxChange, Math.Abs(nb - beta[j]));
                    beta[j] = nb;
                }
            }
            if (maxChange < 1e-10) break;
        }
        return beta;

        static double Predict(bool[] xi, double[] beta) { double s = 0; for (int j = 0; j < beta.Length; j++) if (xi[j]) s += beta[j]; return s; }
    }

    /// <summary>Gaussian elimination with partial pivoting (small, symmetric positive systems).</summary>
    public static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone(); var v = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int piv = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[piv, c])) piv = r;
            if (Math.Abs(m[piv, c]) < 1e-300) continue;
            if (piv != c)
            {
                for (int k = 0; k < n; k++) (m[c, k], m[piv, k]) = (m[piv, k], m[c, k]);
                (v[c], v[piv]) = (v[piv], v[c]);
            }
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                if (f == 0) continue;
                for (int k = c; k < n; k++) m[r, k] -= f * m[c, k];
                v[r] -= f * v[c];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = v[r];
            for (int k = r + 1; k < n; k++) s -= m[r, k] * x[k];
            x[r] = Math.Abs(m[r, r]) < 1e-300 ? 0 : s / m[r, r];
        }
        return x;
    }
}
