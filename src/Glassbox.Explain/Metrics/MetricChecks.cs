// Input checks shared by the metric functions: every refusal names the metric, the argument and
// the offending index or value, so a caller feeding a dataset row by row can find the bad row.
namespace Glassbox.Explain.Metrics;

internal static class MetricChecks
{
    public static void SameLength(string metric, string a, int na, string b, int nb)
    {
        if (na != nb)
            throw new ArgumentException($"{metric}: {a} has {na} entries but {b} has {nb}; give one {b} entry per {a} entry.");
    }

    public static void NotEmpty(string metric, string what, int n)
    {
        if (n == 0) throw new ArgumentException($"{metric}: {what} is empty; a metric needs at least one example.");
    }

    public static void Finite(string metric, string what, ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"{metric}: {what}[{i}] is {values[i]}; every value must be a finite number (drop or impute missing values first).");
    }

    public static void Labels(string metric, string what, int[] ids, int classes)
    {
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] < 0 || ids[i] >= classes)
                throw new ArgumentException($"{metric}: {what}[{i}] = {ids[i]} is not a class index; there are {classes} labels (0..{classes - 1}).");
    }

    /// <summary>Index of the largest entry; the first one on ties (NumPy's argmax).</summary>
    public static int ArgMax(ReadOnlySpan<double> p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
