// POST /api/lm: Ecco's views of a language model on one prompt, from Glassbox.Explain.LanguageModels.
// The greedy continuation is generated once (LanguageModelAnalyzer.Generate, which also holds the
// hidden states the logit lens reads); then each generated token's primary attribution to every
// earlier token is computed as its own unit of work (LanguageModelAnalyzer.Analyze on the tokens
// before it: the same inputs Generate would attribute), so the model's gate is released between
// tokens and a client that goes away stops the work. Seq2seq models (T5) attribute in the one call.
// Work is bounded: at most MaxTokens new tokens, and ServerOptions.MaxSteps integration steps.
using Glassbox.Explain.LanguageModels;
using Glassbox.Models;

namespace Glassbox.Server;

public sealed record LmRequest
{
    public string? Model { get; init; }
    /// <summary>The prompt ({text}).</summary>
    public Datapoint? Input { get; init; }
    /// <summary>New tokens to generate (greedy); 1..LmEndpoints.MaxTokens (and the server's maxNewTokens).</summary>
    public int? MaxNewTokens { get; init; }
    /// <summary>Attribution method: ig (default), saliency, grad_x_input, or none (logit lens only).</summary>
    public string? Method { get; init; }
    /// <summary>Integrated-gradients steps (Ecco: 50).</summary>
    public int? Steps { get; init; }
    /// <summary>Tokens per layer in the layer predictions (1..20, default 5).</summary>
    public int? TopK { get; init; }
}

/// <summary>A token of the sequence: the vocabulary string (e.g. "ĠCitizen") and its decoded text (" Citizen").</summary>
public sealed record LmToken(int Id, string Token, string Text);

/// <summary>One candidate of a distribution (a step's alternatives or a layer's prediction).</summary>
public sealed record LmCandidate(string Token, string Text, double Probability);

/// <summary>A generated token: where it sits, its probability and the model's alternatives, and its attribution
/// to every earlier token (Ecco's normalised L2 scores over Tokens[0..Position), summing to 1).</summary>
public sealed record LmGeneratedToken(int Position, LmToken Token, double Probability, IReadOnlyList<LmCandidate> Alternatives,
    IReadOnlyList<double>? Attribution, double? ConvergenceDelta);

/// <summary>The logit lens at one generated position: each layer's top tokens (layer 0 first).</summary>
public sealed record LmLayerPredictions(int Position, IReadOnlyList<IReadOnlyList<LmCandidate>> Layers);

public sealed record LmResponse(string Model, string Method, int Steps, IReadOnlyList<LmToken> Tokens, int InputTokens, int FirstGenerated,
    string GeneratedText, string FinishReason, IReadOnlyList<LmGeneratedToken> Generated, int Layers,
    // [layer][generated token]: rank (1 = top) of the generated token under that layer's logit lens.
    int[][] Rankings, IReadOnlyList<LmLayerPredictions> LayerPredictions, string Lens, double Seconds);

internal static class LmEndpoints
{
    /// <summary>Most new tokens one /api/lm request may ask for (each one costs a full attribution).</summary>
    public const int MaxTokens = 32;
    public const int MaxTopK = 20;

    public static readonly IReadOnlyList<string> Methods = ["ig", "saliency", "grad_x_input"];

    /// <summary>Language-model modules apply to Glassbox causal and seq2seq language models.</summary>
    public static bool Applies(ModelHost m) => m.IsNative && m.Task == ServedTasks.Generation && m.Model is ILanguageModel;

