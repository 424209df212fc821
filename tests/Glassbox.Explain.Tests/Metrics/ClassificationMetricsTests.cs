using Glassbox.Explain.Metrics;

namespace Glassbox.Explain.Tests.Metrics;

public class ClassificationMetricsTests
{
    private static readonly string[] Abc = ["a", "b", "c"];

    [Fact]
    public void F1MatchesSklearnDocstring()
    {
        // sklearn.metrics.f1_score docstring: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
        // macro 0.2666..., micro 0.3333..., weighted 0.2666..., average=None [0.8, 0, 0].
        var r = ClassificationMetrics.Compute([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], null, Abc);
        Assert.Equal(0.26666666666666666, r.Macro.F1, 12);
        Assert.Equal(1.0 / 3, r.Micro.F1, 12);
        Assert.Equal(0.26666666666666666, r.Weighted.F1, 12);
        Assert.Equal([0.8, 0.0, 0.0], r.PerClass.Select(c => Math.Round(c.F1, 12)));
        // precision_recall_fscore_support docstring (the same data as cat/dog/pig):
        // macro (0.222, 0.333, 0.267), micro (0.333, 0.333, 0.333), weighted (0.222, 0.333, 0.267).
        Assert.Equal(2.0 / 9, r.Macro.Precision, 12);
        Assert.Equal(1.0 / 3, r.Macro.Recall, 12);
        Assert.Equal(1.0 / 3, r.Micro.Precision, 12);
        Assert.Equal(1.0 / 3, r.Micro.Recall, 12);
        Assert.Equal(2.0 / 9, r.Weighted.Precision, 12);
        Assert.Equal(1.0 / 3, r.Accuracy, 12);
        // confusion_matrix layout: rows gold, columns predicted
        Assert.Equal([[2, 0, 0], [1, 0, 1], [0, 2, 0]], r.ConfusionMatrix);
    }

    [Fact]
    public void ZeroDivisionMatchesSklearnDocstring()
    {
        // sklearn.metrics.precision_score docstring: y_pred = [0, 0, 0, 0, 0, 0]
        // average=None → [0.333, 0, 0]; zero_division=1 → [0.333, 1, 1]; zero_division=np.nan → [0.333, nan, nan].
        int[] gold = [0, 1, 2, 0, 1, 2], pred = [0, 0, 0, 0, 0, 0];
        var zero = ClassificationMetrics.Compute(gold, pred, null, Abc);
        var one = ClassificationMetrics.Compute(gold, pred, null, Abc, ZeroDivision.One);
        var nan = ClassificationMetrics.Compute(gold, pred, null, Abc, ZeroDivision.NaN);
        Assert.Equal([1.0 / 3, 0, 0], zero.PerClass.Select(c => c.Precision));
        Assert.Equal([1.0 / 3, 1, 1], one.PerClass.Select(c => c.Precision));
        Assert.Equal(1.0 / 3, nan.PerClass[0].Precision, 12);
        Assert.True(double.IsNaN(nan.PerClass[1].Precision) && double.IsNaN(nan.PerClass[2].Precision));
        // macro with NaN ignores the NaN classes (sklearn's _nanaverage)
        Assert.Equal(1.0 / 3, nan.Macro.Precision, 12);
        Assert.Equal(1.0 / 9, zero.Macro.Precision, 12);
        // F1 = 2TP/(2TP+FP+FN): class 0 is 4/8; classes 1, 2 have gold examples, so 0 (not zero_division)
        Assert.Equal([0.5, 0, 0], one.PerClass.Select(c => c.F1));
    }

    [Fact]
    public void EmptyClassTakesZeroDivisionAndCountsInMacro()
    {
        // class c appears in neither gold nor predictions: P, R, F1 are 0/0.
        int[] gold = [0, 1, 1, 0], pred = [0, 1, 0, 0];
        var r = ClassificationMetrics.Compute(gold, pred, null, Abc);
        Assert.Equal(0, r.PerClass[2].Support);
        Assert.Equal(0, r.PerClass[2].F1);
        // a: P 2/3, R 1, F1 0.8; b: P 1, R 1/2, F1 2/3; c: 0 → macro F1 (0.8 + 2/3)/3
        Assert.Equal((0.8 + 2.0 / 3) / 3, r.Macro.F1, 12);
        var one = ClassificationMetrics.Compute(gold, pred, null, Abc, ZeroDivision.One);
        Assert.Equal(1, one.PerClass[2].F1);
        var nan = ClassificationMetrics.Compute(gold, pred, null, Abc, ZeroDivision.NaN);
        Assert.Equal((0.8 + 2.0 / 3) / 2, nan.Macro.F1, 12);
        Assert.Equal(0.75, r.Micro.F1, 12); // micro = accuracy for single-label data
    }

