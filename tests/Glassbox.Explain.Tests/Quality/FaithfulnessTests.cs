using Glassbox.Explain.Quality;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests.Quality;

/// <summary>Known answers on a toy linear model: p = σ(b + Σ over kept text tokens of wᵢ), with special
/// tokens at both ends. There the ideal ranking is the weights themselves.</summary>
public class FaithfulnessTests
{
    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>The toy model as a keep-mask scorer; it fails the test if a special token is ever removed.</summary>
    private static KeepMaskScorer Linear(double[] w, bool[] special, double bias = 0, List<bool[]>? seen = null) => masks =>
    {
        seen?.AddRange(masks);
        return masks.Select(keep =>
        {
            for (int i = 0; i < keep.Length; i++) Assert.True(keep[i] || !special[i], $"special token {i} was removed");
            return Sigmoid(bias + Enumerable.Range(0, w.Length).Where(i => keep[i] && !special[i]).Sum(i => w[i]));
        }).ToArray();
    };

    private static bool[] Specials(int len) => Enumerable.Range(0, len).Select(i => i == 0 || i == len - 1).ToArray();

    [Fact]
    public void HandComputedComprehensivenessSufficiencyAndAopc()
    {
        // [CLS] a b c d [SEP] with weights 2, −1, 0.5, 3: ranking d, a, c, b.
        double[] w = [0, 2, -1, 0.5, 3, 0];
        var special = Specials(6);
        var r = Faithfulness.Evaluate(Linear(w, special), w, special);
        double p0 = Sigmoid(4.5);
        Assert.Equal(4, r.TextTokens);
        Assert.Equal(p0, r.FullScore, 12);
        Assert.Equal(Sigmoid(0), r.EmptyScore, 12);
        // Bins 1, 5, 10, 20, 50% of 4 tokens → k = 1, 1, 1, 1, 2 (rounded up).
        double c1 = p0 - Sigmoid(4.5 - 3), c2 = p0 - Sigmoid(4.5 - 3 - 2);
        Assert.Equal([c1, c1, c1, c1, c2], r.ComprehensivenessPerBin.Select(v => Math.Round(v, 12)).ToArray(), new RoundedComparer());
        Assert.Equal((4 * c1 + c2) / 5, r.Comprehensiveness, 12);
        double s1 = p0 - Sigmoid(3), s2 = p0 - Sigmoid(5);
        Assert.Equal((4 * s1 + s2) / 5, r.Sufficiency, 12);
        // AOPC: 10%…100% of 4 tokens → k = 1, 1, 2, 2, 2, 3, 3, 4, 4, 4.
        double[] removed = [3, 5, 5.5, 4.5];
        int[] ks = [1, 1, 2, 2, 2, 3, 3, 4, 4, 4];
        Assert.Equal(ks.Average(k => p0 - Sigmoid(4.5 - removed[k - 1])), r.Aopc, 12);
        // Deletion curve at k = 0..4 and its trapezoid area over k/4.
        double[] del = [p0, Sigmoid(1.5), Sigmoid(-0.5), Sigmoid(-1), Sigmoid(0)];
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], r.Deletion.Fractions);
        for (int k = 0; k <= 4; k++) Assert.Equal(del[k], r.Deletion.Scores[k], 12);
        Assert.Equal(0.25 * (del[0] / 2 + del[1] + del[2] + del[3] + del[4] / 2), r.Deletion.Area, 12);
        double[] ins = [Sigmoid(0), Sigmoid(3), Sigmoid(5), Sigmoid(5.5), p0];
        for (int k = 0; k <= 4; k++) Assert.Equal(ins[k], r.Insertion.Scores[k], 12);
        // Leave-one-out is p0 − σ(4.5 − wᵢ); NaN at the special tokens.
        Assert.True(double.IsNaN(r.LeaveOneOut[0]) && double.IsNaN(r.LeaveOneOut[5]));
        Assert.Equal(p0 - Sigmoid(4.5 - 2), r.LeaveOneOut[1], 12);
        Assert.Equal(1.0, r.KendallTauLoo, 12);
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-10;
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void IdealRankingBeatsEveryRandomRankingWhichBeatsTheReversedOne()
    {
        var rng = new Random(3);
        int len = 14;
        var w = Enumerable.Range(0, len).Select(i => i == 0 || i == len - 1 ? 0 : rng.NextDouble() * 4 - 2).ToArray();
        var special = Specials(len);
        var scorer = Linear(w, special, bias: 0.3);
        var perfect = Faithfulness.Evaluate(scorer, w, special);
        var reversed = Faithfulness.Evaluate(scorer, w.Select(v => -v).ToArray(), special);
        Assert.Equal(1.0, perfect.KendallTauLoo, 12);
        Assert.Equal(-1.0, reversed.KendallTauLoo, 12);
        Assert.True(perfect.Aopc > reversed.Aopc);
        Assert.True(perfect.Deletion.Area < reversed.Deletion.Area);
        Assert.True(perfect.Insertion.Area > reversed.Insertion.Area);
        for (int trial = 0; trial < 30; trial++)
        {
            var random = Enumerable.Range(0, len).Select(_ => rng.NextDouble()).ToArray();
            var r = Faithfulness.Evaluate(scorer, random, special, leaveOneOut: perfect.LeaveOneOut);
            const double eps = 1e-12;
            // The top-k weight sum is largest for the ideal ranking and smallest for the reversed one, at every k.
            for (int b = 0; b < r.ComprehensivenessPerBin.Count; b++)
            {
                Assert.InRange(r.ComprehensivenessPerBin[b], reversed.ComprehensivenessPerBin[b] - eps, perfect.ComprehensivenessPerBin[b] + eps);
                Assert.InRange(r.SufficiencyPerBin[b], perfect.SufficiencyPerBin[b] - eps, reversed.SufficiencyPerBin[b] + eps);
            }
            Assert.InRange(r.Aopc, reversed.Aopc - eps, perfect.Aopc + eps);
            Assert.InRange(r.Deletion.Area, perfect.Deletion.Area - eps, reversed.Deletion.Area + eps);
            Assert.InRange(r.Insertion.Area, reversed.Insertion.Area - eps, perfect.Insertion.Area + eps);
            Assert.InRange(r.KendallTauLoo, -1, 1);
        }
    }

    [Fact]
    public void AbsoluteRankingPutsStrongNegativeTokensFirst()
    {
        double[] w = [0, 1, -5, 2, 0];
        var special = Specials(5);
        Assert.Equal([3, 1, 2], Faithfulness.Ranking(w, special));
        Assert.Equal([2, 3, 1], Faithfulness.Ranking(w, special, byAbsoluteValue: true));
        // Ties keep position order.
        Assert.Equal([1, 2, 3], Faithfulness.Ranking([0, 1, 1, 1, 0], special));
    }

    [Fact]
    public void TokenCountsRoundUpLikeEraser()
    {
        Assert.Equal(3, Faithfulness.TokensFor(0.3, 10));   // 0.3 × 10 = 3.0000000000000004 in binary
        Assert.Equal(1, Faithfulness.TokensFor(0.01, 20));  // ⌈0.2⌉
        Assert.Equal(3, Faithfulness.TokensFor(0.5, 5));    // ⌈2.5⌉
        Assert.Equal(7, Faithfulness.TokensFor(0.7, 10));
        Assert.Equal(5, Faithfulness.TokensFor(1.0, 5));
        Assert.Equal(0, Faithfulness.TokensFor(0.5, 0));
    }

    [Fact]
    public void CurvesOfALinearInCountModelHaveAreaOneHalf()
    {
        // p = share of text tokens kept: deletion falls 1 → 0 and insertion rises 0 → 1 in straight lines.
        int len = 252;
        var special = Specials(len);
        KeepMaskScorer share = masks => masks.Select(k => (double)Enumerable.Range(1, len - 2).Count(i => k[i]) / (len - 2)).ToArray();
        var r = Faithfulness.Evaluate(share, Enumerable.Range(0, len).Select(i => (double)i).ToArray(), special, new FaithfulnessOptions { CurveSteps = 100 });
        Assert.Equal(0.5, r.Deletion.Area, 3);
        Assert.Equal(0.5, r.Insertion.Area, 3);
        // 250 text tokens read at 101 evenly spaced counts, from none to all.
        Assert.Equal(101, r.Deletion.Fractions.Count);
        Assert.Equal(0.0, r.Deletion.Fractions[0]);
        Assert.Equal(1.0, r.Deletion.Fractions[^1]);
        Assert.Equal(0.5, r.Deletion.At(0.5), 9);
    }

    [Fact]
    public void EachDistinctPerturbationIsScoredOnce()
    {
        double[] w = [0, 2, -1, 0.5, 3, 0];
        var special = Specials(6);
        var seen = new List<bool[]>();
        Faithfulness.Evaluate(Linear(w, special, seen: seen), w, special, leaveOneOut: new double[6]);
        var keys = seen.Select(m => string.Concat(m.Select(b => b ? '1' : '0'))).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        // 4 text tokens: the full input, the empty one, top-1..3 removed and top-1..3 kept.
        Assert.Equal(8, keys.Count);
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var special = Specials(4);
        KeepMaskScorer one = m => m.Select(_ => 0.5).ToArray();
        Assert.Contains("no text tokens", Assert.Throws<ArgumentException>(() => Faithfulness.Evaluate(one, [1, 2], [true, true])).Message);
        Assert.Contains("(0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() =>
            Faithfulness.Evaluate(one, [0, 1, 2, 0], special, new FaithfulnessOptions { Bins = [0.1, 1.5] })).Message);
        Assert.Contains("4 tokens", Assert.Throws<ArgumentException>(() => Faithfulness.Evaluate(one, [0, 1, 2], special)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Faithfulness.Evaluate(one, [0, double.NaN, 2, 0], special)).Message);
        KeepMaskScorer wrong = m => [0.5];
        Assert.Throws<InvalidOperationException>(() => Faithfulness.Evaluate(wrong, [0, 1, 2, 0], special));
    }
}