    public static async Task<LmResponse> Analyze(AnalysisContext ctx, LmRequest req, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var m = ctx.Model(req.Model);
        if (!Applies(m))
            throw new ApiException(400, "not_supported", $"model '{m.Name}' is a {m.Task} model ({m.Model.ArchitectureName}); generated-text salience, the logit lens and layer predictions need a text-generation model. See /api/info.");
        var d = ctx.Input(m, req.Input, "{model, input:{text}, maxNewTokens?, method?, steps?, topK?}");
        int limit = Math.Min(MaxTokens, ctx.Options.MaxNewTokens);
        int maxNew = req.MaxNewTokens ?? Math.Min(8, limit);
        if (maxNew < 1 || maxNew > limit)
            throw new ApiException(400, "too_many_tokens", $"maxNewTokens must be between 1 and {limit} for the language-model analysis (each token is attributed), not {maxNew}.");
        string method = (req.Method ?? "ig").Trim();
        LmAttributionMethod? attribution = method == "none" ? null
            : Methods.Contains(method) ? LmAttributionMethods.Parse(method)
            : throw new ApiException(400, "unknown_method", $"unknown attribution method '{method}'; use {string.Join(", ", Methods)} or none.");
        int steps = req.Steps ?? 50;
        if (steps < 1 || steps > ctx.Options.MaxSteps) throw new ApiException(400, "bad_input", $"steps must be between 1 and {ctx.Options.MaxSteps}, not {steps}.");
        int topK = req.TopK ?? 5;
        if (topK < 1 || topK > MaxTopK) throw new ApiException(400, "bad_input", $"topK must be between 1 and {MaxTopK}, not {topK}.");

        var enc = m.Tokenizer.Encode(d.Text, addSpecialTokens: true);
        if (enc.Overflowing.Count > 0 || enc.Length + maxNew > m.MaxTokens && m.Model is ICausalLanguageModel)
            throw new ApiException(413, "too_many_tokens", $"the prompt has {enc.Length + enc.Overflowing.Sum(o => o.Length)} tokens and {maxNew} new ones are asked; model '{m.Name}' takes at most {m.MaxTokens} positions. Shorten the prompt or ask for fewer tokens.");
        if (enc.Length == 0) throw new ApiException(400, "bad_input", "input: the prompt has no tokens after tokenization.");
        int[] prompt = enc.Ids;

        var analyzer = new LanguageModelAnalyzer((ILanguageModel)m.Model, m.Tokenizer);
        var options = Options(maxNew, topK, steps);
        bool s2s = analyzer.IsSeq2Seq;
        var analysis = await ctx.Run(m, () => Locked(m, () => analyzer.Generate(prompt, s2s && attribution is { } a ? options with { Attributions = [a] } : options)), ct);
        int[] generated = analysis.GeneratedIds;
        int[][] rankings = await ctx.Run(m, () => Locked(m, () => analysis.Rankings()), ct);
        var (first, last) = analysis.GeneratedPositions;
        var lens = new List<LmLayerPredictions>();
        for (int p = first; p <= last; p++)
        {
            int position = p;
            var layers = await ctx.Run(m, () => Locked(m, () => analysis.LayerPredictions(position, topK)), ct);
            lens.Add(new LmLayerPredictions(p, layers.Select(l => (IReadOnlyList<LmCandidate>)l.TopIds.Select((id, i) => Candidate(m, id, l.TopProbabilities[i])).ToArray()).ToArray()));
        }

        var attributions = new TokenAttribution?[generated.Length];
        if (attribution is { } method1)
        {
            if (s2s) for (int t = 0; t < generated.Length; t++) attributions[t] = analysis.Attributions[method1][t];
            else
                for (int t = 0; t < generated.Length; t++)
                {
                    ct.ThrowIfCancellationRequested();
                    int[] before = [.. prompt, .. generated[..t]];
                    int target = generated[t];
                    attributions[t] = await ctx.Run(m, () => Locked(m, () => analyzer.Analyze(before, [target], AttributionOptions(method1, steps)).Attributions[method1][0]), ct);
                }
        }

        var tokens = analysis.TokenIds.Select(id => Token(m, id)).ToArray();
        var gen = new LmGeneratedToken[generated.Length];
        for (int t = 0; t < generated.Length; t++)
        {
            var step = analysis.Steps[t];
            var a = attributions[t];
            gen[t] = new LmGeneratedToken(first + t, tokens[first + t], step.Probability,
                step.TopIds.Select((id, i) => Candidate(m, id, step.TopProbabilities[i])).ToArray(),
                a?.Normalized.Select(v => double.IsFinite(v) ? (double)v : 0).ToArray(),
                a?.ConvergenceDelta is double delta && double.IsFinite(delta) ? delta : null);
        }
        return new LmResponse(m.Name, attribution is null ? "none" : method, steps, tokens, analysis.InputTokenCount, first,
            m.Tokenizer.Decode(generated, skipSpecialTokens: true), analysis.FinishReason.ToString(), gen, analysis.LayerCount, rankings, lens,
            "logit lens: each layer's hidden state (blocks.{i}.hook_resid_post) through the final norm and the unembedding", started.Elapsed.TotalSeconds);
    }

    /// <summary>The generation settings of /api/lm: greedy, as /api/predict, with the model's end-of-sequence ids.</summary>
    internal static LmGenerateOptions Options(int maxNewTokens, int topK, int steps) => new()
    {
        MaxNewTokens = maxNewTokens, ReportTopK = topK, CaptureActivations = false, IgSteps = steps, InternalBatchSize = 25,
    };

    /// <summary>The settings of one token's attribution (the same Generate would use).</summary>
    internal static LmGenerateOptions AttributionOptions(LmAttributionMethod method, int steps) => new()
    {
        Attributions = [method], IgSteps = steps, InternalBatchSize = 25, CaptureActivations = false, ReportTopK = 0,
    };

    private static T Locked<T>(ModelHost m, Func<T> work)
    {
        lock (m.Model) return work();
    }

    private static LmToken Token(ModelHost m, int id) => new(id, m.Tokenizer.IdToToken(id) ?? $"<{id}>", m.Tokenizer.Decode([id]));

    private static LmCandidate Candidate(ModelHost m, int id, float p) => new(m.Tokenizer.IdToToken(id) ?? $"<{id}>", m.Tokenizer.Decode([id]), p);
}
