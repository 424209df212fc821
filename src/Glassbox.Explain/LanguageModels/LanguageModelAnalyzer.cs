// Ecco's LM.generate() for Glassbox models: generate (greedy or sampled, with every step's
// distribution), then for each generated token the primary attributions over every earlier token,
// then one forward pass over the whole sequence but its last token (Ecco's final forward) to
// collect the neuron activations and the hidden states the logit lens reads.
//
//   var lm = LanguageModelAnalyzer.FromPretrained("models/gpt2-shakespeare-tiny");
//   var a = lm.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 6, Attributions = LmAttributionMethods.All });
//   a.Attributions[LmAttributionMethod.IntegratedGradients][0].Normalized   // over the prompt tokens
//   a.Rankings(); a.LayerPredictions(a.FirstGeneratedIndex); a.Nmf(components: 4);
using Glassbox.Models;
using Glassbox.Models.Generation;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.LanguageModels;

public sealed class LanguageModelAnalyzer
{
    /// <summary>Most tokens one analysis generates (each one costs a full attribution).</summary>
    public const int MaxNewTokensLimit = 1024;

    private readonly LmBackend _lm;

    /// <param name="model">A causal LM (GPT-2, GPT-NeoX, Llama) or a seq2seq LM (T5).</param>
    /// <param name="tokenizer">Its tokenizer; null allows only token-id inputs (tokens are then shown as ids).</param>
    public LanguageModelAnalyzer(ILanguageModel model, Tokenizer? tokenizer)
    {
        _lm = LmBackend.For(model);
        Tokenizer = tokenizer;
    }

    /// <summary>Loads a Hugging Face model folder (config.json, weights, tokenizer files).</summary>
    public static LanguageModelAnalyzer FromPretrained(string directory)
    {
        var model = AutoModel.FromPretrained(directory);
        if (model is not ILanguageModel lm)
            throw new NotSupportedException($"{directory}: {model.ArchitectureName} is not a language model; language-model analysis needs a causal LM (GPT-2, GPT-NeoX, Llama) or T5.");
        return new LanguageModelAnalyzer(lm, Tokenizer.FromPretrained(directory));
    }

    public ILanguageModel Model => _lm.Model;
    public Tokenizer? Tokenizer { get; }
    public bool IsSeq2Seq => _lm.IsSeq2Seq;

    /// <summary>Tokenizes the prompt as Ecco does (tokenizer(prompt), special tokens included) and generates.</summary>
    public LmAnalysis Generate(string prompt, LmGenerateOptions? options = null)
    {
        if (string.IsNullOrEmpty(prompt)) throw new ArgumentException("Language-model analysis: the prompt is empty; give some text to continue.", nameof(prompt));
        if (Tokenizer is null) throw new InvalidOperationException("Language-model analysis: a text prompt needs the tokenizer; pass it to the constructor or give token ids.");
        var ids = Tokenizer.Encode(prompt).Ids;
        if (ids.Length == 0) throw new ArgumentException($"Language-model analysis: the prompt \"{prompt}\" has no tokens after tokenization.", nameof(prompt));
        return Generate(ids, options);
    }

