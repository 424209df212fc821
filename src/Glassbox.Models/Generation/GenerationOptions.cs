// What to generate and how, and what comes back. Semantics follow transformers' generate():
// repetition penalty is applied first (greedy or sampling), then, when sampling, temperature,
// top-k and top-p, in that order. Greedy decoding ignores temperature/top-k/top-p, as
// transformers does. Unlike transformers 4, top-k is off unless set (transformers 4's
// GenerationConfig defaulted it to 50 when sampling).
namespace Glassbox.Models.Generation;

public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate (transformers' max_new_tokens).</summary>
    public int MaxNewTokens { get; init; } = 20;

    /// <summary>Sample from the processed distribution; false = greedy (argmax).</summary>
    public bool DoSample { get; init; }

    /// <summary>Divides the logits before sampling (&gt; 0; 1 = unchanged).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens when sampling (ties at the k-th value kept); 0 = off.</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches top_p; 1 = off.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>CTRL-style penalty on every token already in the sequence (prompt included): a
    /// positive logit is divided by it, a negative one multiplied. 1 = off.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>Seed of the sampler; the same seed, model and options give the same tokens. Null = unseeded.</summary>
    public int? Seed { get; init; }

    /// <summary>End-of-sequence ids; null = the model's (config eos_token_id), empty = none.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>Further ids that end generation (the id itself is kept, as EOS is).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Reuse keys/values between steps (same tokens and probabilities as re-running the whole sequence).</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>How many of the most likely next tokens each step reports (Ecco shows 10).</summary>
    public int ReportTopK { get; init; } = 10;

    /// <summary>Also return the whole next-token distribution at every step (vocabulary-sized arrays).</summary>
    public bool ReturnProbabilities { get; init; }

    /// <summary>Id used to left-pad a batch of prompts; null = the model's pad id, else its first EOS id, else 0.</summary>
    public int? PadTokenId { get; init; }

    public static GenerationOptions Greedy(int maxNewTokens) => new() { MaxNewTokens = maxNewTokens };

    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), $"GenerationOptions: MaxNewTokens is {MaxNewTokens}; it must be ≥ 0.");
        if (!(Temperature > 0) || double.IsInfinity(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), $"GenerationOptions: Temperature is {Temperature}; it must be a positive number (use DoSample = false for greedy decoding).");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), $"GenerationOptions: TopK is {TopK}; it must be ≥ 0 (0 = off).");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), $"GenerationOptions: TopP is {TopP}; it must be in (0, 1].");
        if (!(RepetitionPenalty > 0) || double.IsInfinity(RepetitionPenalty)) throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), $"GenerationOptions: RepetitionPenalty is {RepetitionPenalty}; it must be a positive number (1 = off).");
        if (ReportTopK < 0) throw new ArgumentOutOfRangeException(nameof(ReportTopK), $"GenerationOptions: ReportTopK is {ReportTopK}; it must be ≥ 0.");
    }
}

public enum FinishReason
{
    /// <summary>MaxNewTokens tokens were generated.</summary>
    MaxNewTokens,
    /// <summary>An end-of-sequence id was generated (it is the last generated id).</summary>
    EndOfSequence,
    /// <summary>One of StopTokenIds was generated (it is the last generated id).</summary>
    StopToken,
    /// <summary>The sequence reached the model's position limit before MaxNewTokens.</summary>
    MaxPositions,
}

/// <summary>One generated token and the model's next-token distribution it was chosen from.</summary>
public sealed class GenerationStep
{
    /// <summary>The token chosen at this step.</summary>
    public required int TokenId { get; init; }

    /// <summary>Its probability under the model's distribution (softmax of the raw logits).</summary>
    public required float Probability { get; init; }

    /// <summary>The ReportTopK most likely ids under the model's distribution, most likely first.</summary>
    public required int[] TopIds { get; init; }

    public required float[] TopProbabilities { get; init; }

    /// <summary>The whole distribution (softmax of the raw logits, before penalty/temperature/filtering);
    /// null unless ReturnProbabilities was set.</summary>
    public float[]? Probabilities { get; init; }
}

public sealed class GenerationResult
{
    /// <summary>The prompt (decoder-only) or the encoder input (seq2seq).</summary>
    public required int[] PromptIds { get; init; }

    /// <summary>New tokens only (for seq2seq: without the decoder start token).</summary>
    public required int[] GeneratedIds { get; init; }

    public required IReadOnlyList<GenerationStep> Steps { get; init; }

    public required FinishReason FinishReason { get; init; }

    /// <summary>Prompt followed by the generated ids (decoder-only models).</summary>
    public int[] SequenceIds => [.. PromptIds, .. GeneratedIds];
}
