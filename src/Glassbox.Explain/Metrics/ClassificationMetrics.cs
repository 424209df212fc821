// Single-label classification metrics in one pass, as scikit-learn defines them:
// accuracy_score, precision_recall_fscore_support (per class, macro, micro, weighted, with
// labels=all given labels), confusion_matrix, roc_auc_score (binary, or one-vs-rest macro) and
// average_precision_score (binary, or one-vs-rest macro).
//
// zero_division: a precision with no predicted examples, or a recall with no gold examples, is
// 0/0. sklearn's default ("warn") gives 0; ZeroDivision.One gives 1; ZeroDivision.NaN gives NaN,
// and NaN entries are then left out of the macro and weighted averages (sklearn's _nanaverage).
// F1 is 2·TP / (2·TP + FP + FN) (sklearn ≥ 1.3), so it is 0/0 only when the class is absent from
// both gold and predictions; when precision and recall are both 0 with some examples, F1 is 0.
// Every label given counts in the macro average, also a label that appears nowhere (as sklearn
// with labels= given); pass only the labels you want averaged.
namespace Glassbox.Explain.Metrics;

/// <summary>What a 0/0 precision, recall or F1 becomes (sklearn's zero_division).</summary>
public enum ZeroDivision
{
    /// <summary>0, sklearn's default ("warn").</summary>
    Zero,
    /// <summary>1.</summary>
    One,
    /// <summary>NaN, left out of macro and weighted averages.</summary>
    NaN,
}

/// <summary>Scores of one class: precision, recall, F1, gold count (support), predicted count, and
/// the one-vs-rest ROC-AUC and average precision when probabilities were given and they are defined.</summary>
public sealed record ClassScores(string Label, double Precision, double Recall, double F1, int Support, int Predicted,
    double? RocAuc, double? AveragePrecision);

/// <summary>Precision, recall and F1 averaged over classes.</summary>
public sealed record AveragedScores(double Precision, double Recall, double F1);

/// <summary>Everything <see cref="ClassificationMetrics.Compute"/> measures. ConfusionMatrix[g][p]
/// counts examples of gold class g predicted as p (sklearn's layout). RocAuc / AveragePrecision are
/// the positive class's (label index 1) for two labels, the unweighted one-vs-rest mean otherwise;
/// null when no probabilities were given or when undefined (see AucNote).</summary>
public sealed record ClassificationReport(
    int Count,
    double Accuracy,
    IReadOnlyList<string> Labels,
    IReadOnlyList<ClassScores> PerClass,
    AveragedScores Macro,
    AveragedScores Micro,
    AveragedScores Weighted,
    int[][] ConfusionMatrix,
    double? RocAuc,
    double? AveragePrecision,
    string? AucNote);

