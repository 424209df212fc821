// transformers' logits processors on one row of next-token scores, in place. Removed tokens get
// -∞ (their probability becomes 0), as transformers' filter_value does.
namespace Glassbox.Models.Generation;

public static class LogitProcessors
{
    /// <summary>RepetitionPenaltyLogitsProcessor: every id that occurs in previousIds (once is
    /// enough) has its score divided by penalty if positive, multiplied if negative.</summary>
    public static void RepetitionPenalty(Span<float> scores, IEnumerable<int> previousIds, double penalty)
    {
        if (penalty == 1.0) return;
        var seen = new HashSet<int>();
        float p = (float)penalty;
        foreach (int id in previousIds)
        {
            if ((uint)id >= (uint)scores.Length || !seen.Add(id)) continue;
            float s = scores[id];
            scores[id] = s < 0 ? s * p : s / p;
        }
    }

    /// <summary>TemperatureLogitsWarper: scores / temperature.</summary>
    public static void Temperature(Span<float> scores, double temperature)
    {
        if (temperature == 1.0) return;
        float t = (float)temperature;
        for (int i = 0; i < scores.Length; i++) scores[i] /= t;
    }

    /// <summary>TopKLogitsWarper: removes every score below the k-th largest (ties with it stay).</summary>
    public static void TopK(Span<float> scores, int k)
    {
        if (k <= 0 || k >= scores.Length) return;
        var copy = scores.ToArray();
        // k-th largest = element at index n-k in ascending order.
        Array.Sort(copy);
        float kth = copy[copy.Length - k];
        for (int i = 0; i < scores.Length; i++) if (scores[i] < kth) scores[i] = float.NegativeInfinity;
    }

    /// <summary>TopPLogitsWarper: sorts ascending, and removes the tokens whose cumulative
    /// probability (from the least likely up) is ≤ 1 − topP; the most likely token always stays.</summary>
    public static void TopP(Span<float> scores, double topP)
    {
        if (topP >= 1.0) return;
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order);
        var probs = Softmax(keys);
        double cum = 0, limit = 1.0 - topP;
        for (int j = 0; j < n - 1; j++) // the last (most likely) is kept: min_tokens_to_keep = 1
        {
            cum += probs[j];
            if (cum <= limit) scores[order[j]] = float.NegativeInfinity;
            else break;
        }
    }

    /// <summary>Softmax in double (−∞ → 0).</summary>
    public static double[] Softmax(ReadOnlySpan<float> scores)
    {
        float max = float.NegativeInfinity;
        foreach (var v in scores) if (v > max) max = v;
        var p = new double[scores.Length];
        if (float.IsNegativeInfinity(max)) throw new InvalidOperationException("Softmax: every score is -∞ (all tokens were filtered out).");
        double sum = 0;
        for (int i = 0; i < scores.Length; i++) { p[i] = Math.Exp((double)scores[i] - max); sum += p[i]; }
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }
}
