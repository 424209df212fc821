// What the explainers return. One TextAttribution per explained output (a class, a label, a QA
// start or end, a token's tag): tokens with character offsets into the caller's strings, the raw
// per-token score (attribution summed over the embedding dimension for layer IG) and the
// normalised score (raw / ‖raw‖₂, transformers-interpret's summary), words aggregated from the
// tokens, and the convergence delta where the method defines one. JSON-serialised with camelCase
// names these give `wordAttributions: [{"token", "score"}]`, `predictedClassIndex`,
// `predictedClassName`, `convergenceDelta`.
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

/// <summary>The attribution method an explainer runs. Lig is transformers-interpret's (and the default).</summary>
public enum AttributionMethod { Lig, Ig, Saliency, InputXGradient, SmoothGrad, Occlusion, Lime, KernelShap, Attention, Rollout, Flow }

/// <summary>transformers-interpret's embedding_type: 0 word, 1 position, 2 the whole embedding output (QA's default).</summary>
public enum EmbeddingType { Word = 0, Position = 1, All = 2 }

public static class AttributionMethods
{
    public static readonly IReadOnlyList<string> Names =
        ["lig", "ig", "saliency", "input-x-gradient", "smoothgrad", "occlusion", "lime", "kernel-shap", "attention", "rollout", "flow"];

    public static string Name(AttributionMethod m) => Names[(int)m];

    /// <summary>Parses a command-line name (lig, ig, saliency, input-x-gradient, smoothgrad, occlusion, lime, kernel-shap, attention, rollout, flow).</summary>
    public static AttributionMethod Parse(string name)
    {
        string n = name.Trim().ToLowerInvariant().Replace('_', '-');
        n = n switch
        {
            "layer-integrated-gradients" or "layer-ig" => "lig",
            "integrated-gradients" => "ig",
            "inputxgradient" or "input-x-grad" or "grad-x-input" => "input-x-gradient",
            "feature-ablation" or "leave-one-out" => "occlusion",
            "kernelshap" or "shap" => "kernel-shap",
            "attention-rollout" => "rollout",
            "attention-flow" => "flow",
            _ => n,
        };
        int i = Names.ToList().IndexOf(n);
        if (i < 0) throw new ArgumentException($"Unknown attribution method '{name}'; valid methods: {string.Join(", ", Names)}.");
        return (AttributionMethod)i;
    }

    public static bool NeedsGradients(AttributionMethod m) => m is AttributionMethod.Lig or AttributionMethod.Ig or AttributionMethod.Saliency
        or AttributionMethod.InputXGradient or AttributionMethod.SmoothGrad;
}

/// <summary>Options shared by the text explainers. Defaults are transformers-interpret's (layer IG, 50 Gauss–Legendre steps, word embeddings).</summary>
public sealed record ExplainerOptions
{
    public AttributionMethod Method { get; init; } = AttributionMethod.Lig;
    /// <summary>Integration steps (n_steps).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>Interpolation points per forward pass (internal_batch_size); null = all at once.</summary>
    public int? InternalBatchSize { get; init; }
    public QuadratureRule Quadrature { get; init; } = QuadratureRule.GaussLegendre;
    /// <summary>Which embedding layer integrated gradients and the gradient methods attribute to; null = the explainer's default (word; QA: all).</summary>
    public EmbeddingType? EmbeddingType { get; init; }
    /// <summary>Any hook point of shape [batch, seq, dim] instead of the embedding type (e.g. "blocks.1.hook_resid_pre").</summary>
    public string? Layer { get; init; }
    /// <summary>Samples for LIME and KernelSHAP.</summary>
    public int Samples { get; init; } = 200;
    /// <summary>SmoothGrad: noisy samples and the noise standard deviation (Captum NoiseTunnel's defaults: 5 samples, stdev 1).</summary>
    public int NoiseSamples { get; init; } = 5;
    public float NoiseStdev { get; init; } = 1f;
    public int Seed { get; init; }
    /// <summary>Occlusion, LIME and KernelSHAP perturb whole words instead of single tokens.</summary>
    public bool PerturbWords { get; init; }
    /// <summary>How token scores combine into word scores.</summary>
    public WordAggregation WordAggregation { get; init; } = WordAggregation.Sum;
    /// <summary>Attention: the layer whose (head-averaged) pattern is reported; null = the last.</summary>
    public int? AttentionLayer { get; init; }
    /// <summary>Token limit; null = the model's maximum. Longer inputs are truncated with a warning, or rejected when Truncate is false.</summary>
    public int? MaxLength { get; init; }
    public bool Truncate { get; init; } = true;
}

/// <summary>One entry of transformers-interpret's word_attributions: a token and its normalised score.</summary>
public sealed record TokenScore(string Token, double Score);

/// <summary>A token: its position, id, text as transformers-interpret shows it ("Ġ" removed), span in the
/// source string (UTF-16 units; Sequence 0 = the text, 1 = the pair/context/hypothesis; -1 special), raw and normalised score.</summary>
public sealed record TokenAttribution(int Index, int Id, string Token, int Sequence, int Start, int End, bool IsSpecial, double Raw, double Score);

/// <summary>A word: its text and span in the source string, the tokens it covers, and aggregated scores.</summary>
public sealed record WordAttribution(string Word, int Sequence, int Start, int End, int[] TokenIndices, double Raw, double Score);

/// <summary>Attributions for one explained output.</summary>
public sealed class TextAttribution
{
    /// <summary>What was explained (class/label name, "start", "end", or the token's tag).</summary>
    public required string Target { get; init; }
    public required int TargetIndex { get; init; }
    public required IReadOnlyList<TokenAttribution> Tokens { get; init; }
    public required IReadOnlyList<WordAttribution> Words { get; init; }
    /// <summary>Σ attributions − (f(input) − f(baseline)) for integrated gradients; null otherwise.</summary>
    public double? ConvergenceDelta { get; init; }
    /// <summary>The explained score on the input (probability, or logit for QA) and on the baseline where one was run.</summary>
    public double? InputScore { get; init; }
    public double? BaselineScore { get; init; }

