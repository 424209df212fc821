// The result of an Ecco-style generation: Ecco's OutputSeq. Token positions follow Ecco: TokenIds
// holds the prompt then the generated tokens (seq2seq: encoder tokens, the decoder start token,
// then the generated ones), and a "position" names the index of a generated token in TokenIds.
//
// The logit lens reads the hidden state each layer leaves at the position that predicted a
// generated token (blocks.{i}.hook_resid_post, transformers' hidden_states[i+1]). By default every
// layer goes through the model's final norm and unembedding (the logit lens proper, whose last layer
// equals the model's logits). Ecco-compatible mode reproduces Ecco's lm_head(hidden state): no final
// norm for intermediate layers, while the last layer is transformers' last hidden state, which
// already has it (and for T5, lm_head without the d_model^-0.5 rescale the model applies).
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Explain.LanguageModels;

/// <summary>An activation recorded at a hook point: values (row-major) and shape (batch 1 first).</summary>
public sealed record CapturedActivation(float[] Values, int[] Shape);

/// <summary>One layer's top predictions at one position.</summary>
public sealed record LayerPrediction(int Layer, int[] TopIds, float[] TopProbabilities, string[] TopTokens);

public sealed class LmAnalysis
{
    private readonly LmBackend _lm;
    private readonly Func<int, string> _token;
    private readonly Func<string, int>? _watchId;
    private readonly float[][][] _resid;   // [layer][generated][hidden]
    private readonly float[][] _final;     // [generated][hidden] after the final norm
    private readonly int _hidden;

    internal LmAnalysis(LmBackend lm, Func<int, string> token, Func<string, int>? watchId, int[] inputIds, int[] tokenIds, int firstGenerated,
        IReadOnlyList<GenerationStep> steps, FinishReason finish, IReadOnlyDictionary<LmAttributionMethod, IReadOnlyList<TokenAttribution>> attributions,
        IReadOnlyDictionary<string, NeuronActivations> activations, float[][][] resid, float[][] final, int hidden)
    {
        _lm = lm; _token = token; _watchId = watchId; _resid = resid; _final = final; _hidden = hidden;
        InputIds = inputIds;
        TokenIds = tokenIds;
        Tokens = [.. tokenIds.Select(token)];
        FirstGeneratedIndex = firstGenerated;
        Steps = steps;
        FinishReason = finish;
        Attributions = attributions;
        Activations = activations;
    }

    public bool IsSeq2Seq => _lm.IsSeq2Seq;

    /// <summary>The prompt (causal) or the encoder input (seq2seq).</summary>
    public int[] InputIds { get; }

    /// <summary>Ecco's n_input_tokens.</summary>
    public int InputTokenCount => InputIds.Length;

    /// <summary>Ecco's token_ids: prompt + generated (seq2seq: encoder ids + decoder start + generated).</summary>
    public int[] TokenIds { get; }

    /// <summary>The vocabulary strings of TokenIds (Ecco's convert_ids_to_tokens, e.g. "ĠCitizen").</summary>
    public string[] Tokens { get; }

    /// <summary>Index in TokenIds of the first generated token (n_input_tokens, +1 for seq2seq).</summary>
    public int FirstGeneratedIndex { get; }

    public int[] GeneratedIds => TokenIds[FirstGeneratedIndex..];

    /// <summary>Per generated token: its probability and the top-k alternatives of the model's distribution.</summary>
    public IReadOnlyList<GenerationStep> Steps { get; }

    public FinishReason FinishReason { get; }

    /// <summary>Per method, one attribution per generated token over every earlier token (for token g:
    /// FirstGeneratedIndex + g positions; seq2seq: encoder tokens then decoder tokens).</summary>
    public IReadOnlyDictionary<LmAttributionMethod, IReadOnlyList<TokenAttribution>> Attributions { get; }

    /// <summary>Neuron activations by stack ("decoder"; T5 also "encoder"), from one forward pass over
    /// every token but the last generated one (Ecco's final forward).</summary>
    public IReadOnlyDictionary<string, NeuronActivations> Activations { get; }

    /// <summary>Activations recorded at the hook points LmGenerateOptions.CaptureHooks named, by hook
    /// name, from the final forward pass (every token but the last generated one).</summary>
    public IReadOnlyDictionary<string, CapturedActivation> Captured { get; internal init; } = new Dictionary<string, CapturedActivation>();

    /// <summary>Decoder layers (rows of Rankings and LayerPredictions).</summary>
    public int LayerCount => _lm.DecoderLayers;

    /// <summary>Range of valid `position` arguments (Ecco's numbering): the generated tokens' indices in TokenIds.</summary>
    public (int First, int Last) GeneratedPositions => (FirstGeneratedIndex, TokenIds.Length - 1);

