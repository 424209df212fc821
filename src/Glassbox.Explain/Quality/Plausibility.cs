// Plausibility: how well an explanation agrees with a human rationale, with ERASER's metrics
// (DeYoung et al. 2020, rationale_benchmark/metrics.py). Positions are whatever unit the human
// rationale marks (ERASER's documents are word-tokenised, so its "tokens" are words).
//   token F1  — precision/recall of the predicted positions against the gold ones, per instance
//               (an empty prediction has precision 0, an empty rationale recall 0, as ERASER).
//   IOU F1    — spans are maximal runs of marked positions; a predicted span is a match when its
//               best intersection-over-union with a gold span is ≥ 0.5; P = matches / predicted
//               spans, R = matches / gold spans.
//   AUPRC     — sklearn's precision_recall_curve over the soft scores (every distinct score a
//               threshold, the (recall 0, precision 1) end point appended) integrated by the
//               trapezoid rule, as ERASER's _auprc; NaN for an instance with no gold position.
// Soft scores become a discrete rationale through TopK (ERASER and ferret take the top k, k
// typically the average human rationale length).
namespace Glassbox.Explain.Quality;

/// <summary>Precision, recall and their harmonic mean (0 when either is 0).</summary>
public sealed record PrecisionRecallF1(double Precision, double Recall, double F1)
{
    internal static double HarmonicMean(double p, double r) => p == 0 || r == 0 ? 0 : 2 * p * r / (p + r);
    internal static PrecisionRecallF1 From(double p, double r) => new(p, r, HarmonicMean(p, r));
}

public static class Plausibility
{
    /// <summary>ERASER's instance-level token precision, recall and F1.</summary>
    public static PrecisionRecallF1 TokenF1(IReadOnlyList<bool> gold, IReadOnlyList<bool> predicted)
    {
        Check(gold, predicted, nameof(TokenF1));
        int tp = 0, g = 0, p = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            if (gold[i]) g++;
            if (predicted[i]) p++;
            if (gold[i] && predicted[i]) tp++;
        }
        return PrecisionRecallF1.From(p == 0 ? 0 : (double)tp / p, g == 0 ? 0 : (double)tp / g);
    }

    /// <summary>ERASER's partial-match (IOU) precision, recall and F1 for one instance: a predicted span
    /// matches when its best IOU with a gold span is at least <paramref name="threshold"/>.</summary>
    public static PrecisionRecallF1 IouF1(IReadOnlyList<bool> gold, IReadOnlyList<bool> predicted, double threshold = 0.5)
    {
        var (matches, g, p) = IouMatches(gold, predicted, threshold);
        return PrecisionRecallF1.From(p == 0 ? 0 : (double)matches / p, g == 0 ? 0 : (double)matches / g);
    }

    /// <summary>Predicted spans whose best IOU reaches the threshold, and the gold and predicted span counts
    /// (ERASER's micro average pools these over instances).</summary>
    public static (int Matches, int GoldSpans, int PredictedSpans) IouMatches(IReadOnlyList<bool> gold, IReadOnlyList<bool> predicted, double threshold = 0.5)
    {
        Check(gold, predicted, nameof(IouF1));
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), $"The IOU threshold must be in (0, 1], got {threshold}.");
        var goldSpans = Spans(gold);
        var predSpans = Spans(predicted);
        int matches = 0;
        foreach (var (ps, pe) in predSpans)
        {
            double best = 0;
            foreach (var (gs, ge) in goldSpans)
            {
                int inter = Math.Max(0, Math.Min(pe, ge) - Math.Max(ps, gs));
                int union = (pe - ps) + (ge - gs) - inter;
                if (union > 0) best = Math.Max(best, (double)inter / union);
            }
            if (best >= threshold) matches++;
        }
        return (matches, goldSpans.Count, predSpans.Count);
    }

    /// <summary>Area under sklearn's precision–recall curve (trapezoid rule over recall), as ERASER's AUPRC.
    /// NaN when the instance has no gold position (recall is undefined).</summary>
    public static double Auprc(IReadOnlyList<bool> gold, IReadOnlyList<double> scores)
    {
        if (gold.Count != scores.Count) throw new ArgumentException($"AUPRC: {gold.Count} gold labels but {scores.Count} scores.");
        for (int i = 0; i < scores.Count; i++)
            if (double.IsNaN(scores[i])) throw new ArgumentException($"AUPRC: score {i} is NaN.");
        int positives = gold.Count(g => g);
        if (positives == 0) return double.NaN;
        // Descending scores; one curve point per distinct score (all tied positions enter together).
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        var precision = new List<double>(); var recall = new List<double>();
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (gold[order[k]]) tp++; else fp++;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;
            precision.Add((double)tp / (tp + fp));
            recall.Add((double)tp / positives);
        }
        // sklearn orders the points by increasing threshold (recall decreasing) and appends (R 0, P 1).
        precision.Reverse(); recall.Reverse();
        precision.Add(1); recall.Add(0);
        double area = 0;
        for (int i = 1; i < recall.Count; i++) area += (recall[i - 1] - recall[i]) * (precision[i - 1] + precision[i]) / 2;
        return area;
    }

    /// <summary>The k highest-scoring positions (ties broken by position, earlier first) as a mask.</summary>
    public static bool[] TopK(IReadOnlyList<double> scores, int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be ≥ 0, got {k}.");
        var mask = new bool[scores.Count];
        foreach (int i in Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k)) mask[i] = true;
        return mask;
    }

    /// <summary>Maximal runs of marked positions as [start, end) spans.</summary>
    public static IReadOnlyList<(int Start, int End)> Spans(IReadOnlyList<bool> mask)
    {
        var spans = new List<(int, int)>();
        for (int i = 0; i < mask.Count;)
        {
            if (!mask[i]) { i++; continue; }
            int j = i;
            while (j < mask.Count && mask[j]) j++;
            spans.Add((i, j));
            i = j;
        }
        return spans;
    }

    private static void Check(IReadOnlyList<bool> gold, IReadOnlyList<bool> predicted, string what)
    {
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"{what}: the human rationale covers {gold.Count} positions but the prediction {predicted.Count}.");
    }
}