    public LmAnalysis Generate(int[] promptIds, LmGenerateOptions? options = null)
    {
        options ??= new LmGenerateOptions();
        CheckInput(promptIds, options);
        var gen = _lm.Generate(promptIds, new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens, DoSample = options.DoSample, Temperature = options.Temperature, TopK = options.TopK,
            TopP = options.TopP, Seed = options.Seed, EosTokenIds = options.EosTokenIds, ReportTopK = options.ReportTopK, UseCache = true,
        });
        return Build(promptIds, gen.GeneratedIds, gen.Steps, gen.FinishReason, options);
    }

    /// <summary>Analyses a given continuation (teacher forcing) instead of generating one: the same
    /// attributions, activations and logit lens for `outputIds` following `inputIds`.</summary>
    public LmAnalysis Analyze(int[] inputIds, int[] outputIds, LmGenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(outputIds);
        options = (options ?? new LmGenerateOptions()) with { MaxNewTokens = outputIds.Length };
        CheckInput(inputIds, options);
        CheckIds(outputIds, "output");
        return Build(inputIds, outputIds, null, FinishReason.MaxNewTokens, options);
    }

    private void CheckInput(int[] promptIds, LmGenerateOptions options)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        options.Validate(_lm.DecoderLayers, _lm.EncoderLayers);
        if (promptIds.Length == 0) throw new ArgumentException("Language-model analysis: the prompt is empty; give at least one token.", nameof(promptIds));
        CheckIds(promptIds, "prompt");
        if (_lm.MaxPositions is int max)
        {
            if (promptIds.Length > max)
                throw new ArgumentException($"Language-model analysis: the prompt has {promptIds.Length} tokens but the model accepts at most {max} positions; shorten the prompt.", nameof(promptIds));
            if (promptIds.Length + options.MaxNewTokens > max)
                throw new ArgumentException($"Language-model analysis: {promptIds.Length} prompt tokens + {options.MaxNewTokens} new tokens exceed the model's {max} positions; ask for at most {max - promptIds.Length} new tokens or shorten the prompt.", nameof(promptIds));
        }
    }

    private void CheckIds(int[] ids, string what)
    {
        foreach (int id in ids)
            if ((uint)id >= (uint)_lm.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Language-model analysis: {what} token id {id} is outside the vocabulary (0..{_lm.VocabSize - 1}).");
    }

    private string TokenText(int id) => Tokenizer?.IdToToken(id) ?? $"<{id}>";

    /// <summary>The id of a watched token: an exact vocabulary entry, or text that encodes to one token.</summary>
    private int WatchId(string token)
    {
        if (string.IsNullOrEmpty(token)) throw new ArgumentException("Rankings watch: a watched token is empty.");
        if (Tokenizer!.TokenToId(token) is int id) return id;
        var ids = Tokenizer.Encode(token, addSpecialTokens: false).Ids;
        if (ids.Length == 1) return ids[0];
        throw new ArgumentException($"Rankings watch: \"{token}\" is not a token of the vocabulary (it tokenizes to {ids.Length} tokens: {string.Join(" ", ids.Select(TokenText))}); watch single tokens.");
    }

    private LmAnalysis Build(int[] promptIds, int[] generated, IReadOnlyList<GenerationStep>? steps, FinishReason finish, LmGenerateOptions options)
    {
        int g = generated.Length;
        if (g == 0) throw new InvalidOperationException("Language-model analysis: no token was generated.");
        bool s2s = _lm.IsSeq2Seq;
        int start = s2s ? ((ISeq2SeqLanguageModel)_lm.Model).DecoderStartTokenId : -1;
        int[] tokenIds = s2s ? [.. promptIds, start, .. generated] : [.. promptIds, .. generated];
        int first = s2s ? promptIds.Length + 1 : promptIds.Length;

        // Inputs that produced generated token t: causal, the sequence before it; seq2seq, the encoder
        // input and the decoder tokens before it.
        int[][] InputsFor(int t) => s2s ? [promptIds, [start, .. generated[..t]]] : [[.. promptIds, .. generated[..t]]];

        // Ecco's final forward: every token but the last generated one (Ecco runs it after the
        // attributions; nothing depends on the order).
        var final = InputsFor(g - 1);
        int L = _lm.DecoderLayers;
        string dp = _lm.DecoderPrefix;
        var handles = new List<IDisposable>();
        ActivationCache resid, normed;
        ActivationCache? decAct = null, encAct = null;
        var extra = new List<(string Pattern, ActivationCache Cache)>();
        Tensor logits;
        using (Tape.NoGrad())
        {
            try
            {
                handles.Add(_lm.Hooks.Capture(dp + "blocks.*.hook_resid_post", out resid));
                handles.Add(_lm.Hooks.Capture(_lm.FinalNormHook, out normed));
                if (options.CaptureActivations)
                {
                    handles.Add(_lm.Hooks.Capture(dp + "blocks.*.mlp.hook_post", out var d)); decAct = d;
                    if (s2s) { handles.Add(_lm.Hooks.Capture("encoder.blocks.*.mlp.hook_post", out var e)); encAct = e; }
                }
                foreach (var pattern in options.CaptureHooks.Distinct()) { handles.Add(_lm.Hooks.Capture(pattern, out var c)); extra.Add((pattern, c)); }
                logits = _lm.ForwardLogits(final);
            }
            finally { foreach (var h in handles) h.Dispose(); }
        }

        // Row of the final forward that predicted generated token t.
        int RowOf(int t) => s2s ? t : promptIds.Length - 1 + t;
        int hidden = normed[_lm.FinalNormHook].Shape[^1];
        var residRows = new float[L][][];
        for (int l = 0; l < L; l++)
        {
            var x = resid[$"{dp}blocks.{l}.hook_resid_post"].ToArray();
            residRows[l] = [.. Enumerable.Range(0, g).Select(t => x.AsSpan(RowOf(t) * hidden, hidden).ToArray())];
        }
        var nx = normed[_lm.FinalNormHook].ToArray();
        var finalRows = Enumerable.Range(0, g).Select(t => nx.AsSpan(RowOf(t) * hidden, hidden).ToArray()).ToArray();

        steps ??= StepsFrom(logits, generated, RowOf, options.ReportTopK);

        var activations = new Dictionary<string, NeuronActivations>();
        if (encAct is not null && Stack(encAct, "encoder", _lm.EncoderLayers, options.ActivationLayers) is { } enc) activations["encoder"] = enc;
        if (decAct is not null && Stack(decAct, dp.Length == 0 ? "" : "decoder", L, options.ActivationLayers) is { } dec) activations["decoder"] = dec;

        var captured = new Dictionary<string, CapturedActivation>();
        foreach (var (pattern, cache) in extra)
        {
            if (cache.Count == 0)
                throw new ArgumentException($"Language-model analysis: no hook point matches '{pattern}'; names look like blocks.0.hook_resid_post, blocks.0.attn.hook_pattern, blocks.0.mlp.hook_post{(s2s ? " (with encoder./decoder. in front for T5)" : "")}.");
            foreach (var (name, t) in cache) captured[name] = new CapturedActivation(t.ToArray(), [.. t.Shape]);
        }

        // Attributions last: the costly part runs once everything else has been checked.
        var attributions = new Dictionary<LmAttributionMethod, IReadOnlyList<TokenAttribution>>();
        foreach (var method in options.Attributions.Distinct())
        {
            var list = new List<TokenAttribution>(g);
            for (int t = 0; t < g; t++)
                list.Add(PrimaryAttributions.Compute(_lm, InputsFor(t), generated[t], method, options.IgSteps, options.IgRule, options.InternalBatchSize));
            attributions[method] = list;
        }

        return new LmAnalysis(_lm, TokenText, Tokenizer is null ? null : WatchId, [.. promptIds], tokenIds, first, steps, finish, attributions,
            activations, residRows, finalRows, hidden) { Captured = captured };
    }

    /// <summary>[1, positions, neurons] captures of each layer → Ecco's [layer, neuron, position].</summary>
    private static NeuronActivations? Stack(ActivationCache cache, string prefix, int layers, IReadOnlyList<int>? keep)
    {
        int[] chosen = keep is null ? [.. Enumerable.Range(0, layers)] : [.. keep.Where(l => l < layers).Distinct().Order()];
        if (chosen.Length == 0) return null;
        string Name(int l) => (prefix.Length == 0 ? "" : prefix + ".") + $"blocks.{l}.mlp.hook_post";
        var first = cache[Name(chosen[0])];
        int positions = first.Shape[1], neurons = first.Shape[2];
        var data = new float[chosen.Length * neurons * positions];
        for (int i = 0; i < chosen.Length; i++)
        {
            var a = cache[Name(chosen[i])].Span;
            for (int p = 0; p < positions; p++)
                for (int n = 0; n < neurons; n++)
                    data[((long)i * neurons + n) * positions + p] = a[p * neurons + n];
        }
        return new NeuronActivations(prefix.Length == 0 ? "decoder" : prefix, chosen, neurons, positions, data);
    }

    private static GenerationStep[] StepsFrom(Tensor logits, int[] generated, Func<int, int> rowOf, int topK)
    {
        int v = logits.Shape[^1];
        var steps = new GenerationStep[generated.Length];
        for (int t = 0; t < generated.Length; t++)
        {
            var p = LogitProcessors.Softmax(logits.Span.Slice(rowOf(t) * v, v));
            int[] ids = [.. Enumerable.Range(0, v).OrderByDescending(i => p[i]).ThenBy(i => i).Take(Math.Min(topK, v))];
            steps[t] = new GenerationStep { TokenId = generated[t], Probability = (float)p[generated[t]], TopIds = ids, TopProbabilities = [.. ids.Select(i => (float)p[i])] };
        }
        return steps;
    }
}
