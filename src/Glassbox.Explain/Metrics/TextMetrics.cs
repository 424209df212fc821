// Metrics for generated text, each matching a reference implementation:
//
// BLEU: corpus BLEU-4 exactly as sacrebleu's default (BLEU(): tokenize="13a", mixed case,
// smooth_method="exp", effective_order=False): 13a tokenisation of hypotheses and references,
// n-gram matches clipped by the maximum count in any reference, the closest reference length
// (shorter on ties) summed for the brevity penalty, and "exp" smoothing (NIST / mteval-v13a: the
// k-th order with no match gets precision 1/(2ᵏ·total)). Scores are 0–100 like sacrebleu's.
// "floor" and "none" smoothing and the "none" tokeniser are available for parity with its tests.
//
// ROUGE-L: the F-measure of rouge-score's RougeScorer(["rougeL"]) with use_stemmer=False (its
// default): text lower-cased, every run of characters outside [a-z0-9] a separator; LCS over the
// tokens; P = LCS/|prediction|, R = LCS/|target|, F = 2PR/(P+R); 0 when either side has no token.
// With several targets the best F counts (rouge-score's score_multi). Letters outside a–z (é, ß,
// CJK) are dropped by that tokeniser, as in rouge-score.
//
// Exact match: SQuAD v1.1's evaluate script: lower-case, drop ASCII punctuation, drop the
// articles a/an/the, collapse whitespace; 1 if the normalised prediction equals any normalised
// gold answer.
using System.Text;
using System.Text.RegularExpressions;

namespace Glassbox.Explain.Metrics;

public enum BleuTokenizer
{
    /// <summary>mteval-v13a, sacrebleu's default.</summary>
    Tok13a,
    /// <summary>Whitespace split only (sacrebleu tokenize="none").</summary>
    None,
}

public enum BleuSmoothing
{
    /// <summary>NIST geometric smoothing (sacrebleu "exp", the default).</summary>
    Exp,
    /// <summary>Zero-match orders get precision Value/total (sacrebleu "floor").</summary>
    Floor,
    /// <summary>No smoothing (sacrebleu "none").</summary>
    None,
}

/// <summary>Options of <see cref="TextMetrics.CorpusBleu"/>; the defaults are sacrebleu's.</summary>
public sealed record BleuOptions(BleuTokenizer Tokenizer = BleuTokenizer.Tok13a, BleuSmoothing Smoothing = BleuSmoothing.Exp,
    double SmoothValue = 0.1, bool Lowercase = false, int MaxOrder = 4);

/// <summary>Corpus BLEU (0–100) with its sufficient statistics, like sacrebleu's BLEUScore.
/// Precisions are in percent per n-gram order.</summary>
public sealed record BleuScore(double Score, IReadOnlyList<int> Correct, IReadOnlyList<int> Total, IReadOnlyList<double> Precisions,
    double BrevityPenalty, int HypothesisLength, int ReferenceLength)
{
    /// <summary>sacrebleu's one-line summary, e.g. "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)".</summary>
    public override string ToString() =>
        FormattableString.Invariant($"BLEU = {Score:F2} {string.Join("/", Precisions.Select(p => p.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} (BP = {BrevityPenalty:F3} ratio = {(ReferenceLength == 0 ? 0 : HypothesisLength / (double)ReferenceLength):F3} hyp_len = {HypothesisLength} ref_len = {ReferenceLength})");
}

/// <summary>ROUGE precision, recall and F-measure.</summary>
public sealed record RougeScore(double Precision, double Recall, double FMeasure);

/// <summary>Corpus BLEU, mean ROUGE-L F-measure and exact-match rate of generated texts.</summary>
public sealed record TextReport(int Count, BleuScore Bleu, double RougeL, double ExactMatch);

public static class TextMetrics
{
    /// <summary>BLEU, mean ROUGE-L F and exact-match rate; references[i] are the references of hypotheses[i].</summary>
    public static TextReport Compute(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references)
    {
        var bleu = CorpusBleu(hypotheses, references);
        double rouge = 0, em = 0;
        for (int i = 0; i < hypotheses.Count; i++)
        {
            rouge += RougeL(hypotheses[i], references[i]).FMeasure;
            em += ExactMatch(hypotheses[i], references[i]) ? 1 : 0;
        }
        return new TextReport(hypotheses.Count, bleu, rouge / hypotheses.Count, em / hypotheses.Count);
    }

    // ---------------------------------------------------------------- BLEU

