// Faithfulness: does removing what an explanation calls important change the prediction?
// Everything here works on one example through a scorer that maps "which tokens are kept" to the
// target class's probability, so the maths is independent of how tokens are removed (TokenRemoval
// deletes them or swaps in [MASK]/[PAD]) and is tested on toy models with known answers.
//
// Tokens are ranked by attribution, highest first (signed by default: the tokens that push the
// target up come first; RankByAbsoluteValue ranks by |a|), ties broken by position. Special tokens
// ([CLS], [SEP], ...) are never removed and never counted: n is the number of text tokens.
//   comprehensiveness(q) = p(x) − p(x without the top ⌈q·n⌉ tokens)         (ERASER; higher = better)
//   sufficiency(q)       = p(x) − p(only the top ⌈q·n⌉ tokens, specials kept) (ERASER; lower = better)
//   ERASER reports each as its AOPC: the mean over the bins q ∈ {1, 5, 10, 20, 50}% (metrics.py,
//   _instances_aopc), and rounds k up as its removal code does (math.ceil).
//   AOPC (MoRF)          = mean over q ∈ {10%, 20%, …, 100%} of p(x) − p(x without the top ⌈q·n⌉)
//   deletion curve       = p after removing the top k tokens, k = 0…n, against k/n; its area (trapezoid
//                          on [0, 1], RISE's CausalMetric) is lower for a faithful ranking
//   insertion curve      = p with only the top k tokens present, k = 0…n; higher area = better
//   Kendall τ vs LOO     = τ-b between the attributions and leave-one-out importance p(x) − p(x \ {i})
// Long inputs sample the curves at CurveSteps + 1 evenly spaced k (RISE's step size).
namespace Glassbox.Explain.Quality;

/// <summary>How a removed token leaves the input.</summary>
public enum RemovalMode
{
    /// <summary>The token is deleted and the sequence closes up (ERASER's and ferret's default).</summary>
    Delete,
    /// <summary>The token is replaced by the tokenizer's mask token ([MASK], &lt;mask&gt;).</summary>
    Mask,
    /// <summary>The token is replaced by the pad token (the explainers' occlusion baseline).</summary>
    Pad,
}

/// <summary>Scores of the target class for each keep mask (true = the token stays; special tokens always stay).</summary>
public delegate double[] KeepMaskScorer(IReadOnlyList<bool[]> keepMasks);

/// <summary>Fractions and resolution of the faithfulness metrics.</summary>
public sealed record FaithfulnessOptions
{
    /// <summary>ERASER's bins for comprehensiveness and sufficiency: 1, 5, 10, 20 and 50% of the tokens.</summary>
    public IReadOnlyList<double> Bins { get; init; } = [0.01, 0.05, 0.10, 0.20, 0.50];
    /// <summary>Fractions removed for AOPC (most relevant first): 10%, 20%, …, 100%.</summary>
    public IReadOnlyList<double> AopcFractions { get; init; } = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    /// <summary>Most steps of the deletion and insertion curves; inputs with more text tokens are sampled evenly.</summary>
    public int CurveSteps { get; init; } = 100;
    /// <summary>Rank tokens by |attribution| instead of by signed attribution.</summary>
    public bool RankByAbsoluteValue { get; init; }

    internal void Validate()
    {
        static void Fractions(IReadOnlyList<double> f, string name)
        {
            if (f is null || f.Count == 0) throw new ArgumentException($"{name} needs at least one fraction.");
            foreach (var q in f)
                if (!(q > 0 && q <= 1)) throw new ArgumentOutOfRangeException(name, $"{name}: every fraction must be in (0, 1], got {q}.");
        }
        Fractions(Bins, nameof(Bins));
        Fractions(AopcFractions, nameof(AopcFractions));
        if (CurveSteps < 1) throw new ArgumentOutOfRangeException(nameof(CurveSteps), $"CurveSteps must be at least 1, got {CurveSteps}.");
    }
}

/// <summary>A perturbation curve: the target probability at each fraction of text tokens removed (deletion) or present (insertion).</summary>
public sealed record PerturbationCurve(IReadOnlyList<double> Fractions, IReadOnlyList<double> Scores)
{
    /// <summary>Area under the curve over [0, 1] by the trapezoid rule.</summary>
    public double Area => Faithfulness.Trapezoid(Fractions, Scores);