public static class ClassificationMetrics
{
    /// <summary>Computes all classification metrics. gold and predicted hold class indices into
    /// labels; probabilities (optional) holds one row of class scores per example, in label order
    /// (rows must sum to 1 for more than two labels, as sklearn requires for one-vs-rest AUC).</summary>
    public static ClassificationReport Compute(int[] gold, int[] predicted, double[][]? probabilities, IReadOnlyList<string> labels,
        ZeroDivision zeroDivision = ZeroDivision.Zero)
    {
        const string M = "ClassificationMetrics";
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(labels);
        MetricChecks.SameLength(M, "gold", gold.Length, "predicted", predicted.Length);
        MetricChecks.NotEmpty(M, "gold", gold.Length);
        int k = labels.Count;
        if (k < 2) throw new ArgumentException($"{M}: {k} label(s) given; classification needs at least two labels.");
        if (labels.Distinct().Count() != k) throw new ArgumentException($"{M}: labels contain duplicates ({string.Join(", ", labels)}).");
        MetricChecks.Labels(M, "gold", gold, k);
        MetricChecks.Labels(M, "predicted", predicted, k);
        int n = gold.Length;

        var cm = new int[k][];
        for (int i = 0; i < k; i++) cm[i] = new int[k];
        for (int i = 0; i < n; i++) cm[gold[i]][predicted[i]]++;
        int correct = 0;
        for (int c = 0; c < k; c++) correct += cm[c][c];

        var tp = new double[k]; var support = new int[k]; var predCount = new int[k];
        for (int c = 0; c < k; c++)
        {
            tp[c] = cm[c][c];
            for (int j = 0; j < k; j++) { support[c] += cm[c][j]; predCount[c] += cm[j][c]; }
        }

        double Divide(double num, double den) => den != 0 ? num / den : zeroDivision switch
        {
            ZeroDivision.One => 1.0,
            ZeroDivision.NaN => double.NaN,
            _ => 0.0,
        };

        var precision = new double[k]; var recall = new double[k]; var f1 = new double[k];
        for (int c = 0; c < k; c++)
        {
            precision[c] = Divide(tp[c], predCount[c]);
            recall[c] = Divide(tp[c], support[c]);
            f1[c] = Divide(2 * tp[c], support[c] + predCount[c]);
        }

        var macro = new AveragedScores(NanMean(precision, null), NanMean(recall, null), NanMean(f1, null));
        var weights = support.Select(s => (double)s).ToArray();
        var weighted = new AveragedScores(NanMean(precision, weights), NanMean(recall, weights), NanMean(f1, weights));
        double tpSum = tp.Sum();
        var micro = new AveragedScores(Divide(tpSum, predCount.Sum()), Divide(tpSum, support.Sum()), Divide(2 * tpSum, support.Sum() + predCount.Sum()));

        var aucs = new double?[k]; var aps = new double?[k];
        double? auc = null, ap = null; string? note = null;
        if (probabilities is null) note = "no probabilities were given";
        else
        {
            CheckProbabilities(M, probabilities, n, k);
            var notes = new List<string>();
            for (int c = 0; c < k; c++)
            {
                var isC = gold.Select(g => g == c).ToArray();
                var score = probabilities.Select(row => row[c]).ToArray();
                int pos = isC.Count(b => b);
                if (pos > 0 && pos < n) aucs[c] = RankingMetrics.RocAuc(isC, score);
                if (pos > 0) aps[c] = RankingMetrics.AveragePrecision(isC, score);
                if (pos == 0) notes.Add($"'{labels[c]}' has no gold example");
                else if (pos == n) notes.Add($"'{labels[c]}' is the only gold class");
            }
            if (k == 2)
            {
                auc = aucs[1]; ap = aps[1];
            }
            else
            {
                if (aucs.All(a => a.HasValue)) auc = aucs.Average(a => a!.Value);
                if (aps.All(a => a.HasValue)) ap = aps.Average(a => a!.Value);
            }
            if (notes.Count > 0)
                note = $"AUCs need both classes in the gold labels: {string.Join("; ", notes)}";
        }

        var perClass = Enumerable.Range(0, k)
            .Select(c => new ClassScores(labels[c], precision[c], recall[c], f1[c], support[c], predCount[c], aucs[c], aps[c]))
            .ToList();
        return new ClassificationReport(n, correct / (double)n, labels.ToList(), perClass, macro, micro, weighted, cm, auc, ap, note);
    }

    /// <summary>Fraction of examples whose prediction equals the gold class.</summary>
    public static double Accuracy(int[] gold, int[] predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        MetricChecks.SameLength("Accuracy", "gold", gold.Length, "predicted", predicted.Length);
        MetricChecks.NotEmpty("Accuracy", "gold", gold.Length);
        int ok = 0;
        for (int i = 0; i < gold.Length; i++) if (gold[i] == predicted[i]) ok++;
        return ok / (double)gold.Length;
    }

    internal static void CheckProbabilities(string metric, double[][] probabilities, int n, int k)
    {
        MetricChecks.SameLength(metric, "gold", n, "probabilities", probabilities.Length);
        for (int i = 0; i < n; i++)
        {
            var row = probabilities[i] ?? throw new ArgumentException($"{metric}: probabilities[{i}] is null.");
            if (row.Length != k)
                throw new ArgumentException($"{metric}: probabilities[{i}] has {row.Length} entries; there are {k} labels.");
            MetricChecks.Finite(metric, $"probabilities[{i}]", row);
            if (k > 2)
            {
                double s = row.Sum();
                // np.allclose(1, sum): |1 − s| ≤ 1e-8 + 1e-5·|s|
                if (Math.Abs(1 - s) > 1e-8 + 1e-5 * Math.Abs(s))
                    throw new ArgumentException($"{metric}: probabilities[{i}] sums to {s}; one-vs-rest AUC needs probabilities that sum to 1 per example (apply softmax to logits first).");
            }
        }
    }

    // Mean ignoring NaN entries (weighted when weights are given); NaN when nothing is left.
    private static double NanMean(double[] values, double[]? weights)
    {
        double sum = 0, wsum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i])) continue;
            double w = weights?[i] ?? 1.0;
            sum += w * values[i];
            wsum += w;
        }
        return wsum == 0 ? (weights is null ? double.NaN : 0.0) : sum / wsum;
    }
}