    /// <summary>transformers-interpret's word_attributions: (token, normalised score) per token.</summary>
    public IReadOnlyList<TokenScore> WordAttributions => Tokens.Select(t => new TokenScore(t.Token, t.Score)).ToList();

    public double[] RawScores => Tokens.Select(t => t.Raw).ToArray();
    public double[] Scores => Tokens.Select(t => t.Score).ToArray();
}

/// <summary>Where an explanation came from.</summary>
public sealed record Provenance(string Explainer, string Method, IReadOnlyDictionary<string, string> Parameters,
    string ModelName, string? ModelPath, string ModelHash, string GlassboxVersion);

public abstract class Explanation
{
    public abstract string Task { get; }
    public required Provenance Provenance { get; init; }
    /// <summary>Non-fatal problems (truncation, a fallback to word embeddings, ...).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
}

public sealed class SequenceClassificationExplanation : Explanation
{
    public override string Task => Pair is null ? "sequence-classification" : "pairwise";
    public required string Text { get; init; }
    public string? Pair { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>Softmax probabilities (sigmoid for a single-output model) of the unmodified input.</summary>
    public required IReadOnlyList<double> Probabilities { get; init; }
    public required int PredictedClassIndex { get; init; }
    public required string PredictedClassName { get; init; }
    public required double PredictedProbability { get; init; }
    /// <summary>The class the attributions explain (the predicted one unless chosen).</summary>
    public required int AttributedClassIndex { get; init; }
    public required string AttributedClassName { get; init; }
    public bool FlipSign { get; init; }
    public required TextAttribution Attribution { get; init; }

    public IReadOnlyList<TokenScore> WordAttributions => Attribution.WordAttributions;
    public double? ConvergenceDelta => Attribution.ConvergenceDelta;
}

/// <summary>One label of a multi-label or zero-shot explanation.</summary>
public sealed record LabelAttribution(string Label, int Index, double Probability, TextAttribution Attribution)
{
    public IReadOnlyList<TokenScore> WordAttributions => Attribution.WordAttributions;
}

public sealed class MultiLabelClassificationExplanation : Explanation
{
    public override string Task => "multilabel";
    public required string Text { get; init; }
    /// <summary>Every label in id order, with its sigmoid probability.</summary>
    public required IReadOnlyList<LabelAttribution> Labels { get; init; }
    public LabelAttribution this[string label] => Labels.FirstOrDefault(l => l.Label == label)
        ?? throw new KeyNotFoundException($"No label '{label}'; labels: {string.Join(", ", Labels.Select(l => l.Label))}.");
    public IReadOnlyDictionary<string, IReadOnlyList<TokenScore>> WordAttributions => Labels.ToDictionary(l => l.Label, l => l.WordAttributions);
}

public sealed class ZeroShotClassificationExplanation : Explanation
{
    public override string Task => "zero-shot";
    public required string Text { get; init; }
    public required string HypothesisTemplate { get; init; }
    public required bool IncludeHypothesis { get; init; }
    /// <summary>Per candidate label: Probability is the entailment sigmoid normalised over the labels (transformers-interpret's pred_probs).</summary>
    public required IReadOnlyList<LabelAttribution> Labels { get; init; }
    public required string PredictedLabel { get; init; }
    public required string EntailmentLabel { get; init; }
    public LabelAttribution this[string label] => Labels.FirstOrDefault(l => l.Label == label)
        ?? throw new KeyNotFoundException($"No label '{label}'; labels: {string.Join(", ", Labels.Select(l => l.Label))}.");
    public IReadOnlyDictionary<string, IReadOnlyList<TokenScore>> WordAttributions => Labels.ToDictionary(l => l.Label, l => l.WordAttributions);
}

public sealed class QuestionAnsweringExplanation : Explanation
{
    public override string Task => "question-answering";
    public required string Question { get; init; }
    public required string Context { get; init; }
    /// <summary>transformers-interpret's predicted_answer: the tokens from the start to the end argmax joined by spaces.</summary>
    public required string PredictedAnswer { get; init; }
    /// <summary>The answer as a span of the context (empty when the span does not lie in the context).</summary>
    public required string AnswerText { get; init; }
    public required int AnswerStartIndex { get; init; }
    public required int AnswerEndIndex { get; init; }
    public required TextAttribution Start { get; init; }
    public required TextAttribution End { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<TokenScore>> WordAttributions => new Dictionary<string, IReadOnlyList<TokenScore>>
    {
        ["start"] = Start.WordAttributions, ["end"] = End.WordAttributions,
    };
}

/// <summary>One explained token of a token-classification explanation.</summary>
public sealed record TokenClassAttribution(int TokenIndex, string Token, string Label, int LabelIndex, double Probability, TextAttribution Attribution)
{
    public IReadOnlyList<TokenScore> AttributionScores => Attribution.WordAttributions;
}

/// <summary>A token's predicted tag.</summary>
public sealed record TokenPrediction(int TokenIndex, string Token, int Start, int End, string Label, int LabelIndex, double Probability);

public sealed class TokenClassificationExplanation : Explanation
{
    public override string Task => "token-classification";
    public required string Text { get; init; }
    public required IReadOnlyList<TokenPrediction> Predictions { get; init; }
    /// <summary>The explained tokens (all but ignored indexes and labels), in token order.</summary>
    public required IReadOnlyList<TokenClassAttribution> Tokens { get; init; }
}