    [Fact]
    public void BinaryAucsMatchSklearnDocstrings()
    {
        // roc_auc_score / average_precision_score docstrings: y_true = [0, 0, 1, 1],
        // y_scores = [0.1, 0.4, 0.35, 0.8] → ROC-AUC 0.75, average precision 0.8333...
        bool[] y = [false, false, true, true];
        double[] s = [0.1, 0.4, 0.35, 0.8];
        Assert.Equal(0.75, RankingMetrics.RocAuc(y, s), 12);
        Assert.Equal(0.8333333333333333, RankingMetrics.AveragePrecision(y, s), 12);
        var probs = s.Select(p => new[] { 1 - p, p }).ToArray();
        var r = ClassificationMetrics.Compute([0, 0, 1, 1], s.Select(p => p >= 0.5 ? 1 : 0).ToArray(), probs, ["neg", "pos"]);
        Assert.Equal(0.75, r.RocAuc!.Value, 12);
        Assert.Equal(0.8333333333333333, r.AveragePrecision!.Value, 12);
    }

    [Fact]
    public void AllTiedScoresGiveChanceAucAndPrevalenceAp()
    {
        bool[] y = [false, true, false, true, true];
        double[] s = [0.5, 0.5, 0.5, 0.5, 0.5];
        Assert.Equal(0.5, RankingMetrics.RocAuc(y, s), 12);
        Assert.Equal(0.6, RankingMetrics.AveragePrecision(y, s), 12);
        // a tie across classes in the middle: pairs (+0.7 vs −0.7) count ½
        // y: + + − − ; s: 0.9 0.7 0.7 0.1 → pairs (4): 1 + 1 + 0.5 + 1 = 3.5 / 4
        Assert.Equal(0.875, RankingMetrics.RocAuc([true, true, false, false], [0.9, 0.7, 0.7, 0.1]), 12);
        // AP: thresholds 0.9 (P 1, R ½), 0.7 (P 2/3, R 1) → ½·1 + ½·2/3
        Assert.Equal(0.5 + 1.0 / 3, RankingMetrics.AveragePrecision([true, true, false, false], [0.9, 0.7, 0.7, 0.1]), 12);
    }

