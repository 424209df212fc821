// What every generator returns: a new datapoint that remembers its parent and how it was made.
// The parent is never modified; generators build new strings and new id arrays.
namespace Glassbox.Explain.Counterfactuals;

/// <summary>One change a generator made. Position is the index of the unit (word or token) in the
/// parent; CharStart/CharEnd the span of the original unit in the parent text (-1 when not
/// applicable); Original/Replacement the unit before and after ("" when removed).</summary>
public sealed record CounterfactualEdit(int Position, string Original, string Replacement, int CharStart = -1, int CharEnd = -1,
    int? OriginalId = null, int? ReplacementId = null);

/// <summary>A generated datapoint. Id is "{ParentId}:{Generator}:{n}"; Generator names the method
/// ("word-replacer", "scrambler", "hotflip", "ablation-flip", "mlm-substitution"); Unit says what
/// Edits index ("char", "word", "token"); Parameters record the generator's settings.
/// InputIds are the model's token ids when the generator worked on ids (HotFlip, token ablation,
/// MLM substitution) — re-tokenising Text may give different ids. Scores and PredictedClass are
/// the model's output on the counterfactual when the generator queried the model.</summary>
public sealed record Counterfactual
{
    public required string Id { get; init; }
    public required string ParentId { get; init; }
    public required string Generator { get; init; }
    public required string Text { get; init; }
    public required string Unit { get; init; }
    public required IReadOnlyList<CounterfactualEdit> Edits { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public int[]? InputIds { get; init; }
    public float[]? Scores { get; init; }
    public int? PredictedClass { get; init; }
    /// <summary>The label carried over from the parent (generators do not relabel).</summary>
    public int? Label { get; init; }
    /// <summary>HotFlip: the first-order estimate of the change in loss (−log p of the parent's predicted class).</summary>
    public double? EstimatedLossChange { get; init; }
    /// <summary>HotFlip and ablation flip: the actual change in that loss, from re-predicting.</summary>
    public double? ActualLossChange { get; init; }
    /// <summary>MLM substitution: the masked LM's probability of each filler, in Edits order.</summary>
    public IReadOnlyList<double>? FillerProbabilities { get; init; }

    /// <summary>The counterfactual as a datapoint (for predicting, metrics or further generation).</summary>
    public TextExample ToExample() => new(Id, Text, Label);
}