    private int StepOf(int position, string what)
    {
        var (first, last) = GeneratedPositions;
        if (position < first || position > last)
            throw new ArgumentOutOfRangeException(nameof(position), $"{what}: position {position} is outside the generated tokens; positions {first}..{last} hold them (position p is token p of the {TokenIds.Length}-token sequence, counting from 0).");
        return position - first;
    }

    /// <summary>Logits [n, vocab] of each decoder layer's hidden state at the given steps.</summary>
    private Tensor LensLogits(int layer, int[] steps, bool eccoCompatible)
    {
        bool last = layer == LayerCount - 1;
        var rows = new float[steps.Length * _hidden];
        for (int i = 0; i < steps.Length; i++)
            (eccoCompatible && last ? _final[steps[i]] : _resid[layer][steps[i]]).CopyTo(rows, i * _hidden);
        using var _ = Tape.NoGrad();
        using var h = Tensor.FromArray(rows, steps.Length, _hidden);
        return _lm.Head(h, normalize: !eccoCompatible);
    }

    private void CheckLayer(int? layer)
    {
        if (layer is int l && (l < 0 || l >= LayerCount))
            throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {l} does not exist; the decoder has {LayerCount} layers (0..{LayerCount - 1}).");
    }

    /// <summary>Ecco's layer_predictions(position, topk): each layer's most likely next tokens at the
    /// position that produced TokenIds[position].</summary>
    public IReadOnlyList<LayerPrediction> LayerPredictions(int position, int topK = 10, bool eccoCompatible = false, int? layer = null)
    {
        int step = StepOf(position, "Layer predictions");
        CheckLayer(layer);
        if (topK < 1 || topK > _lm.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(topK), $"Layer predictions: topK is {topK}; give between 1 and the vocabulary size {_lm.VocabSize}.");
        var result = new List<LayerPrediction>();
        for (int l = layer ?? 0; l < (layer is int only ? only + 1 : LayerCount); l++)
        {
            using var logits = LensLogits(l, [step], eccoCompatible);
            var p = LogitProcessors.Softmax(logits.Span);
            var ids = TopIds(p, topK);
            result.Add(new LayerPrediction(l, ids, [.. ids.Select(i => (float)p[i])], [.. ids.Select(_token)]));
        }
        return result;
    }

    /// <summary>Ecco's rankings(): rank (1 = most likely) of each generated token under each layer's
    /// logit lens at the position that produced it; [layer][generated token].</summary>
    public int[][] Rankings(bool eccoCompatible = false)
    {
        var steps = Enumerable.Range(0, GeneratedIds.Length).ToArray();
        var ranks = new int[LayerCount][];
        for (int l = 0; l < LayerCount; l++)
        {
            using var logits = LensLogits(l, steps, eccoCompatible);
            ranks[l] = new int[steps.Length];
            for (int g = 0; g < steps.Length; g++)
                ranks[l][g] = Rank(logits.Span.Slice(g * _lm.VocabSize, _lm.VocabSize), GeneratedIds[g]);
        }
        return ranks;
    }

    /// <summary>Ecco's rankings_watch(watch, position): rank of each watched id under each layer's
    /// logit lens at the position that produced TokenIds[position]; [layer][watched token].</summary>
    public int[][] RankingsWatch(IReadOnlyList<int> watch, int position, bool eccoCompatible = false)
    {
        ArgumentNullException.ThrowIfNull(watch);
        if (watch.Count == 0) throw new ArgumentException("Rankings watch: the watch list is empty; give at least one token.", nameof(watch));
        foreach (int id in watch)
            if ((uint)id >= (uint)_lm.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(watch), $"Rankings watch: token id {id} is not in the vocabulary (0..{_lm.VocabSize - 1}).");
        int step = StepOf(position, "Rankings watch");
        var ranks = new int[LayerCount][];
        for (int l = 0; l < LayerCount; l++)
        {
            using var logits = LensLogits(l, [step], eccoCompatible);
            ranks[l] = [.. watch.Select(id => Rank(logits.Span, id))];
        }
        return ranks;
    }

    /// <summary>Rankings watch for tokens given as text: a vocabulary entry ("Ġthe") or text that
    /// the tokenizer turns into exactly one token (" the").</summary>
    public int[][] RankingsWatch(IReadOnlyList<string> watch, int position, bool eccoCompatible = false)
    {
        ArgumentNullException.ThrowIfNull(watch);
        if (_watchId is null) throw new InvalidOperationException("Rankings watch by token text needs the tokenizer; this analysis was made from token ids only. Pass ids instead.");
        return RankingsWatch([.. watch.Select(_watchId)], position, eccoCompatible);
    }

