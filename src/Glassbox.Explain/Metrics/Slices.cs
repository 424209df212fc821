// Slices: named subsets of a dataset's rows (LIT's slice editor), as sorted row indices, and
// metrics computed per slice. Rows are string fields (a JSONL or CSV row); predictions and gold
// labels come from the caller. A row that lacks the field falls in the "(missing)" value for
// ByField, matches no regex, and is "(missing)" for binning too; a value that is not a finite
// number (invariant culture) is "(non-numeric)" when binning.
//
// Binning: equal-width bins as numpy.histogram (edges linspace(min, max, bins + 1); every bin
// half-open [a, b) except the last, [a, b]); quantile bins as pandas.qcut(duplicates="drop")
// (edges at the quantiles k/q with NumPy's linear interpolation; bins (a, b] except the first,
// [a, b]; repeated edges merged, so heavy ties give fewer bins).
using System.Globalization;
using System.Text.RegularExpressions;

namespace Glassbox.Explain.Metrics;

/// <summary>A named subset of rows: indices in increasing order.</summary>
public sealed record Slice(string Name, int[] Indices)
{
    public int Count => Indices.Length;
}

/// <summary>Metrics of one slice; Metrics is null when the slice is empty (Note says why).</summary>
public sealed record SliceResult<T>(Slice Slice, T? Metrics, string? Note) where T : class;

public static class Slices
{
    public const string Missing = "(missing)";
    public const string NonNumeric = "(non-numeric)";

    /// <summary>Every row.</summary>
    public static Slice All(int count) => new("all", Enumerable.Range(0, count).ToArray());

