// What an evaluation returns: per method, every metric's mean ± standard deviation over the
// examples (population std, NumPy's default; NaN values such as τ on a constant ranking are left
// out and Count says how many entered), the mean deletion/insertion curves on a fixed grid, the
// per-bin means, ERASER's pooled (micro) plausibility scores, and per-example values.
namespace Glassbox.Explain.Quality;

/// <summary>Metric keys (camelCase, as in the JSON), display names and which direction is better.</summary>
public static class QualityMetrics
{
    public const string Comprehensiveness = "comprehensiveness";
    public const string Sufficiency = "sufficiency";
    public const string Aopc = "aopc";
    public const string DeletionArea = "deletionArea";
    public const string InsertionArea = "insertionArea";
    public const string KendallTauLoo = "kendallTauLoo";
    public const string TokenF1 = "tokenF1";
    public const string IouF1 = "iouF1";
    public const string Auprc = "auprc";

    /// <summary>Faithfulness metrics, always computed.</summary>
    public static readonly IReadOnlyList<string> Faithfulness = [Comprehensiveness, Sufficiency, Aopc, DeletionArea, InsertionArea, KendallTauLoo];
    /// <summary>Plausibility metrics, computed when examples carry human rationales.</summary>
    public static readonly IReadOnlyList<string> Plausibility = [TokenF1, IouF1, Auprc];

    /// <summary>True when a higher value is better.</summary>
    public static bool HigherIsBetter(string metric) => metric is not (Sufficiency or DeletionArea);

    public static string DisplayName(string metric) => metric switch
    {
        Comprehensiveness => "comprehensiveness",
        Sufficiency => "sufficiency",
        Aopc => "AOPC (MoRF)",
        DeletionArea => "deletion AUC",
        InsertionArea => "insertion AUC",
        KendallTauLoo => "Kendall τ vs LOO",
        TokenF1 => "token F1",
        IouF1 => "IOU F1",
        Auprc => "AUPRC",
        _ => metric,
    };
}

/// <summary>Mean, population standard deviation and count of the finite values of a metric.</summary>
public sealed record MetricSummary(double Mean, double Std, int Count)
{
    public static MetricSummary Of(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new MetricSummary(double.NaN, double.NaN, 0);
        double mean = v.Average();
        return new MetricSummary(mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length), v.Length);
    }
}

/// <summary>One method's scores on one example (plausibility fields are NaN without a human rationale).</summary>
public sealed record ExampleScores
{
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    public required FaithfulnessResult Faithfulness { get; init; }
    /// <summary>The explanation's raw per-token scores (special tokens included).</summary>
    public required IReadOnlyList<double> Attributions { get; init; }
    /// <summary>Per-word scores compared with the human rationale (null without one).</summary>
    public IReadOnlyList<double>? WordScores { get; init; }
    /// <summary>The top-k words taken as the discrete rationale (null without a human rationale).</summary>
    public IReadOnlyList<bool>? PredictedRationale { get; init; }
}

/// <summary>One evaluated example.</summary>
public sealed record ExampleQuality
{
    public required string Id { get; init; }
    public required string Text { get; init; }
    public required int TargetIndex { get; init; }
    public required string TargetName { get; init; }
    public required int PredictedIndex { get; init; }
    public int? Label { get; init; }
    public required IReadOnlyList<string> Tokens { get; init; }
    public bool HasRationale { get; init; }
    /// <summary>Scores per method name.</summary>
    public required IReadOnlyDictionary<string, ExampleScores> Methods { get; init; }
}

/// <summary>A mean curve over examples, read at fixed fractions.</summary>
public sealed record MeanCurve(IReadOnlyList<double> Fractions, IReadOnlyList<double> Mean, IReadOnlyList<double> Std);

/// <summary>One method's summary over the dataset.</summary>
public sealed record MethodQuality
{
    /// <summary>The method's name (lig, saliency, …, or "random" for the random-ranking baseline).</summary>
    public required string Method { get; init; }
    public bool IsBaseline { get; init; }
    public required IReadOnlyDictionary<string, MetricSummary> Metrics { get; init; }
    public required IReadOnlyList<double> ComprehensivenessPerBin { get; init; }
    public required IReadOnlyList<double> SufficiencyPerBin { get; init; }
    public required IReadOnlyList<double> AopcPerFraction { get; init; }
    public required MeanCurve Deletion { get; init; }
    public required MeanCurve Insertion { get; init; }
    /// <summary>ERASER's pooled token F1 (true positives, gold and predicted counts summed over examples); NaN without rationales.</summary>
    public double TokenF1Micro { get; init; } = double.NaN;
    /// <summary>ERASER's pooled IOU F1 (matches and span counts summed over examples).</summary>
    public double IouF1Micro { get; init; } = double.NaN;
    /// <summary>ERASER's macro IOU F1: F1 of the mean per-example precision and recall.</summary>
    public double IouF1Macro { get; init; } = double.NaN;
}

/// <summary>The whole evaluation.</summary>
public sealed class QualityReport
{
    public required string ModelName { get; init; }
    public string? ModelPath { get; init; }
    public required string ModelHash { get; init; }
    public required QualityOptions Options { get; init; }
    /// <summary>The explainer settings the methods ran with (steps, samples, seed, ...).</summary>
    public required ExplainerSettings Explainer { get; init; }
    public required IReadOnlyList<MethodQuality> Methods { get; init; }
    public required IReadOnlyList<ExampleQuality> Examples { get; init; }
    /// <summary>k of the top-k discrete rationale used for token and IOU F1 (null without rationales).</summary>
    public int? RationaleTopK { get; init; }
    public int ExamplesWithRationale { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>Model-parameter randomisation, when run.</summary>
    public IReadOnlyList<RandomisationResult>? ParameterRandomisation { get; init; }
    /// <summary>Comparison with a model trained on shuffled labels, when given.</summary>
    public LabelRandomisationResult? LabelRandomisation { get; init; }
}

/// <summary>Explainer settings recorded with a report.</summary>
public sealed record ExplainerSettings(int Steps, int Samples, int Seed, bool PerturbWords);