    /// <summary>Ecco's run_nmf(n_components, from_layer, to_layer): NMF of max(activations, 0) with
    /// positions as samples and (layer, neuron) pairs as features; components are clamped to the
    /// number of positions as Ecco does.</summary>
    public NeuronFactors Nmf(int components = 10, int? fromLayer = null, int? toLayer = null, uint seed = 0, int maxIterations = 500, double tolerance = 1e-4)
    {
        if (Activations.Count == 0) throw new InvalidOperationException("NMF: no neuron activations were captured; generate with CaptureActivations = true.");
        var stacks = Activations.Values.OrderBy(a => a.Stack == "encoder" ? 0 : 1).ToArray(); // Ecco: encoder, then decoder
        int[] available = stacks[0].Layers;
        int[] layers;
        if (fromLayer is not null || toLayer is not null)
        {
            int from = fromLayer ?? 0, to = toLayer ?? stacks[0].Layers.Length;
            if (from == to) throw new ArgumentException($"NMF: fromLayer ({from}) and toLayer ({to}) are equal; the range [from, to) must hold at least one layer.");
            if (from > to) throw new ArgumentException($"NMF: fromLayer ({from}) is larger than toLayer ({to}).");
            layers = [.. Enumerable.Range(from, to - from)];
            var missing = layers.Where(l => !available.Contains(l)).ToArray();
            if (missing.Length > 0) throw new ArgumentException($"NMF: layers {string.Join(", ", missing)} have no recorded activations; recorded: {string.Join(", ", available)}.");
        }
        else layers = [.. available.Order()];
        int neurons = stacks[0].Neurons;
        int positions = stacks.Sum(s => s.Positions);
        int features = layers.Length * neurons;
        if (components < 1 || components > features)
            throw new ArgumentOutOfRangeException(nameof(components), $"NMF: {components} components asked, but there are {features} neurons ({layers.Length} layers × {neurons}); give between 1 and {features}.");
        int k = Math.Min(components, positions);
        // X = max(A, 0)ᵀ: [positions (encoder then decoder), layer-major neurons].
        var x = new float[positions * features];
        int p0 = 0;
        foreach (var s in stacks)
        {
            if (s.Neurons != neurons) throw new InvalidOperationException($"NMF: the encoder has {stacks[0].Neurons} neurons per layer and the decoder {s.Neurons}; Ecco's concatenation needs equal widths.");
            for (int li = 0; li < layers.Length; li++)
            {
                int row = Array.IndexOf(s.Layers, layers[li]);
                if (row < 0) throw new ArgumentException($"NMF: layer {layers[li]} has no recorded {s.Stack} activations.");
                for (int n = 0; n < neurons; n++)
                    for (int p = 0; p < s.Positions; p++)
                        x[(p0 + p) * features + li * neurons + n] = Math.Max(s[row, n, p], 0f);
            }
            p0 += s.Positions;
        }
        var fit = LanguageModels.Nmf.Fit(x, positions, features, k, seed, maxIterations, tolerance);
        var comps = new float[k][];
        for (int c = 0; c < k; c++) { comps[c] = new float[positions]; for (int p = 0; p < positions; p++) comps[c][p] = fit.W[p * k + c]; }
        var loadings = new float[k][];
        for (int c = 0; c < k; c++) loadings[c] = fit.H.AsSpan(c * features, features).ToArray();
        // The token at each activation position: encoder tokens, then the decoder inputs (T5), or the sequence (causal).
        int[] posIds = IsSeq2Seq
            ? [.. (Activations.ContainsKey("encoder") ? InputIds : []), .. TokenIds[InputIds.Length..][..Activations["decoder"].Positions]]
            : TokenIds[..positions];
        return new NeuronFactors
        {
            Components = comps, NeuronLoadings = loadings, Tokens = [.. posIds.Select(_token)], TokenIds = posIds, Layers = layers,
            ReconstructionError = fit.ReconstructionError, Iterations = fit.Iterations, Converged = fit.Converged,
        };
    }

    /// <summary>1 + the number of ids with a strictly larger logit (Ecco's rank; ties cannot rank above).</summary>
    internal static int Rank(ReadOnlySpan<float> logits, int id)
    {
        float v = logits[id];
        int above = 0;
        foreach (float x in logits) if (x > v) above++;
        return above + 1;
    }

    private static int[] TopIds(double[] p, int k)
    {
        var order = new int[p.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        return [.. order.OrderByDescending(i => p[i]).ThenBy(i => i).Take(k)];
    }
}