    /// <summary>The curve read at x by linear interpolation (for averaging curves of different lengths).</summary>
    public double At(double x)
    {
        if (Fractions.Count == 1) return Scores[0];
        for (int i = 1; i < Fractions.Count; i++)
            if (x <= Fractions[i] || i == Fractions.Count - 1)
            {
                double x0 = Fractions[i - 1], x1 = Fractions[i];
                double t = x1 == x0 ? 1 : Math.Clamp((x - x0) / (x1 - x0), 0, 1);
                return Scores[i - 1] + t * (Scores[i] - Scores[i - 1]);
            }
        return Scores[^1];
    }
}

/// <summary>All faithfulness metrics of one explanation of one example.</summary>
public sealed record FaithfulnessResult
{
    /// <summary>Text tokens that can be removed (special tokens excluded).</summary>
    public required int TextTokens { get; init; }
    /// <summary>p(target | x), the unperturbed input.</summary>
    public required double FullScore { get; init; }
    /// <summary>p(target) with every text token removed.</summary>
    public required double EmptyScore { get; init; }
    /// <summary>Comprehensiveness per bin (same order as FaithfulnessOptions.Bins).</summary>
    public required IReadOnlyList<double> ComprehensivenessPerBin { get; init; }
    /// <summary>Sufficiency per bin.</summary>
    public required IReadOnlyList<double> SufficiencyPerBin { get; init; }
    /// <summary>ERASER's AOPC comprehensiveness: the mean over the bins.</summary>
    public double Comprehensiveness => ComprehensivenessPerBin.Average();
    /// <summary>ERASER's AOPC sufficiency: the mean over the bins.</summary>
    public double Sufficiency => SufficiencyPerBin.Average();
    /// <summary>p(x) − p(x without the top fraction) per AOPC fraction.</summary>
    public required IReadOnlyList<double> AopcPerFraction { get; init; }
    /// <summary>AOPC over the MoRF removal fractions (10%…100% by default).</summary>
    public double Aopc => AopcPerFraction.Average();
    public required PerturbationCurve Deletion { get; init; }
    public required PerturbationCurve Insertion { get; init; }
    /// <summary>Kendall τ-b between the attributions and leave-one-out importance over the text tokens (NaN if either is constant).</summary>
    public required double KendallTauLoo { get; init; }
    /// <summary>Leave-one-out importance p(x) − p(x \ {i}) per position (NaN for special tokens).</summary>
    public required IReadOnlyList<double> LeaveOneOut { get; init; }
}

public static class Faithfulness
{
    /// <summary>Number of tokens a fraction of n means: ⌈q·n⌉ (at least 1 for n ≥ 1), as ERASER rounds.</summary>
    public static int TokensFor(double fraction, int n)
    {
        // The epsilon keeps 0.3 × 10 = 3.0000000000000004 at 3.
        int k = (int)Math.Ceiling(fraction * n - 1e-9);
        return Math.Clamp(k, n == 0 ? 0 : 1, n);
    }

    /// <summary>The removable (non-special) positions, most important first (ties: earlier position first).</summary>
    public static int[] Ranking(IReadOnlyList<double> attributions, IReadOnlyList<bool> special, bool byAbsoluteValue = false)
    {
        if (attributions.Count != special.Count)
            throw new ArgumentException($"Ranking: {attributions.Count} attributions for {special.Count} tokens.");
        for (int i = 0; i < attributions.Count; i++)
            if (!special[i] && double.IsNaN(attributions[i])) throw new ArgumentException($"Ranking: the attribution of token {i} is NaN.");
        return Enumerable.Range(0, attributions.Count).Where(i => !special[i])
            .OrderByDescending(i => byAbsoluteValue ? Math.Abs(attributions[i]) : attributions[i]).ThenBy(i => i).ToArray();
    }

    /// <summary>Leave-one-out importance: p(x) − p(x without token i) for every text token; NaN for special tokens.</summary>
    public static double[] LeaveOneOut(KeepMaskScorer scorer, IReadOnlyList<bool> special)
    {
        int n = special.Count;
        var text = Enumerable.Range(0, n).Where(i => !special[i]).ToArray();
        var masks = new List<bool[]> { Keep(n, [], removeListed: true) };
        foreach (int i in text) masks.Add(Keep(n, [i], removeListed: true));
        var s = Score(scorer, masks);
        var loo = Enumerable.Repeat(double.NaN, n).ToArray();
        for (int k = 0; k < text.Length; k++) loo[text[k]] = s[0] - s[k + 1];
        return loo;
    }

