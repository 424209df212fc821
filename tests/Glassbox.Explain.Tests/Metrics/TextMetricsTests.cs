using Glassbox.Explain.Metrics;

namespace Glassbox.Explain.Tests.Metrics;

public class TextMetricsTests
{
    // sacrebleu README and test/test_bleu.py (_hyps, _refs): two reference streams, transposed here
    // to references per hypothesis.
    private static readonly string[] Hyps = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];
    private static readonly string[][] Refs =
    [
        ["The dog bit the man.", "The dog had bit the man."],
        ["It was not unexpected.", "No one was surprised."],
        ["The man bit him first.", "The man had bitten the dog."],
    ];

    [Fact]
    public void CorpusBleuMatchesSacrebleuReadme()
    {
        // README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18);
        // test_bleu.py test_corpus_bleu_cases: 48.530827 (default and tokenize='13a').
        var b = TextMetrics.CorpusBleu(Hyps, Refs);
        Assert.Equal(48.530827, b.Score, 5);
        Assert.Equal("BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)", b.ToString());
        // test_corpus_bleu_cases: tokenize='none' → 49.1919566; smooth_method='none' → 48.530827.
        Assert.Equal(49.1919566, TextMetrics.CorpusBleu(Hyps, Refs, new BleuOptions(Tokenizer: BleuTokenizer.None)).Score, 6);
        Assert.Equal(48.530827, TextMetrics.CorpusBleu(Hyps, Refs, new BleuOptions(Smoothing: BleuSmoothing.None)).Score, 5);
        // empty hypotheses are kept and score 0
        Assert.Equal(0.0, TextMetrics.CorpusBleu(["", "", ""], Refs).Score);
    }

    [Theory]
    // test_bleu.py test_max_ngram_order
    [InlineData(1, "77.65")]
    [InlineData(2, "60.50")]
    [InlineData(3, "53.93")]
    [InlineData(4, "48.53")]
    [InlineData(5, "46.14")]
    [InlineData(6, "43.28")]
    public void MaxOrderMatchesSacrebleuTests(int order, string expected)
    {
        var b = TextMetrics.CorpusBleu(Hyps, Refs, new BleuOptions(MaxOrder: order));
        Assert.Equal(expected, b.Score.ToString("F2", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void RawBleuCasesMatchSacrebleuTests()
    {
        // raw_corpus_bleu = tokenize 'none', smooth 'floor' (test_raw_bleu_cases, test_case_statistics, test_offset).
        var raw = new BleuOptions(Tokenizer: BleuTokenizer.None, Smoothing: BleuSmoothing.Floor, SmoothValue: 0.01);
        Assert.Equal(1.0, TextMetrics.CorpusBleu(["this is a test"], [["this is a test"]], raw).Score / 100, 8);
        Assert.Equal(0.223606797749979, TextMetrics.CorpusBleu(["this is a fest"], [["this is a test"]], raw).Score / 100, 8);
        Assert.Equal(0.0, TextMetrics.CorpusBleu(["this is a test", "another test"], [["ref1"], ["ref2"]], raw).Score);
        var s = TextMetrics.CorpusBleu(["am I am a character sequence"], [["I am a symbol string sequence a a"]], raw);
        Assert.Equal([4, 2, 1, 0], s.Correct);
        Assert.Equal([6, 5, 4, 3], s.Total);
        Assert.Equal(0.1555722182, TextMetrics.CorpusBleu(["am I am a character sequence"], [["I am a symbol string sequence a a"]], raw with { SmoothValue = 0.1 }).Score / 100, 8);
        Assert.Equal(0.0, TextMetrics.CorpusBleu(["am I am a character sequence"], [["I am a symbol string sequence a a"]], raw with { SmoothValue = 0.0 }).Score / 100, 8);
        // test_case_scoring: statistics ([9,7,5,3], [10,8,6,4]), lengths 11/11 → 0.8375922397
        Assert.Equal(0.8375922397, TextMetrics.ScoreFromStatistics([9, 7, 5, 3], [10, 8, 6, 4], 11, 11, new BleuOptions(Smoothing: BleuSmoothing.None)).Score / 100, 8);
    }

    [Fact]
    public void Tokenizer13aSplitsPunctuationButNotNumbers()
    {
        // the apostrophe (0x27) is outside 13a's symbol ranges, so "wasn't" stays one token
        Assert.Equal("It wasn't surprising .", TextMetrics.Tokenize13a("It wasn't surprising."));
        Assert.Equal("a ( b ) ; c / d", TextMetrics.Tokenize13a("a (b); c/d"));
        Assert.Equal("3.14 and 1,000 , ok", TextMetrics.Tokenize13a("3.14 and 1,000, ok"));
        Assert.Equal("pages 3 - 5 \" quoted \"", TextMetrics.Tokenize13a("pages 3-5 &quot;quoted&quot;"));
    }

    [Fact]
    public void RougeLMatchesRougeScoreAndLin2004()
    {
        // rouge-score rouge_scorer_test testRougeLConsecutive / NonConsecutive: target "testing one two",
        // predictions "testing one" and "testing two" → P 1, R 2/3, F 0.8.
        var a = TextMetrics.RougeL("testing one", "testing one two");
        Assert.Equal(1, a.Precision, 12); Assert.Equal(2.0 / 3, a.Recall, 12); Assert.Equal(0.8, a.FMeasure, 12);
        Assert.Equal(0.8, TextMetrics.RougeL("testing two", "testing one two").FMeasure, 12);
        // Lin (2004) §3.1: reference "police killed the gunman"; S2 "police kill the gunman" → LCS 3 (0.75),
        // S3 "the gunman kill police" → LCS 2 (0.5).
        Assert.Equal(0.75, TextMetrics.RougeL("police kill the gunman", "police killed the gunman").FMeasure, 12);
        Assert.Equal(0.5, TextMetrics.RougeL("the gunman kill police", "police killed the gunman").FMeasure, 12);
        // tokeniser: case and punctuation ignored; "hello world!!!" vs "hello " → F 2/3
        Assert.Equal(2.0 / 3, TextMetrics.RougeL("hello world!!!", "hello ").FMeasure, 12);
        Assert.Equal(0, TextMetrics.RougeL("", "anything").FMeasure);
        Assert.Equal(0, TextMetrics.RougeL("!!!", "anything").FMeasure);
        // several targets: the best one
        Assert.Equal(1, TextMetrics.RougeL("the cat", ["a dog", "The cat."]).FMeasure, 12);
    }

    [Fact]
    public void LcsEqualsBruteForceOnSmallSequences()
    {
        var rng = new Random(5);
        for (int t = 0; t < 200; t++)
        {
            var a = Enumerable.Range(0, rng.Next(0, 8)).Select(_ => ((char)('a' + rng.Next(3))).ToString()).ToArray();
            var b = Enumerable.Range(0, rng.Next(0, 8)).Select(_ => ((char)('a' + rng.Next(3))).ToString()).ToArray();
            // brute force: the longest subsequence of a (over all 2^|a| masks) that is a subsequence of b
            int best = 0;
            for (int mask = 0; mask < 1 << a.Length; mask++)
            {
                var sub = Enumerable.Range(0, a.Length).Where(i => (mask >> i & 1) == 1).Select(i => a[i]).ToArray();
                int j = 0;
                foreach (var s in b) if (j < sub.Length && sub[j] == s) j++;
                if (j == sub.Length) best = Math.Max(best, sub.Length);
            }
            Assert.Equal(best, TextMetrics.LcsLength(a, b));
        }
    }

    [Fact]
    public void ExactMatchUsesSquadNormalisation()
    {
        Assert.Equal("cat sat", TextMetrics.NormalizeAnswer("The  Cat, sat!"));
        Assert.Equal("apple", TextMetrics.NormalizeAnswer("an Apple"));
        Assert.Equal("theory", TextMetrics.NormalizeAnswer("theory")); // articles only as whole words
        Assert.True(TextMetrics.ExactMatch("the Eiffel Tower.", ["Eiffel tower", "Paris"]));
        Assert.False(TextMetrics.ExactMatch("Eiffel", ["Eiffel tower"]));
        var r = TextMetrics.Compute(["Paris", "a dog"], [["paris"], ["the cat"]]);
        Assert.Equal(0.5, r.ExactMatch, 12);
        Assert.Equal(0.5, r.RougeL, 12); // 1 and 0 ("a dog" vs "the cat" share no token)
    }

    [Fact]
    public void TextMetricsRefuseBadInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => TextMetrics.CorpusBleu(["a", "b"], [["a"]]));
        Assert.Contains("hypotheses has 2 entries but references has 1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => TextMetrics.CorpusBleu(["a"], [Array.Empty<string>()]));
        Assert.Contains("hypothesis 0 has no reference", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => TextMetrics.CorpusBleu([], []));
        Assert.Contains("empty", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => TextMetrics.ExactMatch("a", []));
        Assert.Contains("no gold answer", ex.Message);
    }
}