    [Fact]
    public void AucsEqualBruteForceWithManyTies()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = rng.Next(2, 60);
            var y = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.4).ToArray();
            if (y.All(b => b) || y.All(b => !b)) { y[0] = !y[0]; }
            var s = Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble(), 1)).ToArray(); // many ties
            Assert.Equal(BruteRocAuc(y, s), RankingMetrics.RocAuc(y, s), 12);
            if (y.Any(b => b)) Assert.Equal(BruteAveragePrecision(y, s), RankingMetrics.AveragePrecision(y, s), 12);
        }
    }

    // Pairwise count: P(s⁺ > s⁻) + ½ P(s⁺ = s⁻).
    private static double BruteRocAuc(bool[] y, double[] s)
    {
        double sum = 0; int pairs = 0;
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < y.Length; j++)
                if (y[i] && !y[j]) { pairs++; sum += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0; }
        return sum / pairs;
    }

    // Definition: for each distinct threshold t (descending), precision and recall of "score ≥ t".
    private static double BruteAveragePrecision(bool[] y, double[] s)
    {
        int pos = y.Count(b => b);
        double ap = 0, prevR = 0;
        foreach (var t in s.Distinct().OrderDescending())
        {
            int tp = 0, sel = 0;
            for (int i = 0; i < y.Length; i++) if (s[i] >= t) { sel++; if (y[i]) tp++; }
            double r = tp / (double)pos;
            ap += (r - prevR) * tp / sel;
            prevR = r;
        }
        return ap;
    }

    [Fact]
    public void MulticlassOneVsRestIsTheMeanOfPerClassBinaryAucs()
    {
        int[] gold = [0, 1, 2, 2, 1, 0];
        double[][] p =
        [
            [0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6],
            [0.3, 0.4, 0.3], [0.4, 0.4, 0.2], [0.5, 0.3, 0.2],
        ];
        var r = ClassificationMetrics.Compute(gold, p.Select(row => Array.IndexOf(row, row.Max())).ToArray(), p, Abc);
        // By hand, class a: positives {0.7, 0.5}, negatives {0.2, 0.1, 0.3, 0.4} → 8/8 = 1.
        // class b: positives {0.5, 0.4}; negatives {0.2, 0.3, 0.4, 0.3}: 0.5 beats 4; 0.4 beats 3, ties 1 → 7.5/8.
        // class c: positives {0.6, 0.3}; negatives {0.1, 0.3, 0.2, 0.2}: 0.6 beats 4; 0.3 beats 3, ties 1 → 7.5/8.
        Assert.Equal(1.0, r.PerClass[0].RocAuc!.Value, 12);
        Assert.Equal(7.5 / 8, r.PerClass[1].RocAuc!.Value, 12);
        Assert.Equal(7.5 / 8, r.PerClass[2].RocAuc!.Value, 12);
        Assert.Equal((1 + 7.5 / 8 + 7.5 / 8) / 3, r.RocAuc!.Value, 12);
        var aps = Enumerable.Range(0, 3).Select(c => BruteAveragePrecision(gold.Select(g => g == c).ToArray(), p.Select(row => row[c]).ToArray())).ToArray();
        Assert.Equal(aps.Average(), r.AveragePrecision!.Value, 12);
        Assert.Null(r.AucNote);
    }

    [Fact]
    public void SingleClassSliceHasNoAucAndSaysWhy()
    {
        var p = new[] { new[] { 0.8, 0.2 }, new[] { 0.4, 0.6 } };
        var r = ClassificationMetrics.Compute([0, 0], [0, 1], p, ["neg", "pos"]);
        Assert.Null(r.RocAuc);
        Assert.Null(r.AveragePrecision); // no positive example
        Assert.Contains("'pos' has no gold example", r.AucNote);
        Assert.Equal(0.5, r.Accuracy);
        Assert.Equal(0, r.PerClass[1].Recall); // 0/0 → zero_division
        Assert.Equal(0, r.PerClass[1].Precision); // 0/1
        var ex = Assert.Throws<ArgumentException>(() => RankingMetrics.RocAuc([true, true], [0.1, 0.2]));
        Assert.Contains("only one class", ex.Message);
    }

    [Fact]
    public void PerfectPredictorScoresOne()
    {
        int[] gold = [0, 1, 2, 1, 0, 2, 2];
        var p = gold.Select(g => Enumerable.Range(0, 3).Select(c => c == g ? 0.9 : 0.05).ToArray()).ToArray();
        var r = ClassificationMetrics.Compute(gold, gold, p, Abc);
        Assert.Equal(1, r.Accuracy);
        Assert.Equal(1, r.Macro.F1, 12);
        Assert.Equal(1, r.Micro.F1, 12);
        Assert.Equal(1, r.Weighted.F1, 12);
        Assert.Equal(1, r.RocAuc!.Value, 12);
        Assert.Equal(1, r.AveragePrecision!.Value, 12);
    }

    [Fact]
    public void ReportIsInvariantUnderPermutationOfExamples()
    {
        var rng = new Random(3);
        int n = 40;
        var gold = Enumerable.Range(0, n).Select(_ => rng.Next(3)).ToArray();
        var pred = Enumerable.Range(0, n).Select(_ => rng.Next(3)).ToArray();
        var p = Enumerable.Range(0, n).Select(_ => { var a = new[] { rng.NextDouble(), rng.NextDouble(), rng.NextDouble() }; var s = a.Sum(); return a.Select(v => v / s).ToArray(); }).ToArray();
        var perm = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        var a = ClassificationMetrics.Compute(gold, pred, p, Abc);
        var b = ClassificationMetrics.Compute(perm.Select(i => gold[i]).ToArray(), perm.Select(i => pred[i]).ToArray(), perm.Select(i => p[i]).ToArray(), Abc);
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.Equal(a.Macro, b.Macro);
        Assert.Equal(a.Micro, b.Micro);
        Assert.Equal(a.ConfusionMatrix, b.ConfusionMatrix);
        Assert.Equal(a.RocAuc!.Value, b.RocAuc!.Value, 12);
        Assert.Equal(a.AveragePrecision!.Value, b.AveragePrecision!.Value, 12);
    }

    [Fact]
    public void BadInputIsRefusedWithClearMessages()
    {
        var ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 1, 0], [0, 1], null, Abc));
        Assert.Contains("gold has 3 entries but predicted has 2", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([], [], null, Abc));
        Assert.Contains("empty", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 3], [0, 1], null, Abc));
        Assert.Contains("gold[1] = 3 is not a class index", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 1], [0, 1], [[1, 0], [double.NaN, 1]], ["x", "y"]));
        Assert.Contains("probabilities[1][0] is NaN", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 1], [0, 1], [[1, 0, 0], [0.5, 0.2, 0.1]], Abc));
        Assert.Contains("probabilities[1] sums to 0.7999", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 1], [0, 1], [[1, 0, 0]], Abc));
        Assert.Contains("probabilities has 1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RankingMetrics.RocAuc([true, false], [0.5, double.PositiveInfinity]));
        Assert.Contains("scores[1]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RankingMetrics.AveragePrecision([false, false], [0.5, 0.1]));
        Assert.Contains("no positive", ex.Message);
    }
}
