using Glassbox.Explain.Quality;

namespace Glassbox.Explain.Tests.Quality;

public class PlausibilityTests
{
    private static bool[] M(string bits) => bits.Select(c => c == '1').ToArray();

    [Fact]
    public void TokenF1ByHand()
    {
        // gold {1,2,3}, predicted {2,3,5}: tp 2, P = 2/3, R = 2/3, F1 = 2/3.
        var r = Plausibility.TokenF1(M("011100"), M("001101"));
        Assert.Equal(2.0 / 3, r.Precision, 12);
        Assert.Equal(2.0 / 3, r.Recall, 12);
        Assert.Equal(2.0 / 3, r.F1, 12);
        // gold {0}, predicted {0,1,2,3}: P = 1/4, R = 1, F1 = 2·¼·1/(¼+1) = 0.4.
        Assert.Equal(0.4, Plausibility.TokenF1(M("1000"), M("1111")).F1, 12);
        // Empty prediction: precision 0, hence F1 0 (ERASER).
        var empty = Plausibility.TokenF1(M("0110"), M("0000"));
        Assert.Equal((0.0, 0.0, 0.0), (empty.Precision, empty.Recall, empty.F1));
    }

    [Fact]
    public void IouF1ByHand()
    {
        // gold spans [1,4) and [6,8); predicted spans [2,4) (IOU 2/3 with [1,4): match) and [7,10)
        // (IOU with [6,8) = 1/4: no match). P = 1/2, R = 1/2, F1 = 1/2.
        var gold = M("0111001100");
        var pred = M("0011000111");
        var r = Plausibility.IouF1(gold, pred);
        Assert.Equal(0.5, r.Precision, 12);
        Assert.Equal(0.5, r.Recall, 12);
        Assert.Equal(0.5, r.F1, 12);
        Assert.Equal((1, 2, 2), Plausibility.IouMatches(gold, pred));
        // IOU exactly 0.5 counts (ERASER's >=): gold [0,2), predicted [1,2) → 1/2.
        Assert.Equal(1.0, Plausibility.IouF1(M("1100"), M("0100")).F1, 12);
        // A stricter threshold drops it.
        Assert.Equal(0.0, Plausibility.IouF1(M("1100"), M("0100"), threshold: 0.6).F1, 12);
    }

    [Fact]
    public void AuprcEqualsSklearnsDocumentedCurve()
    {
        // sklearn's precision_recall_curve example: y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8] gives
        // precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0]; the trapezoid over recall is
        // 0.5·(0.667 + 0.5)/2 + 0.5·(1 + 1)/2 = 0.7916̅.
        double auprc = Plausibility.Auprc(M("0011"), [0.1, 0.4, 0.35, 0.8]);
        Assert.Equal(0.5 * (2.0 / 3 + 0.5) / 2 + 0.5, auprc, 12);
        // A perfect ranking has area 1; no gold position leaves it undefined.
        Assert.Equal(1.0, Plausibility.Auprc(M("0110"), [0.1, 0.9, 0.8, 0.2]), 12);
        Assert.True(double.IsNaN(Plausibility.Auprc(M("0000"), [0.1, 0.9, 0.8, 0.2])));
    }

    [Fact]
    public void AuprcTreatsTiedScoresAsOneThreshold()
    {
        // All scores tied: one point (P = 2/4, R = 1) then (P 1, R 0): area = 1·(0.5 + 1)/2 = 0.75.
        Assert.Equal(0.75, Plausibility.Auprc(M("0101"), [0.3, 0.3, 0.3, 0.3]), 12);
    }

    [Fact]
    public void TopKBreaksTiesByPositionAndSpansAreMaximalRuns()
    {
        Assert.Equal(M("01100"), Plausibility.TopK([0.1, 0.5, 0.5, 0.5, 0.2], 2));
        Assert.Equal(M("00000"), Plausibility.TopK([0.1, 0.5, 0.5, 0.5, 0.2], 0));
        Assert.Equal([(1, 3), (4, 5)], Plausibility.Spans(M("01101")));
    }

    [Fact]
    public void RationaleFieldsParseAsIndicesOrMasks()
    {
        Assert.Equal(M("00101"), HumanRationale.Parse("2 4", 5));
        Assert.Equal(M("00101"), HumanRationale.Parse("[2, 4]", 5));
        Assert.Equal(M("00101"), HumanRationale.Parse("0 0 1 0 1", 5));
        Assert.Equal(M("00101"), HumanRationale.Parse("00101", 5));
        Assert.Equal(M("11000"), HumanRationale.Parse("0,1", 5));
        // Two words, "0 1": a mask by default, indices when told.
        Assert.Equal(M("01"), HumanRationale.Parse("0 1", 2));
        Assert.Equal(M("11"), HumanRationale.Parse("0 1", 2, RationaleFormat.Indices));
        Assert.Null(HumanRationale.Parse("", 3));
        Assert.Null(HumanRationale.Parse("[]", 3));
        Assert.Contains("has 3 words", Assert.Throws<FormatException>(() => HumanRationale.Parse("5", 3)).Message);
        Assert.Contains("not an integer", Assert.Throws<FormatException>(() => HumanRationale.Parse("a b", 3)).Message);
        Assert.Contains("4 entries", Assert.Throws<FormatException>(() => HumanRationale.Parse("0 1 0 1", 3, RationaleFormat.Mask)).Message);
    }

    [Fact]
    public void WordScoresSumSubwordTokens()
    {
        string text = "unbelievably good film";
        var words = HumanRationale.Words(text);
        Assert.Equal([(0, 12), (13, 17), (18, 22)], words);
        // [CLS] un ##believ ##ably good film [SEP]
        (int, bool)[] tokens = [(0, false), (0, true), (2, true), (8, true), (13, true), (18, true), (0, false)];
        double[] scores = [9, 0.1, 0.2, 0.3, -0.5, 1.0, 9];
        Assert.Equal([0.6, -0.5, 1.0], HumanRationale.WordScores(words, tokens, scores).Select(v => Math.Round(v, 12)));
    }
}
