// Threshold-free binary metrics on scores, as scikit-learn computes them.
//
// ROC-AUC: the area under the ROC curve with tied scores forming one threshold (a diagonal step),
// which equals the Mann–Whitney statistic with ties counted ½: P(score⁺ > score⁻) + ½ P(score⁺ = score⁻).
// Average precision (sklearn's average_precision_score, the PR-AUC we report): Σₖ (Rₖ − Rₖ₋₁) Pₖ
// over the distinct thresholds in decreasing order — a step sum, not the trapezoid, which
// over-estimates PR-AUC.
namespace Glassbox.Explain.Metrics;

public static class RankingMetrics
{
    /// <summary>ROC-AUC of scores for a binary target (sklearn's roc_auc_score). Throws when only
    /// one class is present, where the AUC is undefined (sklearn raises likewise).</summary>
    public static double RocAuc(bool[] positive, double[] scores)
    {
        Check("RocAuc", positive, scores, out int pos, out int neg);
        if (pos == 0 || neg == 0)
            throw new ArgumentException($"RocAuc: only one class is present ({(pos == 0 ? "no positives" : "no negatives")} among {positive.Length} examples); ROC-AUC is undefined.");
        var order = Order(scores, descending: false);
        double sum = 0; long negBelow = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start; long p = 0, q = 0;
            while (end < order.Length && scores[order[end]] == scores[order[start]])
            {
                if (positive[order[end]]) p++; else q++;
                end++;
            }
            sum += p * (double)negBelow + 0.5 * p * q;
            negBelow += q;
            start = end;
        }
        return sum / ((double)pos * neg);
    }

    /// <summary>Average precision (sklearn's average_precision_score): Σ (Rₖ − Rₖ₋₁) Pₖ over
    /// thresholds in decreasing order, ties forming one threshold. Throws when there is no
    /// positive example (recall is undefined).</summary>
    public static double AveragePrecision(bool[] positive, double[] scores)
    {
        Check("AveragePrecision", positive, scores, out int pos, out _);
        if (pos == 0)
            throw new ArgumentException($"AveragePrecision: no positive example among {positive.Length}; average precision is undefined.");
        var order = Order(scores, descending: true);
        double ap = 0, prevRecall = 0; long tp = 0, fp = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end < order.Length && scores[order[end]] == scores[order[start]])
            {
                if (positive[order[end]]) tp++; else fp++;
                end++;
            }
            double recall = tp / (double)pos, precision = tp / (double)(tp + fp);
            ap += (recall - prevRecall) * precision;
            prevRecall = recall;
            start = end;
        }
        return ap;
    }

    private static void Check(string metric, bool[] positive, double[] scores, out int pos, out int neg)
    {
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(scores);
        MetricChecks.SameLength(metric, "labels", positive.Length, "scores", scores.Length);
        MetricChecks.NotEmpty(metric, "labels", positive.Length);
        MetricChecks.Finite(metric, "scores", scores);
        pos = positive.Count(b => b);
        neg = positive.Length - pos;
    }

    private static int[] Order(double[] scores, bool descending)
    {
        var idx = Enumerable.Range(0, scores.Length).ToArray();
        var keys = (double[])scores.Clone();
        if (descending) for (int i = 0; i < keys.Length; i++) keys[i] = -keys[i];
        Array.Sort(keys, idx);
        return idx;
    }
}
