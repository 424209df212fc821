// How much a model's prediction moves between an example and its counterfactuals (LIT's
// counterfactual view). Flip rate: the fraction of (example, counterfactual) pairs whose predicted
// class (argmax, first index on ties) differs from the example's. Mean Jensen–Shannon divergence:
// JSD(P‖Q) = ½ KL(P‖M) + ½ KL(Q‖M), M = ½(P + Q), in base 2 (so it lies in [0, 1]), averaged over
// the same pairs. This is the divergence, not scipy.spatial.distance.jensenshannon, which returns
// its square root. Inputs are normalised to sum 1 as scipy does; 0·log 0 = 0.
namespace Glassbox.Explain.Metrics;

/// <summary>Flip rate and mean JSD over all (example, counterfactual) pairs; per-example values in
/// example order (NaN for an example with no counterfactual).</summary>
public sealed record CounterfactualReport(int Examples, int Pairs, double FlipRate, double MeanJensenShannon,
    IReadOnlyList<double> FlipRateByExample, IReadOnlyList<double> MeanJensenShannonByExample);

public static class CounterfactualMetrics
{
    /// <summary>Compares each example's class probabilities with those of its counterfactuals.</summary>
    public static CounterfactualReport Compute(IReadOnlyList<double[]> original, IReadOnlyList<IReadOnlyList<double[]>> counterfactuals)
    {
        const string M = "CounterfactualMetrics";
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(counterfactuals);
        MetricChecks.SameLength(M, "original", original.Count, "counterfactuals", counterfactuals.Count);
        MetricChecks.NotEmpty(M, "original", original.Count);
        int pairs = 0, flips = 0; double jsdSum = 0;
        var flipBy = new double[original.Count]; var jsdBy = new double[original.Count];
        for (int i = 0; i < original.Count; i++)
        {
            var p = original[i];
            int label = MetricChecks.ArgMax(p);
            int f = 0; double j = 0;
            var cfs = counterfactuals[i] ?? throw new ArgumentException($"{M}: counterfactuals[{i}] is null; give an empty list for an example without counterfactuals.");
            for (int c = 0; c < cfs.Count; c++)
            {
                var q = cfs[c];
                if (q is null || q.Length != p.Length)
                    throw new ArgumentException($"{M}: counterfactuals[{i}][{c}] has {q?.Length ?? 0} probabilities; example {i} has {p.Length}.");
                if (MetricChecks.ArgMax(q) != label) f++;
                j += JensenShannon(p, q);
            }
            flipBy[i] = cfs.Count == 0 ? double.NaN : f / (double)cfs.Count;
            jsdBy[i] = cfs.Count == 0 ? double.NaN : j / cfs.Count;
            pairs += cfs.Count; flips += f; jsdSum += j;
        }
        if (pairs == 0) throw new ArgumentException($"{M}: none of the {original.Count} examples has a counterfactual; generate some first.");
        return new CounterfactualReport(original.Count, pairs, flips / (double)pairs, jsdSum / pairs, flipBy, jsdBy);
    }

    /// <summary>Jensen–Shannon divergence in bits (base 2), in [0, 1]. Both inputs are normalised
    /// to sum 1; entries must be finite and non-negative.</summary>
    public static double JensenShannon(double[] p, double[] q)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        MetricChecks.SameLength("JensenShannon", "p", p.Length, "q", q.Length);
        MetricChecks.NotEmpty("JensenShannon", "p", p.Length);
        double sp = Sum("p", p), sq = Sum("q", q);
        double kp = 0, kq = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double a = p[i] / sp, b = q[i] / sq, m = 0.5 * (a + b);
            if (a > 0) kp += a * Math.Log2(a / m);
            if (b > 0) kq += b * Math.Log2(b / m);
        }
        return Math.Clamp(0.5 * (kp + kq), 0.0, 1.0);
    }

    private static double Sum(string what, double[] v)
    {
        double s = 0;
        for (int i = 0; i < v.Length; i++)
        {
            if (!double.IsFinite(v[i]) || v[i] < 0)
                throw new ArgumentException($"JensenShannon: {what}[{i}] = {v[i]}; probabilities must be finite and non-negative.");
            s += v[i];
        }
        if (s <= 0) throw new ArgumentException($"JensenShannon: {what} sums to 0; it is not a distribution.");
        return s;
    }
}