    /// <summary>One slice per distinct value of a field, named "field=value", in order of first appearance.</summary>
    public static IReadOnlyList<Slice> ByField(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, string field)
    {
        CheckRows(rows, field);
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < rows.Count; i++)
        {
            var v = rows[i].TryGetValue(field, out var s) ? s : Missing;
            if (!groups.TryGetValue(v, out var list)) { groups[v] = list = []; order.Add(v); }
            list.Add(i);
        }
        return order.Select(v => new Slice($"{field}={v}", [.. groups[v]])).ToList();
    }

    /// <summary>Rows whose field matches a regular expression (.NET syntax, searched anywhere in the
    /// value unless anchored), named "field~/pattern/". The match times out after a second per row.</summary>
    public static Slice ByRegex(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, string field, string pattern, bool ignoreCase = false)
    {
        CheckRows(rows, field);
        ArgumentNullException.ThrowIfNull(pattern);
        Regex re;
        try
        {
            re = new Regex(pattern, RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None), TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Slices.ByRegex: '{pattern}' is not a valid regular expression: {e.Message}", nameof(pattern), e);
        }
        var idx = new List<int>();
        for (int i = 0; i < rows.Count; i++)
            if (rows[i].TryGetValue(field, out var v) && v is not null && re.IsMatch(v)) idx.Add(i);
        return new Slice($"{field}~/{pattern}/{(ignoreCase ? "i" : "")}", [.. idx]);
    }

    /// <summary>One slice per predicted label, named "prediction=label" (labels never predicted give empty slices).</summary>
    public static IReadOnlyList<Slice> ByPrediction(int[] predicted, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(labels);
        MetricChecks.Labels("Slices.ByPrediction", "predicted", predicted, labels.Count);
        return labels.Select((l, c) => new Slice($"prediction={l}", Enumerable.Range(0, predicted.Length).Where(i => predicted[i] == c).ToArray())).ToList();
    }

    /// <summary>One slice per gold label, named "label=label".</summary>
    public static IReadOnlyList<Slice> ByGold(int[] gold, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(labels);
        MetricChecks.Labels("Slices.ByGold", "gold", gold, labels.Count);
        return labels.Select((l, c) => new Slice($"label={l}", Enumerable.Range(0, gold.Length).Where(i => gold[i] == c).ToArray())).ToList();
    }

    /// <summary>The "correct" and "incorrect" slices.</summary>
    public static IReadOnlyList<Slice> ByCorrectness(int[] gold, int[] predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        MetricChecks.SameLength("Slices.ByCorrectness", "gold", gold.Length, "predicted", predicted.Length);
        var range = Enumerable.Range(0, gold.Length);
        return [new Slice("correct", range.Where(i => gold[i] == predicted[i]).ToArray()),
                new Slice("incorrect", range.Where(i => gold[i] != predicted[i]).ToArray())];
    }

    /// <summary>Rows in both slices, named "a & b".</summary>
    public static Slice Intersect(Slice a, Slice b) => new($"{a.Name} & {b.Name}", a.Indices.Intersect(b.Indices).Order().ToArray());

    /// <summary>Rows in either slice, named "a | b".</summary>
    public static Slice Union(Slice a, Slice b) => new($"{a.Name} | {b.Name}", a.Indices.Union(b.Indices).Order().ToArray());

    /// <summary>Equal-width bins of a numeric field (numpy.histogram edges), named "field∈[a, b)"
    /// (the last "[a, b]"), followed by "(missing)" / "(non-numeric)" slices when such rows exist.</summary>
    public static IReadOnlyList<Slice> BinEqualWidth(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, string field, int bins)
    {
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), $"Slices.BinEqualWidth: bins is {bins}; it must be at least 1.");
        var (values, extra) = Numeric(rows, field, "Slices.BinEqualWidth");
        var present = values.Where(v => v.HasValue).Select(v => v!.Value).ToArray();
        var result = new List<Slice>();
        if (present.Length > 0)
        {
            double lo = present.Min(), hi = present.Max();
            if (lo == hi) { lo -= 0.5; hi += 0.5; } // numpy.histogram's range for a constant array
            var edges = new double[bins + 1];
            double step = (hi - lo) / bins; // numpy.linspace: start + i·step
            for (int b = 0; b <= bins; b++) edges[b] = lo + b * step;
            edges[bins] = hi;
            var members = new List<int>[bins];
            for (int b = 0; b < bins; b++) members[b] = [];
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i] is not double v) continue;
                // the bin by search over the edges (exact at edges, unlike (v − lo)/width)
                int bin = Array.BinarySearch(edges, v);
                bin = bin >= 0 ? Math.Min(bin, bins - 1) : ~bin - 1;
                members[Math.Clamp(bin, 0, bins - 1)].Add(i);
            }
            for (int b = 0; b < bins; b++)
                result.Add(new Slice($"{field}∈[{F(edges[b])}, {F(edges[b + 1])}{(b == bins - 1 ? "]" : ")")}", [.. members[b]]));
        }
        result.AddRange(extra);
        return result;
    }

    /// <summary>Quantile bins of a numeric field (pandas.qcut with duplicates="drop"), named
    /// "field∈[a, b]" for the first and "field∈(a, b]" for the others, followed by "(missing)" /
    /// "(non-numeric)" slices when such rows exist.</summary>
    public static IReadOnlyList<Slice> BinQuantile(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, string field, int quantiles)
    {
        if (quantiles < 1) throw new ArgumentOutOfRangeException(nameof(quantiles), $"Slices.BinQuantile: quantiles is {quantiles}; it must be at least 1.");
        var (values, extra) = Numeric(rows, field, "Slices.BinQuantile");
        var present = values.Where(v => v.HasValue).Select(v => v!.Value).Order().ToArray();
        var result = new List<Slice>();
        if (present.Length > 0)
        {
            var edges = new List<double>();
            for (int k = 0; k <= quantiles; k++)
            {
                double e = Quantile(present, k / (double)quantiles);
                if (edges.Count == 0 || e != edges[^1]) edges.Add(e);
            }
            if (edges.Count == 1) edges.Add(edges[0]); // a constant field: one closed bin [v, v]
            int nb = edges.Count - 1;
            var members = new List<int>[nb];
            for (int b = 0; b < nb; b++) members[b] = [];
            var edgeArr = edges.ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i] is not double v) continue;
                // right-closed: the first edge ≥ v closes the bin
                int pos = Array.BinarySearch(edgeArr, v);
                int bin = pos >= 0 ? pos - 1 : ~pos - 1;
                members[Math.Clamp(bin, 0, nb - 1)].Add(i);
            }
            for (int b = 0; b < nb; b++)
                result.Add(new Slice($"{field}∈{(b == 0 ? "[" : "(")}{F(edges[b])}, {F(edges[b + 1])}]", [.. members[b]]));
        }
        result.AddRange(extra);
        return result;
    }

    /// <summary>NumPy's default (linear) quantile of sorted values, q in [0, 1].</summary>
    public static double Quantile(double[] sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Length == 0) throw new ArgumentException("Quantile: no values.");
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>Computes metrics on each slice: compute receives the slice's row indices; empty
    /// slices get null metrics and the note "empty slice".</summary>
    public static IReadOnlyList<SliceResult<T>> BySlice<T>(IReadOnlyList<Slice> slices, Func<int[], T> compute) where T : class
    {
        ArgumentNullException.ThrowIfNull(slices);
        ArgumentNullException.ThrowIfNull(compute);
        return slices.Select(s => s.Indices.Length == 0 ? new SliceResult<T>(s, null, "empty slice") : new SliceResult<T>(s, compute(s.Indices), null)).ToList();
    }

    /// <summary>Classification metrics per slice.</summary>
    public static IReadOnlyList<SliceResult<ClassificationReport>> ClassificationBySlice(IReadOnlyList<Slice> slices, int[] gold, int[] predicted,
        double[][]? probabilities, IReadOnlyList<string> labels, ZeroDivision zeroDivision = ZeroDivision.Zero)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        MetricChecks.SameLength("Slices.ClassificationBySlice", "gold", gold.Length, "predicted", predicted.Length);
        if (probabilities is not null) MetricChecks.SameLength("Slices.ClassificationBySlice", "gold", gold.Length, "probabilities", probabilities.Length);
        CheckIndices(slices, gold.Length);
        return BySlice(slices, idx => ClassificationMetrics.Compute(
            idx.Select(i => gold[i]).ToArray(), idx.Select(i => predicted[i]).ToArray(),
            probabilities is null ? null : idx.Select(i => probabilities[i]).ToArray(), labels, zeroDivision));
    }

    /// <summary>Regression metrics per slice.</summary>
    public static IReadOnlyList<SliceResult<RegressionReport>> RegressionBySlice(IReadOnlyList<Slice> slices, double[] gold, double[] predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        MetricChecks.SameLength("Slices.RegressionBySlice", "gold", gold.Length, "predicted", predicted.Length);
        CheckIndices(slices, gold.Length);
        return BySlice(slices, idx => RegressionMetrics.Compute(idx.Select(i => gold[i]).ToArray(), idx.Select(i => predicted[i]).ToArray()));
    }

    private static void CheckIndices(IReadOnlyList<Slice> slices, int n)
    {
        ArgumentNullException.ThrowIfNull(slices);
        foreach (var s in slices)
            foreach (var i in s.Indices)
                if (i < 0 || i >= n)
                    throw new ArgumentException($"Slice '{s.Name}' holds row {i}, but the dataset has {n} rows; build slices from the same rows as the predictions.");
    }

    private static void CheckRows(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, string field)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentException.ThrowIfNullOrEmpty(field);
        for (int i = 0; i < rows.Count; i++)
            if (rows[i] is null) throw new ArgumentException($"Slices: row {i} is null.");
        if (rows.Count > 0 && !rows.Any(r => r.ContainsKey(field)))
            throw new ArgumentException($"Slices: no row has a field '{field}'; fields of row 0: {string.Join(", ", rows[0].Keys)}.");
    }

    private static (double?[] Values, List<Slice> Extra) Numeric(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, string field, string what)
    {
        CheckRows(rows, field);
        var values = new double?[rows.Count];
        var missing = new List<int>(); var bad = new List<int>();
        for (int i = 0; i < rows.Count; i++)
        {
            if (!rows[i].TryGetValue(field, out var s) || string.IsNullOrWhiteSpace(s)) { missing.Add(i); continue; }
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)) values[i] = v;
            else bad.Add(i);
        }
        if (rows.Count > 0 && missing.Count + bad.Count == rows.Count)
            throw new ArgumentException($"{what}: field '{field}' holds no number in any of the {rows.Count} rows; bin a numeric field or slice by value instead.");
        var extra = new List<Slice>();
        if (missing.Count > 0) extra.Add(new Slice($"{field}={Missing}", [.. missing]));
        if (bad.Count > 0) extra.Add(new Slice($"{field}={NonNumeric}", [.. bad]));
        return (values, extra);
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