    /// <summary>Every faithfulness metric of one explanation. leaveOneOut (from LeaveOneOut) may be shared
    /// across the methods explaining the same example; it is computed when null.</summary>
    public static FaithfulnessResult Evaluate(KeepMaskScorer scorer, IReadOnlyList<double> attributions, IReadOnlyList<bool> special,
        FaithfulnessOptions? options = null, IReadOnlyList<double>? leaveOneOut = null)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        var o = options ?? new FaithfulnessOptions();
        o.Validate();
        var order = Ranking(attributions, special, o.RankByAbsoluteValue);
        int len = special.Count, n = order.Length;
        if (n == 0) throw new ArgumentException("The example has no text tokens to remove (only special tokens).");
        var loo = leaveOneOut ?? LeaveOneOut(scorer, special);
        if (loo.Count != len) throw new ArgumentException($"Leave-one-out scores cover {loo.Count} tokens, the example has {len}.");

        // Every perturbation is a "top k removed" or "only top k kept" mask; each distinct mask is scored once.
        var requests = new List<(bool Remove, int K)>();
        int Request(bool remove, int k)
        {
            requests.Add((remove, k));
            return requests.Count - 1;
        }
        int full = Request(true, 0), empty = Request(true, n);
        var comp = o.Bins.Select(q => Request(true, TokensFor(q, n))).ToArray();
        var suff = o.Bins.Select(q => Request(false, TokensFor(q, n))).ToArray();
        var aopc = o.AopcFractions.Select(q => Request(true, TokensFor(q, n))).ToArray();
        var steps = CurveKs(n, o.CurveSteps);
        var del = steps.Select(k => Request(true, k)).ToArray();
        var ins = steps.Select(k => Request(false, k)).ToArray();

        // Removing k tokens equals keeping the other n − k only when ranked the same way, so key masks by content.
        var keys = new Dictionary<string, int>();
        var masks = new List<bool[]>();
        var slot = new int[requests.Count];
        for (int r = 0; r < requests.Count; r++)
        {
            var (remove, k) = requests[r];
            var mask = remove ? Keep(len, order.Take(k), removeListed: true, special) : Keep(len, order.Take(k), removeListed: false, special);
            string key = new(mask.Select(b => b ? '1' : '0').ToArray());
            if (!keys.TryGetValue(key, out int m)) { m = masks.Count; keys[key] = m; masks.Add(mask); }
            slot[r] = m;
        }
        var scores = Score(scorer, masks);
        double S(int request) => scores[slot[request]];
        double p0 = S(full);

        var textIdx = Enumerable.Range(0, len).Where(i => !special[i]).ToArray();
        double tau = RankCorrelation.KendallTauB(textIdx.Select(i => attributions[i]).ToArray(), textIdx.Select(i => loo[i]).ToArray());
        var xs = steps.Select(k => (double)k / n).ToArray();
        return new FaithfulnessResult
        {
            TextTokens = n,
            FullScore = p0,
            EmptyScore = S(empty),
            ComprehensivenessPerBin = comp.Select(r => p0 - S(r)).ToArray(),
            SufficiencyPerBin = suff.Select(r => p0 - S(r)).ToArray(),
            AopcPerFraction = aopc.Select(r => p0 - S(r)).ToArray(),
            Deletion = new PerturbationCurve(xs, del.Select(S).ToArray()),
            Insertion = new PerturbationCurve(xs, ins.Select(S).ToArray()),
            KendallTauLoo = tau,
            LeaveOneOut = loo.ToArray(),
        };
    }

    /// <summary>The token counts at which the curves are read: 0…n, or steps + 1 evenly spaced counts when n is larger.</summary>
    public static int[] CurveKs(int n, int steps)
    {
        if (n <= steps) return Enumerable.Range(0, n + 1).ToArray();
        return Enumerable.Range(0, steps + 1).Select(j => (int)(((long)j * n + steps / 2) / steps)).Distinct().ToArray();
    }

    /// <summary>∫ y dx by the trapezoid rule over the given points.</summary>
    public static double Trapezoid(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"Trapezoid: {x.Count} x values and {y.Count} y values.");
        double area = 0;
        for (int i = 1; i < x.Count; i++) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2;
        return area;
    }

    private static bool[] Keep(int len, IEnumerable<int> listed, bool removeListed, IReadOnlyList<bool>? special = null)
    {
        var keep = new bool[len];
        if (removeListed)
        {
            Array.Fill(keep, true);
            foreach (int i in listed) keep[i] = false;
        }
        else
        {
            foreach (int i in listed) keep[i] = true;
            if (special is not null) for (int i = 0; i < len; i++) if (special[i]) keep[i] = true;
        }
        return keep;
    }

    private static double[] Score(KeepMaskScorer scorer, List<bool[]> masks)
    {
        var s = scorer(masks);
        if (s is null || s.Length != masks.Count)
            throw new InvalidOperationException($"The scorer returned {s?.Length ?? 0} scores for {masks.Count} inputs.");
        return s;
    }
}
