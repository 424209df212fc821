// What an Ecco-style analysis computes. Defaults are Ecco 0.1.2's: greedy decoding, Captum's
// integrated gradients with 50 Gauss–Legendre steps from a zero baseline, every layer's MLP
// neurons, NMF seeded with 0 and at most 500 coordinate-descent iterations.
namespace Glassbox.Explain.LanguageModels;

/// <summary>Gradient methods Ecco offers for primary attributions (Captum's, on the input embeddings).</summary>
public enum LmAttributionMethod
{
    /// <summary>Captum IntegratedGradients from a zero embedding ("ig").</summary>
    IntegratedGradients,
    /// <summary>Captum Saliency, |∂p/∂embedding| ("saliency").</summary>
    Saliency,
    /// <summary>Captum InputXGradient, embedding ⊙ ∂p/∂embedding ("grad_x_input").</summary>
    InputXGradient,
}

public static class LmAttributionMethods
{
    public static IReadOnlyList<LmAttributionMethod> All { get; } = [LmAttributionMethod.IntegratedGradients, LmAttributionMethod.Saliency, LmAttributionMethod.InputXGradient];

    /// <summary>Ecco's names ("ig", "saliency", "grad_x_input") and Glassbox's ("integrated-gradients", "input-x-gradient").</summary>
    public static LmAttributionMethod Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant().Replace('-', '_') switch
        {
            "ig" or "integrated_gradients" => LmAttributionMethod.IntegratedGradients,
            "saliency" or "gradient" => LmAttributionMethod.Saliency,
            "grad_x_input" or "input_x_gradient" or "inputxgradient" or "ixg" => LmAttributionMethod.InputXGradient,
            _ => throw new ArgumentException($"Unknown attribution method '{name}'; use ig, saliency or grad_x_input (also integrated-gradients, input-x-gradient)."),
        };
    }

    /// <summary>Ecco's key for the method (the golden files' field names).</summary>
    public static string EccoName(this LmAttributionMethod m) => m switch
    {
        LmAttributionMethod.IntegratedGradients => "ig",
        LmAttributionMethod.Saliency => "saliency",
        _ => "grad_x_input",
    };
}

public sealed record LmGenerateOptions
{
    /// <summary>Most new tokens (Ecco's generate=N). At least 1, at most <see cref="LanguageModelAnalyzer.MaxNewTokensLimit"/>.</summary>
    public int MaxNewTokens { get; init; } = 8;

    /// <summary>Sample instead of greedy decoding (then Temperature, TopK, TopP and Seed apply).</summary>
    public bool DoSample { get; init; }
    public double Temperature { get; init; } = 1.0;
    public int TopK { get; init; }
    public double TopP { get; init; } = 1.0;
    public int? Seed { get; init; }

    /// <summary>End-of-sequence ids; null = the model's (generation stops after one, as transformers' generate does), empty = none.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>How many most likely tokens each step reports (Ecco shows 10).</summary>
    public int ReportTopK { get; init; } = 10;

    /// <summary>Primary attributions to compute for every generated token (none by default, as in Ecco).</summary>
    public IReadOnlyList<LmAttributionMethod> Attributions { get; init; } = [];

    /// <summary>Integration steps and rule of integrated gradients (Captum: 50, Gauss–Legendre).</summary>
    public int IgSteps { get; init; } = 50;
    public QuadratureRule IgRule { get; init; } = QuadratureRule.GaussLegendre;

    /// <summary>Interpolation points per forward pass (Captum's internal_batch_size). Null picks
    /// <see cref="GradientMethods.DefaultInternalBatchSize"/> for the attributed sequence's length
    /// (at most 512 tokens per pass), which bounds memory; the attributions do not depend on it.</summary>
    public int? InternalBatchSize { get; init; }

    /// <summary>Capture MLP neuron activations (blocks.{i}.mlp.hook_post) of the final forward pass, as Ecco's activations=True.</summary>
    public bool CaptureActivations { get; init; } = true;

    /// <summary>Layers whose neurons are kept (Ecco's collect_activations_layer_nums); null = all.</summary>
    public IReadOnlyList<int>? ActivationLayers { get; init; }

    /// <summary>Further hook points to record during the final forward pass (names or patterns such
    /// as "blocks.*.attn.hook_pattern"); each match is kept under its hook name.</summary>
    public IReadOnlyList<string> CaptureHooks { get; init; } = [];

    internal void Validate(int decoderLayers, int encoderLayers)
    {
        if (MaxNewTokens < 1 || MaxNewTokens > LanguageModelAnalyzer.MaxNewTokensLimit)
            throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), $"Language-model analysis: {MaxNewTokens} new tokens asked; give between 1 and {LanguageModelAnalyzer.MaxNewTokensLimit}.");
        if (ReportTopK < 0) throw new ArgumentOutOfRangeException(nameof(ReportTopK), $"Language-model analysis: ReportTopK is {ReportTopK}; it must be ≥ 0.");
        if (IgSteps < 1 || IgSteps > 10_000) throw new ArgumentOutOfRangeException(nameof(IgSteps), $"Language-model analysis: IgSteps is {IgSteps}; give between 1 and 10000.");
        if (InternalBatchSize is < 1) throw new ArgumentOutOfRangeException(nameof(InternalBatchSize), $"Language-model analysis: InternalBatchSize is {InternalBatchSize}; it must be ≥ 1 (or null for the token-bounded default).");
        if (ActivationLayers is not null)
        {
            int max = Math.Max(decoderLayers, encoderLayers);
            foreach (int l in ActivationLayers)
                if (l < 0 || l >= max)
                    throw new ArgumentOutOfRangeException(nameof(ActivationLayers), $"Language-model analysis: activation layer {l} does not exist; the model has {max} layers (0..{max - 1}).");
            if (ActivationLayers.Count == 0) throw new ArgumentException("Language-model analysis: ActivationLayers is empty; give null for all layers.", nameof(ActivationLayers));
        }
    }
}
