// A dataset's fields as the metrics facets and the projector see them: the file's extra columns
// (numeric → "Scalar", binned when sliced; anything else → "CategoryLabel", one slice per value)
// and the derived "length" (words in the text). Slices come from Glassbox.Explain.Metrics.Slices:
// equal-width bins as numpy.histogram, quantile bins as pandas.qcut(duplicates="drop").
using System.Globalization;
using Glassbox.Explain.Metrics;

namespace Glassbox.Server;

internal static class DatasetFields
{
    /// <summary>Facet name of the derived field: the number of whitespace-separated words of the text.</summary>
    public const string Length = "length";

    /// <summary>Most slices a categorical facet may make (more is not readable as a table).</summary>
    public const int MaxCategories = 50;

    /// <summary>Default and largest number of bins for a numeric facet.</summary>
    public const int DefaultBins = 4, MaxBins = 20;

    /// <summary>"Scalar" when every non-empty value is a finite invariant-culture number (and one is); else "CategoryLabel" with its values (up to 1000).</summary>
    public static FieldSpec Infer(IEnumerable<string> values)
    {
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        bool numeric = true, any = false;
        foreach (var v in values)
        {
            if (v.Length == 0) continue;
            any = true;
            if (numeric && !IsNumber(v)) numeric = false;
            if (distinct.Count <= 1000) distinct.Add(v);
        }
        if (any && numeric) return new FieldSpec("Scalar", Required: false);
        return new FieldSpec("CategoryLabel", distinct.Count <= 1000 ? distinct.Order(StringComparer.Ordinal).ToArray() : null, Required: false);
    }

    private static bool IsNumber(string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x);

    /// <summary>Words of a text (runs of non-whitespace).</summary>
    public static int Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>The slices of a facet over points: "length" or "field:NAME". Numeric fields are binned
    /// ("quantile", the default, or "equal-width") into bins (default 4); categorical fields give one
    /// slice per value. Errors name the facet and what is accepted.</summary>
    public static IReadOnlyList<Slice> Facet(string facet, IReadOnlyList<Datapoint> points, IReadOnlyDictionary<string, FieldSpec> spec, string? binning, int? bins)
    {
        string field;
        bool numeric;
        Func<Datapoint, string?> value;
        if (facet == Length)
        {
            field = Length; numeric = true;
            value = d => Words(d.Text).ToString(CultureInfo.InvariantCulture);
        }
        else if (facet.StartsWith("field:", StringComparison.Ordinal))
        {
            field = facet["field:".Length..];
            var extra = spec.Where(kv => kv.Key is not ("id" or "text" or "pair" or "label")).Select(kv => kv.Key).ToArray();
            if (field is "id" or "text" or "pair" or "label" || !spec.TryGetValue(field, out var s))
                throw new ApiException(400, "bad_input", $"facet '{facet}': the dataset has no extra field '{field}'; its fields are: {(extra.Length == 0 ? "(none besides text and label)" : string.Join(", ", extra))}. Slice the label with facet 'label'.");
            numeric = s.Type == "Scalar";
            value = d => d.Fields is { } f && f.TryGetValue(field, out var v) && v.Length > 0 ? v : null;
        }
        else throw new ApiException(400, "bad_input", $"unknown facet '{facet}'; use label, predicted, correctness, length or field:NAME.");

        var rows = points.Select(d => value(d) is { } v
            ? (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [field] = v }
            : new Dictionary<string, string>()).ToArray();
        if (!numeric)
        {
            if (binning is not (null or "" or "none"))
                throw new ApiException(400, "bad_input", $"facet '{facet}' is categorical; binning '{binning}' applies to numeric fields only.");
            var slices = Slices.ByField(rows, field).OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
            if (slices.Length > MaxCategories)
                throw new ApiException(400, "too_many_slices", $"facet '{facet}' has {slices.Length} distinct values; at most {MaxCategories} slices are shown. Filter the table instead.");
            return slices;
        }
        int n = bins ?? DefaultBins;
        if (n < 1 || n > MaxBins) throw new ApiException(400, "bad_input", $"bins must be between 1 and {MaxBins}, not {n}.");
        return binning switch
        {
            null or "" or "quantile" => Slices.BinQuantile(rows, field, n),
            "equal-width" => Slices.BinEqualWidth(rows, field, n),
            _ => throw new ApiException(400, "bad_input", $"unknown binning '{binning}'; use quantile or equal-width."),
        };
    }
}