/// <summary>TokenRemoval builds the right model inputs for each removal mode.</summary>
public class TokenRemovalTests
{
    /// <summary>Records every input row and scores it by its first non-special id.</summary>
    private sealed class Recorder : IExplainableModel
    {
        public readonly List<(int[] Ids, int[]? Types, int[]? Positions)> Rows = [];
        public string Name => "recorder";
        public IReadOnlyList<string> OutputNames => ["a", "b"];
        public bool SupportsGradients => false;
        public HookSet? Hooks => null;
        public Tensor Predict(ModelInput input)
        {
            var y = Tensor.Empty(input.Batch, 2);
            for (int b = 0; b < input.Batch; b++)
            {
                int s = input.SeqLength;
                Rows.Add((input.InputIds[(b * s)..((b + 1) * s)], input.TokenTypeIds?[(b * s)..((b + 1) * s)], input.PositionIds?[(b * s)..((b + 1) * s)]));
                y[b, 0] = 0.25f; y[b, 1] = s;
            }
            return y;
        }
    }

    private static readonly ModelInput Input = new(1, 5, [101, 7, 8, 9, 102], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1], [0, 1, 2, 3, 4]);
    private static readonly bool[] Special = [true, false, false, false, true];

    [Fact]
    public void DeleteClosesTheSequenceUpAndKeepsSpecialTokens()
    {
        var m = new Recorder();
        var scores = new TokenRemoval(m, Input, Special, target: 1, RemovalMode.Delete).Score([[true, false, true, false, true], [false, false, false, false, false]]);
        Assert.Equal([3.0, 2.0], scores);
        var rows = m.Rows.OrderByDescending(r => r.Ids.Length).ToList();
        Assert.Equal([101, 8, 102], rows[0].Ids);
        Assert.Equal([0, 0, 1], rows[0].Types!);
        Assert.Equal([0, 1, 2], rows[0].Positions!);
        // Removing "everything" still keeps [CLS] and [SEP].
        Assert.Equal([101, 102], rows[1].Ids);
    }

    [Fact]
    public void PadAndMaskReplaceTheIdOnly()
    {
        var m = new Recorder();
        new TokenRemoval(m, Input, Special, 0, RemovalMode.Pad, replacementId: 0).Score([[false, false, true, true, false]]);
        Assert.Equal([101, 0, 8, 9, 102], m.Rows[0].Ids);
        Assert.Equal([0, 0, 0, 1, 1], m.Rows[0].Types!);
        Assert.Equal([0, 1, 2, 3, 4], m.Rows[0].Positions!);
        new TokenRemoval(m, Input, Special, 0, RemovalMode.Mask, replacementId: 103).Score([[true, true, false, true, true]]);
        Assert.Equal([101, 7, 103, 9, 102], m.Rows[1].Ids);
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        var m = new Recorder();
        Assert.Contains("mask token", Assert.Throws<ArgumentException>(() => new TokenRemoval(m, Input, Special, 0, RemovalMode.Mask)).Message);
        Assert.Contains("one entry per token (5)", Assert.Throws<ArgumentException>(() => new TokenRemoval(m, Input, Special, 0, RemovalMode.Delete).Score([[true, false]])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenRemoval(m, Input, Special, 5, RemovalMode.Delete).Score([[true, true, true, true, true]]));
    }
}