    /// <summary>Corpus BLEU of hypotheses against their references: references[i] lists the
    /// references of hypotheses[i] (one or more; sacrebleu takes the transpose, one stream per
    /// reference).</summary>
    public static BleuScore CorpusBleu(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references, BleuOptions? options = null)
    {
        const string M = "CorpusBleu";
        options ??= new BleuOptions();
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        MetricChecks.SameLength(M, "hypotheses", hypotheses.Count, "references", references.Count);
        MetricChecks.NotEmpty(M, "hypotheses", hypotheses.Count);
        if (options.MaxOrder < 1) throw new ArgumentException($"{M}: MaxOrder is {options.MaxOrder}; it must be at least 1.");
        int order = options.MaxOrder;
        var correct = new int[order]; var total = new int[order];
        int sysLen = 0, refLen = 0;
        for (int i = 0; i < hypotheses.Count; i++)
        {
            var refs = references[i];
            if (refs is null || refs.Count == 0)
                throw new ArgumentException($"{M}: hypothesis {i} has no reference; every hypothesis needs at least one.");
            var hyp = Split(Preprocess(hypotheses[i] ?? throw new ArgumentException($"{M}: hypotheses[{i}] is null."), options));
            var refTokens = refs.Select((r, j) => Split(Preprocess(r ?? throw new ArgumentException($"{M}: references[{i}][{j}] is null."), options))).ToList();

            // closest reference length, the shorter one on ties (sacrebleu _get_closest_ref_len)
            int closest = -1, closestDiff = -1;
            foreach (var r in refTokens)
            {
                int diff = Math.Abs(hyp.Length - r.Length);
                if (closestDiff == -1 || diff < closestDiff || (diff == closestDiff && r.Length < closest)) { closestDiff = diff; closest = r.Length; }
            }
            sysLen += hyp.Length; refLen += closest;

            var maxRef = new Dictionary<string, int>[order];
            for (int n = 0; n < order; n++) maxRef[n] = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var r in refTokens)
            {
                var grams = NGrams(r, order);
                for (int n = 0; n < order; n++)
                    foreach (var (gram, count) in grams[n])
                        if (!maxRef[n].TryGetValue(gram, out int have) || count > have) maxRef[n][gram] = count;
            }
            var hypGrams = NGrams(hyp, order);
            for (int n = 0; n < order; n++)
                foreach (var (gram, count) in hypGrams[n])
                {
                    total[n] += count;
                    if (maxRef[n].TryGetValue(gram, out int refCount)) correct[n] += Math.Min(count, refCount);
                }
        }
        return ScoreFromStatistics(correct, total, sysLen, refLen, options);
    }

    /// <summary>BLEU from sufficient statistics (sacrebleu's BLEU.compute_bleu without effective order).</summary>
    public static BleuScore ScoreFromStatistics(int[] correct, int[] total, int hypothesisLength, int referenceLength, BleuOptions? options = null)
    {
        options ??= new BleuOptions();
        int order = correct.Length;
        MetricChecks.SameLength("BLEU", "correct", correct.Length, "total", total.Length);
        double bp = 1.0;
        if (hypothesisLength < referenceLength) bp = hypothesisLength > 0 ? Math.Exp(1 - referenceLength / (double)hypothesisLength) : 0.0;
        var precisions = new double[order];
        if (correct.All(c => c == 0)) return new BleuScore(0.0, correct, total, precisions, bp, hypothesisLength, referenceLength);
        double smooth = 1.0;
        for (int n = 0; n < order; n++)
        {
            if (total[n] == 0) break; // remaining precisions stay 0, so the score is 0
            if (correct[n] == 0)
            {
                if (options.Smoothing == BleuSmoothing.Exp) { smooth *= 2; precisions[n] = 100.0 / (smooth * total[n]); }
                else if (options.Smoothing == BleuSmoothing.Floor) precisions[n] = 100.0 * options.SmoothValue / total[n];
            }
            else precisions[n] = 100.0 * correct[n] / total[n];
        }
        double logSum = 0;
        foreach (var p in precisions) logSum += p == 0 ? double.NegativeInfinity : Math.Log(p);
        double score = bp * Math.Exp(logSum / order);
        return new BleuScore(score, correct, total, precisions, bp, hypothesisLength, referenceLength);
    }

    private static readonly Regex Tok13aSymbols = new(@"([\{-\~\[-\` -\&\(-\+\:-\@\/])", RegexOptions.CultureInvariant);
    private static readonly Regex Tok13aPeriodAfter = new(@"([^0-9])([\.,])", RegexOptions.CultureInvariant);
    private static readonly Regex Tok13aPeriodBefore = new(@"([\.,])([^0-9])", RegexOptions.CultureInvariant);
    private static readonly Regex Tok13aDash = new(@"([0-9])(-)", RegexOptions.CultureInvariant);

    /// <summary>mteval-v13a tokenisation as sacrebleu's Tokenizer13a: tokens joined by single spaces.</summary>
    public static string Tokenize13a(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ");
        if (line.Contains('&'))
            line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        line = " " + line + " ";
        line = Tok13aSymbols.Replace(line, " $1 ");
        line = Tok13aPeriodAfter.Replace(line, "$1 $2 ");
        line = Tok13aPeriodBefore.Replace(line, " $1 $2");
        line = Tok13aDash.Replace(line, "$1 $2 ");
        return string.Join(' ', Split(line));
    }

    private static string Preprocess(string s, BleuOptions o)
    {
        if (o.Lowercase) s = s.ToLowerInvariant();
        return o.Tokenizer == BleuTokenizer.Tok13a ? Tokenize13a(s) : s;
    }

    // Python's str.split(): runs of whitespace separate (Unicode whitespace plus U+001C–U+001F,
    // which Python also counts), no empty tokens.
    private static string[] Split(string s)
    {
        var tokens = new List<string>();
        int start = -1;
        for (int i = 0; i <= s.Length; i++)
        {
            bool space = i == s.Length || char.IsWhiteSpace(s[i]) || (s[i] >= '\u001c' && s[i] <= '\u001f');
            if (space) { if (start >= 0) { tokens.Add(s[start..i]); start = -1; } }
            else if (start < 0) start = i;
        }
        return [.. tokens];
    }

    // Counts of the n-grams of each order 1..maxOrder; tokens hold no whitespace, so joining them
    // with a space is unambiguous within one order.
    private static Dictionary<string, int>[] NGrams(string[] tokens, int maxOrder)
    {
        var d = new Dictionary<string, int>[maxOrder];
        for (int n = 1; n <= maxOrder; n++)
        {
            d[n - 1] = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i + n <= tokens.Length; i++)
            {
                var key = string.Join(' ', tokens, i, n);
                d[n - 1][key] = d[n - 1].GetValueOrDefault(key) + 1;
            }
        }
        return d;
    }

    // ---------------------------------------------------------------- ROUGE-L

    private static readonly Regex NonAlphanumeric = new("[^a-z0-9]+", RegexOptions.CultureInvariant);

    /// <summary>rouge-score's tokeniser without stemming: lower-case, split on anything outside [a-z0-9].</summary>
    public static string[] RougeTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return NonAlphanumeric.Replace(text.ToLowerInvariant(), " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>ROUGE-L of a prediction against one target (rouge-score's RougeScorer(["rougeL"]).score(target, prediction)).</summary>
    public static RougeScore RougeL(string prediction, string target)
    {
        var p = RougeTokenize(prediction ?? throw new ArgumentNullException(nameof(prediction)));
        var t = RougeTokenize(target ?? throw new ArgumentNullException(nameof(target)));
        if (p.Length == 0 || t.Length == 0) return new RougeScore(0, 0, 0);
        int lcs = LcsLength(t, p);
        double precision = lcs / (double)p.Length, recall = lcs / (double)t.Length;
        double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        return new RougeScore(precision, recall, f);
    }

    /// <summary>ROUGE-L against several targets: the one with the best F-measure (rouge-score's score_multi).</summary>
    public static RougeScore RougeL(string prediction, IReadOnlyList<string> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0) throw new ArgumentException("RougeL: no target given; give at least one reference text.");
        RougeScore best = RougeL(prediction, targets[0]);
        for (int i = 1; i < targets.Count; i++)
        {
            var s = RougeL(prediction, targets[i]);
            if (s.FMeasure > best.FMeasure) best = s;
        }
        return best;
    }

    /// <summary>Length of the longest common subsequence (dynamic programme, two rows).</summary>
    public static int LcsLength(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var prev = new int[b.Count + 1]; var cur = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
                cur[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? prev[j - 1] + 1 : Math.Max(prev[j], cur[j - 1]);
            (prev, cur) = (cur, prev);
        }
        return prev[b.Count];
    }

    // ---------------------------------------------------------------- exact match

    private const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    private static readonly Regex Articles = new(@"\b(a|an|the)\b", RegexOptions.CultureInvariant);

    /// <summary>SQuAD v1.1 answer normalisation: lower-case, remove punctuation, remove articles, collapse whitespace.</summary>
    public static string NormalizeAnswer(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        s = s.ToLowerInvariant();
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) if (AsciiPunctuation.IndexOf(c) < 0) sb.Append(c);
        s = Articles.Replace(sb.ToString(), " ");
        return string.Join(' ', Split(s));
    }

    /// <summary>True when the normalised prediction equals any normalised gold answer (SQuAD exact match).</summary>
    public static bool ExactMatch(string prediction, IReadOnlyList<string> golds)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(golds);
        if (golds.Count == 0) throw new ArgumentException("ExactMatch: no gold answer given; give at least one.");
        var p = NormalizeAnswer(prediction);
        return golds.Any(g => NormalizeAnswer(g ?? throw new ArgumentException("ExactMatch: a gold answer is null.")) == p);
    }
}
